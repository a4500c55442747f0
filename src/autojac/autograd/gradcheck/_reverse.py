"""Reverse mode: analytical Jacobians from VJPs, checked against the numerical ones."""

from __future__ import annotations

import warnings

import numpy as np

from ..._tensor import Tensor, _wrap
from ..api import grad as _grad
from ._common import GradcheckError, _allclose, _mismatch_msg, _Opts, _t

# ----------------------------------------------------------------------------- reverse mode


def _batched_vjp_jacobian(output: Tensor, xs: list) -> list:
    """Rows of ``J`` for every input in one backward pass: the identity as a batch of cotangents.
    Entries are ``None`` for inputs the output does not reach, else arrays (m, *x.shape)."""
    od = output._data
    m = od.size
    if m == 0:
        return [np.zeros((0,) + x._data.shape, x._data.dtype) for x in xs]
    basis = _wrap(np.eye(m, dtype=od.dtype).reshape((m,) + od.shape))
    gs = _grad(output, xs, basis, retain_graph=True, allow_unused=True, is_grads_batched=True)
    return [None if g is None else g._data for g in gs]


def _looped_vjp_jacobian(output: Tensor, xs: list) -> list:
    """The same rows, one backward pass each (PyTorch's way; for rules that mishandle batches)."""
    od = output._data
    m = od.size
    rows: list = [[] for _ in xs]
    for j in range(m):
        e = np.zeros(m, od.dtype)
        e[j] = 1
        gs = _grad(output, xs, _wrap(e.reshape(od.shape)), retain_graph=True, allow_unused=True)
        for r, g, x in zip(rows, gs, xs):
            r.append(np.zeros(x._data.shape, x._data.dtype) if g is None else g._data)
    return [np.stack(r) if r else np.zeros((0,) + x._data.shape, x._data.dtype) for r, x in zip(rows, xs)]


def _to_jacobians(rows: list, xs: list, m: int, check_grad_dtypes: bool, batched: bool = False) -> list:
    """(numel in, numel out) matrices from VJP rows, with PyTorch's size and dtype checks."""
    jacs = []
    for r, x in zip(rows, xs):
        n = x._data.size
        if r is None:
            jacs.append(np.zeros((n, m), x._data.dtype))
            continue
        if r.shape != (m,) + x._data.shape:
            if batched:  # a batching problem: the caller retries row by row
                raise ValueError("batched gradient of the wrong shape")
            raise GradcheckError("Analytical gradient has incorrect size")
        if check_grad_dtypes and r.dtype != x._data.dtype:
            raise GradcheckError("Gradient has dtype mismatch")
        jacs.append(r.reshape(m, n).T.astype(x._data.dtype))
    return jacs


def _analytical_jacobians(output: Tensor, xs: list, opts: _Opts, batched: bool = True) -> list:
    """``J[i]``: (numel of ``xs[i]``, numel of output), computed twice to check reentrancy."""
    vjp = _batched_vjp_jacobian if batched else _looped_vjp_jacobian
    m = output._data.size
    j1 = _to_jacobians(vjp(output, xs), xs, m, opts.check_grad_dtypes, batched)
    j2 = _to_jacobians(vjp(output, xs), xs, m, False, batched)
    for a, b in zip(j1, j2):
        if a.size and not np.abs(a.astype(np.float64) - b).max() <= opts.nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
                "gives different values, although analytical gradient matches numerical gradient."
                f"The tolerance for nondeterminism was {opts.nondet_tol}.\n\nIf the function is non-deterministic "
                "by design, call gradcheck/gradgradcheck with `nondet_tol=<tol>`.")
    return j1


def _slow_backward(tupled, diff, func_out, out_pos, numerical: list, opts: _Opts) -> None:
    xs = [tupled[k] for k in diff]
    for j, pos in enumerate(out_pos):
        out = func_out[pos]
        try:
            analytical = _analytical_jacobians(out, xs, opts)
        except GradcheckError:
            raise
        except Exception:  # a rule that cannot take batched cotangents: go row by row
            analytical = _analytical_jacobians(out, xs, opts, batched=False)
            _warn_batching("backward", j, None)
        for i, (a, per_out) in enumerate(zip(analytical, numerical)):
            n = per_out[pos]
            if _allclose(a, n, opts.rtol, opts.atol):
                continue
            a = _analytical_jacobians(out, xs, opts, batched=False)[i]
            if not _allclose(a, n, opts.rtol, opts.atol):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i))
            _warn_batching("backward", j, i)


def _warn_batching(mode: str, j: int | None, i: int | None) -> None:
    """The rows were right one at a time only: pass (PyTorch checks batching only on request), but say so."""
    where = " ".join(w for w in (f"for output {j}" if j is not None else "",
                                 f"with respect to input {i}" if i is not None else "") if w)
    warnings.warn(f"gradcheck: the {mode} derivatives {where} are right one row at a time but fail or differ "
                  "with batched cotangents/tangents (extra leading dimensions), which "
                  "autograd.functional.jacobian and func.jacrev/jacfwd rely on. Run gradcheck with "
                  "check_batched_grad=True (check_batched_forward_grad=True) for details.", stacklevel=5)


def _expect_zero(numerical: list) -> None:
    for per_out in numerical:
        for n in per_out:
            if n is not None and np.count_nonzero(n):
                raise GradcheckError("Numerical gradient for function expected to be zero")
