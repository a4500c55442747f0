"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d``.

Three bilinear primitives carry every derivative, of any order:

- ``convolution(x, w, b)``: the forward (cross-correlation, as PyTorch), im2col + one batched matmul;
- ``convolution_input_grad(gy, w)``: its adjoint in ``x`` (a transposed convolution, col2im by a
  loop over the kernel offsets, each a strided add);
- ``convolution_weight_grad(x, gy)``: its adjoint in ``w`` (one batched matmul over the windows).

Each one's VJP and JVP rules are the other two (``<u, Ix(gy, w)> = <C(u, w), gy> = <w, Wg(u, gy)>``),
so double backward and forward-over-reverse follow. The kernels (``_conv_kernels``) accept extra
leading dimensions on either operand and broadcast them (matmul semantics), which is how batched
cotangents and tangents (DESIGN.md decision 3) and ``vmap`` pass through.
"""

from __future__ import annotations

import math

import numpy as np

from .._core.patterns import DENSE, Sparsity
from .._tensor import Tensor
from ._batched import logical_ndim, pad_to
from ._conv_kernels import conv_forward as _conv_forward
from ._conv_kernels import conv_input_grad as _conv_input_grad_forward
from ._conv_kernels import conv_weight_grad as _conv_weight_grad_forward
from ._conv_kernels import windows as _windows
from ._declare import defop, named

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


# --------------------------------------------------------------------------- NumPy kernels (for the patterns)
def _columns(x: np.ndarray, kernel: tuple, stride, padding, dilation, groups: int):
    """im2col of one ``x (N, Ci, *S)``: ``(G, N*P, Cig*Kp)`` and the output size."""
    d = len(kernel)
    n, ci = x.shape[:2]
    win = _windows(np.pad(x, ((0, 0),) * 2 + tuple(padding)), kernel, stride, dilation)  # (N, Ci, *out, *K)
    out = win.shape[2:2 + d]
    win = win.reshape((n, groups, ci // groups) + win.shape[2:])
    win = win.transpose((1, 0) + tuple(range(3, 3 + d)) + (2,) + tuple(range(3 + d, 3 + 2 * d)))
    return win.reshape(groups, n * math.prod(out), -1), out


def _weight_matrix(w: np.ndarray, d: int, groups: int) -> np.ndarray:
    """``w (Co, Cig, *K)`` -> ``(G, Cog, Cig*Kp)``."""
    return w.reshape((groups, w.shape[0] // groups, -1))


def _to_output(y: np.ndarray, n: int, out: tuple, groups: int) -> np.ndarray:
    """``(G, N*P, Cog)`` -> ``(N, Co, *out)``."""
    d = len(out)
    y = y.reshape((groups, n) + out + (y.shape[-1],))
    return y.transpose((1, 0, 2 + d) + tuple(range(2, 2 + d))).reshape((n, groups * y.shape[-1]) + out)


# --------------------------------------------------------------------------- sparsity pattern
def _conv_hits(x_shape: tuple, w, x_const, stride, padding, dilation, groups, w_active: bool) -> tuple:
    """Every product ``x[xi] * w[wi]`` that output ``oi`` of the convolution sums, as three index
    arrays (``x`` padding left out; a constant ``w``'s zeros and, for ``wi``, a constant ``x``'s too)."""
    d = len(stride)
    ids = np.arange(1, math.prod(x_shape) + 1, dtype=np.int64).reshape(x_shape)  # 0 marks padding
    cols, out = _columns(ids, w.shape[-d:], stride, padding, dilation, groups)
    cols = cols - 1  # (G, N*P, K), -1 where padding
    wid = _weight_matrix(np.arange(w.size).reshape(w.shape), d, groups)  # (G, Cog, K)
    g_, np_, cog = cols.shape[0], cols.shape[1], wid.shape[1]
    place = _to_output(np.arange(g_ * np_ * cog).reshape(g_, np_, cog), x_shape[0], out, groups).ravel()
    pos = np.empty(place.size, dtype=np.int64)
    pos[place] = np.arange(place.size)  # (g, r, c) -> flat output position
    pos = pos.reshape(g_, np_, cog)
    wnz = np.ones(wid.shape, bool) if w_active else _weight_matrix(w, d, groups) != 0
    xnz = cols >= 0
    if x_const is not None:
        xnz &= x_const.ravel()[np.maximum(cols, 0)] != 0
    gi, ri, ci, ki = np.nonzero(xnz[:, :, None, :] & wnz[:, None, :, :])
    return pos[gi, ri, ci], cols[gi, ri, ki], wid[gi, ci, ki]


def _bool_csr(rows, cols, shape):
    import scipy.sparse as sp

    return sp.csr_array((np.ones(rows.size, bool), (rows, cols)), shape=shape)


def _conv_pattern_local(op, out_shape, args, params, active):
    """Output ``(n, co, p)`` reads the window of ``x`` at ``p`` (where ``w`` is nonzero, if ``w`` is
    constant), the weights of channel ``co`` (where the window is not padding), and ``b[co]``."""
    x, w, b = args
    d = len(params["stride"])
    if np.ndim(x) != d + 2 or np.ndim(w) != d + 2:
        return DENSE.local(op, out_shape, args, params, active)
    m = math.prod(out_shape)
    res: list = [None, None, None]
    if active[0]:
        oi, xi, _ = _conv_hits(x.shape, w, None, **params, w_active=active[1])
        res[0] = _bool_csr(oi, xi, (m, x.size))
    if active[1]:
        oi, _, wi = _conv_hits(x.shape, w, None if active[0] else x, **params, w_active=True)
        res[1] = _bool_csr(oi, wi, (m, w.size))
    if b is not None and active[2]:
        co = np.broadcast_to(np.arange(out_shape[1]).reshape((1, -1) + (1,) * d), out_shape).ravel()
        res[2] = _bool_csr(np.arange(m), co, (m, b.size))
    return tuple(res)


def _conv_input_grad_pattern_local(op, out_shape, args, params, active):
    """The transposed convolution ``u = C(., w)^T gy``: ``u[xi]`` reads ``gy[oi]`` and ``w[wi]`` for every
    product of the forward convolution that reads ``x[xi]``."""
    gy, w = args
    p = {k: params[k] for k in ("stride", "padding", "dilation", "groups")}
    d = len(p["stride"])
    if np.ndim(gy) != d + 2 or np.ndim(w) != d + 2:
        return DENSE.local(op, out_shape, args, params, active)
    m = math.prod(out_shape)
    res: list = [None, None]
    if active[0]:
        oi, xi, _ = _conv_hits(tuple(out_shape), w, None, **p, w_active=active[1])
        res[0] = _bool_csr(xi, oi, (m, gy.size))
    if active[1]:
        oi, xi, wi = _conv_hits(tuple(out_shape), w, None, **p, w_active=True)
        if not active[0]:  # a constant gy: its zeros are structural
            keep = gy.ravel()[oi] != 0
            xi, wi = xi[keep], wi[keep]
        res[1] = _bool_csr(xi, wi, (m, w.size))
    return tuple(res)


_CONV_PATTERN = Sparsity(_conv_pattern_local, nonlinear=((0, 1),))
_CONV_INPUT_GRAD_PATTERN = Sparsity(_conv_input_grad_pattern_local, nonlinear=((0, 1),))


# --------------------------------------------------------------------------- the three primitives
def _bias_grad(g, d: int):
    return g.sum(dim=(-d - 2,) + tuple(range(-d, 0)))


def _bias_tangent(t, d: int):
    return t.reshape(tuple(t.shape[:-1]) + (1, t.shape[-1]) + (1,) * d)


def _size(x, d: int) -> tuple:
    return tuple(x.shape[-d:])


def _conv_batch(call, args, batched, params, size):
    """``vmap`` rule of the three convolution primitives: their forwards broadcast leading dims over every
    operand (per-example weights too), so each batched operand only gets size-1 dims after the batch dim
    until the operands' leading dims line up (a cotangent may carry extra leading dims of its own)."""
    d = len(params["stride"])
    cores = [1 if i == 2 else d + 2 for i in range(len(args))]  # x/gy and w: (N or O, C, *spatial); bias: (O,)
    lead = max(logical_ndim(a, b) - c for a, b, c in zip(args, batched, cores) if a is not None)
    return call([pad_to(a, lead + c) if b else a for a, b, c in zip(args, batched, cores)], params)


_conv = defop(
    "convolution", _conv_forward,
    vjp=(lambda g, ans, x, w, b, stride, padding, dilation, groups:
         _conv_dx(g, w, size=_size(x, len(stride)), stride=stride, padding=padding, dilation=dilation, groups=groups),
         lambda g, ans, x, w, b, stride, padding, dilation, groups:
         _conv_dw(x, g, kernel=_size(w, len(stride)), stride=stride, padding=padding, dilation=dilation,
                  groups=groups),
         lambda g, ans, x, w, b, stride, padding, dilation, groups: _bias_grad(g, len(stride))),
    jvp=(lambda t, ans, x, w, b, **p: _conv(t, w, None, **p),
         lambda t, ans, x, w, b, **p: _conv(x, t, None, **p),
         lambda t, ans, x, w, b, stride, **p: _bias_tangent(t, len(stride))),
    grad_name="ConvolutionBackward0", sparsity=_CONV_PATTERN, batch=_conv_batch
)
_conv_dx = defop(
    "convolution_input_grad", _conv_input_grad_forward,
    vjp=(lambda u, ans, gy, w, size, **p: _conv(u, w, None, **p),
         lambda u, ans, gy, w, size, stride, **p: _conv_dw(u, gy, kernel=_size(w, len(stride)), stride=stride, **p)),
    jvp=(lambda t, ans, gy, w, **p: _conv_dx(t, w, **p),
         lambda t, ans, gy, w, **p: _conv_dx(gy, t, **p)),
    grad_name="ConvolutionBackwardBackward0", sparsity=_CONV_INPUT_GRAD_PATTERN, batch=_conv_batch
)
_conv_dw = defop(
    "convolution_weight_grad", _conv_weight_grad_forward,
    vjp=(lambda v, ans, x, gy, kernel, stride, **p: _conv_dx(gy, v, size=_size(x, len(stride)), stride=stride, **p),
         lambda v, ans, x, gy, kernel, **p: _conv(x, v, None, **p)),
    jvp=(lambda t, ans, x, gy, **p: _conv_dw(t, gy, **p),
         lambda t, ans, x, gy, **p: _conv_dw(x, t, **p)),
    grad_name="ConvolutionBackwardBackward0", batch=_conv_batch
)


# --------------------------------------------------------------------------- argument handling
def _tuple(v, d: int, name: str) -> tuple:
    t = (v,) * d if isinstance(v, int) else tuple(v)
    if len(t) == 1 and d > 1:
        t = t * d
    if len(t) != d or not all(isinstance(i, (int, np.integer)) for i in t):
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {d} values to match the "
                           f"convolution dimensions, but got {name}={list(t)}")
    return tuple(int(i) for i in t)


def _check_dtypes(input: Tensor, weight: Tensor, bias) -> None:
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")


def _unbatched(input: Tensor, d: int, name: str) -> bool:
    nd = input._data.ndim
    if nd not in (d + 1, d + 2):
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {name}, but got input of "
                           f"size: {list(input.shape)}")
    return nd == d + 1


def _padding(padding, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = tuple(dilation[i] * (kernel[i] - 1) for i in range(d))
        return tuple((t // 2, t - t // 2) for t in total)  # the odd one extra on the right, as PyTorch
    p = _tuple(padding, d, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    return tuple((v, v) for v in p)


def _convnd(d: int, name: str, input: Tensor, weight: Tensor, bias, stride, padding, dilation, groups: int):
    unbatched = _unbatched(input, d, name)
    if unbatched:
        input = input.unsqueeze(0)
    _check_dtypes(input, weight, bias)
    if weight._data.ndim != d + 2:
        raise RuntimeError(f"Expected {d + 2}-dimensional weight for {d + 2}-dimensional input, but got weight of "
                           f"size {list(weight.shape)}")
    stride, dilation = _tuple(stride, d, "stride"), _tuple(dilation, d, "dilation")
    kernel = tuple(weight.shape[-d:])
    pads = _padding(padding, kernel, stride, dilation)
    ci, co = input.shape[1], weight.shape[0]
    if groups < 1 or ci % groups or co % groups or weight.shape[1] * groups != ci:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {weight.shape[1] * groups} channels, but got {ci} channels "
                           "instead")
    padded = tuple(input.shape[2 + i] + pads[i][0] + pads[i][1] for i in range(d))
    eff = tuple(dilation[i] * (kernel[i] - 1) + 1 for i in range(d))
    if any(p < k for p, k in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than actual input size")
    if bias is not None and tuple(bias.shape) != (co,):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {co} "
                           f"elements, but got bias of size {list(bias.shape)} instead")
    y = _conv(input, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return named(y.squeeze(0), "SqueezeBackward1") if unbatched else y


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation of ``input (N, C_in, L)`` with ``weight (C_out, C_in/groups, k)``.

    ``padding``: an int, a tuple, ``'valid'`` (none) or ``'same'`` (output length = input length).

    >>> import autojac
    >>> x = autojac.tensor([[[1., 2., 3., 4.]]])
    >>> autojac.conv1d(x, autojac.tensor([[[1., -1.]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation of ``input (N, C_in, H, W)`` with ``weight (C_out, C_in/groups, kH, kW)``.

    ``padding``: an int, a tuple, ``'valid'`` or ``'same'``; gradients flow to input, weight and bias
    to any order.

    >>> import autojac
    >>> x = autojac.arange(16.).reshape(1, 1, 4, 4)
    >>> autojac.conv2d(x, autojac.ones(1, 1, 2, 2), stride=2)
    tensor([[[[10., 18.],
              [42., 50.]]]])
    """
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-D cross-correlation of ``input (N, C_in, D, H, W)`` with ``weight (C_out, C_in/groups, kD, kH, kW)``."""
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(d: int, name: str, input: Tensor, weight: Tensor, bias, stride, padding, output_padding,
                      groups: int, dilation) -> Tensor:
    unbatched = _unbatched(input, d, name)
    if unbatched:
        input = input.unsqueeze(0)
    _check_dtypes(input, weight, bias)
    stride, dilation = _tuple(stride, d, "stride"), _tuple(dilation, d, "dilation")
    pad, opad = _tuple(padding, d, "padding"), _tuple(output_padding, d, "output_padding")
    if any(o >= s and o >= dl for o, s, dl in zip(opad, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation")
    if input.shape[1] != weight.shape[0] or groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input "
                           f"{list(input.shape)} to have {weight.shape[0]} channels, but got {input.shape[1]} "
                           "channels instead")
    kernel = tuple(weight.shape[-d:])
    size = tuple((input.shape[2 + i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (kernel[i] - 1) + opad[i] + 1
                 for i in range(d))
    if any(s <= 0 for s in size):
        raise RuntimeError(f"Given input size per channel: {list(input.shape[2:])}. Calculated output size per "
                           f"channel: {list(size)}. Output size is too small")
    # the transposed convolution is the adjoint of a convolution whose weight has this very layout
    y = _conv_dx(input, weight, size=size, stride=stride, padding=tuple((p, p) for p in pad), dilation=dilation,
                 groups=groups)
    if bias is not None:
        y = y + bias.reshape((-1,) + (1,) * d)
    y = named(y, "ConvolutionBackward0")
    return named(y.squeeze(0), "SqueezeBackward1") if unbatched else y


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution ("deconvolution"): the adjoint of ``conv1d`` in its input.

    ``weight`` has shape ``(C_in, C_out/groups, k)``.

    >>> import autojac
    >>> autojac.conv_transpose1d(autojac.tensor([[[1., 2.]]]), autojac.tensor([[[1., 1., 1.]]]))
    tensor([[[1., 3., 3., 2.]]])
    """
    return _conv_transposend(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution: the adjoint of ``conv2d`` in its input; ``weight (C_in, C_out/groups, kH, kW)``."""
    return _conv_transposend(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """3-D transposed convolution: the adjoint of ``conv3d`` in its input."""
    return _conv_transposend(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                             dilation)
