"""Shape ops: reshape/view, squeeze, transpose/permute, expand, cat/stack/split, clone, casts.

Rules see cotangents with ``nb = g.ndim - ans.ndim`` leading batch dims; axes are
shifted past them.
"""

from ... import _dtype
from .._declare import attach, conj
from ._reshape import (
    reshape, view, flatten, unflatten, squeeze, unsqueeze, transpose, swapaxes, permute, movedim, expand,
    broadcast_to, t, ravel, _reshape_alias_op, broadcast_shapes, broadcast_tensors, mark_view, swapdims, moveaxis,
    expand_as, _T, _mT,
)
from ._casts import clone, _clone, alias, _caster, _cuda, _type, to
from ._cat_split import cat, concat, concatenate, stack, split, chunk, unbind, hstack, vstack, narrow
from ._rearrange import flip, fliplr, flipud, roll, repeat, tile, repeat_interleave, rot90, pad

__all__ = [
    "reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
    "permute", "movedim", "expand", "broadcast_to", "cat", "concat", "concatenate", "stack",
    "split", "chunk", "unbind", "clone", "t", "hstack", "vstack", "narrow", "ravel",
]
__all__ += ["flip", "fliplr", "flipud", "roll", "repeat", "tile", "repeat_interleave", "rot90", "pad"]


attach(
    reshape=reshape, view=view, flatten=flatten, ravel=ravel, unflatten=unflatten, squeeze=squeeze,
    unsqueeze=unsqueeze, permute=permute, transpose=transpose, swapaxes=transpose, swapdims=transpose,
    t=t, movedim=movedim, moveaxis=movedim, expand=expand, expand_as=expand_as, broadcast_to=broadcast_to,
    split=split, chunk=chunk, unbind=unbind, narrow=narrow, clone=clone, to=to,
    float=_caster(_dtype.float32), double=_caster(_dtype.float64), half=_caster(_dtype.float16),
    long=_caster(_dtype.int64), int=_caster(_dtype.int32), bool=_caster(_dtype.bool),
    short=_caster(_dtype.int16), byte=_caster(_dtype.uint8), char=_caster(_dtype.int8),
    cuda=_cuda, get_device=lambda self: -1,
    type=_type, type_as=lambda self, other: to(self, other.dtype),
    view_as=lambda self, other: view(self, other._data.shape),
    reshape_as=lambda self, other: reshape(self, other._data.shape),
    T=property(_T), mT=property(_mT),
    H=property(lambda self: conj(_T(self))), mH=property(lambda self: conj(_mT(self))),  # conjugate transposes
)
