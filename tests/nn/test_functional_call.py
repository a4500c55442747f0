"""func.functional_call / stack_module_state with grad, vmap, jacrev and hessian, against torch.func."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import autojac

LIBS = [autojac, torch]


def make_mlp(T, seed=0):
    T.manual_seed(seed)
    return T.nn.Sequential(T.nn.Linear(4, 6), T.nn.Tanh(), T.nn.Linear(6, 3))


def make_cnn(T, seed=0):
    T.manual_seed(seed)
    return T.nn.Sequential(T.nn.Conv2d(1, 2, 3), T.nn.ReLU(), T.nn.MaxPool2d(2), T.nn.Flatten(), T.nn.Linear(8, 3))


def data(shape, n=5, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)), rng.integers(0, classes, n)


def per_sample_grads(T, model, x, y):
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(params, buffers, sample, target):
        out = T.func.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
        return T.nn.functional.cross_entropy(out, target.unsqueeze(0))

    return T.func.vmap(T.func.grad(loss), in_dims=(None, None, 0, 0))(params, buffers, T.tensor(x), T.tensor(y))


@pytest.mark.parametrize("make,shape", [(make_mlp, (4,)), (make_cnn, (1, 6, 6))], ids=["mlp", "cnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_per_sample_gradients_match_torch_func(make, shape, dtype):
    x, y = data(shape)
    x = x.astype(dtype)
    ours, theirs = make(autojac), make(torch)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    g = per_sample_grads(autojac, ours, x, y)
    tg = per_sample_grads(torch, theirs, x, y)
    assert list(g) == list(tg)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for k in g:
        np.testing.assert_allclose(g[k].numpy(), tg[k].numpy(), err_msg=k, **tol)
    # each row is the gradient of that sample's loss alone
    model = make(autojac)
    if dtype == np.float64:
        model.double()
    autojac.nn.functional.cross_entropy(model(autojac.tensor(x[2:3])), autojac.tensor(y[2:3])).backward()
    for k, p in model.named_parameters():
        np.testing.assert_allclose(g[k].numpy()[2], p.grad.numpy(), err_msg=k, **tol)


def hessian_of_loss(T, model, x, y):
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params):
        return T.nn.functional.mse_loss(T.func.functional_call(model, params, T.tensor(x)), T.tensor(y))

    return T.func.hessian(loss)(params), T.func.jacrev(loss)(params)


def test_hessian_through_module_parameters_matches_torch_func():
    x = np.random.default_rng(0).standard_normal((5, 4))
    y = np.random.default_rng(1).standard_normal((5, 3))
    ours, theirs = make_mlp(autojac).double(), make_mlp(torch).double()
    (h, g), (th, tg) = hessian_of_loss(autojac, ours, x, y), hessian_of_loss(torch, theirs, x, y)
    for k in g:
        np.testing.assert_allclose(g[k].numpy(), tg[k].numpy(), rtol=1e-10, atol=1e-12)
        for k2 in g:
            assert tuple(h[k][k2].shape) == tuple(th[k][k2].shape)
            np.testing.assert_allclose(h[k][k2].numpy(), th[k][k2].numpy(), rtol=1e-9, atol=1e-12, err_msg=(k, k2))


def test_stack_module_state_ensemble_matches_torch():
    x = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    outs = []
    for T in LIBS:
        models = [make_mlp(T, seed=s) for s in range(3)]
        params, buffers = T.func.stack_module_state(models)
        assert params["0.weight"].shape == (3, 6, 4) and params["0.weight"].requires_grad
        base = copy.deepcopy(models[0])

        def call(p, b, xx, base=base, T=T):
            return T.func.functional_call(base, (p, b), (xx,))

        outs.append(T.func.vmap(call, in_dims=(0, 0, None))(params, buffers, T.tensor(x)).detach().numpy())
        np.testing.assert_allclose(outs[-1][1], models[1](T.tensor(x)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_stack_module_state_errors():
    for T in LIBS:
        with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
            T.func.stack_module_state([])
        a, b = T.nn.Linear(2, 2), T.nn.Linear(2, 2)
        b.eval()
        with pytest.raises(RuntimeError, match="Expected all models to have the same training/eval mode"):
            T.func.stack_module_state([a, b])
        with pytest.raises(RuntimeError, match="Expected all models to be of the same class"):
            T.func.stack_module_state([a, T.nn.Tanh()])


class Tied:
    @staticmethod
    def make(T):
        T.manual_seed(0)
        m = T.nn.Sequential(T.nn.Linear(3, 3), T.nn.Linear(3, 3))
        m[1].weight = m[0].weight
        return m


def _outcome(fn):
    try:
        out = fn()
    except (ValueError, RuntimeError) as e:
        return type(e).__name__, str(e)
    return "ok", np.round(out.detach().numpy(), 5).tolist()


@pytest.mark.parametrize("case", [
    lambda T, m, x: T.func.functional_call(m, {"0.weight": T.eye(3)}, (x,)),
    lambda T, m, x: T.func.functional_call(m, {"0.weight": T.eye(3)}, (x,), tie_weights=False),
    lambda T, m, x: T.func.functional_call(m, {"0.weight": T.eye(3), "1.weight": T.ones(3, 3)}, (x,)),
    lambda T, m, x: T.func.functional_call(m, {"0.weight": T.eye(3), "1.weight": T.ones(3, 3)}, x,
                                           tie_weights=False),
    lambda T, m, x: T.func.functional_call(m, {"0.weight": T.eye(3), "bogus": T.ones(1)}, (x,), strict=True),
    lambda T, m, x: T.func.functional_call(m, ({"0.bias": T.ones(3)}, {"0.bias": T.zeros(3)}), (x,)),
    lambda T, m, x: T.func.functional_call(m, [{"0.bias": T.ones(3)}, {"1.bias": T.zeros(3)}], x),
    lambda T, m, x: T.func.functional_call(m, 3, (x,)),
])
def test_tied_weights_strict_and_dict_errors_match_torch(case):
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    results = []
    for T in LIBS:
        m = Tied.make(T)
        before = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
        results.append(_outcome(lambda T=T, m=m: case(T, m, T.tensor(x))))
        for k, v in m.state_dict().items():  # the module's own tensors are back
            np.testing.assert_array_equal(v.numpy(), before[k])
        assert isinstance(m[0].weight, T.nn.Parameter) and m[1].weight is m[0].weight
    assert results[0] == results[1]


def test_functional_call_with_buffers_and_kwargs():
    class Shift(autojac.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("offset", autojac.zeros(2))

        def forward(self, x, scale=1.0):
            return x * scale + self.offset

    m = Shift()
    out = autojac.func.functional_call(m, {"offset": autojac.tensor([1.0, 2.0])}, (autojac.ones(2),), {"scale": 3.0})
    assert out.tolist() == [4.0, 5.0] and m.offset.tolist() == [0.0, 0.0]
    bn = autojac.nn.BatchNorm1d(2).eval()
    stats = {"running_mean": autojac.tensor([1.0, -1.0]), "running_var": autojac.tensor([4.0, 1.0])}
    out = autojac.func.functional_call(bn, stats, autojac.tensor([[3.0, 0.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(1 + 1e-5)]], rtol=1e-6)


def test_module_restored_when_forward_raises():
    m = autojac.nn.Linear(2, 2)
    weight = m.weight
    with pytest.raises(RuntimeError):
        autojac.func.functional_call(m, {"weight": autojac.ones(5, 5)}, (autojac.ones(1, 2),))
    assert m.weight is weight
