"""Batched values for ``vmap``: what the core knows of them.

Inside ``vmap`` a tensor holding a batch of values at a vmap *level* has, as its ``_data``, a
``Batched`` placeholder: an array of the *logical* (per-example) shape and dtype whose real
values live in ``phys``, a tensor with the batch dimension in front (itself batched at an older
level when vmaps nest). Shapes and dtypes read from ``_data`` are the logical ones, so code that
only looks at metadata runs unchanged; ``apply`` sees a placeholder among its arguments and hands
the op to the batching interpreter (``DISPATCH``, filled in by ``autojac.func``), which runs the
op's batching rule on the physical tensors.

Reading a placeholder's *values* outside an op (``.item()``, ``bool()``, a NumPy function on
``._data``) cannot be vectorized: it raises ``BatchedRead``, and ``vmap`` falls back to a loop
over the batch. ``BatchedRead`` derives from ``BaseException`` so that no ``except Exception``
on the way turns it into another error.

The hot path pays one truthiness check of ``BATCHING`` per op while no vmap runs.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["BATCHING", "DISPATCH", "Batched", "BatchedRead", "placeholder", "read_batched", "vmap_dual_marks",
           "vmap_levels"]

class _Levels(threading.local):
    def __init__(self) -> None:
        self.stack: list[int] = []
        self.duals: list[int] = []  # per vmap level: the newest forward-mode level open when it began (-1: none)


_LEVELS = _Levels()


def vmap_levels() -> list[int]:
    """This thread's vmap levels, outermost first (the list itself: vmap pushes and pops)."""
    return _LEVELS.stack


def vmap_dual_marks() -> list[int]:
    """Per vmap level (``vmap_levels``), the newest forward-mode level open when it began, -1 for none
    (the list itself: vmap pushes and pops). Forward levels newer than a vmap level's mark run inside it."""
    return _LEVELS.duals


# One entry per vmap level running in any thread: ``if BATCHING:`` is the hot path's check.
BATCHING: list = []
# [batched_apply, batched_nondiff], set by ``autojac.func._batching`` (a higher layer) at import.
DISPATCH: list = [None, None]


class BatchedRead(BaseException):
    """A batched value's data was read outside an op: ``vmap`` runs the function as a loop instead."""


_METADATA = {np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.may_share_memory, np.shares_memory}


def read_batched(what: str):
    """Refuse to read a batched value: inside vmap, run the function as a loop instead (``BatchedRead``)."""
    if BATCHING:
        raise BatchedRead(what)
    raise RuntimeError(f"vmap: {what} of a batched tensor that escaped the vmap that made it; return it "
                       "from the vmapped function instead of keeping it")


class Batched(np.ndarray):
    """The placeholder ``_data`` of a batched tensor: logical shape and dtype, no values.

    ``level`` is the vmap level, ``bsize`` the batch size and ``phys`` the tensor of values,
    batch dimension first (``phys.shape == (bsize, *logical_shape)``).
    """

    level: int
    bsize: int
    phys: Any

    def __array_finalize__(self, obj) -> None:
        if type(obj) is Batched:  # a view or copy made with NumPy outside an op
            read_batched("a NumPy method on the data")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        read_batched(f"numpy.{ufunc.__name__} on the data")

    def __array_function__(self, func, types, args, kwargs):
        if func in _METADATA:
            plain = [a.view(np.ndarray) if type(a) is Batched else a for a in args]
            return func(*plain, **kwargs)
        read_batched(f"numpy.{func.__name__} on the data")

    def __getitem__(self, idx):
        read_batched("indexing the data")

    def __setitem__(self, idx, value):
        read_batched("writing into the data")

    def astype(self, *args, **kwargs):
        read_batched("a dtype conversion of the data")

    def copy(self, *args, **kwargs):
        read_batched("a copy of the data")

    def _value(name: str):  # noqa: N805 (a factory of methods, run at class creation)
        def method(self, *args, **kwargs):
            read_batched(f"reading the value ({name})")
        method.__name__ = name
        return method

    for _name in ("item", "tolist", "tobytes", "argmax", "argmin", "argsort", "nonzero", "__bool__", "__float__",
                  "__int__", "__index__", "__complex__", "__iter__", "__reduce__", "__reduce_ex__"):
        locals()[_name] = _value(_name)
    del _name, _value


_ZERO: dict = {}


def placeholder(phys, level: int, size: int) -> Batched:
    """The placeholder for ``phys`` (a tensor, batch dimension first) at vmap ``level``."""
    data = phys._data
    dt = data.dtype
    buf = _ZERO.get(dt)
    if buf is None:  # values nothing should read: NaN, or the most negative integer (an invalid index)
        buf = np.zeros(1, dt)
        if dt.kind in "fc":
            buf[0] = np.nan
        elif dt.kind == "i":
            buf[0] = np.iinfo(dt).min
        buf.flags.writeable = False
        _ZERO[dt] = buf
    shape = data.shape[1:]
    p = np.ndarray.__new__(Batched, shape, dt, buf, 0, (0,) * len(shape))
    p.level = level
    p.bsize = size
    p.phys = phys
    return p
