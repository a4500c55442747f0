"""Helpers for the op table: input sampling, running an op in autojac or torch, comparing results.

An op is a callable ``fn(T, *inputs)`` where ``T`` is the library module (``autojac`` or
``torch``): the two share their API, so one callable serves both sides of the comparison.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

import _tol
import autojac

B = 3  # batch size of the batched-cotangent checks


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded by ``key``, so every test draws the same numbers on every run."""
    return np.random.default_rng(zlib.crc32(key.encode()))


COMPLEX_DOMAINS = ("c", "cu")  # complex normal; complex in the unit disc's middle (asin, atanh...)


def sample(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    if domain == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    if domain == "cu":
        return 0.6 * (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape))
    return np.asarray(_draw(rng, shape, domain), dtype=np.float64)


def normal_like(rng: np.random.Generator, shape: tuple, like) -> np.ndarray:
    """A standard normal array of ``shape``, complex (both parts normal) where ``like``'s dtype is."""
    if np.dtype(like).kind == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _draw(rng: np.random.Generator, shape: tuple, domain: str):
    """Random float64 values of ``shape`` in ``domain``.

    ``real``: normal; ``pos``: in [0.5, 2]; ``neg``: in [-2, -0.5]; ``nz``: |x| in [0.5, 2];
    ``unit``: in [-0.9, 0.9]; ``away``: at least 0.06 from every multiple of 0.25, so the
    kinks of relu/abs/clamp/softplus(threshold) at such points are out of finite-difference reach;
    ``prob``: in [0.1, 0.9]; ``gt1``: in [1.2, 3]; ``negfrac``: negative non-integers at least 0.2
    from the poles of lgamma/digamma; ``small``: in [-0.5, 0.5]; and the matrices of ``_matrix``.
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
    if domain == "prob":
        return rng.uniform(0.1, 0.9, shape)
    if domain == "gt1":
        return rng.uniform(1.2, 3.0, shape)
    if domain == "negfrac":
        return -rng.integers(0, 4, shape) - rng.uniform(0.2, 0.8, shape)
    if domain == "small":
        return rng.uniform(-0.5, 0.5, shape)
    return _matrix(rng, shape, domain)


def orthogonal(rng: np.random.Generator, batch: tuple, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _spread(rng: np.random.Generator, batch: tuple, k: int, low: float) -> np.ndarray:
    """``k`` values at least 0.4 apart, the smallest about ``low``, in descending order."""
    return low + np.arange(k)[::-1] + rng.uniform(-0.3, 0.3, batch + (k,))


def _matrix(rng: np.random.Generator, shape: tuple, kind: str) -> np.ndarray:
    """Matrices (batched in the leading dims) for linear algebra.

    ``A``: ``R / sqrt(n) + 2 I``, eigenvalues within 1 of 2 (small condition numbers); ``-A``: the same
    with its first row negated (a negative determinant); ``P``: symmetric positive-definite; ``H``:
    symmetric with eigenvalues at least 0.4 apart; ``G``: any shape with singular values >= 0.7 and at
    least 0.4 apart; ``M``: normal scaled by 0.7 (``M3``: by 3, so matrix_exp squares); ``Z``: |x| in
    [0.5, 2] with distinct |x| (no ties in max-norms).
    """
    batch, n = shape[:-2], (shape[-1] if shape else 1)
    if kind in ("A", "-A"):
        a = rng.standard_normal(shape) / np.sqrt(n) + 2 * np.eye(n)
        if kind == "-A":
            a[..., 0, :] *= -1
        return a
    if kind == "P":
        x = rng.standard_normal(shape)
        return x @ np.swapaxes(x, -1, -2) / n + np.eye(n)
    if kind == "H":
        q = orthogonal(rng, batch, n)
        lam = _spread(rng, batch, n, -n / 2)
        return (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    if kind == "G":
        m = shape[-2]
        k = min(m, n)
        u = orthogonal(rng, batch, m)[..., :k]
        v = orthogonal(rng, batch, n)[..., :k]
        s = _spread(rng, batch, k, 1.0)
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)
    if kind in ("M", "M3"):
        return rng.standard_normal(shape) * (0.7 if kind == "M" else 3.0)
    if kind == "Z":
        size = int(np.prod(shape))
        mags = 0.5 + 1.5 * (rng.permutation(size) + rng.uniform(0.1, 0.9, size)) / size
        return (mags * rng.choice([-1.0, 1.0], size)).reshape(shape)
    raise ValueError(f"unknown domain {kind!r}")


REAL_OF = {"complex128": "float64", "complex64": "float32"}


def lib_tensors(T, arrays: Sequence[np.ndarray], dtype: str, requires_grad: bool = True) -> list:
    """Tensors of library ``T``: complex arrays in the complex dtype of ``dtype``'s precision, real ones in the
    real dtype (a complex ``dtype`` gives real arrays its real counterpart)."""
    real = REAL_OF.get(dtype, dtype)
    cplx = {"float64": "complex128", "float32": "complex64"}.get(real, dtype)
    return [T.tensor(a, dtype=getattr(T, cplx if np.iscomplexobj(a) else real), requires_grad=requires_grad)
            for a in arrays]


def outputs(result) -> tuple:
    """An op's result as a tuple of tensors (ops like split and max(dim) return several)."""
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def inexact(t) -> bool:
    """A floating or complex tensor (one that can carry a gradient)."""
    return t.is_floating_point() or t.is_complex()


def floating(outs: tuple) -> list:
    """The outputs that carry gradients."""
    return [o for o in outs if inexact(o) and o.requires_grad]


def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():  # torch's lazy zeros (e.g. abs'' )
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
        return np.asarray(t.detach().resolve_conj().resolve_neg().numpy())  # its lazy conj/neg views
    return np.asarray(t.detach().numpy())


def inner(a, b) -> float:
    """The real inner product ``Re(sum(conj(a) * b))`` (the one PyTorch's complex gradients are adjoint in)."""
    if np.iscomplexobj(a) or np.iscomplexobj(b):
        return float(np.sum((np.conj(a) * b).real))
    return float(np.sum(a * b))


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


def _contract(T, g, w: np.ndarray):
    """``Re(sum(conj(w) * g))`` recorded in library ``T`` (for real tensors: ``sum(g * w)``, nothing more)."""
    w = T.tensor(w)
    return (g * w.conj()).real.sum() if g.is_complex() or w.is_complex() else (g * w).sum()


def second(T, fn: Callable, arrays: Sequence[np.ndarray], cots: Sequence[np.ndarray],
           ws: Sequence[np.ndarray], dtype: str = "float64") -> list:
    """Gradient of ``sum(grad_i . w_i)`` w.r.t. the inputs and the cotangents (a double backward)."""
    xs = lib_tensors(T, arrays, dtype)
    outs = floating(outputs(fn(T, *xs)))
    vs = lib_tensors(T, cots, dtype)
    gs = T.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    terms = [_contract(T, g, w) for g, w in zip(gs, ws) if g is not None and g.requires_grad]
    if not terms:  # the first derivative is constant: the second is zero
        return dense([None] * (len(xs) + len(vs)), list(arrays) + list(cots))
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    hs = T.autograd.grad(s, xs + vs, allow_unused=True)
    return dense(hs, list(arrays) + list(cots))


def out_arrays(T, fn: Callable, arrays: Sequence[np.ndarray], dtype: str = "float64") -> list:
    """The float (and complex) outputs of ``fn`` as float64 (complex128) arrays, computed without recording."""
    xs = lib_tensors(T, arrays, dtype, requires_grad=False)
    with T.no_grad():
        outs = outputs(fn(T, *xs))
    return [to_np(o).astype(np.complex128 if o.is_complex() else np.float64) for o in outs if inexact(o)]


def fd_vjp(fn: Callable, arrays: Sequence[np.ndarray], cots: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central finite differences of ``x -> sum_k <v_k, out_k(x)>`` in autojac, float64 (complex128). For a
    complex input the gradient is ``d/dx + i d/dy`` (PyTorch's convention)."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros(a.shape, dtype=a.dtype)
        for direction in ((1.0, 1j) if np.iscomplexobj(a) else (1.0,)):
            for j in np.ndindex(a.shape):
                vals = []
                for step in (eps, -eps):
                    moved = [x.copy() for x in arrays]
                    moved[i][j] += step * direction
                    outs = out_arrays(autojac, fn, moved)
                    vals.append(sum(inner(v, o) for o, v in zip(outs, cots)))
                g[j] += direction * (vals[0] - vals[1]) / (2 * eps)
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
        vs = lib_tensors(autojac, [normal_like(rng, tuple(o.shape), to_np(o).dtype) for o in outs], "float64")
        gs = autojac.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
        outs = [g for g in gs if g is not None and g.requires_grad]
        targets = xs + vs
    like = [to_np(t) for t in targets]
    if not outs:
        return [], []
    big = [normal_like(rng, (B,) + tuple(o.shape), to_np(o).dtype) for o in outs]
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
    big = [normal_like(rng, (B,) + tuple(o.shape), to_np(o).dtype) for o in outs]
    ws = [normal_like(rng, (B,) + a.shape, a.dtype) for a in arrays]

    def d_contracted(gs, w: list) -> list:
        """d/dx of sum_i <gs_i, w_i> (zeros where nothing depends on x)."""
        terms = [_contract(autojac, g, wi) for g, wi in zip(gs, w) if g is not None and g.requires_grad]
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
        multi = node.op.n_out > 1
        total = None
        for i in range(len(inputs)):
            edge = _edge(node, i)
            t = None if edge is None else tan.get(edge)
            rule = node.op.jvp[i] if i < len(node.op.jvp) else None
            if t is None or rule is None:
                continue
            r = rule(t, ans, *inputs, **node.params)
            if r is None:
                continue
            if total is None:
                total = r
            elif multi:  # one tangent per output, None where an output has none
                total = tuple(x if y is None else (y if x is None else x + y) for x, y in zip(total, r))
            else:
                total = total + r
        if total is None:
            continue
        for k, (o, tk) in enumerate(zip(ans if multi else (ans,), total if multi else (total,))):
            if tk is None:
                continue
            shape = batch + tuple(o.shape)
            assert tk.ndim <= len(shape), f"{node.op.name}: JVP of shape {list(tk.shape)} for {list(shape)}"
            if tk.is_complex() and isinstance(o, autojac.Tensor) and not o.is_complex():
                tk = tk.real  # a complex tangent of a real output: its real part (as the forward engine)
            tan[(node, k)] = tk.expand(*shape) if tuple(tk.shape) != shape else tk
    return [to_np(tan[_key(o)]) if _key(o) in tan else np.zeros(batch + tuple(o.shape)) for o in outs]


def flat_tangents(tree) -> list:
    """The floating tangents of a (nested) ``func.jvp`` / ``func.jacfwd`` result, as arrays."""
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in flat_tangents(t)]
    return [to_np(tree)] if inexact(tree) else []


def func_jvp(T, fn: Callable, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray],
             dtype: str = "float64") -> list:
    """The output tangents of ``T.func.jvp`` (forward mode through the library's engine)."""
    prim = tuple(lib_tensors(T, arrays, dtype, requires_grad=False))
    tang = tuple(lib_tensors(T, tangents, dtype, requires_grad=False))
    _, tout = T.func.jvp(lambda *a: fn(T, *a), prim, tang)
    return flat_tangents(tout)


def func_jacfwd(T, fn: Callable, arrays: Sequence[np.ndarray]) -> list:
    """The whole Jacobian by ``T.func.jacfwd``: one forward pass over a basis of batched tangents."""
    prim = lib_tensors(T, arrays, "float64", requires_grad=False)
    # randomness="same": one forward pass, so a random op (dropout) draws once for every column
    jac = T.func.jacfwd(lambda *a: fn(T, *a), argnums=tuple(range(len(arrays))), randomness="same")
    return flat_tangents(jac(*prim))


def fd_jvp(fn: Callable, arrays: Sequence[np.ndarray], tangents: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central finite differences of ``fn`` along ``tangents``, float64."""
    plus = out_arrays(autojac, fn, [a + eps * t for a, t in zip(arrays, tangents)])
    minus = out_arrays(autojac, fn, [a - eps * t for a, t in zip(arrays, tangents)])
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


__all__ = ["B", "rng_for", "sample", "lib_tensors", "outputs", "floating", "to_np", "dense", "assert_close",
           "assert_all_close", "vjp", "second", "out_arrays", "fd_vjp", "batched_vs_loop", "torch", "autojac",
           "batched_then_differentiated", "jvp_rules", "fd_jvp", "flat_tangents", "func_jvp", "func_jacfwd",
           "COMPLEX_DOMAINS", "normal_like", "inexact", "inner"]

