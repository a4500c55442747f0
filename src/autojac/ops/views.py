"""In-place operations through a view of a tensor that is part of a graph.

A view records ``(base, view_fn, unview_fn)``: ``view_fn(base)`` recomputes the view
with autojac ops, and ``unview_fn(base, new_view)`` builds the base with the view's
region replaced. An in-place op on the view then becomes, in the graph,
``base <- unview_fn(base, op(view_fn(base)))`` — PyTorch's CopySlices — and the view
takes the ``grad_fn`` of ``view_fn(new base)``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np

from .._core.batched import Batched, placeholder, read_batched
from .._core.grad_mode import STATE
from .._tensor import Tensor, _wrap


def inplace_on_view(view: Tensor, fn: Callable[..., Tensor], args: tuple, saves_self: bool = True) -> Tensor:
    """Apply ``fn(view, *args)`` in place, rebasing the graph of the view's base."""
    base, view_fn, unview_fn = view._base
    if "_multi_view" in view.__dict__ and STATE.enabled and (view._requires_grad or any(
            type(a) is Tensor and a._requires_grad for a in args)):
        raise RuntimeError(
            "Output 0 of a function that returns multiple views (split, chunk, unbind) is being modified "
            "inplace. Such functions do not allow the output views to be modified inplace. You should "
            "replace the inplace operation by an out-of-place one."
        )
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    # the graph is built on a stand-in for the base's current value: nodes holding ``base`` itself
    # would point back at it once it takes their grad_fn below (a reference cycle)
    old_base = alias(base, copy=False)
    current = view_fn(old_base)
    if saves_self:  # the view's memory is about to be overwritten; the rule must see the old value
        current = alias(current, copy=True)
    new_view = fn(current, *args)
    new_base = unview_fn(old_base, new_view)
    data = new_view._data
    if type(view._data) is Batched or type(data) is Batched:  # the loop over the batch writes views exactly
        read_batched("an in-place write through a view")
    if not view._data.flags.writeable and view._data.size:
        raise RuntimeError("unsupported operation: the tensor is a read-only view (e.g. from expand); "
                           "clone() it before writing in place")
    if view._data.size:
        np.copyto(view._data, data if data.shape == view._data.shape else np.broadcast_to(data, view._data.shape),
                  casting="unsafe")
    view._vc[0] += 1
    save_written(new_view, view)
    base._grad_fn = new_base._grad_fn
    base._requires_grad = new_base._requires_grad
    base._output_nr = new_base._output_nr
    base._fw = new_base._fw
    _regenerate(view, view_fn(base))
    refresh_views(base, skip=view)
    return view


def _regenerate(view: Tensor, regen: Tensor) -> None:
    view._fw = regen._fw
    view._grad_fn = regen._grad_fn
    view._requires_grad = regen._requires_grad
    view._output_nr = regen._output_nr


def register_view(root: Tensor, view: Tensor) -> None:
    """Remember a view of ``root`` (weakly), so that writes to ``root`` can refresh its graph."""
    views = root.__dict__.get("_views")
    if views is None:
        root._views = views = []
    elif len(views) >= 16 and len(views) & (len(views) - 1) == 0:  # prune dead ones now and then
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(view))


def refresh_views(root: Tensor, skip: Tensor | None = None) -> None:
    """After an in-place write gave ``root`` a new graph (or tangent), its live views read the new
    ``root``, as PyTorch regenerates a view's ``grad_fn`` when its base's version changed."""
    views = root.__dict__.get("_views")
    if not views:
        return
    alive = []
    for ref in views:
        v = ref()
        if v is None:
            continue
        alive.append(ref)
        if v is not skip:
            _regenerate(v, v._base[1](root))
    root._views = alive


def take_graph(target: Tensor, result: Tensor) -> None:
    """``target``, just overwritten in place with ``result``'s values, stands for ``result`` in the graph; its
    live views read the new value (PyTorch's rebase of an in-place op's history)."""
    target._grad_fn = result._grad_fn
    target._requires_grad = result._requires_grad
    target._output_nr = result._output_nr
    target._retains_grad = False
    if "_views" in target.__dict__:
        refresh_views(target)


def save_written(result: Tensor, target: Tensor) -> None:
    """An in-place op that saves its output saves the written tensor, as PyTorch does: a later
    write to it is then caught at backward time (instead of the rule reading a private copy)."""
    node = result._grad_fn
    if (node is not None and node.op.saves_ans and node.op.n_out == 1 and node.ans is result._data
            and target._data.dtype == result._data.dtype):
        node.ans = target._data
        node.ans_vc = (target._vc, target._vc[0])


def _copy_of(data):
    """A copy of a tensor's data; of a batched value (under vmap), a placeholder over an alias copy of its physical
    tensor, which stands for it in the enclosing graph too."""
    if type(data) is Batched:
        return placeholder(alias(data.phys, copy=True), data.level, data.bsize)
    return data.copy()


def alias(t: Tensor, copy: bool) -> Tensor:
    """A new tensor object standing for ``t`` in the graph (same grad_fn), optionally with copied data."""
    a = _wrap(_copy_of(t._data) if copy else t._data)
    if not copy:
        a._vc = t._vc
    a._requires_grad = t._requires_grad
    a._grad_fn = t._grad_fn
    a._output_nr = t._output_nr
    if t._fw is not None:
        a._fw = t._fw
    return a


def mark_view(out: Tensor, base: Tensor, view_fn, unview_fn) -> Tensor:
    """Record that ``out`` shares ``base``'s storage (for in-place ops through views)."""
    out._vc = base._vc
    if base._base is not None:  # compose with the base's own view relation
        root, fn0, unfn0 = base._base
        out._base = (root, lambda r: view_fn(fn0(r)),
                     lambda r, new: unfn0(r, unview_fn(fn0(r), new)))
    else:
        out._base = (base, view_fn, unview_fn)
    if "_multi_view" in base.__dict__:  # a view of a split/unbind output is just as restricted
        out._multi_view = True
    register_view(out._base[0], out)
    return out
