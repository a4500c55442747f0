"""``autojac.func`` transforms against ``torch.func`` 2.13: the same code runs with both libraries.

A case is ``case(T, F)`` with ``T`` the library (``torch`` / ``autojac``) and ``F`` its ``func``
namespace; ``check`` runs it with both and compares results recursively (structure, dtype,
shape, ``requires_grad``, values). Errors are compared by message. Float64 finite
differences back the Hessian; call counts show that Jacobians take one pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.func

import autojac
import autojac.func
from _tol import assert_close
from autojac.func import _transforms
from autojac.func._pytree import tree_flatten, tree_unflatten

LIBS = ((torch, torch.func), (autojac, autojac.func))
RNG = np.random.RandomState(1234)


def arr(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same(expected, actual, rtol: float = 1e-9, atol: float = 1e-10, path: str = "result") -> None:
    """Compare a torch result with an autojac one, recursively."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, autojac.Tensor), f"{path}: expected a Tensor, got {type(actual).__name__}"
        assert dtype_name(actual.dtype) == dtype_name(expected.dtype), f"{path}: dtype {actual.dtype}"
        assert tuple(actual.shape) == tuple(expected.shape), f"{path}: shape {actual.shape} != {expected.shape}"
        assert actual.requires_grad == expected.requires_grad, f"{path}: requires_grad {actual.requires_grad}"
        assert_close(actual.detach().numpy(), expected.detach().numpy(), rtol, atol, err_msg=path)
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, rtol, atol, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for k in expected:
            assert_same(expected[k], actual[k], rtol, atol, f"{path}[{k!r}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def check(case, **tol) -> None:
    expected, actual = (case(T, F) for T, F in LIBS)
    assert_same(expected, actual, **tol)


def check_error(case, match_prefix: int | None = None) -> None:
    """Both libraries raise the same exception type with the same message (or its first characters)."""
    msgs = []
    for T, F in LIBS:
        with pytest.raises(Exception) as info:
            case(T, F)
        msgs.append((type(info.value), str(info.value)))
    (te, tm), (ae, am) = msgs
    assert ae is te, f"{ae.__name__} != {te.__name__}: {am}"
    am = am.replace("autojac.", "torch.")  # dtypes and sizes print under the library's name
    if match_prefix is not None:
        tm, am = tm[:match_prefix], am[:match_prefix]
    assert am == tm


def _fd(fn, x0: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the array function ``fn``: shape ``fn(x0).shape + x0.shape``."""
    cols = []
    for idx in np.ndindex(x0.shape):
        e = np.zeros_like(x0)
        e[idx] = eps
        cols.append((fn(x0 + e) - fn(x0 - e)) / (2 * eps))
    return np.moveaxis(np.array(cols), 0, -1).reshape(cols[0].shape + x0.shape)


def t(T, a: np.ndarray, requires_grad: bool = False):
    return T.tensor(a, dtype=T.float64, requires_grad=requires_grad)


# --------------------------------------------------------------------------- the function table
# Each entry: name -> (function of (T, *args), input shapes). Written once with T's namespace.
X3, X23, W = arr(3), arr(2, 3), arr(4, 3)

FUNCS = {
    "elementwise": (lambda T, x: T.sin(x) * T.exp(x) + x ** 3 / (1 + x * x), [(3,)]),
    "tanh_sigmoid": (lambda T, x: T.tanh(x) * T.sigmoid(2 * x) - T.log(1 + x * x), [(2, 3)]),
    "reductions": (lambda T, x: T.cat([(x ** 2).sum(0), x.mean(1), x.prod(1), T.logsumexp(x, 1)]), [(2, 3)]),
    "max_min": (lambda T, x: T.stack([x.amax(0), x.amin(0)]) * x.max(), [(2, 3)]),
    "matmul_chain": (lambda T, x: T.tanh(t(T, W) @ x) @ t(T, W) * x, [(3,)]),
    "matrix_input": (lambda T, x: (x @ x.T).sin() @ x, [(2, 3)]),
    "indexing": (lambda T, x: x[1:, ::2] * x[0, :2] + x[:, 1].sum(), [(2, 3)]),
    "broadcasting": (lambda T, x: (x[:, None] * x[None, :]).exp() - x, [(3,)]),
    "softmax": (lambda T, x: T.softmax(x, -1) * T.sqrt(x * x + 1), [(2, 3)]),
    "scalar_in": (lambda T, x: T.stack([x.sin(), x * x, x.exp()]), [()]),
    "two_args": (lambda T, x, y: T.tanh(x @ y) * y.sum(0), [(2, 3), (3, 4)]),
    "three_args": (lambda T, x, y, z: x * T.sin(y) + z.sum() * y, [(3,), (3,), (2,)]),
}
SCALAR = {
    "sum_elementwise": (lambda T, x: (T.sin(x) * T.exp(x)).sum(), [(3,)]),
    "quadratic": (lambda T, x: (t(T, W) @ x).pow(2).sum() + x.sum() ** 3, [(3,)]),
    "matrix_logsumexp": (lambda T, x: T.logsumexp(x @ x.T, 1).sum() * x[0, 1], [(2, 3)]),
    "indexing": (lambda T, x: (x[1:] * x[:-1]).sum() + x.max(), [(4,)]),
    "two_args": (lambda T, x, y: (T.tanh(x @ y) ** 2).sum() * y.mean(), [(2, 3), (3, 2)]),
    "scalar_in": (lambda T, x: x.sin() * x.exp(), [()]),
}
INPUTS = {name: [arr(*s) for s in shapes] for name, (_, shapes) in FUNCS.items()}
SCALAR_INPUTS = {name: [arr(*s) for s in shapes] for name, (_, shapes) in SCALAR.items()}


def bind(T, fn):
    return lambda *a: fn(T, *a)


def all_argnums(n: int) -> list:
    return [0] if n == 1 else [0, 1, -1, (0, 1), (1, 0)] + ([(0, 2)] if n > 2 else [])


def cases(table: dict) -> list:
    return [(name, a) for name, (_, shapes) in table.items() for a in all_argnums(len(shapes))]


def negative(argnums) -> bool:
    """torch.func.jacfwd (and hessian through it) ignores a negative int argnum and returns zeros:
    there torch's side of a comparison uses jacrev instead."""
    return isinstance(argnums, int) and argnums < 0


# --------------------------------------------------------------------------- grad / grad_and_value / vjp


@pytest.mark.parametrize("name,argnums", cases(SCALAR))
def test_grad_and_value_table(name, argnums):
    fn, _ = SCALAR[name]
    xs = SCALAR_INPUTS[name]
    check(lambda T, F: (F.grad_and_value(bind(T, fn), argnums=argnums)(*(t(T, a) for a in xs)),
                        F.grad(bind(T, fn), argnums=argnums)(*(t(T, a) for a in xs))))


@pytest.mark.parametrize("name", FUNCS)
def test_vjp_table(name):
    fn, _ = FUNCS[name]
    xs = INPUTS[name]
    ref = bind(torch, fn)(*(t(torch, a) for a in xs))
    ct = arr(*ref.shape)

    def case(T, F):
        out, vjp_fn = F.vjp(bind(T, fn), *(t(T, a) for a in xs))
        return out, vjp_fn(t(T, ct)), vjp_fn(2 * t(T, ct))  # the graph is kept for a second call

    check(case)


@pytest.mark.parametrize("name", FUNCS)
def test_jvp_and_linearize_table(name):
    fn, _ = FUNCS[name]
    xs = INPUTS[name]
    ts = [arr(*a.shape) for a in xs]

    def case(T, F):
        primals = tuple(t(T, a) for a in xs)
        tangents = tuple(t(T, a) for a in ts)
        out, jvp_fn = F.linearize(bind(T, fn), *primals)
        return F.jvp(bind(T, fn), primals, tangents), out, jvp_fn(*tangents)

    check(case)


def test_grad_pytree_inputs():
    a, b, c = arr(3), arr(2, 3), arr(2)

    def f(T, p, scale):
        return ((p["w"] @ p["pair"][0].T).sum() * p["pair"][1][0][1] + (p["v"] ** 2).sum()) * scale

    def case(T, F):
        p = {"w": t(T, a), "pair": (t(T, b), [t(T, c)]), "v": t(T, a)}
        return (F.grad(lambda p, s: f(T, p, s))(p, 3.0), F.grad_and_value(lambda p, s: f(T, p, s))(p, 2.0),
                F.jacrev(lambda p: f(T, p, 1.0))(p), F.jacfwd(lambda p: f(T, p, 1.0))(p),
                F.vjp(lambda p: f(T, p, 1.0), p)[1](T.tensor(1.0, dtype=T.float64)))

    check(case)


def test_argnums_tuple_of_pytrees_and_lists():
    a, b = arr(3), arr(3)

    def case(T, F):
        f = lambda xs, y: (xs[0] * xs[1] * y).sum()
        return F.grad(f, argnums=(0, 1))([t(T, a), t(T, b)], t(T, a)), F.jacrev(f, argnums=(1, 0))([t(T, a), t(T, b)],
                                                                                                   t(T, b))

    check(case)


def test_has_aux():
    a = arr(3)

    def case(T, F):
        f = lambda x: ((x ** 2).sum(), {"double": 2 * x, "n": [x.sum()]})
        g = lambda x: (x.sin(), (x.cos(), [x.sum()]))
        x = t(T, a)
        return (F.grad(f, has_aux=True)(x), F.grad_and_value(f, has_aux=True)(x), F.vjp(g, x, has_aux=True)[::2],
                F.vjp(g, x, has_aux=True)[1](t(T, a)), F.jvp(g, (x,), (t(T, a),), has_aux=True),
                F.jacrev(g, has_aux=True)(x), F.jacfwd(g, has_aux=True)(x))

    check(case)


def test_kwargs_are_passed_not_differentiated():
    def case(T, F):
        return F.grad(lambda x, scale=1.0: (x * scale).sum())(t(T, X3), scale=t(T, X3))

    check(case)


def test_unused_inputs_and_constant_outputs_give_zeros():
    def case(T, F):
        x, y = t(T, X3), t(T, X3)
        f = lambda x, y: (x ** 2).sum()
        return (F.grad(f, argnums=(0, 1))(x, y), F.grad(lambda x: T.tensor(1.0, dtype=T.float64))(x),
                F.vjp(lambda x, y: (x * 2, T.ones(2, dtype=T.float64)), x, y)[1]((t(T, X3), t(T, np.ones(2)))),
                F.jacrev(f, argnums=(0, 1))(x, y), F.jacfwd(f, argnums=(0, 1))(x, y),
                F.jvp(lambda x: T.ones(2, dtype=T.float64), (x,), (x,)))

    check(case)


# --------------------------------------------------------------------------- Jacobians


@pytest.mark.parametrize("name,argnums", cases(FUNCS))
def test_jacrev_jacfwd_table(name, argnums):
    fn, _ = FUNCS[name]
    xs = INPUTS[name]
    check(lambda T, F: (F.jacrev(bind(T, fn), argnums)(*(t(T, a) for a in xs)),
                        (F.jacrev if negative(argnums) and T is torch else F.jacfwd)(bind(T, fn), argnums)(
                            *(t(T, a) for a in xs))))


def test_tuple_outputs_and_nested_structure():
    def case(T, F):
        f = lambda x, y: (x.sin() * y[0], {"s": (x * y).sum(), "m": x[:, None] * y[None, :]})
        x, y = t(T, X3), t(T, X3 + 1)
        return (F.jacrev(f)(x, y), F.jacfwd(f)(x, y), F.jacrev(f, (0, 1))(x, y), F.jacfwd(f, (0, 1))(x, y))

    check(case)


@pytest.mark.parametrize("chunk_size", [1, 2, 4, 7, 100])
def test_jacrev_chunk_size(chunk_size):
    y = arr(3, 4)

    def case(T, F):
        f = lambda x, y: ((x @ y).tanh(), y.sum(0) * x[0, 0])  # 2*4 + 4 = 12 output elements
        return F.jacrev(f, argnums=(0, 1), chunk_size=chunk_size)(t(T, X23), t(T, y))

    check(case)


def test_jacobians_take_one_pass(monkeypatch):
    """jacrev: one batched backward pass (or ceil(m / chunk_size)); jacfwd: one forward pass."""
    passes, calls = [], []
    real = _transforms._autograd_grad
    monkeypatch.setattr(_transforms, "_autograd_grad", lambda *a, **k: passes.append(k["is_grads_batched"]) or
                        real(*a, **k))

    def f(x):
        calls.append(1)
        return (x.sin() * x.sum(), x.exp())

    x = autojac.tensor(arr(5))
    autojac.func.jacrev(f)(x)
    assert passes == [True] and calls == [1]
    chunked = []  # chunks run through autojac._jacobian, which calls the engine directly
    real_rb = autojac._jacobian._blocks.run_backward
    monkeypatch.setattr(autojac._jacobian._blocks, "run_backward",
                        lambda *a, **k: chunked.append(k["nb"]) or real_rb(*a, **k))
    autojac.func.jacrev(f, chunk_size=3)(x)
    assert passes == [True] and chunked == [1] * math.ceil(10 / 3)
    del passes[:], calls[:]
    autojac.func.jacfwd(f)(x)
    autojac.func.hessian(lambda x: (x.sin() * x.sum()).sum())(x)
    assert passes == [True] and calls == [1]  # hessian: one forward pass carrying one backward pass


@pytest.mark.parametrize("name,argnums", cases(SCALAR))
def test_hessian_table(name, argnums):
    fn, _ = SCALAR[name]
    xs = SCALAR_INPUTS[name]

    def case(T, F):
        hess = (lambda f, a: F.jacrev(F.jacrev(f, a), a)) if negative(argnums) and T is torch else F.hessian
        return hess(bind(T, fn), argnums)(*(t(T, a) for a in xs))

    check(case, rtol=1e-8)


def test_hessian_against_finite_differences():
    fn = SCALAR["matrix_logsumexp"][0]
    x0 = SCALAR_INPUTS["matrix_logsumexp"][0]
    g = lambda a: autojac.func.grad(bind(autojac, fn))(autojac.tensor(a)).numpy()
    h = autojac.func.hessian(bind(autojac, fn))(autojac.tensor(x0)).numpy()
    np.testing.assert_allclose(h, _fd(g, x0), rtol=1e-5, atol=1e-6)


def test_jacfwd_equals_jacrev():
    for name, (fn, _) in FUNCS.items():
        xs = [autojac.tensor(a) for a in INPUTS[name]]
        for argnums in all_argnums(len(xs)):
            fw, rv = autojac.func.jacfwd(bind(autojac, fn), argnums)(*xs), autojac.func.jacrev(bind(autojac, fn),
                                                                                             argnums)(*xs)
            for a, b in zip(tree_flatten(fw)[0], tree_flatten(rv)[0]):
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- composition


COMPOSITIONS = {
    "jacfwd(jacrev)": lambda F, f: F.jacfwd(F.jacrev(f)),
    "jacrev(jacrev)": lambda F, f: F.jacrev(F.jacrev(f)),
    "jacfwd(jacfwd)": lambda F, f: F.jacfwd(F.jacfwd(f)),
    "jacrev(jacfwd)": lambda F, f: F.jacrev(F.jacfwd(f)),
    "jacrev(grad)": lambda F, f: F.jacrev(F.grad(lambda x: f(x).sum())),
    "jacfwd(jacrev(jacrev))": lambda F, f: F.jacfwd(F.jacrev(F.jacrev(f))),
    "jacrev(jacfwd(jacrev))": lambda F, f: F.jacrev(F.jacfwd(F.jacrev(f))),
}


@pytest.mark.parametrize("comp", COMPOSITIONS)
@pytest.mark.parametrize("name", ["elementwise", "tanh_sigmoid", "matmul_chain", "broadcasting", "matrix_input",
                                  "softmax"])
def test_nested_jacobians(comp, name):
    fn, _ = FUNCS[name]
    xs = INPUTS[name]
    check(lambda T, F: COMPOSITIONS[comp](F, bind(T, fn))(t(T, xs[0])), rtol=1e-7, atol=1e-9)


def test_higher_grads():
    def case(T, F):
        f = lambda x: T.sin(x) * x ** 3
        x = t(T, np.array(0.7))
        return F.grad(F.grad(f))(x), F.grad(F.grad(F.grad(f)))(x), F.grad(F.grad(F.grad(F.grad(f))))(x)

    check(case)


def test_no_perturbation_confusion_reverse():
    """d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x: the inner grad must not differentiate the outer x."""

    def case(T, F):
        c = T.tensor(3.0, dtype=T.float64)
        f = lambda x: x * F.grad(lambda y: x * y)(c)
        g = lambda x: F.grad(lambda y: x * y * y)(x)  # the inner variable starts at the outer one: 2x^2 -> 4x
        return F.grad(f)(t(T, np.array(2.0))), F.grad(g)(t(T, np.array(2.0))), F.jacrev(f)(t(T, np.array(5.0)))

    check(case)


def test_no_perturbation_confusion_forward():
    """Siskind & Pearlmutter: d/dx [x * (d/dy (x + y) at y=1)] at x=1 is 1 (confusion gives 2)."""

    def case(T, F):
        one = T.tensor(1.0, dtype=T.float64)
        f = lambda x: x * F.jvp(lambda y: x + y, (one,), (one,))[1]
        return (F.jvp(f, (one,), (one,))[1], F.jacfwd(f)(one), F.grad(f)(one),
                F.jvp(lambda x: x * F.grad(lambda y: x * y)(one), (one,), (one,))[1])

    check(case)


def test_grad_of_function_calling_jacrev_over_closure():
    a, w = arr(3), arr(3, 3)

    def case(T, F):
        W = t(T, w)

        def f(x):
            J = F.jacrev(lambda y: T.tanh(W @ (y * x)))(x)  # the closure over x is differentiated by the outer grad
            return (J ** 2).sum() + F.grad(lambda y: (y * x).sin().sum())(x).sum()

        return F.grad(f)(t(T, a)), F.jacfwd(F.grad(f))(t(T, a))

    check(case, rtol=1e-8)


def test_forward_over_reverse_products():
    a, v = arr(3), arr(3)

    def case(T, F):
        f = lambda x: (T.sin(x) * x.sum()).exp().sum()
        x, vv = t(T, a), t(T, v)
        hvp = F.jvp(F.grad(f), (x,), (vv,))
        vhp = F.vjp(F.grad(f), x)[1](vv)
        return hvp, vhp, F.grad(lambda x: F.jvp(f, (x,), (vv,))[1])(x)

    check(case)


LINALG = {
    "det": lambda T, x: T.linalg.det(x),
    "logabsdet": lambda T, x: T.linalg.slogdet(x)[1],
    "inv": lambda T, x: T.linalg.inv(x).sum(0),
    "solve": lambda T, x: T.linalg.solve(x, T.tensor([1.0, 2.0], dtype=T.float64)),
}


@pytest.mark.parametrize("name", LINALG)
def test_linalg_higher_derivatives(name):
    """All compositions vs torch's jacrev(jacrev) (itself checked by finite differences). torch 2.13's
    forward-over-forward (jacfwd(jacfwd), jacrev(jacfwd)) is wrong for det, slogdet and solve, and
    its third derivative of det too, so third derivatives are checked by finite differences."""
    x0 = np.array([[2.0, 1.0], [0.5, 3.0]])
    f = LINALG[name]
    torch_jac = lambda a: torch.func.jacrev(lambda x: f(torch, x))(t(torch, a)).numpy()
    torch_hess = lambda a: torch.func.jacrev(torch.func.jacrev(lambda x: f(torch, x)))(t(torch, a))
    expected = torch_hess(x0)
    np.testing.assert_allclose(expected.numpy(), _fd(torch_jac, x0), atol=1e-7)
    third = _fd(lambda a: torch_hess(a).numpy(), x0)
    for cname, comp in COMPOSITIONS.items():
        if cname == "jacrev(grad)":
            continue
        got = comp(autojac.func, lambda x: f(autojac, x))(t(autojac, x0))
        if got.ndim > expected.ndim:
            np.testing.assert_allclose(got.numpy(), third, atol=1e-6, err_msg=cname)
        else:
            assert_same(expected, got, rtol=1e-9)


# --------------------------------------------------------------------------- interaction with the outer graph


def test_results_connect_to_outer_graph_like_torch():
    """An input requiring grad, or a closure over one, keeps transform results differentiable."""

    w0 = arr(3)

    def case(T, F):
        x = t(T, X3, requires_grad=True)
        w = t(T, w0, requires_grad=True)
        f = lambda x: (T.sin(x) * w).sum()
        g1 = F.grad(f)(x)
        g2 = F.grad(f)(t(T, X3))  # only the closure over w requires grad
        j = F.jacrev(lambda x: x.exp() * w)(t(T, X3))
        jf = F.jacfwd(lambda x: x.exp() * w)(x)
        value = F.grad_and_value(f)(x)[1]
        (g1.sum() + (g2 ** 2).sum() + j.sum() + jf.sum() + value).backward()
        return g1, g2, j, jf, x.grad, w.grad

    check(case)


def test_results_are_cut_from_graph_without_outer_dependence():
    def case(T, F):
        x = t(T, X3)
        f = lambda x: ((x ** 2).sum(), x * 2)
        out = (F.grad(f, has_aux=True)(x), F.grad_and_value(lambda x: f(x)[0])(x), F.vjp(f, x)[0],
               F.jacrev(f)(x), F.hessian(lambda x: f(x)[0])(x))
        with T.no_grad():  # the outer no_grad does not stop the transform, only the graph around it
            inner = F.grad(lambda x: x.sin().sum())(t(T, X3, requires_grad=True))
        return out, inner

    check(case)


def test_vjp_fn_create_graph_and_retain_graph():
    def case(T, F):
        x = t(T, X3, requires_grad=True)
        out, vjp_fn = F.vjp(lambda x: x.sin() * x, x)
        g = vjp_fn(T.ones(3, dtype=T.float64))
        g2 = vjp_fn(T.ones(3, dtype=T.float64), create_graph=False)
        (gx,) = T.autograd.grad(g[0].sum(), x)
        return out, g, g2, gx

    check(case)


def test_transforms_work_under_no_grad():
    def case(T, F):
        f = lambda x: (x.sin() ** 2).sum()
        with T.no_grad():
            return (F.grad(f)(t(T, X3)), F.jacrev(F.grad(f))(t(T, X3)), F.hessian(f)(t(T, X3)),
                    F.jvp(f, (t(T, X3),), (t(T, X3),)))

    check(case)


def test_functools_wraps_and_int_inputs_kept():
    def case(T, F):
        def energy(x, n):
            """doc"""
            return (x ** n).sum()

        g = F.grad(energy)
        return g.__name__, g.__doc__, g(t(T, X3), 3), F.jacrev(energy)(t(T, X3), 2)

    check(case)


def _no_grad_inside(T, x):
    with T.no_grad():
        return x ** 2


def _in_place(T):
    def f(x):
        y = x.clone()
        y[1:] = x[1:] * x[0]
        y.mul_(2)
        return y.exp()

    return f


def _grad_leaves_dot_grad_alone(T, F):
    x = t(T, X3, requires_grad=True)
    return F.grad(lambda x: (x ** 2).sum())(x), x.grad is None


SEMANTICS = {
    "no_grad inside f": lambda T, F: F.grad(lambda x: (x - _no_grad_inside(T, x)).sum())(t(T, X3)),
    "identity": lambda T, F: (
        F.grad(lambda x: x)(t(T, np.array(2.0))), F.jacrev(lambda x: x)(t(T, X3)), F.jacfwd(lambda x: x)(t(T, X3)),
        F.jacrev(lambda x: (x, x))(t(T, X3)), F.jacfwd(lambda x: (x, x))(t(T, X3)),
        F.vjp(lambda x: x, t(T, X3))[1](t(T, X3)), F.jvp(lambda x: x, (t(T, X3),), (t(T, X3),))),
    "in-place": lambda T, F: (
        F.jacrev(_in_place(T))(t(T, X3)), F.jacfwd(_in_place(T))(t(T, X3)),
        F.grad(lambda x: _in_place(T)(x).sum())(t(T, X3)), F.hessian(lambda x: _in_place(T)(x).pow(2).sum())(t(T, X3))),
    "float32": lambda T, F: (
        F.jacrev(lambda x: x.sin() * 2)(T.tensor([1., 2.])), F.jacfwd(lambda x: x.sin() * 2)(T.tensor([1., 2.])),
        F.hessian(lambda x: x.sin().sum())(T.tensor([1., 2.]))),
    "mixed dtypes": lambda T, F: (
        F.jacrev(lambda x: x.double() * 2)(T.tensor([1., 2.])), F.jacfwd(lambda x: x.double() * 2)(T.tensor([1., 2.])),
        F.grad(lambda x: x.double().sum())(T.tensor([1., 2.]))),
    "empty": lambda T, F: (
        F.jacrev(lambda x: x * 2)(T.zeros(0, dtype=T.float64)), F.jacfwd(lambda x: x * 2)(T.zeros(0, dtype=T.float64)),
        F.jacrev(lambda x: x.sum())(T.zeros(0, 3, dtype=T.float64))),
    "x.grad untouched": _grad_leaves_dot_grad_alone,
    "constant output, chunked": lambda T, F: F.jacrev(lambda x: (T.ones(3, dtype=T.float64), x * 2), chunk_size=2)(
        t(T, X3)),
    "where, clamp": lambda T, F: (
        F.jacrev(lambda x: T.where(x > 0, x ** 2, -x).clamp(-0.5, 2))(t(T, X3)),
        F.jacfwd(lambda x: T.where(x > 0, x ** 2, -x).clamp(-0.5, 2))(t(T, X3))),
    "views": lambda T, F: (
        F.jacfwd(lambda x: x.reshape(3, 2).T.flatten()[1:] * x.view(-1)[:5])(t(T, X23)),
        F.jacrev(lambda x: x.reshape(3, 2).T.flatten()[1:] * x.view(-1)[:5])(t(T, X23))),
    "expand": lambda T, F: (
        F.jacfwd(lambda x: x.expand(2, 3) * T.arange(6.).double().reshape(2, 3))(t(T, X3)),
        F.hessian(lambda x: (x.expand(2, 3) ** 3).sum())(t(T, X3))),
    "jacrev of jvp": lambda T, F: F.jacrev(lambda x: F.jvp(lambda y: (y ** 3).sin(), (x,), (x * 2,))[1])(t(T, X3)),
    "jacfwd over closure": lambda T, F: F.grad(lambda x: F.jacfwd(lambda y: T.sin(y * x))(x).sum())(t(T, X3)),
}


@pytest.mark.parametrize("name", SEMANTICS)
def test_semantics(name):
    check(SEMANTICS[name], rtol=1e-6, atol=1e-7)  # float32 cases round differently


def test_jvp_vjp_outputs_connect_to_inputs_requiring_grad():
    def case(T, F):
        x = t(T, X3, requires_grad=True)
        v = t(T, X3 + 1, requires_grad=True)
        out, tan = F.jvp(lambda x: x.sin() * x, (x,), (v,))
        o2, vjp_fn = F.vjp(lambda x: x.exp(), x)
        (g,) = vjp_fn(v)
        (out.sum() + tan.sum() + o2.sum() + g.sum()).backward()
        return out, tan, o2, g, x.grad, v.grad

    check(case)


# --------------------------------------------------------------------------- errors (same messages as torch)


ERRORS = {
    "grad non-scalar": lambda T, F: F.grad(lambda x: x * 2)(t(T, X3)),
    "grad non-tensor": lambda T, F: F.grad(lambda x: 3.0)(t(T, X3)),
    "grad argnum range": lambda T, F: F.grad(lambda x, y: (x * y).sum(), argnums=2)(t(T, X3), t(T, X3)),
    "grad argnum negative range": lambda T, F: F.grad(lambda x: x.sum(), argnums=-2)(t(T, X3)),
    "grad argnums list": lambda T, F: F.grad(lambda x: x.sum(), argnums=[0])(t(T, X3)),
    "grad argnums empty": lambda T, F: F.grad(lambda x: x.sum(), argnums=())(t(T, X3)),
    "grad argnums repeated": lambda T, F: F.grad(lambda x, y: x.sum(), argnums=(0, 0))(t(T, X3), t(T, X3)),
    "grad argnum type": lambda T, F: F.grad(lambda x: x.sum(), argnums=(0.0,))(t(T, X3)),
    "grad has_aux not pair": lambda T, F: F.grad(lambda x: x.sum(), has_aux=True)(t(T, X3)),
    "grad has_aux triple": lambda T, F: F.grad(lambda x: (x.sum(), 1, 2), has_aux=True)(t(T, X3)),
    "grad int input": lambda T, F: F.grad(lambda x: x.sum())(T.ones(3, dtype=T.int64)),
    "jacrev int input": lambda T, F: F.jacrev(lambda x: x * 1.0)(T.ones(3, dtype=T.int64)),
    "jacrev no inputs": lambda T, F: F.jacrev(lambda: 1)(),
    "vjp cotangent shape": lambda T, F: F.vjp(lambda x: x * 2, t(T, X3))[1](T.ones(2, dtype=T.float64)),
    "jvp int tangent": lambda T, F: F.jvp(lambda x: x * 2, (t(T, X3),), (T.ones(3, dtype=T.int64),)),
    "grad non-tensor input": lambda T, F: F.grad(lambda x: x[0].sum())((t(T, X3), 3.0)),
    "vjp has_aux": lambda T, F: F.vjp(lambda x: x, t(T, X3), has_aux=True),
    "vjp aux not tensors": lambda T, F: F.vjp(lambda x: (x, {"a": [x, 1]}), t(T, X3), has_aux=True),
    "grad aux None": lambda T, F: F.grad(lambda x: (x.sum(), None), has_aux=True)(t(T, X3)),
    "jacfwd aux not tensors": lambda T, F: F.jacfwd(lambda x: (x, 2.0), has_aux=True)(t(T, X3)),
    "vjp non-tensor output": lambda T, F: F.vjp(lambda x: (x, 2), t(T, X3)),
    "vjp empty output": lambda T, F: F.vjp(lambda x: (), t(T, X3)),
    "vjp int output": lambda T, F: F.vjp(lambda x: (x > 0).long(), t(T, X3)),
    "jvp primals not tuple": lambda T, F: F.jvp(lambda x: x, t(T, X3), t(T, X3)),
    "jvp empty primals": lambda T, F: F.jvp(lambda: 1, (), ()),
    "jvp non-tensor primal": lambda T, F: F.jvp(lambda x: x, (1.0,), (1.0,)),
    "jvp has_aux": lambda T, F: F.jvp(lambda x: x, (t(T, X3),), (t(T, X3),), has_aux=True),
    "jvp non-tensor output": lambda T, F: F.jvp(lambda x: 1.0, (t(T, X3),), (t(T, X3),)),
    "jvp strict": lambda T, F: F.jvp(lambda x: T.ones(2), (t(T, X3),), (t(T, X3),), strict=True),
    "jvp tangent shape": lambda T, F: F.jvp(lambda x: x, (t(T, X3),), (t(T, X23),)),
    "jacrev chunk_size": lambda T, F: F.jacrev(lambda x: x, chunk_size=0),
    "jacrev complex": lambda T, F: F.jacrev(lambda x: x)(T.ones(2, dtype=T.complex128)),
    "jacfwd complex output": lambda T, F: F.jacfwd(lambda x: x * T.tensor(1j))(T.ones(2, dtype=T.float32)),
    "jacfwd argnum": lambda T, F: F.jacfwd(lambda x: x, argnums=1)(t(T, X3)),
    "jacfwd has_aux": lambda T, F: F.jacfwd(lambda x: x, has_aux=True)(t(T, X3)),
    "jacfwd int input": lambda T, F: F.jacfwd(lambda x: x * 2)(T.tensor([1, 2])),
    "jacfwd randomness": lambda T, F: F.jacfwd(lambda x: x, randomness="bad")(t(T, X3)),
    "hessian argnum": lambda T, F: F.hessian(lambda x: x.sum(), argnums=3)(t(T, X3)),
    "linearize tangent dtype": lambda T, F: F.linearize(lambda x: x.sin(), t(T, X3))[1](T.ones(3)),
}

@pytest.mark.parametrize("name", ERRORS)
def test_errors_match_torch(name):
    check_error(ERRORS[name])


def test_structure_errors():
    for case in (lambda T, F: F.vjp(lambda x: (x, x), t(T, X3))[1](t(T, X3)),
                 lambda T, F: F.jvp(lambda x, y: x, (t(T, X3), t(T, X3)), [t(T, X3), t(T, X3)]),
                 lambda T, F: F.linearize(lambda x: x, t(T, X3))[1](t(T, X3), t(T, X3))):
        check_error(case, match_prefix=21)


# --------------------------------------------------------------------------- the pytree helper


def test_pytree_round_trip_matches_torch_leaf_order():
    from collections import namedtuple

    from torch.utils._pytree import tree_flatten as torch_flatten

    P = namedtuple("P", "a b")
    tree = (1, [2, {"z": 3, "a": (4, None)}], P(5, [6]), {}, ())
    leaves, spec = tree_flatten(tree)
    assert leaves == torch_flatten(tree)[0]
    assert tree_unflatten(leaves, spec) == tree
    assert type(tree_unflatten(leaves, spec)[2]) is P
    assert spec.num_leaves == len(leaves) and tree_flatten([1, 2])[1] != tree_flatten((1, 2))[1]
    with pytest.raises(ValueError):
        tree_unflatten([1], spec)
