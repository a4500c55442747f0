"""Pooling: ``max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``, ``adaptive_avg_pool1d/2d/3d``.

None of them needs a primitive of its own, so every derivative (any order, batched) comes from
ops that have their rules already:

- max pooling picks one input element per window, found on the arrays (first maximum, a NaN
  wins, as PyTorch's CPU kernel), then ``gather``s it: the gradient scatters to that element;
- average pooling is a convolution with a kernel of ones, divided by PyTorch's window counts;
- adaptive average pooling is separable: one averaging matrix per spatial dim, applied by matmul.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.batching import BROADCAST
from .._core.node import Saves, defop, nondiff
from .._core.patterns import Sparsity, groups
from .._tensor import Tensor, _wrap
from ._declare import named
from .conv import _windows, conv1d, conv2d, conv3d
from .shape import pad

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d"]

_CONV = {1: conv1d, 2: conv2d, 3: conv3d}


def _grad_name(d: int, kind: str) -> str:
    # PyTorch runs the 1-D poolings as 2-D ones on an unsqueezed input, then squeezes
    return "SqueezeBackward1" if d == 1 else f"{kind}{d}D{'WithIndices' if kind == 'MaxPool' else ''}Backward0"


def _tuple(value, d: int, name: str, fn: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * d
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * d
    if len(value) != d:
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {d} ints")
    return value


def _check_input(x: Tensor, d: int, fn: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if x._data.ndim not in (d + 1, d + 2) or 0 in x.shape[-d:]:
        raise RuntimeError(f"{fn}: Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got: {list(x.shape)}")


def _out_size(n: int, k: int, s: int, p: int, dil: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: a window must start inside the input or its left padding."""
    o = (n + 2 * p - dil * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _geometry(x: Tensor, d: int, kernel_size, stride, padding, dilation, ceil_mode: bool, fn: str):
    k = _tuple(kernel_size, d, "kernel_size", fn)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, d, "stride", fn)
    p = _tuple(padding, d, "padding", fn)
    dil = _tuple(dilation, d, "dilation", fn)
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{fn}: kernel_size must be greater than zero, but got {list(k)}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{fn}: stride must be greater than zero, but got {list(s)}")
    if any(v <= 0 for v in dil):
        raise RuntimeError(f"{fn}: dilation must be greater than zero, but got {list(dil)}")
    for i in range(d):
        if p[i] < 0 or p[i] > (dil[i] * (k[i] - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation={dil[i]}")
    size = tuple(x.shape[-d:])
    out = tuple(_out_size(size[i], k[i], s[i], p[i], dil[i], ceil_mode) for i in range(d))
    if any(o < 1 for o in out):
        shown = "x".join(map(str, tuple(x.shape[-d - 1:])))
        raise RuntimeError(f"Given input size: ({shown}). Calculated output size: "
                           f"({'x'.join(map(str, (x.shape[-d - 1],) + out))}). Output size is too small")
    # right padding that lets the last (ceil_mode) window be read in full
    extra = tuple(max(0, (out[i] - 1) * s[i] + dil[i] * (k[i] - 1) + 1 - size[i] - 2 * p[i]) for i in range(d))
    return k, s, p, dil, size, out, extra


# --------------------------------------------------------------------------- max pooling
def _argmax_windows(a: np.ndarray, *, d: int, k, s, p, dil, size, out, extra) -> np.ndarray:
    """Flat index (into the ``d`` spatial dims) of each window's maximum, as PyTorch picks it."""
    widths = ((0, 0),) * (a.ndim - d) + tuple((p[i], p[i] + extra[i]) for i in range(d))
    fill = -np.inf if a.dtype.kind == "f" else np.iinfo(a.dtype).min
    win = _windows(np.pad(a, widths, constant_values=fill), k, s, dil)
    win = win.reshape(win.shape[:-d] + (-1,))
    kidx = np.argmax(win, axis=-1)
    if a.dtype.kind == "f":
        nan = np.isnan(win)
        has_nan = nan.any(axis=-1)
        if has_nan.any():  # PyTorch keeps the last NaN of a window
            kidx = np.where(has_nan, win.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1), kidx)
    # input coordinates of the chosen element, per spatial dim
    kcoord = np.unravel_index(kidx, k)
    flat = np.zeros(kidx.shape, dtype=np.int64)
    valid = np.ones(kidx.shape, dtype=bool)
    for i in range(d):
        o = np.arange(out[i]).reshape((-1,) + (1,) * (d - 1 - i))
        c = o * s[i] - p[i] + kcoord[i] * dil[i]
        valid &= (c >= 0) & (c < size[i])
        flat = flat * size[i] + c
    if not valid.all():  # a window of -inf only: PyTorch keeps its first element inside the input
        first = np.zeros(kidx.shape, dtype=np.int64)
        for i in range(d):
            o = np.arange(out[i]).reshape((-1,) + (1,) * (d - 1 - i))
            start = o * s[i] - p[i]
            start = start + (-start).clip(0) // dil[i] * dil[i] + ((-start).clip(0) % dil[i] > 0) * dil[i]
            first = first * size[i] + start
        flat = np.where(valid, flat, first)
    return flat


# an op without derivative, so a compiled program recomputes the picks at every call
_window_argmax = nondiff("max_pool_indices", _argmax_windows, batch=BROADCAST)


def _flat_picks(x_lead: tuple, idx: np.ndarray, d: int) -> tuple[tuple, np.ndarray]:
    """The leading dims shared by the values and the picks (broadcast), and the picks flattened over windows."""
    flat = idx.reshape(idx.shape[:idx.ndim - d] + (-1,))
    lead = np.broadcast_shapes(x_lead, flat.shape[:-1])
    return lead, np.broadcast_to(flat, lead + flat.shape[-1:])


def _pick_forward(x, idx, geometry):
    """``x``'s values at the picked window elements (leading dims broadcast: batched cotangents, vmap)."""
    d = len(geometry[0])
    lead, picks = _flat_picks(x.shape[:x.ndim - d], idx, d)
    flat_x = np.broadcast_to(x.reshape(x.shape[:x.ndim - d] + (-1,)), lead + (math.prod(x.shape[x.ndim - d:]),))
    return np.take_along_axis(flat_x, picks, axis=-1).reshape(lead + idx.shape[idx.ndim - d:])


def _unpick_forward(g, idx, shape, geometry):
    """The adjoint of the pick: ``g`` summed into the positions it was picked from, on a grid of ``shape``'s
    spatial dims (one ``bincount``: windows overlap, so several picks may land on one input element)."""
    d = len(geometry[0])
    lead, picks = _flat_picks(g.shape[:g.ndim - d], idx, d)
    n = math.prod(shape[len(shape) - d:])
    rows = math.prod(lead)
    offsets = (np.arange(rows, dtype=np.int64) * n).reshape(lead + (1,))
    flat_g = np.broadcast_to(g.reshape(g.shape[:g.ndim - d] + (-1,)), picks.shape)
    out = np.bincount((picks + offsets).ravel(), weights=flat_g.ravel(), minlength=rows * n)
    return out.astype(g.dtype, copy=False).reshape(lead + tuple(shape[len(shape) - d:]))


def _pick_vjp(g, ans, x, idx, geometry):
    return _unpick_op(g, idx, shape=tuple(x.shape), geometry=geometry)


def _pick_jvp(t, ans, x, idx, geometry):
    return _max_pool_op(t, idx, geometry=geometry)


# the pick's adjoint as a primitive (rules on arrays of picks, not NumPy index building): under vmap and compile
# the indices stay inside ops
_unpick_op = defop("max_pool_backward", _unpick_forward,
                   vjp=(lambda gg, ans, g, idx, shape, geometry: _max_pool_op(gg, idx, geometry=geometry), None),
                   jvp=(lambda t, ans, g, idx, shape, geometry: _unpick_op(t, idx, shape=shape, geometry=geometry),
                        None),
                   saves_inputs=Saves.NOTHING, grad_name="MaxPoolBackwardBackward0", batch=BROADCAST)


def _window_pattern(op, out_shape, args, params, active):
    """Each output reads its whole window (inside the input): the pick may be any of them elsewhere."""
    x = args[0]
    k, s, p, dil, size, out = params["geometry"]
    d = len(k)
    lead = math.prod(np.shape(x)[:np.ndim(x) - d])
    offsets = np.stack(np.unravel_index(np.arange(math.prod(k)), k), axis=-1)  # (K, d)
    positions = np.stack(np.unravel_index(np.arange(math.prod(out)), out), axis=-1)  # (P, d)
    coords = positions[:, None, :] * np.array(s) - np.array(p) + offsets[None, :, :] * np.array(dil)
    valid = ((coords >= 0) & (coords < np.array(size))).all(axis=-1)
    flat = np.ravel_multi_index(tuple(np.clip(coords, 0, np.array(size) - 1).transpose(2, 0, 1)), size)
    table = np.where(valid, flat, -1)  # (P, K)
    n_spatial = math.prod(size)
    tables = [np.where(table >= 0, table + i * n_spatial, -1) for i in range(lead)]
    full = np.concatenate(tables) if tables else table[:0]
    return (groups(full, int(np.size(x))) if active[0] else None,)


_max_pool_op = defop("max_pool", _pick_forward, vjp=(_pick_vjp,), jvp=(_pick_jvp,), saves_inputs=Saves.NOTHING,
                     sparsity=Sparsity(_window_pattern, ()), batch=BROADCAST)


def _max_pool(d: int, fn: str, input: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool,
              return_indices: bool):
    _check_input(input, d, fn)
    k, s, p, dil, size, out, extra = _geometry(input, d, kernel_size, stride, padding, dilation, ceil_mode, fn)
    idx = _window_argmax(input, d=d, k=k, s=s, p=p, dil=dil, size=size, out=out, extra=extra)
    y = named(_max_pool_op(input, idx._data, geometry=(k, s, p, dil, size, out)), _grad_name(d, "MaxPool"))
    if return_indices:
        return y, idx
    return y


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Maximum over sliding windows of the last dim of ``input (N, C, L)`` or ``(C, L)``.

    >>> import autojac
    >>> autojac.nn.functional.max_pool1d(autojac.tensor([[1., 3., 2., 5.]]), 2)
    tensor([[3., 5.]])
    """
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Maximum over sliding windows of the last two dims of ``input (N, C, H, W)`` or ``(C, H, W)``.

    The gradient goes to the element each window picked (the first maximum; a NaN wins).

    >>> import autojac
    >>> x = autojac.arange(16.).reshape(1, 4, 4)
    >>> autojac.nn.functional.max_pool2d(x, 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Maximum over sliding windows of the last three dims of ``input (N, C, D, H, W)`` or ``(C, D, H, W)``.

    >>> import autojac
    >>> autojac.nn.functional.max_pool3d(autojac.arange(8.).reshape(1, 2, 2, 2), 2)
    tensor([[[[7.]]]])
    """
    return _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


# --------------------------------------------------------------------------- average pooling
def _window_counts(n: int, o: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """How many elements each window along one dim averages, as PyTorch counts them."""
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, n) - np.maximum(start, 0)).astype(np.float64)


def _avg_pool(d: int, fn: str, input: Tensor, kernel_size, stride, padding, ceil_mode: bool,
              count_include_pad: bool, divisor_override) -> Tensor:
    _check_input(input, d, fn)
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f'"{fn}" not implemented for \'{input.dtype}\'')
    k, s, p, _, size, out, extra = _geometry(input, d, kernel_size, stride, padding, 1, ceil_mode, fn)
    if any(p[i] > k[i] // 2 for i in range(d)):
        raise RuntimeError(f"pad should be at most half of kernel size, but got pad={max(p)} and "
                           f"kernel_size={max(k)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    lead = tuple(input.shape[:-d])
    x = input.reshape((math.prod(lead), 1) + size)
    widths = []
    for i in reversed(range(d)):  # F.pad lists the last dim first
        widths += [p[i], p[i] + extra[i]]
    ones = _wrap(np.ones((1, 1) + k, dtype=input._data.dtype))
    sums = _CONV[d](pad(x, tuple(widths)), ones, stride=s).reshape(lead + out)
    if divisor_override is not None:
        y = sums / divisor_override
    else:
        counts = np.ones((), dtype=np.float64)
        for i in range(d):
            c = _window_counts(size[i], out[i], k[i], s[i], p[i], count_include_pad)
            counts = np.multiply.outer(counts, c)
        y = sums / _wrap(counts.astype(input._data.dtype))
    return named(y, _grad_name(d, "AvgPool"))


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows of the last dim of ``input (N, C, L)`` or ``(C, L)``.

    >>> import autojac
    >>> autojac.nn.functional.avg_pool1d(autojac.tensor([[1., 3., 2., 6.]]), 2)
    tensor([[2., 4.]])
    """
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows of the last two dims of ``input (N, C, H, W)`` or ``(C, H, W)``.

    >>> import autojac
    >>> autojac.nn.functional.avg_pool2d(autojac.arange(16.).reshape(1, 4, 4), 2)
    tensor([[[ 2.5000,  4.5000],
             [10.5000, 12.5000]]])
    """
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows of the last three dims of ``input (N, C, D, H, W)`` or ``(C, D, H, W)``.

    >>> import autojac
    >>> autojac.nn.functional.avg_pool3d(autojac.arange(8.).reshape(1, 2, 2, 2), 2)
    tensor([[[[3.5000]]]])
    """
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# --------------------------------------------------------------------------- adaptive average pooling
def _averaging_matrix(n: int, o: int, dtype) -> np.ndarray:
    """Row ``i`` averages input positions ``floor(i*n/o) .. ceil((i+1)*n/o) - 1``."""
    a = np.zeros((o, n), dtype=dtype)
    for i in range(o):
        start, end = (i * n) // o, -((-(i + 1) * n) // o)
        a[i, start:end] = 1.0 / (end - start)
    return a


def _adaptive_avg_pool(d: int, fn: str, input: Tensor, output_size) -> Tensor:
    _check_input(input, d, fn)
    size = tuple(input.shape[-d:])
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * d
    output_size = tuple(output_size)
    if len(output_size) != d:
        raise ValueError(f"{fn}: output_size must be {d} ints, got {output_size}")
    out = tuple(size[i] if o is None else int(o) for i, o in enumerate(output_size))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                           f"{list(out)}")
    y = input
    for i in range(d):  # dim -d + i, averaged by one matrix
        a = _wrap(_averaging_matrix(size[i], out[i], input._data.dtype))
        axis = -d + i
        if axis == -1:
            y = y @ a.mT
        else:
            y = (y.transpose(axis, -1) @ a.mT).transpose(axis, -1)
    return named(y, _grad_name(d, "AdaptiveAvgPool"))


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over ``output_size`` windows that tile the last dim (PyTorch's floor/ceil boundaries).

    >>> import autojac
    >>> autojac.nn.functional.adaptive_avg_pool1d(autojac.tensor([[1., 3., 2., 6.]]), 2)
    tensor([[2., 4.]])
    """
    return _adaptive_avg_pool(1, "adaptive_avg_pool1d", input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over an ``output_size`` grid of windows that tile the last two dims (``None`` keeps a size).

    >>> import autojac
    >>> autojac.nn.functional.adaptive_avg_pool2d(autojac.arange(16.).reshape(1, 4, 4), 1)
    tensor([[[7.5000]]])
    """
    return _adaptive_avg_pool(2, "adaptive_avg_pool2d", input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Mean over an ``output_size`` grid of windows that tile the last three dims.

    >>> import autojac
    >>> autojac.nn.functional.adaptive_avg_pool3d(autojac.arange(8.).reshape(1, 2, 2, 2), 1)
    tensor([[[[3.5000]]]])
    """
    return _adaptive_avg_pool(3, "adaptive_avg_pool3d", input, output_size)
