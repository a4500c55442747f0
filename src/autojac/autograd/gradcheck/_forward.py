"""Forward mode: Jacobians from JVPs (dual numbers), checked against the numerical ones."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._core import forward
from ..._tensor import Tensor, _wrap
from ..forward_ad import make_dual_batched
from ._common import GradcheckError, _allclose, _as_tuple, _is_float, _mismatch_msg, _Opts, _t
from ._reverse import _warn_batching

# ----------------------------------------------------------------------------- forward mode


def _dual_call(func: Callable, tupled: tuple, diff: list, tangents: dict, level: int) -> tuple:
    """Call ``func`` with the checked inputs detached, those in ``tangents`` (position -> array)
    made dual at ``level``."""
    args = []
    for p, a in enumerate(tupled):
        if p in diff:
            t = tangents.get(p)
            a = a.detach() if t is None else make_dual_batched(a.detach(), _wrap(t), level)
        args.append(a)
    return _as_tuple(func(*args))


def _tangents(outs: tuple, level: int) -> list:
    res = []
    for o in outs:
        t = forward.tangent_of(o, level) if isinstance(o, Tensor) else None
        res.append(None if t is None else t._data)
    return res


def _jvp_jacobians(func, tupled, diff, k: int, batched: bool) -> list:
    """``J[pos]`` for input ``k``: (numel in, numel out) per float output, from forward mode."""
    x = tupled[k]
    shape, dt, n = x._data.shape, x._data.dtype, x._data.size
    level = forward.enter_level()
    try:
        if batched or n == 0:
            outs = _dual_call(func, tupled, diff, {k: np.eye(n, dtype=dt).reshape((n,) + shape)}, level)
            tans = [_batched_tangent(t, o, n) for t, o in zip(_tangents(outs, level), outs)]
        else:
            cols = []
            for flat in range(n):
                e = np.zeros(n, dt)
                e[flat] = 1
                outs = _dual_call(func, tupled, diff, {k: e.reshape(shape)}, level)
                cols.append([_zero_or(t, o).reshape(-1) for t, o in zip(_tangents(outs, level), outs)])
            tans = [np.stack([c[p] for c in cols]) if cols and _is_float(o) else None for p, o in enumerate(outs)]
    finally:
        forward.exit_level(level)
    return [None if not _is_float(o) else (t if t is not None else np.zeros((n, o._data.size), o._data.dtype))
            for t, o in zip(tans, outs)]


def _batched_tangent(t, o, n: int):
    if t is None or not _is_float(o):
        return None
    if t.shape != (n,) + o._data.shape:  # a batching problem: the caller retries column by column
        raise ValueError("batched tangent of the wrong shape")
    return t.reshape(n, o._data.size)


def _zero_or(t, o):
    if not _is_float(o):
        return np.zeros(0)
    if t is None:
        return np.zeros(o._data.shape, o._data.dtype)
    if t.shape != o._data.shape:
        raise GradcheckError("Forward AD gradient has incorrect size")
    return t


def _slow_forward(func, tupled, diff, out_pos, numerical: list, opts: _Opts) -> None:
    analytical = []
    for i, k in enumerate(diff):
        try:
            analytical.append(_jvp_jacobians(func, tupled, diff, k, batched=True))
        except GradcheckError:
            raise
        except Exception:  # a rule that cannot take batched tangents: go column by column
            analytical.append(_jvp_jacobians(func, tupled, diff, k, batched=False))
            _warn_batching("forward-mode", None, i)
    for j, pos in enumerate(out_pos):
        for i, k in enumerate(diff):
            a, n = analytical[i][pos], numerical[i][pos]
            if _allclose(a, n, opts.rtol, opts.atol):
                continue
            a = _jvp_jacobians(func, tupled, diff, k, batched=False)[pos]
            if not _allclose(a, n, opts.rtol, opts.atol):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i, forward_ad=True))
            _warn_batching("forward-mode", j, i)
