"""Batching metadata: how a primitive runs on operands with a leading batch dimension.

An op declares ``batch=`` beside its forward and derivative rules (DESIGN.md decision 1); the
``vmap`` interpreter (``autojac.func._batching``) reads it. The value is one of the kinds below,
which cover most primitives with data alone, or a function for the rest:

* ``BROADCAST``: the inputs broadcast against each other and the output has the broadcast
  shape (unary and binary arithmetic, ``where``, ``clamp``...). Batched operands get size-1
  dims after the batch dim so that right-aligned broadcasting pairs the logical dims.
A position is an index into the op's positional arguments or the name of a keyword parameter.

* ``Axes(*positions)``: the arguments at these positions (ints, tuples of ints, ``None`` for
  every dim) count dimensions of the tensor inputs; every tensor input is given the batch
  dimension and non-negative axes move up by one.
* ``Shape(position, pad=False)``: the argument at ``position`` is an output shape; the batch
  size goes in front (``pad``: first give the input the shape's rank, as ``expand`` needs).
* ``NB(position)``: the argument at ``position`` counts leading batch dims the op keeps apart
  (``sum_to``'s ``nb``): it grows by one.
* a function ``rule(call, args, batched, params, size)``: ``args`` holds the physical tensors
  (batch dim first) where ``batched[i]``, the other arguments as given; ``call(args, params)``
  runs the op itself; the rule returns the physical output(s), batch dim first.
* ``PER_ELEMENT``: the op runs once per batch element (its inputs' values decide its work, or a
  vectorized rule is still to be written); the interpreter loops and warns once, naming the op.
* ``None``: no rule declared; the same loop (the coverage test lists such ops as errors).

The derivative rules see the same layout: a cotangent ``g`` (or tangent ``t``) may carry leading batch
dims in front of the shape of the value it belongs to (DESIGN.md, "batch dims lead"). The index helpers
at the end (``n_batch``, ``batch_shape``, ``shift``, ``keep_batch``, ``pad_widths``, ``pad_batch``, ``lift``)
are the one place that arithmetic is written.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BROADCAST", "PER_ELEMENT", "Axes", "Shape", "NB", "shift_axes", "n_batch", "batch_shape", "shift",
           "keep_batch", "pad_widths", "pad_batch", "lift", "get_arg", "set_arg"]


class _Broadcast:
    __slots__ = ()

    def __repr__(self) -> str:
        return "BROADCAST"


BROADCAST = _Broadcast()


class _PerElement:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PER_ELEMENT"


PER_ELEMENT = _PerElement()


@dataclass(frozen=True, init=False)
class Axes:
    """The arguments at ``positions`` are axes of the tensor inputs (see the module docstring)."""

    positions: tuple

    def __init__(self, *positions: int | str) -> None:
        object.__setattr__(self, "positions", positions)


@dataclass(frozen=True)
class Shape:
    """The argument at ``position`` is the output's shape (see the module docstring)."""

    position: int | str
    pad: bool = False


@dataclass(frozen=True)
class NB:
    """The argument at ``position`` counts leading batch dims (see the module docstring)."""

    position: int | str


def shift_axes(axes, ndim: int, by: int = 1):
    """``axes`` (an int, a sequence of ints or ``None`` for all ``ndim`` dims) with ``by``
    leading dims put in front: non-negative axes move up, negative ones count from the end.

    >>> shift_axes(0, 2), shift_axes((0, -1), 2), shift_axes(None, 2)
    (1, (1, -1), (1, 2))
    """
    if axes is None:
        return tuple(range(by, ndim + by))
    return shift(axes, by)


def get_arg(args: list, params: dict, pos):
    """The argument at ``pos`` (an index into ``args`` or a keyword name), as the kinds above name them."""
    return params.get(pos) if type(pos) is str else args[pos]


def set_arg(args: list, params: dict, pos, value) -> dict:
    """Put ``value`` at ``pos``: into ``args`` in place, or into a copy of ``params`` (returned).

    >>> args = [1, 2]; set_arg(args, {}, 1, 5), args, set_arg(args, {"dim": 0}, "dim", 1)
    ({}, [1, 5], {'dim': 1})
    """
    if type(pos) is str:
        return {**params, pos: value}
    args[pos] = value
    return params


# ----------------------------------------------------------------- batch dims in derivative rules


def n_batch(g, x) -> int:
    """How many leading batch dims the cotangent or tangent ``g`` carries in front of ``x``'s shape.

    ``x`` is the value ``g`` belongs to: the output ``ans`` for a cotangent, the input for a tangent.

    >>> import numpy as np
    >>> n_batch(np.zeros((5, 2, 3)), np.zeros((2, 3)))
    1
    """
    return g.ndim - x.ndim


def batch_shape(g, x) -> tuple:
    """The shape of ``g``'s leading batch dims (see ``n_batch``).

    >>> import numpy as np
    >>> batch_shape(np.zeros((5, 4, 3)), np.zeros(3))
    (5, 4)
    """
    return tuple(g.shape[:g.ndim - x.ndim])


def shift(dims, nb: int):
    """Dims of a per-example value as dims of one with ``nb`` leading batch dims: non-negative dims
    move up by ``nb``, negative ones (counted from the end) stay. An int, a tuple or a list.

    >>> shift((0, 2), 1), shift(-1, 2), shift([1], 3)
    ((1, 3), -1, [4])
    """
    if isinstance(dims, (tuple, list)):
        return type(dims)(d + nb if d >= 0 else d for d in dims)
    return dims + nb if dims >= 0 else dims


def keep_batch(perm, nb: int) -> tuple:
    """A permutation ``perm`` of a per-example value's dims as one of a value with ``nb`` leading
    batch dims, which stay in front.

    >>> keep_batch((1, 0), 1)
    (0, 2, 1)
    """
    return tuple(range(nb)) + shift(tuple(perm), nb)


def pad_widths(widths, nb: int) -> tuple:
    """Per-dim ``(before, after)`` pad widths of a per-example value, with ``nb`` unpadded batch dims in front.

    >>> pad_widths(((1, 2),), 1)
    ((0, 0), (1, 2))
    """
    return ((0, 0),) * nb + tuple(widths)


def pad_batch(t, x, ndim: int):
    """Give the tangent ``t`` of ``x`` size-1 dims after its batch dims, so that its per-example part
    has rank ``ndim``: right-aligned broadcasting against a value of that rank then pairs the batch
    dims with each other, not with the value's leading dims. ``t`` as is without batch dims.

    >>> import numpy as np
    >>> pad_batch(np.zeros((5, 3)), np.zeros(3), 2).shape
    (5, 1, 3)
    """
    k = ndim - x.ndim
    b = t.ndim - x.ndim
    if k <= 0 or b == 0:
        return t
    return t.reshape(tuple(t.shape[:b]) + (1,) * k + tuple(x.shape))


def lift(t, x, ans):
    """Line a batched tangent of input ``x`` up with the output ``ans``: ``batch + (1,)*k + x.shape``
    (``pad_batch`` to the output's rank), for the JVP of a broadcasting op.

    >>> import numpy as np
    >>> lift(np.zeros((5, 3)), np.zeros(3), np.zeros((2, 3))).shape
    (5, 1, 3)
    """
    return pad_batch(t, x, ans.ndim)
