"""NumPy kernels of the three convolution primitives: im2col GEMMs with the batch dims folded in.

Each kernel takes operands with extra leading (batch) dims, broadcast as matmul does. Those dims
are sorted by ``_gemm.batch_roles``: dims both operands vary along stay a stack of GEMMs; dims only
one varies along fold into that operand's side of one GEMM (per-example inputs against shared
weights are one GEMM over every example, not one per example).

The input is copied once into a zero-padded buffer laid out ``(shared, own batch, N, C, *S)``; its
windows are then a strided view. Where the trailing strides are 1 the windows run over the full
padded width (``extended``): output rows then hold a few garbage positions past the valid ones, but
each window row is one contiguous run of memory, so im2col is a few long copies instead of many
short ones. The garbage is cropped (forward), multiplied by zeros (input and weight gradients,
when the other operand is finite) or never reached. im2col runs in chunks of the rows, so a
chunk's columns are still in cache when the GEMM packs them.
"""

from __future__ import annotations

import math

import numpy as np

from ._gemm import arrange, batch_roles

__all__ = ["conv_forward", "conv_input_grad", "conv_weight_grad", "windows"]

_CHUNK_BYTES = 1 << 20  # im2col columns per GEMM: about the size of a core's L2 cache
_MAX_WASTE = 1.5  # extend windows over the full width only while it adds at most this factor of columns


def windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """A read-only view ``(..., *out, *kernel)`` of the windows each output position reads."""
    d = len(kernel)
    size = xp.shape[-d:]
    out = tuple((size[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(d))
    st = xp.strides[-d:]
    return np.lib.stride_tricks.as_strided(
        xp, xp.shape[:-d] + out + tuple(kernel),
        xp.strides[:-d] + tuple(st[i] * stride[i] for i in range(d)) + tuple(st[i] * dilation[i] for i in range(d)),
        writeable=False)


# --------------------------------------------------------------------------- geometry
class _Geometry:
    """Sizes of one convolution: padded input ``sp``, output ``out``, and the window extents ``ext``
    (``out``, or the full padded width on trailing dims of stride 1 when that wastes little)."""

    def __init__(self, size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                 out: tuple | None = None, extend: bool = True):
        d = len(kernel)
        self.kernel, self.stride, self.dilation, self.padding = tuple(kernel), tuple(stride), tuple(dilation), padding
        self.size = tuple(size)
        self.sp = tuple(size[i] + padding[i][0] + padding[i][1] for i in range(d))
        if out is None:
            out = tuple((self.sp[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(d))
        self.out = tuple(out)
        self.ext = self.out
        if extend:
            for j0 in range(d - 1):  # extend dims j0+1.. to their padded size: fewest dims first wins less
                if all(stride[j] == 1 for j in range(j0 + 1, d)) and math.prod(
                        self.sp[j] / self.out[j] for j in range(j0 + 1, d)) <= _MAX_WASTE:
                    self.ext = self.out[:j0 + 1] + self.sp[j0 + 1:]
                    break
        self.extended = self.ext != self.out
        self.plane = math.prod(self.sp)
        self.tail = tuple(math.prod(self.sp[j + 1:]) for j in range(d))  # element strides of the spatial dims

    @property
    def crop(self) -> tuple:
        return (Ellipsis,) + tuple(slice(0, o) for o in self.out)

    def interior(self) -> tuple:
        return (Ellipsis,) + tuple(slice(lo, lo + s) for (lo, _), s in zip(self.padding, self.size))


def _buffer(g: _Geometry, lead: tuple, c: int, groups: int, dtype, zero: bool):
    """A flat buffer for a padded input ``(*lead, C, *sp)`` with room for every window read, and a
    window view factory over it: ``view(offset)`` gives ``(*lead, G, Cg, *kernel, *ext)`` or, with
    ``offset``, ``(*lead, G, Cg, *ext)`` at that kernel offset."""
    d = len(g.kernel)
    n = math.prod(lead) * c * g.plane
    lead_strides = tuple(math.prod(lead[i + 1:]) * c * g.plane for i in range(len(lead)))
    cg = c // groups
    st = (lead_strides + (cg * g.plane, g.plane) + tuple(g.dilation[j] * g.tail[j] for j in range(d))
          + tuple(g.stride[j] * g.tail[j] for j in range(d)))
    shape = lead + (groups, cg) + g.kernel + g.ext
    reach = sum((s - 1) * t for s, t in zip(shape, st)) + 1 if all(shape) else 0
    buf = (np.zeros if zero else np.empty)(max(n, reach), dtype=dtype)
    if not zero and reach > n:
        buf[n:] = 0  # the slack the extended windows of the last plane read: finite, never used
    return buf, n, shape, st


def _strided(buf: np.ndarray, shape: tuple, strides: tuple, offset: int = 0, writeable: bool = False) -> np.ndarray:
    it = buf.itemsize
    return np.lib.stride_tricks.as_strided(buf[offset:], shape, tuple(s * it for s in strides), writeable=writeable)


def _fill(buf: np.ndarray, n: int, g: _Geometry, src: np.ndarray) -> None:
    """Copy ``src (*lead, C, *size)`` into the padded buffer's interior and zero its borders."""
    full = buf[:n].reshape(src.shape[:-len(g.sp)] + g.sp)
    for j, (lo, hi) in enumerate(g.padding):
        pre = (Ellipsis,) + (slice(None),) * j
        tail = (slice(None),) * (len(g.sp) - j - 1)
        if lo:
            full[pre + (slice(0, lo),) + tail] = 0
        if hi:
            full[pre + (slice(g.sp[j] - hi, None),) + tail] = 0
    np.copyto(full[g.interior()], src)


def _chunks(rows: int, row_bytes: int):
    step = max(1, _CHUNK_BYTES // max(1, row_bytes))
    return [(i, min(rows, i + step)) for i in range(0, rows, step)]


def _sizes(shape: tuple, dims: list) -> tuple:
    return tuple(shape[i] for i in dims)


# --------------------------------------------------------------------------- the three kernels
def conv_forward(x, w, b, stride, padding, dilation, groups):
    """``x (*bx, N, Ci, *S)`` cross-correlated with ``w (*bw, Co, Cig, *K)``, plus ``b (*bb, Co)``."""
    d = len(stride)
    kernel, (n, c), co = w.shape[-d:], x.shape[-d - 2:-d], w.shape[-d - 2]
    bx, bw = x.shape[:-d - 2], w.shape[:-d - 2]
    r = batch_roles(bx, bw)
    nl = len(r.shape)
    s, sx, sw = r.size(r.shared), r.size(r.a_only), r.size(r.b_only)
    cog, kd = co // groups, w.shape[-d - 1] * math.prod(kernel)
    # full-width windows pay off where the columns outweigh the outputs they give, whose crop they slow
    g = _Geometry(x.shape[-d:], kernel, stride, padding, dilation, extend=kd > sw * cog)
    pe = math.prod(g.ext)
    dtype = np.result_type(x.dtype, w.dtype)
    # (S, Rx = own batch * N, C, *sp)
    buf, size, shape, st = _buffer(g, (s, sx * n), c, groups, dtype, zero=False)
    _fill(buf, size, g, arrange(x, len(bx), nl, r.shared, r.a_only))
    cols = _strided(buf, shape, st)  # (S, Rx, G, Cg, *K, *ext)
    wm = arrange(w, len(bw), nl, r.shared, r.b_only).reshape((s, sw, groups, cog, kd))
    wm = np.ascontiguousarray(wm.transpose(0, 2, 1, 3, 4)).reshape(s, groups, sw * cog, kd)
    z = np.empty((s, groups, sw * cog, sx * n * pe), dtype=dtype)
    perm = (0, 2, 3) + tuple(range(4, 4 + d)) + (1,) + tuple(range(4 + d, 4 + 2 * d))  # (S, G, Cg, *K, Rx, *ext)
    cols = cols.transpose(perm)
    rows, row_bytes = sx * n, s * groups * kd * pe * buf.itemsize
    spans = _chunks(rows, row_bytes)
    scratch = np.empty(s * groups * kd * pe * (spans[0][1] - spans[0][0]) if spans else 0, dtype=dtype)
    lanes = (slice(None),) * (3 + d)
    for i, j in spans:
        dst = scratch[:s * groups * kd * (j - i) * pe]
        np.copyto(dst.reshape(cols.shape[:3 + d] + (j - i,) + g.ext), cols[lanes + (slice(i, j),)])
        np.matmul(wm, dst.reshape(s, groups, kd, (j - i) * pe), out=z[..., i * pe:j * pe])
    # z (S, G, Sw*Cog, Rx * ext) -> y (*b, N, Co, *out)
    z = z.reshape(_sizes(r.shape, r.shared) + (groups,) + _sizes(r.shape, r.b_only) + (cog,)
                  + _sizes(r.shape, r.a_only) + (n,) + g.ext)[g.crop]
    y = np.empty(r.shape + (n, co) + g.out, dtype=dtype)
    yv = y.reshape(r.shape + (n, groups, cog) + g.out)
    yv = arrange(yv, nl, nl, r.shared, [nl + 1], r.b_only, [nl + 2], r.a_only, [nl])
    np.copyto(yv, z)
    if b is not None:
        bb = b.reshape(b.shape[:-1] + (1, co) + (1,) * d)
        if np.broadcast_shapes(bb.shape, y.shape) == y.shape:
            y += bb
        else:
            y = y + bb
    return y


def conv_input_grad(gy, w, size, stride, padding, dilation, groups):
    """col2im: the transposed convolution of ``gy (*bg, N, Co, *O)`` with ``w (*bw, Co, Cig, *K)``,
    cropped to spatial ``size``: the adjoint of ``conv_forward`` in ``x``."""
    d = len(stride)
    kernel, n, co, cg = w.shape[-d:], gy.shape[-d - 2], w.shape[-d - 2], w.shape[-d - 1]
    bg, bw = gy.shape[:-d - 2], w.shape[:-d - 2]
    r = batch_roles(bg, bw)
    nl = len(r.shape)
    # garbage columns are W^T @ 0: zero unless w holds an inf or nan
    g = _Geometry(size, kernel, stride, padding, dilation, out=gy.shape[-d:], extend=bool(np.isfinite(w).all()))
    s, sg, sw = r.size(r.shared), r.size(r.a_only), r.size(r.b_only)
    cog, kd, pe, rg = co // groups, cg * math.prod(kernel), math.prod(g.ext), sg * n
    dtype = np.result_type(gy.dtype, w.dtype)
    gym = (np.zeros if g.extended else np.empty)((s, groups, cog, rg * pe), dtype=dtype)
    gy5 = gy.reshape(bg + (n, groups, cog) + g.out)
    np.copyto(gym.reshape(_sizes(r.shape, r.shared) + (groups, cog) + _sizes(r.shape, r.a_only) + (n,) + g.ext)[g.crop],
              arrange(gy5, len(bg), nl, r.shared, [nl + 1, nl + 2], r.a_only, [nl]))
    w5 = w.reshape(bw + (groups, cog, kd))
    wt = np.ascontiguousarray(arrange(w5, len(bw), nl, r.shared, [nl], r.b_only, [nl + 2], [nl + 1]))
    cols = np.matmul(wt.reshape(s, groups, sw * kd, cog), gym)
    cols = cols.reshape((s, groups, sw, cg) + tuple(kernel) + (rg,) + g.ext)
    lead = (s, sw, rg)
    buf, total, shape, st = _buffer(g, lead, groups * cg, groups, dtype, zero=True)
    view = _strided(buf, shape, st, writeable=True)  # (S, Sw, Rg, G, Cg, *K, *ext)
    perm = (0, 2, 4, 1, 3) + tuple(range(5, 5 + d))  # cols at one offset -> (S, Sw, Rg, G, Cg, *ext)
    for k in np.ndindex(*kernel):
        target = view[(slice(None),) * 5 + k]
        np.add(target, cols[(slice(None),) * 4 + k].transpose(perm), out=target)
    u = np.empty(r.shape + (n, groups * cg) + tuple(size), dtype=dtype)
    padded = buf[:total].reshape(_sizes(r.shape, r.shared) + _sizes(r.shape, r.b_only) + _sizes(r.shape, r.a_only)
                                 + (n, groups * cg) + g.sp)
    np.copyto(arrange(u, nl, nl, r.shared, r.b_only, r.a_only), padded[g.interior()])
    return u


def conv_weight_grad(x, gy, kernel, stride, padding, dilation, groups):
    """The adjoint of ``conv_forward`` in ``w``: ``gy (*bg, N, Co, *O)`` against the windows of
    ``x (*bx, N, Ci, *S)``, one GEMM over ``N`` and the output positions."""
    d = len(stride)
    kernel = tuple(kernel)
    (n, c), co = x.shape[-d - 2:-d], gy.shape[-d - 1]
    bx, bg = x.shape[:-d - 2], gy.shape[:-d - 2]
    r = batch_roles(bx, bg)
    nl = len(r.shape)
    g = _Geometry(x.shape[-d:], kernel, stride, padding, dilation, out=gy.shape[-d:])
    if g.extended and not np.isfinite(x).all():  # garbage windows meet zeros of gy: keep inf * 0 out
        g = _Geometry(x.shape[-d:], kernel, stride, padding, dilation, out=gy.shape[-d:], extend=False)
    s, sx, sg = r.size(r.shared), r.size(r.a_only), r.size(r.b_only)
    cg, cog = c // groups, co // groups
    kd, pe = cg * math.prod(kernel), math.prod(g.ext)
    dtype = np.result_type(x.dtype, gy.dtype)
    buf, total, shape, st = _buffer(g, (s, sx, n), c, groups, dtype, zero=False)
    _fill(buf, total, g, arrange(x, len(bx), nl, r.shared, r.a_only))
    perm = (0, 3, 1, 4) + tuple(range(5, 5 + d)) + (2,) + tuple(range(5 + d, 5 + 2 * d))
    cols = _strided(buf, shape, st).transpose(perm)  # (S, G, Sx, Cg, *K, N, *ext)
    gym = (np.zeros if g.extended else np.empty)((s, groups, sg * cog, n * pe), dtype=dtype)
    gy5 = gy.reshape(bg + (n, groups, cog) + g.out)
    np.copyto(gym.reshape(_sizes(r.shape, r.shared) + (groups,) + _sizes(r.shape, r.b_only) + (cog, n) + g.ext)[g.crop],
              arrange(gy5, len(bg), nl, r.shared, [nl + 1], r.b_only, [nl + 2], [nl]))
    spans = _chunks(n, s * groups * sx * kd * pe * buf.itemsize)
    scratch = np.empty(s * groups * sx * kd * pe * (spans[0][1] - spans[0][0]) if spans else 0, dtype=dtype)
    lanes = (slice(None),) * (4 + d)
    z = np.zeros((s, groups, sg * cog, sx * kd), dtype=dtype)
    for i, j in spans:
        dst = scratch[:s * groups * sx * kd * (j - i) * pe]
        np.copyto(dst.reshape(cols.shape[:4 + d] + (j - i,) + g.ext), cols[lanes + (slice(i, j),)])
        part = np.matmul(gym[..., i * pe:j * pe], dst.reshape(s, groups, sx * kd, (j - i) * pe).swapaxes(-1, -2))
        if len(spans) == 1:
            z = part
        else:
            z += part
    gw = np.empty(r.shape + (co, cg) + kernel, dtype=dtype)
    gw5 = gw.reshape(r.shape + (groups, cog, kd))
    np.copyto(arrange(gw5, nl, nl, r.shared, [nl], r.b_only, [nl + 1], r.a_only, [nl + 2]),
              z.reshape(_sizes(r.shape, r.shared) + (groups,) + _sizes(r.shape, r.b_only) + (cog,)
                        + _sizes(r.shape, r.a_only) + (kd,)))
    return gw
