"""NumPy kernels of the three convolution primitives: im2col GEMMs with the batch dims folded in.

Each kernel takes operands with extra leading (batch) dims, broadcast as matmul does. Those dims
are sorted by ``_gemm.batch_roles``: dims both operands vary along stay a stack of GEMMs; dims only
one varies along fold into that operand's side of the GEMM, so per-example inputs against shared
weights (``vmap`` over a CNN) are one GEMM over every example, not one small GEMM per example.

The rows (the input's own batch dims and ``N``) go through in blocks of about ``_CHUNK_BYTES``:
each block is copied into a small zero-padded buffer, its windows (a strided view) into columns,
the GEMM runs, and the result goes to its place in the output while all of it is still in cache;
no temporary the size of the whole im2col matrix is made. Where the trailing strides are 1 the
windows run over the full padded width (``_Geometry.extended``): each window row is then one long
contiguous run instead of many short ones, at the price of a few garbage output positions per
row, which the forward crops and the gradients multiply by zeros (when the other operand is
finite, else they do without).
"""

from __future__ import annotations

import functools
import itertools
import math
import threading

import numpy as np

from ._gemm import arrange, batch_roles

__all__ = ["conv_forward", "conv_input_grad", "conv_weight_grad", "windows"]

_CHUNK_BYTES = 1 << 22  # columns and products of one block: in cache, yet few blocks for Python to loop over
_MAX_WASTE = 1.5  # extend windows over the full width only while it adds at most this factor of columns


_POOL_MAX = 1 << 24  # scratch arrays up to this many bytes are kept per thread for the next call


class _Pool(threading.local):
    def __init__(self) -> None:
        self.bufs: dict = {}


_POOL = _Pool()


def _scratch(role: str, shape, dtype, zero: bool = False) -> np.ndarray:
    """A scratch array for one job (``role``) of a kernel, reused by this thread's next call: fresh
    memory costs a page fault per page, which outweighs the work of a convolution's scratch."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > _POOL_MAX:
        return (np.zeros if zero else np.empty)(shape, dtype=dtype)
    buf = _POOL.bufs.get(role)
    if buf is None or buf.size < nbytes:
        buf = _POOL.bufs[role] = np.empty(max(nbytes, 1 << 12), dtype=np.uint8)
    a = buf[:nbytes].view(dtype).reshape(shape)
    if zero:
        a.fill(0)
    return a


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
class _Geometry:  # made through the cached ``_geometry``: equal arguments, the same (read-only) object
    """Sizes of one convolution: padded input ``sp``, output ``out``, and the window extents ``ext``
    (``out``, or the full padded width on trailing dims of stride 1 where that multiplies the
    columns by at most ``max_waste``)."""

    def __init__(self, size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                 out: tuple | None, max_waste: float):
        d = len(kernel)
        self.kernel, self.stride, self.dilation, self.padding = tuple(kernel), tuple(stride), tuple(dilation), padding
        self.size = tuple(size)
        self.sp = tuple(size[i] + padding[i][0] + padding[i][1] for i in range(d))
        if out is None:
            out = tuple((self.sp[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(d))
        self.out = tuple(out)
        self.ext = self.out
        if max_waste:
            for j0 in range(d - 1):  # extend dims j0+1.. to their padded size, the most dims that waste little
                if all(stride[j] == 1 for j in range(j0 + 1, d)) and math.prod(
                        self.sp[j] / self.out[j] for j in range(j0 + 1, d)) <= max_waste:
                    self.ext = self.out[:j0 + 1] + self.sp[j0 + 1:]
                    break
        self.extended = self.ext != self.out
        self.plane = math.prod(self.sp)
        self.tail = tuple(math.prod(self.sp[j + 1:]) for j in range(d))  # element strides of the spatial dims
        self.crop = (Ellipsis,) + tuple(slice(0, o) for o in self.out)  # the valid outputs of ``ext``
        self.interior = (Ellipsis,) + tuple(slice(lo, lo + n) for (lo, _), n in zip(padding, self.size))


_cached_geometry = functools.lru_cache(maxsize=512)(_Geometry)


def _geometry(size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple | None = None,
              extend: bool = True) -> _Geometry:
    return _cached_geometry(size, kernel, stride, padding, dilation, out, _MAX_WASTE if extend else 0.0)


@functools.lru_cache(maxsize=512)
def _layout(g: _Geometry, lead: tuple, c: int, groups: int) -> tuple:
    """``_Padded``'s element strides and shape tail of the windows, the padded size, the buffer size
    (with the slack full-width windows read past the end)."""
    d = len(g.kernel)
    n = math.prod(lead) * c * g.plane
    lead_st = tuple(math.prod(lead[i + 1:]) * c * g.plane for i in range(len(lead)))
    cg = c // groups
    st = (lead_st + (cg * g.plane, g.plane) + tuple(g.dilation[j] * g.tail[j] for j in range(d))
          + tuple(g.stride[j] * g.tail[j] for j in range(d)))
    tail = (groups, cg) + g.kernel + g.ext
    shape = lead + tail
    reach = sum((k - 1) * t for k, t in zip(shape, st)) + 1 if all(shape) else 0
    return st, tail, n, max(n, reach)


class _Padded:
    """A reusable zero-padded buffer for blocks of an input ``(*lead, C, *size)`` and the strided windows
    over it. The last lead dim holds up to ``lead[-1]`` rows; strides are fixed, so borders and the slack
    past the end that full-width windows read stay zero from allocation (or hold earlier finite rows)."""

    def __init__(self, g: _Geometry, lead: tuple, c: int, groups: int, dtype):
        self.lead, self.g = lead, g
        self.st, self.tail, n, size = _layout(g, lead, c, groups)
        self.buf = _scratch("padded", size, dtype, zero=True)
        self.full = self.buf[:n].reshape(lead + (c,) + g.sp)

    def rows(self, m: int) -> np.ndarray:
        """The padded rows ``(*lead[:-1], m, C, *sp)``."""
        return self.full[(slice(None),) * (len(self.lead) - 1) + (slice(0, m),)]

    def fill(self, src: np.ndarray, m: int) -> None:
        """Copy ``src`` (the lead dims split further, ``m`` rows, ``C``, ``*size``) into the interior."""
        np.copyto(self.rows(m)[self.g.interior].reshape(src.shape), src)

    def windows(self, m: int, writeable: bool = False) -> np.ndarray:
        """``(*lead[:-1], m, G, Cg, *kernel, *ext)``: the windows of the first ``m`` rows."""
        # np.ndarray over the buffer: as_strided's checks cost more than copying a small block
        strides = tuple(k * self.buf.itemsize for k in self.st)
        view = np.ndarray(self.lead[:-1] + (m,) + self.tail, self.buf.dtype, self.buf, 0, strides)
        view.flags.writeable = writeable
        return view


def _blocks(dims: tuple, unit: int) -> tuple[list, int]:
    """Index tuples that cut leading dims ``dims`` (``unit`` bytes per index) into blocks of about
    ``_CHUNK_BYTES``, and the most rows (indices) a block holds."""
    inner, k = unit, len(dims)
    while k and inner * dims[k - 1] <= _CHUNK_BYTES:
        k -= 1
        inner *= dims[k]
    if k == 0:
        return [()], math.prod(dims)
    size, step = dims[k - 1], max(1, _CHUNK_BYTES // inner)
    blocks = [head + (slice(i, min(i + step, size)),) for head in np.ndindex(*dims[:k - 1])
              for i in range(0, size, step)]
    return blocks, min(step, size) * math.prod(dims[k:])


def _sizes(shape: tuple, dims: list) -> tuple:
    return tuple(shape[i] for i in dims)


# --------------------------------------------------------------------------- the three kernels
def conv_forward(x, w, b, stride, padding, dilation, groups):
    """``x (*bx, N, Ci, *S)`` cross-correlated with ``w (*bw, Co, Cig, *K)``, plus ``b (*bb, Co)``."""
    d = len(stride)
    kernel, (n, c), (co, cg) = tuple(w.shape[-d:]), x.shape[-d - 2:-d], w.shape[-d - 2:-d]
    bx, bw = x.shape[:-d - 2], w.shape[:-d - 2]
    r = batch_roles(bx, bw)
    nl, sh, sb = len(r.shape), _sizes(r.shape, r.shared), _sizes(r.shape, r.b_only)
    s, sw = math.prod(sh), math.prod(sb)
    cog, kd = co // groups, cg * math.prod(kernel)
    # full-width windows pay off where the columns outweigh the outputs they give, whose crop they slow
    g = _geometry(x.shape[-d:], kernel, stride, padding, dilation, extend=kd > sw * cog)
    pe, mo = math.prod(g.ext), sw * cog
    dtype = np.result_type(x.dtype, w.dtype)
    wm = arrange(w.reshape(bw + (groups, cog, kd)), len(bw), nl, r.shared, [nl], r.b_only, [nl + 1])
    wm = np.ascontiguousarray(wm).reshape(s, groups, mo, kd)
    xa = arrange(x, len(bx), nl, r.shared, r.a_only)  # (*shared, *own, N, C, *S)
    blocks, rows = _blocks(_sizes(r.shape, r.a_only) + (n,), s * groups * (kd + mo) * pe * np.dtype(dtype).itemsize)
    pad = _Padded(g, (s, rows), c, groups, dtype)
    cols_buf = _scratch("columns", s * groups * kd * rows * pe, dtype)
    z_buf = _scratch("products", s * groups * mo * rows * pe, dtype)
    y = np.empty(r.shape + (n, co) + g.out, dtype=dtype)
    yv = arrange(y.reshape(r.shape + (n, groups, cog) + g.out), nl, nl, r.shared, [nl + 1], r.b_only, [nl + 2],
                 r.a_only, [nl])
    head = (slice(None),) * (len(sh) + len(sb) + 2)
    perm = (0, 2, 3) + tuple(range(4, 4 + d)) + (1,) + tuple(range(4 + d, 4 + 2 * d))  # -> (S, G, Cg, *K, m, *ext)
    for idx in blocks:
        xb = xa[(slice(None),) * len(sh) + idx]  # (*shared, *block, C, *S)
        bd = xb.shape[len(sh):-d - 1]
        m = math.prod(bd)
        pad.fill(xb, m)
        cols = cols_buf[:s * groups * kd * m * pe].reshape((s, groups, cg) + kernel + (m,) + g.ext)
        np.copyto(cols, pad.windows(m).transpose(perm))
        z = z_buf[:s * groups * mo * m * pe].reshape(s, groups, mo, m * pe)
        np.matmul(wm, cols.reshape(s, groups, kd, m * pe), out=z)
        np.copyto(yv[head + idx], z.reshape(sh + (groups,) + sb + (cog,) + bd + g.ext)[g.crop])
    if b is not None:
        bb = b.reshape(b.shape[:-1] + (1, co) + (1,) * d)
        if b.ndim == 1 or np.broadcast_shapes(bb.shape, y.shape) == y.shape:
            y += bb
        else:
            y = y + bb
    return y


def conv_input_grad(gy, w, size, stride, padding, dilation, groups):
    """col2im: the transposed convolution of ``gy (*bg, N, Co, *O)`` with ``w (*bw, Co, Cig, *K)``,
    cropped to spatial ``size``: the adjoint of ``conv_forward`` in ``x``."""
    d = len(stride)
    kernel, n, (co, cg) = tuple(w.shape[-d:]), gy.shape[-d - 2], w.shape[-d - 2:-d]
    bg, bw = gy.shape[:-d - 2], w.shape[:-d - 2]
    r = batch_roles(bg, bw)
    nl, sh, sb = len(r.shape), _sizes(r.shape, r.shared), _sizes(r.shape, r.b_only)
    s, sw = math.prod(sh), math.prod(sb)
    # garbage columns are W^T @ 0: zero unless w holds an inf or nan
    g = _geometry(size, kernel, stride, padding, dilation, out=gy.shape[-d:], extend=bool(np.isfinite(w).all()))
    cog, kd, pe = co // groups, cg * math.prod(kernel), math.prod(g.ext)
    dtype = np.result_type(gy.dtype, w.dtype)
    wt = arrange(w.reshape(bw + (groups, cog, kd)), len(bw), nl, r.shared, [nl], r.b_only, [nl + 2], [nl + 1])
    wt = np.ascontiguousarray(wt).reshape(s, groups, sw * kd, cog)
    ga = arrange(gy.reshape(bg + (n, groups, cog) + g.out), len(bg), nl, r.shared, [nl + 1, nl + 2], r.a_only, [nl])
    blocks, rows = _blocks(_sizes(r.shape, r.a_only) + (n,),
                           s * groups * (cog + sw * kd) * pe * np.dtype(dtype).itemsize)
    gbuf = _scratch("cotangent", (s, groups, cog, rows) + g.ext, dtype, zero=g.extended)
    cols_buf = _scratch("columns", s * groups * sw * kd * rows * pe, dtype)
    pad = _Padded(g, (s, sw, rows), groups * cg, groups, dtype)
    u = np.empty(r.shape + (n, groups * cg) + tuple(size), dtype=dtype)
    uv = arrange(u, nl, nl, r.shared, r.b_only, r.a_only)  # (*shared, *w's own, *gy's own, N, C, *size)
    perm = (0, 2, 4 + d, 1, 3) + tuple(range(4, 4 + d)) + tuple(range(5 + d, 5 + 2 * d))  # (S, Sw, m, G, Cg, *K, *ext)
    offsets = [(slice(None),) * 5 + k for k in itertools.product(*(range(k) for k in kernel))]
    for idx in blocks:
        gb = ga[(slice(None),) * (len(sh) + 2) + idx]  # (*shared, G, Cog, *block, *O)
        bd = gb.shape[len(sh) + 2:-d]
        m = math.prod(bd)
        gm = gbuf[:, :, :, :m]
        np.copyto(gm.reshape(sh + (groups, cog) + bd + g.ext)[g.crop], gb)
        cols = cols_buf[:s * groups * sw * kd * m * pe].reshape(s, groups, sw * kd, m * pe)
        np.matmul(wt, gm.reshape(s, groups, cog, m * pe), out=cols)
        cols = cols.reshape((s, groups, sw, cg) + kernel + (m,) + g.ext).transpose(perm)  # (S, Sw, m, G, Cg, *K, *ext)
        if idx is not blocks[0]:
            pad.buf[...] = 0
        win = pad.windows(m, writeable=True)  # (S, Sw, m, G, Cg, *K, *ext)
        for k in offsets:
            target = win[k]
            np.add(target, cols[k], out=target)
        out = uv[(slice(None),) * (len(sh) + len(sb)) + idx]
        np.copyto(out, pad.rows(m)[g.interior].reshape(out.shape))
    return u


def conv_weight_grad(x, gy, kernel, stride, padding, dilation, groups):
    """The adjoint of ``conv_forward`` in ``w``: ``gy (*bg, N, Co, *O)`` against the windows of
    ``x (*bx, N, Ci, *S)``, GEMMs over ``N`` and the output positions."""
    d = len(stride)
    kernel = tuple(kernel)
    (n, c), co = x.shape[-d - 2:-d], gy.shape[-d - 1]
    bx, bg = x.shape[:-d - 2], gy.shape[:-d - 2]
    r = batch_roles(bx, bg)
    nl, sh, sa, sb = len(r.shape), _sizes(r.shape, r.shared), _sizes(r.shape, r.a_only), _sizes(r.shape, r.b_only)
    s, sx, sg = math.prod(sh), math.prod(sa), math.prod(sb)
    g = _geometry(x.shape[-d:], kernel, stride, padding, dilation, out=gy.shape[-d:])
    if g.extended and not np.isfinite(x).all():  # garbage windows meet zeros of gy: keep inf * 0 out
        g = _geometry(x.shape[-d:], kernel, stride, padding, dilation, out=gy.shape[-d:], extend=False)
    cg, cog = c // groups, co // groups
    kd, pe = cg * math.prod(kernel), math.prod(g.ext)
    dtype = np.result_type(x.dtype, gy.dtype)
    gym = _scratch("cotangent", (s, groups, sg * cog, n) + g.ext, dtype, zero=g.extended)
    np.copyto(gym.reshape(sh + (groups,) + sb + (cog, n) + g.ext)[g.crop],
              arrange(gy.reshape(bg + (n, groups, cog) + g.out), len(bg), nl, r.shared, [nl + 1], r.b_only, [nl + 2],
                      [nl]))
    xa = arrange(x, len(bx), nl, r.shared, r.a_only)  # (*shared, *own, N, C, *S)
    blocks, rows = _blocks((n,), s * groups * sx * kd * pe * np.dtype(dtype).itemsize)
    pad = _Padded(g, (s, sx, rows), c, groups, dtype)
    cols_buf = _scratch("columns", s * groups * sx * kd * rows * pe, dtype)
    perm = (0, 3, 1, 4) + tuple(range(5, 5 + d)) + (2,) + tuple(range(5 + d, 5 + 2 * d))  # (S, G, Sx, Cg, *K, m, *ext)
    z = np.zeros((s, groups, sg * cog, sx * kd), dtype=dtype)
    for idx in blocks:
        xb = xa[(slice(None),) * (len(sh) + len(sa)) + idx]
        m = xb.shape[len(sh) + len(sa)]
        pad.fill(xb, m)
        cols = cols_buf[:s * groups * sx * kd * m * pe].reshape((s, groups, sx, cg) + kernel + (m,) + g.ext)
        np.copyto(cols, pad.windows(m).transpose(perm))
        rows_ = gym[(slice(None),) * 3 + idx].reshape(s, groups, sg * cog, m * pe)
        part = np.matmul(rows_, cols.reshape(s, groups, sx * kd, m * pe).swapaxes(-1, -2))
        if len(blocks) == 1:
            z = part
        else:
            z += part
    gw = np.empty(r.shape + (co, cg) + kernel, dtype=dtype)
    np.copyto(arrange(gw.reshape(r.shape + (groups, cog, kd)), nl, nl, r.shared, [nl], r.b_only, [nl + 1], r.a_only,
                      [nl + 2]),
              z.reshape(sh + (groups,) + sb + (cog,) + sa + (kd,)))
    return gw
