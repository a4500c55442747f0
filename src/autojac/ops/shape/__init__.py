"""Shape ops: reshape/view, squeeze, transpose/permute, expand, cat/stack/split, clone, casts.

Rules see cotangents with ``n_batch(g, ans)`` (``_core.batching``) leading batch dims; axes are
shifted past them.
"""

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
