"""The batching interpreter: runs a primitive on batched tensors by its batching rule.

``apply`` hands an op here when one of its arguments is batched (``_core.batched``). The
arguments batched at the newest vmap level among them are replaced by their physical tensors
(batch dim first); the op's ``batch`` metadata (``_core.batching``) rewrites the call, which
runs through ``apply`` again (so an older vmap level, the graph of an enclosing ``grad`` and
the tangents of an enclosing ``jvp`` see it as an ordinary op); the outputs become batched
tensors of the level, recorded as ``apply`` records (so a ``grad`` inside ``vmap`` sees them).
Forward-mode levels opened inside the vmap are hidden from that physical run: their tangents
are pushed once, on the batched outputs, not also on physical ones nothing reads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.batched import DISPATCH, Batched, placeholder, vmap_dual_marks
from .._core.batching import BROADCAST, NB, PER_ELEMENT, Axes, Shape, get_arg, set_arg, shift_axes
from .._core.forward import ANY_LEVELS
from .._core.forward import levels as forward_levels
from .._core.node import Op, apply, wrap_outputs
from .._tensor import Tensor, _wrap
from ..ops._batched import logical_ndim, materialize, pad_to, run_per_element
from ..ops.shape import reshape

__all__ = ["batched_apply", "batched_nondiff", "run_rule"]

def _newest(args: tuple) -> tuple[int, int]:
    level = size = 0
    for a in args:
        d = a._data if type(a) is Tensor else a  # a rule may pass a batched tensor's data itself
        if type(d) is Batched and d.level > level:
            level, size = d.level, d.bsize
    return level, size


def _split(args: tuple, level: int) -> tuple[list, list]:
    phys, batched = [], []
    for a in args:
        ta = type(a)
        if ta is Tensor:
            d = a._data
            if type(d) is Batched and d.level == level:
                phys.append(d.phys)
                batched.append(True)
                continue
        elif ta is Batched and a.level == level:
            phys.append(a.phys._data)
            batched.append(True)
            continue
        phys.append(a)
        batched.append(False)
    return phys, batched


def batched_apply(op: Op, args: tuple, params: dict):
    """``apply(op, args, params)`` for batched ``args`` (``None`` when none is batched)."""
    level, size = _newest(args)
    if not level:
        return None
    hidden = _hide_inner_duals(level) if ANY_LEVELS else None
    try:
        rule = op.batch
        if rule is BROADCAST:  # most ops: no rule dispatch or call closure, as this runs once per op inside vmap
            out = apply(op, _broadcast_physical(args, level), params)
        else:
            phys, batched = _split(args, level)
            out = run_rule(rule, lambda a, p: apply(op, tuple(a), p), phys, batched, params, size, op.name)
    finally:
        if hidden:
            forward_levels().extend(hidden)
    if type(out) is tuple:
        return wrap_outputs(op, args, params, tuple(placeholder(o, level, size) for o in out))
    return wrap_outputs(op, args, params, (placeholder(out, level, size),))


def _hide_inner_duals(level: int) -> list | None:
    """Take the forward-mode levels opened inside vmap ``level`` off this thread's stack (newest last)
    and return them: the physical run would push their tangents onto outputs nothing reads."""
    duals = forward_levels()
    if not duals:
        return None
    marks = vmap_dual_marks()
    mark = marks[level - 1] if level <= len(marks) else -1
    if duals[-1] <= mark:
        return None
    k = next(i for i, lv in enumerate(duals) if lv > mark)
    hidden = duals[k:]
    del duals[k:]
    return hidden


def batched_nondiff(run: Callable, args: tuple, params: dict):
    """A non-differentiable op (``nondiff``) on batched ``args`` (``None`` when none is batched)."""
    level, size = _newest(args)
    if not level:
        return None
    if run.batch is BROADCAST:
        out = run(*_broadcast_physical(args, level), **params)
    else:
        phys, batched = _split(args, level)
        out = run_rule(run.batch, lambda a, p: run(*a, **p), phys, batched, params, size, run.__name__)
    if type(out) is tuple:
        return tuple(_wrap(placeholder(o, level, size)) for o in out)
    return _wrap(placeholder(out, level, size))


def _broadcast_physical(args: tuple, level: int) -> tuple:
    """The ``BROADCAST`` rule's operands: the physical tensors of those batched at ``level``, padded after the
    batch dim to the common logical rank. One pass, the hottest path inside vmap: a placeholder's own rank
    is its logical rank, so the common rank is read without looking at the physical tensors."""
    phys = []
    ranks = []  # (position, logical rank) of the batched operands
    n = 0
    for a in args:
        ta = type(a)
        d = a._data if ta is Tensor else a
        if type(d) is Batched and d.level == level:
            k = d.ndim
            ranks.append((len(phys), k))
            phys.append(d.phys if ta is Tensor else d.phys._data)
        else:
            phys.append(a)
            if ta is not Tensor and not isinstance(d, np.ndarray):
                continue
            k = d.ndim
        if k > n:
            n = k
    for i, k in ranks:
        if k < n:
            phys[i] = pad_to(phys[i], n)
    return tuple(phys)


def run_rule(rule, call: Callable, args: list, batched: list, params: dict, size: int, name: str):
    """Run ``call`` (the op) on physical ``args`` by ``rule``; the output(s), batch dim first. (``BROADCAST``
    never comes here: the callers run it from the unsplit arguments, ``_broadcast_physical``.)"""
    if rule is None or rule is PER_ELEMENT:
        return run_per_element(call, args, batched, params, size, name)
    if callable(rule):
        return rule(call, args, batched, params, size)
    args = list(args)
    if type(rule) is Axes:
        return _axes(rule, call, args, batched, params, size)
    if type(rule) is Shape:
        shape = tuple(get_arg(args, params, rule.position))
        if rule.pad:
            args[0] = pad_to(args[0] if batched[0] else materialize(args[0], size), len(shape))
        params = set_arg(args, params, rule.position, (size,) + shape)
        return call(args, params)
    if type(rule) is NB:
        params = set_arg(args, params, rule.position, get_arg(args, params, rule.position) + 1)
        return call(args, params)
    raise TypeError(f"op {name}: unknown batching rule {rule!r}")


def _axes(rule: Axes, call: Callable, args: list, batched: list, params: dict, size: int):
    ndim = next(logical_ndim(a, b) for a, b in zip(args, batched) if type(a) is Tensor)
    for i, a in enumerate(args):
        if type(a) is Tensor and not batched[i]:
            args[i] = materialize(a, size)
    scalar = ndim == 0 and any(type(get_arg(args, params, p)) is int for p in rule.positions)
    if scalar:  # dim 0 / -1 of a 0-d tensor names the tensor itself: run on (B, 1), then drop the 1
        args = [reshape(a, (size, 1)) if type(a) is Tensor else a for a in args]
        ndim = 1
    for pos in rule.positions:
        params = set_arg(args, params, pos, shift_axes(get_arg(args, params, pos), ndim))
    out = call(args, params)
    if scalar:
        out = tuple(reshape(o, (size,)) for o in out) if type(out) is tuple else reshape(out, (size,))
    return out


DISPATCH[0] = batched_apply
DISPATCH[1] = batched_nondiff
