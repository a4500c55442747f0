"""Parity with torch 2.13 for the API surface real programs use (issue 8, part 4): NumPy-style keywords,
size=, flip(dims=), torch.vmap, top-level in-place functions, legacy constructors, fill_diagonal_, grad_fn
types and next_functions, bool subtraction, jacobian's strategy checks."""

from __future__ import annotations

import re

import pytest
import torch

import autojac
from _parity import same

X = [[1., 5., 2.], [7., 0., 3.]]


# --------------------------------------------------------------------------- axis= / keepdims=
REDUCTIONS = ["sum", "mean", "prod", "amax", "amin", "std", "var", "logsumexp", "argmax", "argmin",
              "all", "any", "max", "min", "var_mean", "std_mean", "aminmax"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keep", ["keepdims", "keepdim", None])
def test_axis_and_keepdims_in_reductions(name, keep):
    kw = {} if keep is None else {keep: True}

    def fn(T):
        return getattr(T, name)(T.tensor(X), axis=1, **kw)

    def method(T):
        return getattr(T.tensor(X), name)(axis=-1, **kw)

    for case in (fn, method) if hasattr(torch.Tensor, name) else (fn,):
        if name in ("all", "any"):
            same(lambda T, case=case: case(_BoolNamespace(T)))
        else:
            same(case)


class _BoolNamespace:
    """The namespace with ``tensor`` making bool tensors (all/any on booleans)."""

    def __init__(self, T):
        self._T = T

    def __getattr__(self, name):
        return getattr(self._T, name)

    def tensor(self, data):
        return self._T.tensor(data) > 2


@pytest.mark.parametrize("call", [
    lambda T, x: T.cumsum(x, axis=1), lambda T, x: x.cumprod(axis=0), lambda T, x: T.softmax(x, axis=1),
    lambda T, x: T.log_softmax(x, axis=0), lambda T, x: T.count_nonzero(x, axis=1),
    lambda T, x: T.squeeze(x[:1], axis=0),
    lambda T, x: T.unsqueeze(x, axis=1), lambda T, x: T.cat([x, x], axis=1), lambda T, x: T.stack([x, x], axis=1),
    lambda T, x: T.sort(x, axis=1), lambda T, x: T.argsort(x, axis=0), lambda T, x: T.topk(x, 2, axis=1),
    lambda T, x: T.cummax(x, axis=1), lambda T, x: T.logcumsumexp(x, axis=1), lambda T, x: T.diff(x, axis=1),
    lambda T, x: T.kthvalue(x, 2, axis=1), lambda T, x: T.gather(x, index=T.tensor([[0], [2]]), axis=1),
    lambda T, x: T.index_select(x, index=T.tensor([2]), axis=1), lambda T, x: T.unbind(x, axis=1),
    lambda T, x: T.chunk(x, 2, axis=1), lambda T, x: T.narrow(x, start=1, length=2, axis=1),
    lambda T, x: T.select(x, index=1, axis=1), lambda T, x: x.unbind(axis=1),
])
def test_axis_in_dim_functions(call):
    same(lambda T: call(T, T.tensor(X)))


@pytest.mark.parametrize("call", [
    lambda T, x: T.cumsum(x, dim=1, keepdims=True), lambda T, x: T.sum(x, axis=1, dim=1),
    lambda T, x: x.sum(dim=1, keepdims=True, keepdim=True),
])
def test_alias_errors(call):
    same(lambda T: call(T, T.tensor(X)), match=r"keyword argument|multiple values|invalid combination")


def test_axis_keeps_gradients():
    def case(T):
        x = T.tensor(X, requires_grad=True)
        (T.sum(x * x, axis=1, keepdims=True) * T.tensor([[1.], [2.]])).sum().backward()
        return x.grad
    same(case)


# --------------------------------------------------------------------------- size=, flip(dims=), torch.vmap
@pytest.mark.parametrize("make", [
    lambda T: T.zeros(size=(2, 3)), lambda T: T.zeros(size=[2]), lambda T: T.ones(size=(2,)),
    lambda T: T.empty(size=(2,)).shape, lambda T: (T.manual_seed(0), T.rand(size=(2,)))[1],
    lambda T: (T.manual_seed(0), T.randn(size=(2, 2)))[1], lambda T: T.full(size=(2,), fill_value=3.),
    lambda T: (T.manual_seed(0), T.randint(0, 5, size=(3,)))[1],
    lambda T: (T.manual_seed(0), T.randint(5, size=(3,)))[1],
    lambda T: (T.manual_seed(0), T.randint(low=0, high=5, size=(3,)))[1],
    lambda T: (T.manual_seed(0), T.randint(high=5, size=(3,)))[1], lambda T: T.zeros(2, size=(2, 3)),
    lambda T: T.zeros(size=2), lambda T: T.ones(2).new_zeros(size=(3,)),
])
def test_size_keyword(make):
    same(make)


def test_flip_dims_keyword():
    same(lambda T: T.flip(T.tensor(X), dims=(0,)))
    same(lambda T: T.flip(T.tensor(X), dims=[0, 1]))
    same(lambda T: T.tensor(X).flip(dims=(1,)))
    same(lambda T: T.flip(T.tensor(X), (1,)))


def test_top_level_vmap():
    same(lambda T: T.vmap(lambda r: r * r.sum())(T.tensor(X)))
    assert autojac.vmap is autojac.func.vmap


# --------------------------------------------------------------------------- top-level in-place functions
INPLACE = [n for n in autojac.ops.aliases.INPLACE_FUNCTIONS if hasattr(autojac, n)]
ARGS = {"clamp_": (0.5, 2.), "clip_": (0.5, 2.), "clamp_max_": (2.,), "clamp_min_": (0.5,), "fill_": (3.,),
        "threshold_": (0.6, -1.), "xlogy_": (2.,), "celu_": (), "logit_": ()}


@pytest.mark.parametrize("name", INPLACE)
def test_top_level_inplace_functions(name):
    assert name in dir(torch), name

    def case(T):
        x = T.tensor([0.25, 0.5, 0.75] if name not in ("acosh_", "arccosh_") else [1.5, 2., 3.])
        out = getattr(T, name)(x, *ARGS.get(name, ()))
        return out is x, x
    same(case)


def test_inplace_function_records_gradient():
    def case(T):
        x = T.tensor([0.25, 0.5], requires_grad=True)
        y = x * 2
        T.sin_(y)
        T.exp_(y)
        y.sum().backward()
        return y, x.grad, type(y.grad_fn).__name__
    same(case)


# --------------------------------------------------------------------------- legacy constructors
LEGACY = ["Tensor", "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "HalfTensor",
          "ByteTensor", "ShortTensor", "CharTensor"]


@pytest.mark.parametrize("cls", LEGACY)
def test_legacy_constructors(cls):
    same(lambda T: getattr(T, cls)([1, 0, 2]))
    same(lambda T: getattr(T, cls)([[1.5], [0.]]))
    same(lambda T: getattr(T, cls)(2, 3).shape)
    same(lambda T: getattr(T, cls)(2, 3).dtype)
    same(lambda T: getattr(T, cls)().shape)
    same(lambda T: getattr(T, cls)(T.Size([2, 1])).shape)
    same(lambda T: getattr(T, cls)((2, 3)))


@pytest.mark.parametrize("make", [
    lambda T: T.Tensor(2.5), lambda T: T.Tensor(T.ones(2, dtype=T.float64)), lambda T: T.Tensor(T.ones(2)),
    lambda T: T.Tensor(2, device="cpu").shape, lambda T: T.FloatTensor(T.ones(2, dtype=T.float64)),
    lambda T: T.LongTensor([1.7, -2.2]), lambda T: T.Tensor(2, device="cuda"),
])
def test_legacy_constructor_arguments(make):
    same(make, match=r"data must be a sequence|expected|device type")


def test_legacy_isinstance_and_default_dtype():
    def case(T):
        kinds = [T.ones(2), T.ones(2, dtype=T.float64), T.ones(2, dtype=T.int64), T.ones(2, dtype=T.bool), 3]
        return [[isinstance(k, getattr(T, c)) for c in LEGACY] for k in kinds]
    same(case)

    def default64(T):
        T.set_default_dtype(T.float64)
        try:
            return T.Tensor([1, 2]), isinstance(T.ones(2), T.DoubleTensor), T.FloatTensor([1]).dtype
        finally:
            T.set_default_dtype(T.float32)
    same(default64)
    t = autojac.FloatTensor([1.])
    assert type(t) is autojac.Tensor and not issubclass(autojac.FloatTensor, autojac.Tensor)
    assert autojac.FloatTensor.__name__ == "FloatTensor" and autojac.FloatTensor.dtype is autojac.float32


def test_legacy_tensor_requires_grad():
    def case(T):
        w = T.Tensor([1., 2.]).requires_grad_()
        (w * w).sum().backward()
        return w.grad
    same(case)


# --------------------------------------------------------------------------- fill_diagonal_
@pytest.mark.parametrize("shape", [(3, 3), (7, 3), (3, 5), (2, 2, 2), (4, 4), (5, 1), (1, 5), (2, 3, 2), (2,)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal(shape, wrap):
    def case(T):
        x = T.zeros(shape)
        out = x.fill_diagonal_(5., wrap=wrap)
        return out is x, x
    same(case)


def test_fill_diagonal_gradient():
    def case(T):
        w = T.ones(3, 3, requires_grad=True)
        y = w * 2
        y.fill_diagonal_(0)
        (y * T.arange(9.).reshape(3, 3)).sum().backward()
        return y, w.grad
    same(case)
    same(lambda T: T.ones(2, 3, dtype=T.int64).fill_diagonal_(7))


# --------------------------------------------------------------------------- grad_fn types and edges
def _edges(fn):
    return [(None if f is None else type(f).__name__, n) for f, n in fn.next_functions]


@pytest.mark.parametrize("expr", [
    lambda T, x: 2 * x, lambda T, x: x * 2, lambda T, x: 2 + x, lambda T, x: 2 - x, lambda T, x: x - 2,
    lambda T, x: x / 2, lambda T, x: 2 / x, lambda T, x: 0.7 / x, lambda T, x: 2 ** x, lambda T, x: x ** 2,
    lambda T, x: 2.5 * x, lambda T, x: T.mul(2, x),
    lambda T, x: x.exp(), lambda T, x: x.sum(), lambda T, x: x + x, lambda T, x: x @ x, lambda T, x: -x,
    lambda T, x: x.reshape(1, 2).t() * 2, lambda T, x: x[0], lambda T, x: x[[0, 1]],
    lambda T, x: T.norm(x), lambda T, x: x.max(), lambda T, x: x.to(T.float64),
])
def test_grad_fn_type_name_and_edges(expr):
    def case(T):
        y = expr(T, T.tensor([1., 2.], requires_grad=True))
        fn = y.grad_fn
        return type(fn).__name__, fn.name(), _edges(fn), [_edges(f) for f, _ in fn.next_functions if f is not None]
    same(case)


@pytest.mark.parametrize("num", [2, 3, 0.7, -1.3, 10, 1j])
def test_number_divided_by_tensor(num):
    def case(T):
        x = T.tensor([3., 7., 0.1, 1e-3, 0., -5.], requires_grad=True)
        y = num / x
        (y.real if y.is_complex() else y).sum().backward()
        return y, x.grad
    same(case)
    same(lambda T: (num / T.tensor([2, 4]), num / T.tensor([2., 4.], dtype=T.float64)))


def test_custom_function_node():
    def case(T):
        class MyFn(T.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        y = MyFn.apply(T.ones(2, requires_grad=True))
        return type(y.grad_fn).__name__, y.grad_fn.name(), _edges(y.grad_fn)
    same(case)

    class MyFn(autojac.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = MyFn.apply(autojac.ones(2, requires_grad=True))
    assert re.fullmatch(r"<autojac\.autograd\.function\.MyFnBackward object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert type(y.grad_fn).__module__ == "autojac.autograd.function"
    assert isinstance(y.grad_fn, autojac._core.node.Node)
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr((y * 2).grad_fn))


# --------------------------------------------------------------------------- bool subtraction
@pytest.mark.parametrize("make", [
    lambda T: T.tensor([True, False]) - T.tensor([True, True]), lambda T: 1 - T.tensor([True, False]),
    lambda T: T.tensor([True, False]) - 1, lambda T: T.tensor([True, False]) - True,
    lambda T: True - T.tensor([True, False]), lambda T: T.sub(T.tensor([True]), T.tensor([False])),
    lambda T: T.tensor([True]).sub(True), lambda T: T.tensor([1, 2]) - T.tensor([True, False]),
    lambda T: T.tensor([True, False]) - T.tensor([1., 2.]), lambda T: T.tensor([True]) - 1.5,
    lambda T: T.tensor([True]).__rsub__(1),
    lambda T: -T.tensor([True, False]),
])
def test_bool_subtraction(make):
    same(make)


# --------------------------------------------------------------------------- jacobian strategy checks
def test_forward_mode_jacobian_needs_vectorize():
    same(lambda T: T.autograd.functional.jacobian(lambda x: x * 2, T.ones(2), strategy="forward-mode"))
    same(lambda T: T.autograd.functional.jacobian(lambda x: x * 2, T.ones(2), strategy="forward-mode",
                                                  vectorize=True))
    same(lambda T: T.autograd.functional.jacobian(lambda x: x * 2, T.ones(2), strategy="sideways"))
    same(lambda T: T.autograd.functional.jacobian(lambda x: x * 2, T.ones(2), strategy="forward-mode",
                                                  vectorize=True, create_graph=True))
    same(lambda T: T.autograd.functional.hessian(lambda x: (x ** 3).sum(), T.ones(2),
                                                 outer_jacobian_strategy="forward-mode"))
    same(lambda T: T.autograd.functional.hessian(lambda x: (x ** 3).sum(), T.ones(2), vectorize=True,
                                                 outer_jacobian_strategy="forward-mode"))
    same(lambda T: T.autograd.functional.hessian(lambda x: (x ** 3).sum(), T.ones(2),
                                                 outer_jacobian_strategy="sideways"))


# --------------------------------------------------------------------------- detect_anomaly's warnings
def _anomaly_run(T, fail: str):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = None
        with T.autograd.detect_anomaly():
            x = T.tensor([1., -1.], requires_grad=True)

            class Bad(T.autograd.Function):
                @staticmethod
                def forward(ctx, a):
                    return a * 1

                @staticmethod
                def backward(ctx, g):
                    if fail == "raise":
                        raise ValueError("boom")
                    return g * float("nan")

            y = Bad.apply(x).sum() if fail != "sqrt" else x.sqrt().sum()
            try:
                y.backward()
            except Exception as e:  # noqa: BLE001 - compared below
                error = e
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    return type(error).__name__, str(error).splitlines()[0], messages


@pytest.mark.parametrize("fail", ["nan", "raise", "sqrt"])
def test_detect_anomaly_warnings(fail):
    t_err, t_first, t_msgs = _anomaly_run(torch, fail)
    a_err, a_first, a_msgs = _anomaly_run(autojac, fail)
    assert (a_err, a_first) == (t_err, t_first)
    enabled = ("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
               "enabled for debugging.")
    assert t_msgs[0] == a_msgs[0] == enabled
    assert len(a_msgs) == len(t_msgs) == 2
    head = t_msgs[1].split(".")[0] + ". Traceback of forward call that caused the error:\n"
    assert a_msgs[1].startswith(head), (a_msgs[1], head)
    # the forward stack names this test's line that built the failing node
    assert "test_parity_api.py" in a_msgs[1] and "_anomaly_run" in a_msgs[1]


def test_detect_anomaly_without_forward_information():
    import warnings

    def run(T):
        x = T.tensor([-1.], requires_grad=True)
        y = x.sqrt().sum()  # recorded before anomaly mode: no stack kept
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with T.autograd.detect_anomaly():
                with pytest.raises(RuntimeError):
                    y.backward()
        return [str(w.message).split(" (Triggered internally")[0] for w in caught][1:]
    assert run(autojac) == run(torch)


def test_set_detect_anomaly_does_not_warn():
    import warnings

    for T in (torch, autojac):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with T.autograd.set_detect_anomaly(True):
                pass
        assert not [w for w in caught if "Anomaly" in str(w.message)]


def test_shown_nodes_still_differentiate():
    # a node takes its named type when first shown; the engine must treat it as any other node
    def case(T):
        x = T.tensor([0.5, 2.], dtype=T.float64, requires_grad=True)
        y = x.exp() * x
        z = (y.sin() + 2 * y).sum()
        names = [type(y.grad_fn).__name__, type(z.grad_fn).__name__,
                 [type(f).__name__ for f, _ in z.grad_fn.next_functions[0][0].next_functions]]
        (g,) = T.autograd.grad(z, x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return names, g, h
    same(case)
