"""Rearranging entries: flip, roll, repeat/tile/repeat_interleave, rot90, pad."""

from __future__ import annotations

import numpy as np

from ..._core.batching import Axes, n_batch, pad_widths, shift, shift_axes
from ..._core.node import Saves
from ..._core.patterns import MOVE
from ..._tensor import Tensor, _wrap, _wrap_dim
from .._batched import pad_to, widths_batch
from .._declare import defop, linear, named
from ..index import index_select, take
from ._reshape import _shape_arg, expand, reshape, unsqueeze

# =========================================================================== flip, roll, repeat, rot90, pad
# Rules see cotangents/tangents with nb leading batch dims: the dims of these ops are stored
# non-negative (for the unbatched tensor) and shifted by nb.


def _dims_arg(dims, ndim: int, name: str = "flip") -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        seen = [d for i, d in enumerate(out) if d in out[:i]][0]
        raise RuntimeError(f"dim {seen} appears multiple times in the list of dims")
    return out if ndim else ()


_flip = linear(
    "flip", lambda x, dims: np.flip(x, dims).copy() if dims else x.copy(),
    vjp=(lambda g, ans, x, dims: _flip(g, shift(dims, n_batch(g, ans))),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=Axes(1)
)


def flip(input: Tensor, *dims, **kwargs) -> Tensor:
    """Reverse the order of elements along ``dims`` (a copy, as in PyTorch): ``flip(x, [1])``,
    ``x.flip(0, 1)`` or ``flip(x, dims=(1,))``.

    >>> import autojac
    >>> autojac.flip(autojac.tensor([[1., 2.], [3., 4.]]), [1])
    tensor([[2., 1.],
            [4., 3.]])
    """
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            bad = next((k for k in kwargs if k != "dims"), "dims")
            raise TypeError(f"flip() got an unexpected keyword argument '{bad}'" if bad != "dims" else
                            "flip() got multiple values for argument 'dims'")
        dims = (kwargs["dims"],)
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    return _flip(input, _dims_arg(dims, input._data.ndim))


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1) of a tensor of at least 2 dimensions."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return _flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0) of a tensor of at least 1 dimension."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return _flip(input, (0,))


def _roll_forward(x, shifts, dims):
    return np.roll(x, shifts, dims) if dims is not None else np.roll(x, shifts)


def _roll_batched(g: Tensor, shifts: tuple, dims, nb: int) -> Tensor:
    if dims is not None:
        return _roll(g, shifts, shift(dims, nb))
    if nb == 0:
        return _roll(g, shifts, None)
    flat = g.reshape(tuple(g.shape[:nb]) + (-1,))  # roll the flattened trailing (unbatched) part
    return _roll(flat, shifts, (nb,)).reshape(tuple(g.shape))


def _roll_batch(call, args, batched, params, size):
    """``vmap`` rule: the batch dim is not rolled; a roll of the flattened tensor flattens each element."""
    x, shifts, dims = args
    if dims is not None:
        return call([x, shifts, shift_axes(dims, x.ndim - 1)], params)
    shape = tuple(x.shape)
    return call([x.reshape((size, -1)), shifts, (1,)], params).reshape(shape)


_roll = linear(
    "roll", _roll_forward,
    vjp=(lambda g, ans, x, shifts, dims: _roll_batched(g, tuple(-s for s in shifts), dims, n_batch(g, ans)),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=_roll_batch
)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when ``dims`` is None).

    >>> import autojac
    >>> autojac.roll(autojac.tensor([1., 2., 3., 4.]), 1)
    tensor([4., 1., 2., 3.])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return _roll(input, shifts, None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    if nd == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    return _roll(input, shifts, tuple(_wrap_dim(d, nd) for d in dims))


def _repeat_vjp(g, ans, x, reps):
    nb = n_batch(g, ans)
    batch = tuple(g.shape[:nb])
    xs = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    split = batch + tuple(v for r, s in zip(reps, xs) for v in (r, s))
    summed = g.reshape(split).sum(tuple(nb + 2 * i for i in range(len(reps)))) if reps else g
    return summed.reshape(batch + tuple(x.shape))


def _repeat_jvp(t, ans, x, reps):
    nb = n_batch(t, x)
    batch = tuple(t.shape[:nb])
    lined = t.reshape(batch + (1,) * (len(reps) - x.ndim) + tuple(x.shape))  # batch dims stay in front
    return _repeat(lined, (1,) * nb + tuple(reps))


def _repeat_batch(call, args, batched, params, size):
    """``vmap`` rule: the batch dim is repeated once (tile pads a shorter input with leading 1-dims first)."""
    reps = tuple(args[1])
    return call([pad_to(args[0], len(reps)), (1,) + reps], params)


_repeat = defop("repeat", lambda x, reps: np.tile(x, reps), vjp=(_repeat_vjp,), jvp=(_repeat_jvp,),
                saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=_repeat_batch)


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (``sizes`` may add leading dims).

    >>> import autojac
    >>> autojac.tensor([1., 2.]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    reps = _shape_arg(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    if any(r < 0 for r in reps):
        padded = (1,) * (len(reps) - input._data.ndim) + input._data.shape
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: "
                           f"{[r * s for r, s in zip(reps, padded)]}")
    return _repeat(input, reps)


def tile(input: Tensor, dims) -> Tensor:
    """Like ``repeat``, with ``dims`` padded with leading ones when shorter than the tensor's dims.

    >>> import autojac
    >>> autojac.tile(autojac.tensor([[1., 2.]]), (2,))
    tensor([[1., 2., 1., 2.]])
    """
    reps = _shape_arg((dims,) if isinstance(dims, int) else tuple(dims))
    reps = (1,) * (input._data.ndim - len(reps)) + reps
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
    (over the flattened tensor when ``dim`` is None).

    >>> import autojac
    >>> autojac.tensor([1., 2.]).repeat_interleave(2)
    tensor([1., 1., 2., 2.])
    >>> autojac.repeat_interleave(autojac.tensor([[1., 2.], [3., 4.]]), autojac.tensor([1, 2]), dim=0)
    tensor([[1., 2.],
            [3., 4.],
            [3., 4.]])
    """
    if repeats is None:  # repeat_interleave(counts): the index of each repeated position
        counts = input._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        return _wrap(np.repeat(np.arange(counts.shape[0] if counts.ndim else 1), counts.reshape(-1)))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap_dim(dim, x._data.ndim)
    if x._data.ndim == 0:
        x = x.reshape(1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor) and (repeats._data.ndim > 0 and repeats._data.size != 1):
        counts = repeats._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if counts.shape[0] != n:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{counts.shape[0]} and input.size({d}) = {n}")
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return index_select(x, d, _wrap(np.repeat(np.arange(n), counts)))
    r = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    shp = x._data.shape
    wide = expand(unsqueeze(x, d + 1), shp[:d + 1] + (r,) + shp[d + 1:])
    return reshape(wide, shp[:d] + (n * r,) + shp[d + 1:])


def _rot90_forward(x, k, dims):
    return np.rot90(x, k, dims).copy()


_rot90 = linear(
    "rot90", _rot90_forward,
    vjp=(lambda g, ans, x, k, dims: _rot90(g, -k, shift(dims, n_batch(g, ans))),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=Axes(2)
)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second).

    >>> import autojac
    >>> autojac.rot90(autojac.tensor([[1., 2.], [3., 4.]]))
    tensor([[2., 4.],
            [1., 3.]])
    """
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    a, b = _wrap_dim(dims[0], nd), _wrap_dim(dims[1], nd)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    return _rot90(input, int(k) % 4, (a, b))


# --------------------------------------------------------------------------- pad (torch.nn.functional.pad)
def _cpad_forward(x, widths, value):
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(widths, x.shape))
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    return np.pad(x[crop], grow, constant_values=np.asarray(value).astype(x.dtype))


def _cpad_adjoint(g, widths: tuple, nb: int):
    """Negated widths: cropping what was padded, zero-filling what was cropped."""
    return _cpad(g, ((0, 0),) * nb + tuple((-lo, -hi) for lo, hi in widths), 0)


_cpad = defop(
    "constant_pad_nd", _cpad_forward,
    vjp=(lambda g, ans, x, widths, value: _cpad_adjoint(g, widths, n_batch(g, ans)),),
    jvp=(lambda t, ans, x, widths, value: _cpad(t, pad_widths(widths, n_batch(t, x)), 0),),
    saves_inputs=Saves.NOTHING, sparsity=MOVE, batch=widths_batch
)

_PAD_SUPPORT = "\n".join([
    "Supported combinations for non-constant padding:",
    "  - 2D or 3D input: padding size = 2 (pads last dimension)",
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)",
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)",
])


def _pad_source(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    """For each position of a padded dim, the position of the input it copies."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    # circular: negative widths crop first; the wrap-around reads from what is left
    start, kept = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
    return start + np.arange(-max(lo, 0), kept + max(hi, 0)) % kept


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right)`` for the last dim, then the one before...

    Modes: ``"constant"`` (``value``, default 0; negative widths crop), ``"reflect"``, ``"replicate"``,
    ``"circular"``, as ``torch.nn.functional.pad``.

    >>> import autojac
    >>> from autojac.ops.shape import pad
    >>> pad(autojac.tensor([[1., 2., 3.]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    pad = tuple(int(p) for p in pad)
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k = len(pad) // 2
    if k > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    pairs = [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
    if mode == "constant":
        for (lo, hi), s in zip(pairs, input._data.shape):
            if s + lo + hi < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return _cpad(input, tuple(pairs), 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if (mode != "circular" and (nd, k) not in ((2, 1), (3, 1), (3, 2), (4, 2), (4, 3), (5, 3))) or \
            (mode == "circular" and not 0 < k < nd):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n{_PAD_SUPPORT}")
    shape = input._data.shape
    for d in range(nd - k, nd):
        lo, hi = pairs[d]
        if mode == "reflect" and (lo >= shape[d] or hi >= shape[d]):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(shape)}")
        if mode == "circular" and (lo > shape[d] or hi > shape[d]):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if shape[d] + lo + hi < 0:
            raise RuntimeError(f"input tensor is too small for padding {pad} at dimension {d}")
    src = np.ix_(*[_pad_source(mode, shape[d], *pairs[d]) for d in range(nd - k, nd)])
    out = take(input, (slice(None),) * (nd - k) + tuple(src), False, 0)
    name = "CopySlices" if mode == "circular" else \
        f"{'ReflectionPad' if mode == 'reflect' else 'ReplicationPad'}{k}DBackward0"
    return named(out, name)
