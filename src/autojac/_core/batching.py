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
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BROADCAST", "PER_ELEMENT", "Axes", "Shape", "NB", "shift_axes"]


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
    if isinstance(axes, (tuple, list)):
        return type(axes)(a + by if a >= 0 else a for a in axes)
    return axes + by if axes >= 0 else axes
