"""Fast mode: one random direction per input and output instead of whole Jacobians."""

from __future__ import annotations

import numpy as np

from ..._core import forward
from ..._random import Generator
from ..._tensor import Tensor, _wrap
from ..api import grad as _grad
from ._common import GradcheckError, _allclose, _mismatch_msg, _Opts, _t
from ._forward import _dual_call, _jvp_jacobians, _tangents, _zero_or
from ._numerical import _numerical_jacobians, _numerical_ju
from ._reverse import _looped_vjp_jacobian, _to_jacobians

# ----------------------------------------------------------------------------- fast mode


def _unit_vector(n: int, dt: np.dtype, gen: Generator) -> np.ndarray:
    """PyTorch's ``rand(n, generator=g).to(dt)`` normalized to unit length."""
    v = gen.uniform(n, np.float32).astype(np.float32).astype(dt)
    return v / np.sqrt(np.sum(v * v)) if n else v


def _fast_vectors(tupled: tuple, diff: list, outputs: list, forward_ad: bool) -> tuple:
    gen = Generator()  # PyTorch's default seed: the same u, v as PyTorch's fast mode
    us = [_unit_vector(tupled[k]._data.size, tupled[k]._data.dtype, gen) for k in diff]
    vs = None if forward_ad else [_unit_vector(o._data.size, o._data.dtype, gen) for o in outputs]
    return us, vs


def _fast_backward(func, tupled, diff, func_out, out_pos, opts: _Opts) -> None:
    outputs = [func_out[p] for p in out_pos]
    us, vs = _fast_vectors(tupled, diff, outputs, forward_ad=False)
    jus = [_numerical_ju(func, tupled, k, u, opts.eps) for k, u in zip(diff, us)]
    if not out_pos:
        for ju in jus:
            for d in ju:
                if d is not None and d.size and np.abs(d).max() > opts.nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    xs = [tupled[k] for k in diff]
    vjps = [_fast_vjps(out, xs, v, opts) for out, v in zip(outputs, vs)]
    for i, (u, ju) in enumerate(zip(us, jus)):
        for j, (pos, v) in enumerate(zip(out_pos, vs)):
            a = np.asarray(vjps[j][i] @ u)
            n = np.asarray(v.astype(np.float64) @ ju[pos])
            atol = opts.atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, opts.rtol, atol):
                raise GradcheckError(_mismatch_msg(float(a), float(n), j, i)
                                     + _slow_report(func, tupled, diff, func_out, pos, i, opts, forward_ad=False))


def _fast_vjps(out: Tensor, xs: list, v: np.ndarray, opts: _Opts) -> list:
    """``v^T J`` for each input as flat arrays, computed twice to check reentrancy."""
    go = _wrap(v.reshape(out._data.shape))
    res = []
    for _ in range(2):
        gs = _grad(out, xs, go, retain_graph=True, allow_unused=True)
        row = []
        for g, x in zip(gs, xs):
            if g is None:
                row.append(np.zeros(x._data.size, x._data.dtype))
                continue
            if g._data.shape != x._data.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if opts.check_grad_dtypes and g._data.dtype != x._data.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            row.append(g._data.reshape(-1))
        res.append(row)
    for a, b in zip(*res):
        if a.size and not np.abs(a.astype(np.float64) - b).max() <= opts.nondet_tol:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and grad_output "
                                 "multiple times gives different values, although analytical gradient matches "
                                 f"numerical gradient.The tolerance for nondeterminism was {opts.nondet_tol}.")
    return res[0]


def _fast_forward(func, tupled, diff, func_out, out_pos, opts: _Opts) -> None:
    us, _ = _fast_vectors(tupled, diff, [], forward_ad=True)
    for i, (k, u) in enumerate(zip(diff, us)):
        ju = _numerical_ju(func, tupled, k, u, opts.eps)
        level = forward.enter_level()
        try:
            x = tupled[k]
            outs = _dual_call(func, tupled, diff, {k: u.reshape(x._data.shape).astype(x._data.dtype)}, level)
            tans = _tangents(outs, level)
        finally:
            forward.exit_level(level)
        for j, pos in enumerate(out_pos):
            a = _zero_or(tans[pos], outs[pos]).reshape(-1)
            n = ju[pos]
            if n is None:
                continue
            if not _allclose(a, n, opts.rtol, opts.atol * float(u.sum())):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i, forward_ad=True)
                                     + _slow_report(func, tupled, diff, func_out, pos, i, opts, forward_ad=True))


def _slow_report(func, tupled, diff, func_out, pos: int, i: int, opts: _Opts, forward_ad: bool) -> str:
    """Fast mode failed: the full Jacobians for the failing pair, for the message."""
    n = _numerical_jacobians(func, tupled, [diff[i]], opts.eps)[0][pos]
    if forward_ad:
        a = _jvp_jacobians(func, tupled, diff, diff[i], batched=False)[pos]
    else:
        a = _to_jacobians(_looped_vjp_jacobian(func_out[pos], [tupled[diff[i]]]), [tupled[diff[i]]],
                          func_out[pos]._data.size, False)[0]
    msg = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
           "in fast mode (v^T J u for random unit vectors u, v). Below, we recompute numerical and analytical "
           "jacobians in slow mode:\n\n"
           f"Numerical:\n {_t(n)}\nAnalytical:\n{_t(a)}\n\n"
           f"The max per-element difference (slow mode) is: {np.abs(n - a).max() if n.size else 0.0}.\n")
    if _allclose(a, n, opts.rtol, opts.atol):
        msg += ("\nFast gradcheck failed but element-wise differences are small. This means that the test might've "
                "passed in slow_mode! Call gradcheck/gradgradcheck with `fast_mode=False`.")
    return msg
