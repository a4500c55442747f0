"""In-place operations through a view of a tensor that is part of a graph.

A view records ``(base, view_fn, unview_fn)``: ``view_fn(base)`` recomputes the view
with autojac ops, and ``unview_fn(base, new_view)`` builds the base with the view's
region replaced. An in-place op on the view then becomes, in the graph,
``base <- unview_fn(base, op(view_fn(base)))`` — PyTorch's CopySlices — and the view
takes the ``grad_fn`` of ``view_fn(new base)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._tensor import Tensor, _wrap


def inplace_on_view(view: Tensor, fn: Callable[..., Tensor], args: tuple, saves_self: bool = True) -> Tensor:
    """Apply ``fn(view, *args)`` in place, rebasing the graph of the view's base."""
    base, view_fn, unview_fn = view._base
    if base.grad_fn is None and base._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    current = view_fn(base)
    if saves_self:  # the view's memory is about to be overwritten; the rule must see the old value
        current = alias(current, copy=True)
    new_view = fn(current, *args)
    new_base = unview_fn(base, new_view)
    data = new_view._data
    if not view._data.flags.writeable:
        raise RuntimeError("unsupported operation: the tensor is a read-only view (e.g. from expand); "
                           "clone() it before writing in place")
    np.copyto(view._data, data if data.shape == view._data.shape else np.broadcast_to(data, view._data.shape),
              casting="unsafe")
    view._vc[0] += 1
    base.grad_fn = new_base.grad_fn
    base._requires_grad = True
    base._output_nr = new_base._output_nr
    base._fw = new_base._fw
    regen = view_fn(base)
    view._fw = regen._fw
    view.grad_fn = regen.grad_fn
    view._requires_grad = True
    view._output_nr = regen._output_nr
    return view


def alias(t: Tensor, copy: bool) -> Tensor:
    """A new tensor object standing for ``t`` in the graph (same grad_fn), optionally with copied data."""
    a = _wrap(t._data.copy() if copy else t._data)
    if not copy:
        a._vc = t._vc
    a._requires_grad = t._requires_grad
    a.grad_fn = t.grad_fn
    a._output_nr = t._output_nr
    if t._fw is not None:
        a._fw = t._fw
    return a
