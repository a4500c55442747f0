"""nn.Module and nn.Parameter against torch.nn: registration, traversal, state_dict, hooks, modes, dtype, reprs."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import autojac

LIBS = [autojac, torch]


def make_model(T):
    """A model using every kind of registration, defined once per library."""
    nn = T.nn

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.lin = nn.Linear(n, n)
            self.scale = nn.Parameter(T.ones(n))
            self.register_buffer("count", T.zeros(1))
            self.register_buffer("cache", T.zeros(n), persistent=False)

        def forward(self, x):
            return self.lin(x) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(3) for _ in range(2)])
            self.head = nn.Sequential(OrderedDict(act=nn.Tanh(), out=nn.Linear(3, 2)))
            self.extra = nn.ModuleDict({"norm": nn.LayerNorm(2)})
            self.shared = self.head.out  # the same module twice: listed once
            self.register_parameter("unused", None)

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.extra["norm"](self.head(x))

    T.manual_seed(0)
    return Net()


def names(pairs):
    return [name for name, _ in pairs]


def test_traversal_matches_torch():
    ours, theirs = make_model(autojac), make_model(torch)
    assert names(ours.named_parameters()) == names(theirs.named_parameters())
    assert names(ours.named_buffers()) == names(theirs.named_buffers())
    assert names(ours.named_modules()) == names(theirs.named_modules())
    assert names(ours.named_children()) == names(theirs.named_children())
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert (names(ours.named_parameters(remove_duplicate=False))
            == names(theirs.named_parameters(remove_duplicate=False)))
    assert (names(ours.named_modules(remove_duplicate=False))
            == names(theirs.named_modules(remove_duplicate=False)))
    assert names(ours.named_parameters(prefix="m", recurse=False)) == []
    assert names(ours.blocks[0].named_parameters(recurse=False)) == ["scale"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.get_submodule("blocks.1.lin") is ours.blocks[1].lin
    assert ours.get_parameter("head.out.bias") is ours.head.out.bias
    assert ours.get_buffer("blocks.0.count") is ours.blocks[0].count


def test_repr_of_nested_model_matches_torch():
    ours, theirs = make_model(autojac), make_model(torch)
    assert repr(ours) == repr(theirs)
    many = [T.nn.ModuleList([T.nn.Linear(2, 2)] * 3 + [T.nn.ReLU(), T.nn.ReLU(), T.nn.Linear(2, 1)]) for T in LIBS]
    assert repr(many[0]) == repr(many[1])
    params = [T.nn.ParameterList([T.nn.Parameter(T.zeros(2, 3)), T.zeros(4)]) for T in LIBS]
    assert repr(params[0]) == repr(params[1]).replace("torch.", "autojac.")
    pdict = [T.nn.ParameterDict({"a": T.nn.Parameter(T.zeros(2)), "b": T.ones(1, dtype=T.float64)}) for T in LIBS]
    assert repr(pdict[0]) == repr(pdict[1]).replace("torch.", "autojac.")
    assert repr(autojac.nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


def test_forward_and_gradients_match_torch():
    ours, theirs = make_model(autojac), make_model(torch)
    ours.load_state_dict({k: autojac.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    out, tout = ours(autojac.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.pow(2).sum().backward()
    tout.pow(2).sum().backward()
    for (k, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        # float32 gradients summed through several layers: cancellation leaves ~eps32 x the largest term, so the
        # absolute tolerance scales with the gradient's magnitude (1e-6 failed by 2e-7 under Sandybridge kernels)
        want = tp.grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())),
                                   err_msg=k)


def test_state_dict_round_trip_and_detached():
    a, b = make_model(autojac), make_model(autojac)
    autojac.manual_seed(7)
    for p in b.parameters():
        autojac.nn.init.normal_(p)
    state = b.state_dict()
    assert all(not v.requires_grad for v in state.values())
    kept = b.state_dict(keep_vars=True)
    assert kept["head.out.weight"] is b.head.out.weight and kept["head.out.weight"].requires_grad
    assert repr(a.load_state_dict(state)) == "<All keys matched successfully>"
    for (k, v), (_, w) in zip(a.state_dict().items(), state.items()):
        np.testing.assert_array_equal(v.numpy(), w.numpy(), err_msg=k)
    # loading copies: the parameters stay the same objects, now holding b's values
    weight = a.head.out.weight
    a.load_state_dict(b.state_dict())
    assert a.head.out.weight is weight and isinstance(weight, autojac.nn.Parameter)


def _load_errors(T, state_edit, strict=True):
    model = make_model(T)
    state = model.state_dict()
    state_edit(state, T)
    try:
        result = model.load_state_dict(state, strict=strict)
    except RuntimeError as e:
        return "error", str(e)
    return "ok", repr(result)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("edit", [
    lambda s, T: s.pop("head.out.bias"),
    lambda s, T: s.__setitem__("head.bogus", T.zeros(1)),
    lambda s, T: (s.pop("blocks.0.scale"), s.__setitem__("nothere.weight", T.zeros(1))),
    lambda s, T: s.__setitem__("head.out.weight", T.zeros(3, 3)),
    lambda s, T: None,
])
def test_load_state_dict_errors_and_result_match_torch(edit, strict):
    ours = _load_errors(autojac, edit, strict)
    theirs = _load_errors(torch, edit, strict)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1].replace("torch.", "autojac.")


@pytest.mark.parametrize("T", LIBS, ids=["autojac", "torch"])
def test_hooks(T):
    lin = T.nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
    h3 = lin.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    h4 = lin.register_forward_pre_hook(lambda m, args, kwargs: calls.append(sorted(kwargs)), with_kwargs=True)
    x = T.ones(1, 2)
    with T.no_grad():
        expected = lin.weight.sum(1) * 2 + lin.bias + 1
        np.testing.assert_allclose(lin(x).numpy()[0], expected.numpy(), rtol=1e-6)
    assert calls == [[], "first"]
    for h in (h1, h2, h3, h4):
        h.remove()
    with T.no_grad():
        np.testing.assert_allclose(lin(x).numpy()[0], (lin.weight.sum(1) + lin.bias).numpy(), rtol=1e-6)
    with autojac.nn.Linear(2, 2).register_forward_hook(lambda *a: None) as handle:
        assert isinstance(handle, autojac.nn.RemovableHandle)


def test_forward_hook_with_kwargs_and_pre_hook_replacing_kwargs():
    class Scale(autojac.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: out + kwargs["factor"], with_kwargs=True)
    assert m(autojac.tensor([1.0, 2.0])).tolist() == [6.0, 9.0]


def test_train_eval_requires_grad_zero_grad_apply():
    ours = make_model(autojac)
    assert ours.training and all(m.training for m in ours.modules())
    assert ours.eval() is ours and not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("yes")
    ours(autojac.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in ours.parameters())
    ours.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in ours.parameters())
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
    ours.requires_grad_(False)
    assert not any(p.requires_grad for p in ours.parameters())
    seen, seen_torch = [], []
    ours.apply(lambda m: seen.append(type(m).__name__))
    make_model(torch).apply(lambda m: seen_torch.append(type(m).__name__))
    assert seen == seen_torch and seen[-1] == "Net"


def test_dtype_and_device_conversion():
    m = make_model(autojac)
    weight = m.head.out.weight
    assert m.double() is m and m.head.out.weight is weight and weight.dtype == autojac.float64
    assert m.blocks[0].count.dtype == autojac.float64
    m(autojac.ones(2, 3, dtype=autojac.float64)).sum().backward()
    m.float()
    assert weight.dtype == autojac.float32 and weight.grad.dtype == autojac.float32
    m.to(autojac.float64)
    assert weight.dtype == autojac.float64
    m.to("cpu").to(device="cpu:0").cpu()
    bn = autojac.nn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype == autojac.int64  # integer buffers keep their dtype

    class CpuDevice:  # anything whose .type is 'cpu' (e.g. torch.device('cpu'))
        type = "cpu"

    m.to(CpuDevice())
    m.to(torch.device("cpu"), autojac.float32)
    assert weight.dtype == autojac.float32
    for bad in ("cuda", "cuda:0", "meta"):
        with pytest.raises(RuntimeError, match="autojac runs on the CPU only"):
            m.to(bad)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes, but got "
                                        "desired dtype=autojac.int64"):
        m.to(autojac.int64)


def _error(action, T):
    T.manual_seed(0)
    try:
        action(T, T.nn.Linear(2, 2))
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).replace("torch.", "autojac.").replace("torch ", "autojac ")
    return None


@pytest.mark.parametrize("action", [
    lambda T, m: m.register_buffer("a.b", T.zeros(1)),
    lambda T, m: m.register_buffer("", T.zeros(1)),
    lambda T, m: m.register_buffer("weight", T.zeros(1)),
    lambda T, m: m.register_buffer("x", [1.0]),
    lambda T, m: m.register_buffer(3, T.zeros(1)),
    lambda T, m: m.register_parameter("p.q", None),
    lambda T, m: m.register_parameter("p", T.zeros(1)),
    lambda T, m: m.register_parameter("p", T.nn.Parameter(T.zeros(1)) * 2),
    lambda T, m: m.add_module("a.b", T.nn.ReLU()),
    lambda T, m: m.add_module("relu", 3),
    lambda T, m: m.add_module("weight", T.nn.ReLU()),
    lambda T, m: setattr(m, "weight", T.zeros(2, 2)),
    lambda T, m: m.get_submodule("nothere"),
    lambda T, m: m.get_parameter("nothere"),
    lambda T, m: m.get_parameter("in_features"),
    lambda T, m: m.nothere,
    lambda T, m: T.nn.Module()(1),
])
def test_registration_errors_match_torch(action):
    results = [_error(action, T) for T in LIBS]
    assert results[0] is not None and results[0] == results[1]


def test_setattr_reassignment_moves_between_tables():
    m = autojac.nn.Linear(2, 2)
    m.bias = None  # allowed for a parameter name
    assert m.bias is None and "bias" in m._parameters
    m.weight = autojac.nn.Parameter(autojac.zeros(2, 2))
    m.sub = autojac.nn.ReLU()
    m.sub = None
    assert "sub" in m._modules and m.sub is None
    m.register_buffer("stat", autojac.zeros(2))
    m.stat = autojac.ones(2)
    assert m.stat.tolist() == [1.0, 1.0] and "stat" in m.state_dict()
    del m.stat
    assert "stat" not in m.state_dict()
    m.plain = 3
    assert m.plain == 3 and "plain" in m.__dict__


def test_parameter():
    ours = autojac.nn.Parameter(autojac.tensor([1.0, 2.0]))
    theirs = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(ours) == repr(theirs)
    assert isinstance(ours, autojac.nn.Parameter) and isinstance(ours, autojac.Tensor)
    assert ours.is_leaf and ours.requires_grad
    assert not isinstance(autojac.ones(1), autojac.nn.Parameter)
    assert not isinstance(ours * 2, autojac.nn.Parameter)
    assert not autojac.nn.Parameter(autojac.ones(1), requires_grad=False).requires_grad
    assert repr(autojac.nn.Parameter()) == repr(torch.nn.Parameter())
    copied = copy.deepcopy(ours)
    assert isinstance(copied, autojac.nn.Parameter) and copied is not ours
    loaded = pickle.loads(pickle.dumps(ours))
    assert isinstance(loaded, autojac.nn.Parameter) and loaded.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require"):
        autojac.nn.Parameter(autojac.tensor([1, 2]))


def test_deepcopy_and_pickle_model():
    m = make_model(autojac)
    clone = copy.deepcopy(m)
    assert names(clone.named_parameters()) == names(m.named_parameters())
    assert all(isinstance(p, autojac.nn.Parameter) for p in clone.parameters())
    assert clone.head.out.weight is not m.head.out.weight
    assert clone.shared is clone.head.out  # sharing survives
    x = autojac.ones(2, 3)
    np.testing.assert_array_equal(clone(x).detach().numpy(), m(x).detach().numpy())
    seq = autojac.nn.Sequential(autojac.nn.Linear(3, 2), autojac.nn.BatchNorm1d(2))
    loaded = pickle.loads(pickle.dumps(seq))
    assert repr(loaded) == repr(seq) and isinstance(loaded[0].weight, autojac.nn.Parameter)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), seq(x).detach().numpy())


def test_sequential_operations():
    for T in LIBS:
        s = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.ReLU(), T.nn.Linear(3, 1))
        assert len(s) == 3 and isinstance(s[-1], T.nn.Linear) and [type(m).__name__ for m in s][1] == "ReLU"
        assert isinstance(s[1:], T.nn.Sequential) and len(s[1:]) == 2
        s.append(T.nn.Sigmoid())
        assert list(s._modules) == ["0", "1", "2", "3"]
        del s[1]
        assert list(s._modules) == ["0", "1", "2"] and type(s[1]).__name__ == "Linear"
        s.insert(1, T.nn.Tanh())
        assert [type(m).__name__ for m in s] == ["Linear", "Tanh", "Linear", "Sigmoid"]
        s[0] = T.nn.Identity()
        assert type(s[0]).__name__ == "Identity"
        assert len(s + T.nn.Sequential(T.nn.ReLU())) == 5
        with pytest.raises(IndexError, match="index 9 is out of range"):
            s[9]
    a, t = (T.nn.Sequential(OrderedDict(fc=T.nn.Linear(2, 2), act=T.nn.ReLU())) for T in LIBS)
    assert repr(a) == repr(t) and a.fc is a[0]


def test_module_list_and_dict_operations():
    for T in LIBS:
        ml = T.nn.ModuleList([T.nn.ReLU()])
        ml.append(T.nn.Tanh())
        ml.extend([T.nn.Sigmoid()])
        ml += [T.nn.ReLU()]
        ml.insert(0, T.nn.Identity())
        assert [type(m).__name__ for m in ml] == ["Identity", "ReLU", "Tanh", "Sigmoid", "ReLU"]
        assert type(ml[-2]).__name__ == "Sigmoid" and len(ml[1:3]) == 2
        del ml[0]
        assert list(ml._modules) == ["0", "1", "2", "3"]
        md = T.nn.ModuleDict({"a": T.nn.ReLU()})
        md["b"] = T.nn.Tanh()
        md.update([("c", T.nn.Sigmoid())])
        assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
        assert type(md.pop("a")).__name__ == "ReLU" and list(md) == ["b", "c"]
        pl = T.nn.ParameterList([T.zeros(2)])
        pl.append(T.ones(3))
        assert len(pl) == 2 and all(isinstance(p, T.nn.Parameter) for p in pl)
        assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
        pd = T.nn.ParameterDict({"w": T.zeros(2)})
        pd["v"] = T.ones(1)
        assert list(pd.keys()) == ["w", "v"] and isinstance(pd["v"], T.nn.Parameter)
        assert [n for n, _ in pd.named_parameters()] == ["w", "v"]


@pytest.mark.parametrize("T", LIBS, ids=["autojac", "torch"])
def test_assigning_before_init_fails(T):
    class NoInit(T.nn.Module):
        def __init__(self):
            self.w = T.nn.Parameter(T.zeros(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        NoInit()


@pytest.mark.parametrize("T", LIBS, ids=["autojac", "torch"])
def test_buffer_assignment(T):
    m = T.nn.Linear(2, 2)
    m.stat = T.nn.Buffer(T.ones(2))
    m.scratch = T.nn.Buffer(T.zeros(3), persistent=False)
    m.plain = T.zeros(1)  # a plain tensor attribute is not a buffer
    assert names(m.named_buffers()) == ["stat", "scratch"]
    assert list(m.state_dict()) == ["weight", "bias", "stat"]
    m.stat = T.full((2,), 5.0)  # reassigning a buffer name keeps it a (persistent) buffer
    m.scratch = T.ones(3)
    assert list(m.state_dict()) == ["weight", "bias", "stat"] and m.stat.tolist() == [5.0, 5.0]
    assert isinstance(T.nn.Buffer(T.ones(1)), T.nn.Buffer) and not isinstance(T.ones(1), T.nn.Buffer)
    with pytest.raises(TypeError, match="as buffer 'stat'"):
        m.stat = [1.0]


def _backward_hooks_run(T, input_requires_grad):
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2))
    log = []

    def record(mod, grad_input, grad_output):
        log.append(([None if g is None else g.numpy().copy() for g in grad_input], [g.numpy().copy() for g in
                                                                                     grad_output]))
    m[0].register_full_backward_hook(record)
    m[2].register_full_backward_pre_hook(lambda mod, grad_output: (grad_output[0] * 2,))
    m[1].register_full_backward_hook(lambda mod, grad_input, grad_output: (grad_input[0] + 1,))
    x = T.tensor(np.arange(6.0).reshape(2, 3) / 10, dtype=T.float32, requires_grad=input_requires_grad)
    m(x).pow(2).sum().backward()
    return log, None if x.grad is None else x.grad.numpy(), m[0].weight.grad.numpy()


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_match_torch(input_requires_grad):
    ours = _backward_hooks_run(autojac, input_requires_grad)
    theirs = _backward_hooks_run(torch, input_requires_grad)
    (gi, go), = ours[0]
    (tgi, tgo), = theirs[0]
    assert [g is None for g in gi] == [g is None for g in tgi] and len(go) == len(tgo)
    for a, b in zip([*gi, *go], [*tgi, *tgo]):
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if b is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
