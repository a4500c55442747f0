"""Helpers for the op table: input sampling, running an op in autojac or torch, comparing results.

An op is a callable ``fn(T, *inputs)`` where ``T`` is the library module (``autojac`` or
``torch``): the two share their API, so one callable serves both sides of the comparison.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
import pytest
import torch

import _tol
import autojac

B = 3  # batch size of the batched-cotangent checks


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded by ``key``, so every test draws the same numbers on every run."""
    return np.random.default_rng(zlib.crc32(key.encode()))


def sample(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    return np.asarray(_draw(rng, shape, domain), dtype=np.float64)


def _draw(rng: np.random.Generator, shape: tuple, domain: str):
    """Random float64 values of ``shape`` in ``domain``.

    ``real``: normal; ``pos``: in [0.5, 2]; ``neg``: in [-2, -0.5]; ``nz``: |x| in [0.5, 2];
    ``unit``: in [-0.9, 0.9]; ``away``: at least 0.06 from every multiple of 0.25, so the
    kinks of relu/abs/clamp/softplus(threshold) at such points are out of finite-difference reach.
    """
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "neg":
        return -rng.uniform(0.5, 2.0, shape)
    if domain == "nz":
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "away":
        return 0.25 * rng.integers(-7, 7, shape) + 0.125 + rng.uniform(-0.06, 0.06, shape)
    raise ValueError(f"unknown domain {domain!r}")


def lib_tensors(T, arrays: Sequence[np.ndarray], dtype: str, requires_grad: bool = True) -> list:
    dt = getattr(T, dtype)
    return [T.tensor(a, dtype=dt, requires_grad=requires_grad) for a in arrays]


def outputs(result) -> tuple:
    """An op's result as a tuple of tensors (ops like split and max(dim) return several)."""
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def floating(outs: tuple) -> list:
    """The outputs that carry gradients."""
    return [o for o in outs if o.is_floating_point() and o.requires_grad]


def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor) and t._is_zerotensor():  # torch's lazy zeros (e.g. abs'' )
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
    return np.asarray(t.detach().numpy())


def dense(grads: Sequence, like: Sequence[np.ndarray], batch: tuple = ()) -> list:
    """Gradients as arrays, ``None`` (an unused input) read as zeros."""
    out = []
    for g, x in zip(grads, like):
        out.append(np.zeros(batch + x.shape) if g is None else to_np(g))
    return out


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float, atol: float) -> None:
    """Shapes equal, values within ``rtol``/``atol`` raised to the dtype's floor (``_tol``: results of two
    code paths, e.g. batched and looped, agree to rounding, never bit for bit)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    _tol.assert_close(actual, expected, rtol, atol, err_msg=what)


def assert_all_close(actual: Sequence, expected: Sequence, what: str, rtol: float, atol: float) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} results != expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, f"{what}[{i}]", rtol, atol)


# --------------------------------------------------------------------------- derivatives, either library
def vjp(T, fn: Callable, arrays: Sequence[np.ndarray], cots: Sequence[np.ndarray] | None,
        dtype: str = "float64") -> list:
    """``v^T J`` of ``fn`` at ``arrays`` for cotangents ``cots`` (random ones when None)."""
    xs = lib_tensors(T, arrays, dtype)
    outs = floating(outputs(fn(T, *xs)))
    vs = lib_tensors(T, cots, dtype, requires_grad=False)
    gs = T.autograd.grad(outs, xs, vs, allow_unused=True)
    return dense(gs, arrays)


def second(T, fn: Callable, arrays: Sequence[np.ndarray], cots: Sequence[np.ndarray],
           ws: Sequence[np.ndarray]) -> list:
    """Gradient of ``sum(grad_i . w_i)`` w.r.t. the inputs and the cotangents (a double backward)."""
    xs = lib_tensors(T, arrays, "float64")
    outs = floating(outputs(fn(T, *xs)))
    vs = lib_tensors(T, cots, "float64")
    gs = T.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    terms = [(g * T.tensor(w)).sum() for g, w in zip(gs, ws) if g is not None and g.requires_grad]
    if not terms:  # the first derivative is constant: the second is zero
        return dense([None] * (len(xs) + len(vs)), list(arrays) + list(cots))
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    hs = T.autograd.grad(s, xs + vs, allow_unused=True)
    return dense(hs, list(arrays) + list(cots))


def out_arrays(T, fn: Callable, arrays: Sequence[np.ndarray], dtype: str = "float64") -> list:
    """The float outputs of ``fn`` as float64 arrays, computed without recording."""
    xs = lib_tensors(T, arrays, dtype, requires_grad=False)
    with T.no_grad():
        outs = outputs(fn(T, *xs))
    return [to_np(o).astype(np.float64) for o in outs if o.is_floating_point()]


def fd_vjp(fn: Callable, arrays: Sequence[np.ndarray], cots: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central finite differences of ``x -> sum_k <out_k(x), v_k>`` in autojac, float64."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros(a.shape)
        for j in np.ndindex(a.shape):
            vals = []
            for step in (eps, -eps):
                moved = [x.copy() for x in arrays]
                moved[i][j] += step
                outs = out_arrays(autojac, fn, moved)
                vals.append(sum(float(np.sum(o * v)) for o, v in zip(outs, cots)))
            g[j] = (vals[0] - vals[1]) / (2 * eps)
        grads.append(g)
    return grads


def batched_vs_loop(fn: Callable, arrays: Sequence[np.ndarray], rng: np.random.Generator,
                    order: int) -> tuple[list, list]:
    """Batched VJP (``is_grads_batched=True``) and the stacked single VJPs, in autojac.

    ``order`` 1 differentiates the op's outputs; ``order`` 2 differentiates its first gradient
    (taken with ``create_graph=True``) w.r.t. the inputs and the cotangent.
    """
    xs = lib_tensors(autojac, arrays, "float64")
    outs = floating(outputs(fn(autojac, *xs)))
    targets = xs
    if order == 2:
        vs = lib_tensors(autojac, [rng.standard_normal(tuple(o.shape)) for o in outs], "float64")
        gs = autojac.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
        outs = [g for g in gs if g is not None and g.requires_grad]
        targets = xs + vs
    like = [to_np(t) for t in targets]
    if not outs:
        return [], []
    big = [rng.standard_normal((B,) + tuple(o.shape)) for o in outs]
    batched = autojac.autograd.grad(outs, targets, [autojac.tensor(g) for g in big], retain_graph=True,
                                    is_grads_batched=True, allow_unused=True)
    loops = []
    for b in range(B):
        gs = autojac.autograd.grad(outs, targets, [autojac.tensor(g[b]) for g in big], retain_graph=True,
                                   allow_unused=True)
        loops.append(dense(gs, like))
    stacked = [np.stack([lp[i] for lp in loops]) for i in range(len(targets))]
    return dense(batched, like, (B,)), stacked


def batched_then_differentiated(fn: Callable, arrays: Sequence[np.ndarray], rng: np.random.Generator
                                ) -> tuple[list, list]:
    """d/dx of sum_b <VJP(G[b]), W[b]> with the B VJPs taken batched under ``create_graph=True``, and in a loop.

    This is how a vectorized Hessian runs: the rules' own backward sees batched tensors.
    """
    xs = lib_tensors(autojac, arrays, "float64")
    outs = floating(outputs(fn(autojac, *xs)))
    big = [rng.standard_normal((B,) + tuple(o.shape)) for o in outs]
    ws = [rng.standard_normal((B,) + a.shape) for a in arrays]

    def d_contracted(gs, w: list) -> list:
        """d/dx of sum_i <gs_i, w_i> (zeros where nothing depends on x)."""
        terms = [(g * autojac.tensor(wi)).sum() for g, wi in zip(gs, w) if g is not None and g.requires_grad]
        if not terms:
            return [np.zeros(a.shape) for a in arrays]
        hs = autojac.autograd.grad(sum(terms[1:], terms[0]), xs, retain_graph=True, allow_unused=True)
        return dense(hs, arrays)

    gs = autojac.autograd.grad(outs, xs, [autojac.tensor(g) for g in big], create_graph=True,
                               is_grads_batched=True, allow_unused=True)
    batched = d_contracted(gs, ws)
    total = [np.zeros(a.shape) for a in arrays]
    for b in range(B):
        gs = autojac.autograd.grad(outs, xs, [autojac.tensor(g[b]) for g in big], create_graph=True,
                                   allow_unused=True)
        total = [t + h for t, h in zip(total, d_contracted(gs, [w[b] for w in ws]))]
    return batched, total


# --------------------------------------------------------------------------- JVP rules, driven forward
def _topo(outs: Sequence) -> list:
    """The recorded nodes behind ``outs``, inputs before users (iterative post-order)."""
    order, seen = [], set()
    stack = [(o.grad_fn, False) for o in outs if o.grad_fn is not None]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((e, False) for e in node.next if e is not None and not isinstance(e, autojac.Tensor))
    return order


def _key(x):
    return id(x) if x.grad_fn is None else (x.grad_fn, x._output_nr)


def _edge(node, i: int):
    """Where input ``i`` of ``node`` came from, as recorded (in-place ops rebind a tensor's grad_fn later)."""
    e = node.next[i]
    if e is None:
        return None
    if isinstance(e, autojac.Tensor):
        return id(e)
    return e, (node.next_nr[i] if node.next_nr else 0)


def jvp_rules(fn: Callable, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], nb: int) -> list:
    """``J t`` of ``fn`` at ``arrays`` by running each recorded op's JVP rules in graph order.

    Tangents may carry ``nb`` leading batch dims. Like the backward engine's unbroadcast, each
    op's summed tangent is expanded to ``batch + output shape`` once, here in the driver.
    """
    from autojac._core.engine import _saved

    xs = lib_tensors(autojac, arrays, "float64")
    outs = floating(outputs(fn(autojac, *xs)))
    tan = {id(x): autojac.tensor(t) for x, t in zip(xs, tangents)}
    batch = tuple(np.shape(tangents[0])[:nb])
    for node in _topo(outs):
        inputs, ans = _saved(node, False)
        total = None
        for i in range(len(inputs)):
            edge = _edge(node, i)
            t = None if edge is None else tan.get(edge)
            rule = node.op.jvp[i] if i < len(node.op.jvp) else None
            if t is None or rule is None:
                continue
            r = rule(t, ans, *inputs, **node.params)
            total = r if total is None else total + r
        if total is not None:
            assert node.op.n_out == 1, "multi-output JVPs are not driven here"
            shape = batch + tuple(ans.shape)
            assert total.ndim <= len(shape), f"{node.op.name}: JVP of shape {list(total.shape)} for {list(shape)}"
            tan[(node, 0)] = total.expand(*shape) if tuple(total.shape) != shape else total
    return [to_np(tan[_key(o)]) if _key(o) in tan else np.zeros(batch + tuple(o.shape)) for o in outs]


def fd_jvp(fn: Callable, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central finite differences of ``fn`` along ``tangents``, float64."""
    plus = out_arrays(autojac, fn, [a + eps * t for a, t in zip(arrays, tangents)])
    minus = out_arrays(autojac, fn, [a - eps * t for a, t in zip(arrays, tangents)])
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


__all__ = ["B", "rng_for", "sample", "lib_tensors", "outputs", "floating", "to_np", "dense", "assert_close",
           "assert_all_close", "vjp", "second", "out_arrays", "fd_vjp", "batched_vs_loop", "torch", "autojac",
           "batched_then_differentiated", "jvp_rules", "fd_jvp"]


# --------------------------------------------------------------------------- the shared table checks
def table_checks(cases: list, *, value_tol: tuple = ((1e-10, 1e-12), (2e-5, 1e-5)),
                 grad_tol: tuple = ((1e-9, 1e-11), (2e-4, 2e-5)), second_tol: tuple = (1e-9, 1e-10),
                 batched_tol: tuple = (1e-11, 1e-12), batched_cg_tol: tuple = (1e-10, 1e-10),
                 require_batched: bool = False) -> dict:
    """The op-table checks for a family's ``cases``, as test functions for the module's globals.

    A case has ``id``, ``fn(T, *xs)``, ``inputs()`` and ``fd``; optional attributes: ``grad_fn``
    (compare grad_fn names, default True), ``d2`` (second-order checks, default True),
    ``d2_oracle`` (the torch function for the second derivative) and ``atol2``.
    Use: ``globals().update(table_checks(CASES, ...))``.
    """
    ids = [c.id for c in cases]
    fd_cases = [c for c in cases if c.fd]
    d2_cases = [c for c in cases if getattr(c, "d2", True)]
    (v64, v32), (g64, g32) = value_tol, grad_tol

    def cotangents(case, rng, xs) -> list:
        return [rng.standard_normal(o.shape) for o in out_arrays(torch, case.fn, xs)]

    @pytest.mark.parametrize("dtype,rtol,atol", [("float64", *v64), ("float32", *v32)], ids=["f64", "f32"])
    @pytest.mark.parametrize("case", cases, ids=ids)
    def test_value(case, dtype: str, rtol: float, atol: float) -> None:
        xs = case.inputs()
        got = outputs(case.fn(autojac, *lib_tensors(autojac, xs, dtype)))
        want = outputs(case.fn(torch, *lib_tensors(torch, xs, dtype)))
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], f"output {i} dtype"
            assert tuple(g.shape) == tuple(w.shape), f"output {i} shape"
            assert g.requires_grad == w.requires_grad, f"output {i} requires_grad"
            if getattr(case, "grad_fn", True) and w.grad_fn is not None:
                assert g.grad_fn.name() == type(w.grad_fn).__name__, f"output {i} grad_fn"
            assert_close(to_np(g), to_np(w), f"output {i}", rtol, atol)

    @pytest.mark.parametrize("dtype,rtol,atol", [("float64", *g64), ("float32", *g32)], ids=["f64", "f32"])
    @pytest.mark.parametrize("case", cases, ids=ids)
    def test_grad(case, dtype: str, rtol: float, atol: float) -> None:
        xs = case.inputs()
        vs = cotangents(case, rng_for("v" + case.id), xs)
        got = vjp(autojac, case.fn, xs, vs, dtype)
        want = vjp(torch, case.fn, xs, vs, dtype)
        assert [g.dtype for g in got] == [w.dtype for w in want], "gradient dtypes"
        assert_all_close(got, want, "vjp", rtol, atol)

    @pytest.mark.parametrize("case", d2_cases, ids=[c.id for c in d2_cases])
    def test_second_derivative(case) -> None:
        xs = case.inputs()
        rng = rng_for("w" + case.id)
        vs = cotangents(case, rng, xs)
        ws = [rng.standard_normal(x.shape) for x in xs]
        oracle = getattr(case, "d2_oracle", None) or case.fn
        assert_all_close(second(autojac, case.fn, xs, vs, ws), second(torch, oracle, xs, vs, ws),
                         "d(grad.w)/d(inputs, cotangent)", *second_tol)

    @pytest.mark.parametrize("case", fd_cases, ids=[c.id for c in fd_cases])
    def test_finite_differences(case) -> None:
        xs = case.inputs()
        vs = cotangents(case, rng_for("fd" + case.id), xs)
        assert_all_close(vjp(autojac, case.fn, xs, vs), fd_vjp(case.fn, xs, vs), "vjp vs central differences",
                         1e-6, 1e-7)

    @pytest.mark.parametrize("order", [1, 2], ids=["vjp", "vjp_of_grad"])
    @pytest.mark.parametrize("case", cases, ids=ids)
    def test_batched_cotangents(case, order: int) -> None:
        batched, stacked = batched_vs_loop(case.fn, case.inputs(), rng_for(f"b{order}" + case.id), order)
        if require_batched:
            assert batched, "nothing was differentiated"
        assert_all_close(batched, stacked, f"is_grads_batched order {order}", *batched_tol)

    @pytest.mark.parametrize("case", d2_cases, ids=[c.id for c in d2_cases])
    def test_batched_create_graph(case) -> None:
        batched, loop = batched_then_differentiated(case.fn, case.inputs(), rng_for("bc" + case.id))
        assert_all_close(batched, loop, "d/dx of a batched create_graph VJP", batched_cg_tol[0],
                         getattr(case, "atol2", batched_cg_tol[1]))

    return {f.__name__: f for f in (test_value, test_grad, test_second_derivative, test_finite_differences,
                                    test_batched_cotangents, test_batched_create_graph)}
