"""Forward-mode AD: tensors carry a tangent per dual level; every op pushes tangents through
its JVP rules (declared beside its VJP rules, DESIGN.md decision 1).

Levels nest (``jacfwd(jacfwd(f))``): ids grow with nesting and the active ones are kept,
oldest first, in ``LEVELS``. While the rules of level ``L`` run, ``L`` and the newer levels
are switched off, so a tangent never gets a tangent of its own level (that would be an
epsilon-squared term) and a level-``L`` tangent carries only older levels' tangents. The
rules are autojac ops, so under grad mode they are recorded too: reverse-over-forward
and forward-over-reverse both work.

A tangent may have extra leading batch dimensions (``jacfwd`` pushes a whole basis at
once); rules handle them (decision 3).
"""

from __future__ import annotations

import itertools

from .._tensor import Tensor

LEVELS: list[int] = []  # active dual levels, oldest first; ``apply`` checks it on every op
_ids = itertools.count()


def enter_level() -> int:
    """Open a new (innermost) dual level and return its id."""
    level = next(_ids)
    LEVELS.append(level)
    return level


def exit_level(level: int) -> None:
    """Close ``level`` (tangents at it become unreachable: ids are never reused)."""
    if level not in LEVELS:
        raise RuntimeError(f"Trying to exit a forward AD level ({level}) that is not active")
    LEVELS.remove(level)


def tangent_of(t: Tensor, level: int):
    fw = t._fw
    return None if fw is None else fw.get(level)


def set_tangent(t: Tensor, level: int, tangent) -> None:
    fw = t._fw
    t._fw = {level: tangent} if fw is None else {**fw, level: tangent}


def has_tangent(*xs) -> bool:
    """Whether any of ``xs`` carries a tangent at an active level."""
    if not LEVELS:
        return False
    for x in xs:
        if type(x) is Tensor and x._fw is not None and any(lv in x._fw for lv in LEVELS):
            return True
    return False


def propagate(op, args: tuple, params: dict, out) -> None:
    """Set the tangents of ``out`` (a Tensor, or a tuple for multi-output ops) at every
    active level from the tangents of ``args``."""
    for k, level in enumerate(tuple(LEVELS)):
        pairs = []
        for i, a in enumerate(args):
            if type(a) is Tensor and a._fw is not None:
                t = a._fw.get(level)
                if t is not None:
                    pairs.append((i, a, t))
        if not pairs:
            continue
        newer = LEVELS[k:]
        del LEVELS[k:]
        try:
            total = _push(op, args, params, out, pairs)
        finally:
            LEVELS.extend(newer)
        if total is None:
            continue
        i, a, t = pairs[0]
        batch = tuple(t.shape[:t.ndim - a.ndim])
        if op.n_out == 1:
            set_tangent(out, level, _fit_tangent(total, batch, out))
        else:
            for o, tt in zip(out, total):
                if tt is not None and o._data.dtype.kind in "fc":
                    set_tangent(o, level, _fit_tangent(tt, batch, o))


def _push(op, args, params, out, pairs):
    total = None
    jvps = op.jvp
    for i, _a, t in pairs:
        rule = jvps[i] if i < len(jvps) else None
        if rule is None:
            continue
        r = rule(t, out, *args, **params) if params else rule(t, out, *args)
        if r is None:
            continue
        if total is None:
            total = r
        elif op.n_out == 1:
            total = total + r
        else:
            total = tuple(x if y is None else (y if x is None else x + y) for x, y in zip(total, r))
    return total


def _fit_tangent(tt: Tensor, batch: tuple, out: Tensor) -> Tensor:
    """Broadcast a tangent to ``batch + out.shape`` and give it ``out``'s dtype."""
    target = batch + out._data.shape
    if tt._data.shape != target:
        from .broadcast import _expand_rows

        nb = len(batch)
        tt = _expand_rows(tt, nb, tuple(tt._data.shape[nb:]), out._data.shape)
    if tt._data.dtype is not out._data.dtype:
        from .engine import cast_grad

        tt = cast_grad(tt, out)  # a complex tangent of a real output: its real part
    return tt
