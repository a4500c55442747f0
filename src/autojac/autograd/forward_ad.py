"""``autograd.forward_ad``: forward-mode AD with PyTorch's API (dual tensors within a dual level).

>>> import autojac
>>> import autojac.autograd.forward_ad as fwAD
>>> x, v = autojac.tensor([1., 2.]), autojac.tensor([1., 0.])
>>> with fwAD.dual_level():
...     y = (fwAD.make_dual(x, v) ** 2).sum()
...     fwAD.unpack_dual(y).tangent
tensor(2.)
"""

from __future__ import annotations

import threading
from collections import namedtuple

from .._core import forward
from .._core.forward import set_tangent, tangent_of
from .._tensor import Tensor
from ..ops.shape import alias

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])

# The level opened through this API: one at a time in the whole process, as in PyTorch (whose
# forward-AD levels are global); it propagates in the thread that entered it (autojac's levels
# are per thread), and other threads get a clear error instead of tangents that go nowhere.
_public: list[tuple[int, int]] = []  # (level, id of the thread that entered it)
_public_lock = threading.Lock()


def enter_dual_level() -> int:
    """Open the dual level (PyTorch supports one at a time; so does this API)."""
    with _public_lock:
        if _public:
            raise RuntimeError("Nested forward mode AD is not supported at the moment")
        level = forward.enter_level()
        _public.append((level, threading.get_ident()))
    return level


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level; tangents created in it are dropped."""
    with _public_lock:
        if not _public:
            raise RuntimeError("Trying to exit a forward AD level that was not entered")
        current, owner = _public[-1]
        if level is not None and level != current:
            raise RuntimeError(f"Trying to exit a forward AD level ({level}) that is not the current one ({current})")
        _check_owner(owner)
        _public.pop()
        forward.exit_level(current)


def _check_owner(owner: int) -> None:
    if owner != threading.get_ident():
        raise RuntimeError("The forward AD level was entered in another thread: autojac's dual levels belong to "
                           "the thread that enters them (enter dual_level() in this thread instead)")


class dual_level:
    """Context manager for forward AD: tangents live as long as the ``with`` block."""

    def __enter__(self) -> int:
        self._level = enter_dual_level()
        return self._level

    def __exit__(self, *exc) -> None:
        exit_dual_level(level=self._level)


def _level(level: int | None) -> int:
    if level is None:
        public = next(reversed(_public), None)  # one read: another thread may pop it meanwhile
        if public is None:
            raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure "
                               "to enter_dual_level() first.")
        _check_owner(public[1])
        return public[0]
    if level not in forward.levels():
        raise RuntimeError(f"Trying to use forward AD level {level} which is not active")
    return level


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` as its forward gradient."""
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual(): expected 'tensor' and 'tangent' to be Tensors, got "
                        f"{type(tensor).__name__} and {type(tangent).__name__}")
    lvl = _level(level)
    if tensor._data.dtype.kind not in "fc" or tangent._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}"
                         if tensor._data.dtype.kind not in "fc" else
                         f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, "
            f"this is not supported. Tensor is of size {list(tensor._data.shape)} while the given forward "
            f"gradient is of size {list(tangent._data.shape)}."
        )
    return make_dual_batched(tensor, tangent, lvl)


def make_dual_batched(tensor: Tensor, tangent: Tensor, level: int) -> Tensor:
    """``make_dual`` without checks; ``tangent`` may have extra leading batch dims (for jacfwd)."""
    out = alias(tensor)
    if tangent._data.dtype is not tensor._data.dtype:
        tangent = tangent.to(tensor.dtype)
    set_tangent(out, level, tangent, track=True)
    return out


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """Split a dual tensor into (primal view, tangent); the tangent is None if there is none."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): expected a Tensor, got {type(tensor).__name__}")
    if level is None and not _public:
        return UnpackedDualTensor(tensor, None)
    lvl = _level(level)
    return unpack_batched(tensor, lvl)


def unpack_batched(tensor: Tensor, level: int) -> UnpackedDualTensor:
    tangent = tangent_of(tensor, level)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    primal = alias(tensor)
    primal._fw = {k: v for k, v in tensor._fw.items() if k != level} or None
    return UnpackedDualTensor(primal, tangent)
