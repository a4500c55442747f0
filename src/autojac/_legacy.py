"""PyTorch's legacy constructors: ``Tensor(2, 3)``, ``Tensor([1., 2.])``, ``FloatTensor``, ``LongTensor``...

``autojac.Tensor(*sizes)`` makes an (here zero-filled) tensor of the default dtype, ``Tensor(data)`` one
holding ``data`` converted to it. ``FloatTensor`` and friends build with their own dtype, and
``isinstance(t, autojac.FloatTensor)`` is true exactly for float32 tensors, as in PyTorch;
they are not subclasses of ``Tensor`` (``type(t) is Tensor`` still holds for every tensor).

>>> import autojac
>>> autojac.Tensor(2, 3).shape, autojac.Tensor([1, 2])
(autojac.Size([2, 3]), tensor([1., 2.]))
>>> t = autojac.LongTensor([1.7, 2]); t, isinstance(t, autojac.LongTensor), isinstance(t, autojac.FloatTensor)
(tensor([1, 2]), True, False)
"""

from __future__ import annotations

import numpy as np

from . import _dtype
from ._device import device
from ._tensor import Size, Tensor, _wrap
from .ops.creation import tensor, zeros

__all__ = ["tensor_new", "legacy_new", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


def tensor_new(cls, *args, **kwargs) -> Tensor:
    """``Tensor.__new__``: the legacy constructor ``Tensor(2, 3)`` or ``Tensor([1., 2.])`` (the library itself
    never calls it; it makes tensors with ``_tensor._wrap``)."""
    return legacy_new(None, args, kwargs)


def legacy_new(d: _dtype.dtype | None, args: tuple, kwargs: dict) -> Tensor:
    """``Tensor(*sizes)`` / ``Tensor(data)`` with dtype ``d`` (the default float dtype when None)."""
    dev = kwargs.pop("device", None)
    if dev is not None and device(dev).type != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device(dev).type} "
                           "was passed")
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got an unexpected keyword "
                        f"argument '{next(iter(kwargs))}'")
    legacy, d = d, _dtype.get_default_dtype() if d is None else d
    if not args:
        return zeros(0, dtype=d)
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) or isinstance(args[0], Size):
        data = args[0]
        if isinstance(data, Size):
            return zeros(*data, dtype=d)
        if isinstance(data, Tensor):
            if legacy is not None and data._data.dtype != d.np:
                raise TypeError(f"expected {d} (got {data.dtype})")
            return data.detach()
        if isinstance(data, (float, complex, bool)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        if isinstance(data, np.ndarray):
            return _wrap(data.astype(d.np))
        return tensor(data, dtype=d)
    if not all(isinstance(a, (int, np.integer)) for a in args):
        raise TypeError("new() received an invalid combination of arguments - expected sizes (ints) or data, got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    return zeros(*args, dtype=d)


class _LegacyType(type):
    """The metaclass of ``FloatTensor`` and friends: calling builds, ``isinstance`` checks the dtype."""

    def __instancecheck__(cls, obj) -> bool:
        return type(obj) is Tensor and obj._data.dtype == cls.dtype.np

    def __call__(cls, *args, **kwargs) -> Tensor:
        return legacy_new(cls.dtype, args, kwargs)


def _legacy(name: str, d: _dtype.dtype) -> type:
    return _LegacyType(name, (), {"dtype": d, "__module__": "autojac", "__doc__": f"Tensors of dtype {d}."})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
CharTensor = _legacy("CharTensor", _dtype.int8)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool)
