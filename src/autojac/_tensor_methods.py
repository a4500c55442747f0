"""Tensor's methods, declared in one place: each line assigns one method, so an editor can follow it
to the op it runs.

``_tensor.py`` defines the class with what needs only the core (data, shape, autograd state,
conversions, printing). Every method built from ops or autograd is assigned here, grouped by the op
family that defines it; ``autojac/__init__.py`` imports this module after every layer it draws on.
Nothing else adds methods to Tensor, so which function ``x.foo`` runs never depends on import order.
The type stub ``_tensor.pyi`` (``python -m autojac._stubgen``) declares them all for editors and type
checkers.

To add a method: define the function in its op family, add its line below, regenerate the stub.

>>> import autojac
>>> autojac.Tensor.sum.__wrapped__ is autojac.ops.reduce.sum
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _dtype, _legacy, _random_fill
from ._core.batching import BROADCAST
from ._core.node import Op, apply, nondiff
from ._tensor import Tensor
from .autograd import api
from .ops import (
    _declare,
    complex,
    creation,
    einsum,
    elementwise,
    gather,
    index,
    linalg,
    matmul,
    nn,
    operators,
    reduce,
    scan,
    shape,
    sorting,
    special,
    trig,
)
from .ops.aliases import inplace_of, numpy_keywords


def _unary(op: Op) -> Callable[[Tensor], Tensor]:
    """``x.op()`` for a one-input op: a plain function is the cheapest bound method (no MethodType
    per call, no ``Op.__call__`` hop)."""

    def method(self: Tensor) -> Tensor:
        return apply(op, (self,))

    method.__name__ = op.name
    return method


def _inplace_binary(fn: Callable) -> Callable:
    """``x.fn_(other)``: ``fn(x, other)`` written into ``x`` (``other`` recorded as an input)."""

    def method(self: Tensor, other) -> Tensor:
        return _declare.inplace(self, fn, _declare.operand(other))

    method.__name__ = fn.__name__ + "_"
    return method


# -------- construction and autograd (_legacy.py, autograd/api.py)
Tensor.__new__ = staticmethod(_legacy.tensor_new)  # Tensor(2, 3), Tensor([1., 2.])
Tensor.backward = api.tensor_backward

# -------- Python operators: x + y, x @ y, x == y, x[i], x += y (ops/operators.py, ops/index.py, ops/matmul.py)
Tensor.__add__ = operators._binop(elementwise.add_op)
Tensor.__radd__ = operators._binop(elementwise.add_op)
Tensor.__sub__ = operators._sub_method
Tensor.__rsub__ = operators._rsub_method
Tensor.__mul__ = operators._binop(elementwise.mul_op)
Tensor.__rmul__ = operators._binop(elementwise.mul_op)
Tensor.__truediv__ = operators._truediv
Tensor.__rtruediv__ = operators._rtruediv_method
Tensor.__pow__ = operators._pow_method
Tensor.__rpow__ = operators._rpow_method
Tensor.__neg__ = operators._neg_method
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: elementwise.abs(self)
Tensor.__eq__ = operators._cmp(elementwise.eq)
Tensor.__ne__ = operators._cmp(elementwise.ne)
Tensor.__lt__ = operators._cmp(elementwise.lt)
Tensor.__le__ = operators._cmp(elementwise.le)
Tensor.__gt__ = operators._cmp(elementwise.gt)
Tensor.__ge__ = operators._cmp(elementwise.ge)
Tensor.__and__ = operators._bool_op(np.bitwise_and, "bitwise_and")
Tensor.__or__ = operators._bool_op(np.bitwise_or, "bitwise_or")
Tensor.__xor__ = operators._bool_op(np.bitwise_xor, "bitwise_xor")
Tensor.__rand__ = operators._bool_op(np.bitwise_and, "bitwise_and")
Tensor.__ror__ = operators._bool_op(np.bitwise_or, "bitwise_or")
_bitwise_not = nondiff("bitwise_not", np.invert, batch=BROADCAST)
Tensor.__invert__ = lambda self: _bitwise_not(self)
Tensor.__floordiv__ = lambda self, other: elementwise.div(self, _declare.operand(other), rounding_mode="floor")
Tensor.__rfloordiv__ = lambda self, other: elementwise.div(_declare.operand(other), self, rounding_mode="floor")
Tensor.__iadd__ = operators._inplace_method(elementwise.add, saves_self=False)
Tensor.__isub__ = operators._inplace_method(elementwise.sub, saves_self=False)
Tensor.__imul__ = operators._inplace_method(elementwise.mul)
Tensor.__itruediv__ = operators._inplace_method(elementwise.div)
Tensor.__ipow__ = operators._inplace_method(elementwise.pow)
Tensor.__mod__ = special._mod_method
Tensor.__rmod__ = special._rmod_method
Tensor.__imod__ = _inplace_binary(special.remainder)
Tensor.__getitem__ = index.getitem
Tensor.__setitem__ = index._setitem
Tensor.__matmul__ = lambda self, other: matmul.matmul(self, other) if isinstance(other, Tensor) else NotImplemented
Tensor.__rmatmul__ = lambda self, other: matmul.matmul(matmul._as_tensor(other), self)

# -------- arithmetic, exp and log, comparisons, rounding, clamp, where (ops/elementwise.py)
Tensor.add = elementwise.add
Tensor.sub = elementwise.sub
Tensor.mul = elementwise.mul
Tensor.div = elementwise.div
Tensor.pow = elementwise.pow
Tensor.true_divide = elementwise.div
Tensor.multiply = elementwise.mul
Tensor.subtract = elementwise.sub
Tensor.divide = elementwise.div
Tensor.neg = _unary(elementwise.neg)
Tensor.negative = _unary(elementwise.neg)
Tensor.abs = _unary(elementwise.abs)
Tensor.absolute = _unary(elementwise.abs)
Tensor.exp = _unary(elementwise.exp)
Tensor.log = _unary(elementwise.log)
Tensor.log2 = _unary(elementwise.log2)
Tensor.log10 = _unary(elementwise.log10)
Tensor.log1p = _unary(elementwise.log1p)
Tensor.expm1 = _unary(elementwise.expm1)
Tensor.exp2 = _unary(elementwise.exp2)
Tensor.sqrt = _unary(elementwise.sqrt)
Tensor.rsqrt = _unary(elementwise.rsqrt)
Tensor.reciprocal = _unary(elementwise.reciprocal)
Tensor.square = _unary(elementwise.square)
Tensor.sigmoid = _unary(elementwise.sigmoid)
Tensor.relu = _unary(elementwise.relu)
Tensor.sign = elementwise.sign
Tensor.clamp = operators._clamp_method
Tensor.clip = operators._clamp_method
Tensor.clamp_min = elementwise.clamp_min
Tensor.clamp_max = elementwise.clamp_max
Tensor.maximum = elementwise.maximum
Tensor.minimum = elementwise.minimum
Tensor.fmax = elementwise.fmax
Tensor.fmin = elementwise.fmin
Tensor.where = lambda self, condition, other: elementwise.where(condition, self, other)
Tensor.eq = elementwise.eq
Tensor.ne = elementwise.ne
Tensor.lt = elementwise.lt
Tensor.le = elementwise.le
Tensor.gt = elementwise.gt
Tensor.ge = elementwise.ge
Tensor.greater = elementwise.gt
Tensor.less = elementwise.lt
Tensor.greater_equal = elementwise.ge
Tensor.less_equal = elementwise.le
Tensor.not_equal = elementwise.ne
Tensor.logical_and = elementwise.logical_and
Tensor.logical_or = elementwise.logical_or
Tensor.logical_not = elementwise.logical_not
Tensor.logical_xor = elementwise.logical_xor
Tensor.isnan = elementwise.isnan
Tensor.isinf = elementwise.isinf
Tensor.isfinite = elementwise.isfinite
Tensor.floor = _unary(elementwise.floor)
Tensor.ceil = _unary(elementwise.ceil)
Tensor.trunc = _unary(elementwise.trunc)
Tensor.round = elementwise.round
Tensor.equal = elementwise.equal
Tensor.allclose = elementwise.allclose
Tensor.isclose = elementwise.isclose
Tensor.add_ = operators._inplace_method(elementwise.add, saves_self=False)
Tensor.sub_ = operators._inplace_method(elementwise.sub, saves_self=False)
Tensor.mul_ = operators._inplace_method(elementwise.mul)
Tensor.div_ = operators._inplace_method(elementwise.div)
Tensor.pow_ = operators._inplace_method(elementwise.pow)
Tensor.neg_ = operators._inplace_method(elementwise.neg, saves_self=False)
Tensor.exp_ = operators._inplace_method(elementwise.exp)
Tensor.log_ = operators._inplace_method(elementwise.log)
Tensor.sqrt_ = operators._inplace_method(elementwise.sqrt)
Tensor.sigmoid_ = operators._inplace_method(elementwise.sigmoid)
Tensor.relu_ = operators._inplace_method(elementwise.relu)
Tensor.abs_ = operators._inplace_method(elementwise.abs)
Tensor.clamp_ = operators._inplace_method(elementwise.clamp)
Tensor.clip_ = operators._inplace_method(elementwise.clamp)
Tensor.clamp_min_ = operators._inplace_method(elementwise.clamp_min)
Tensor.clamp_max_ = operators._inplace_method(elementwise.clamp_max)
Tensor.zero_ = operators._zero_
Tensor.fill_ = operators._fill
Tensor.sign_ = special._inplace_unary(elementwise._sign_op)
Tensor.floor_ = special._inplace_unary(elementwise.floor)
Tensor.ceil_ = special._inplace_unary(elementwise.ceil)
Tensor.trunc_ = special._inplace_unary(elementwise.trunc)
Tensor.get_device = lambda self: -1
Tensor.exp2_ = inplace_of(elementwise.exp2, "exp2_")
Tensor.expm1_ = inplace_of(elementwise.expm1, "expm1_")
Tensor.log10_ = inplace_of(elementwise.log10, "log10_")
Tensor.log1p_ = inplace_of(elementwise.log1p, "log1p_")
Tensor.log2_ = inplace_of(elementwise.log2, "log2_")
Tensor.negative_ = inplace_of(elementwise.negative, "negative_")
Tensor.reciprocal_ = inplace_of(elementwise.reciprocal, "reciprocal_")
Tensor.rsqrt_ = inplace_of(elementwise.rsqrt, "rsqrt_")
Tensor.square_ = inplace_of(elementwise.square, "square_")

# -------- trigonometric and hyperbolic (ops/trig.py)
Tensor.sin = _unary(trig.sin)
Tensor.cos = _unary(trig.cos)
Tensor.tan = _unary(trig.tan)
Tensor.tanh = _unary(trig.tanh)
Tensor.sin_ = operators._inplace_method(trig.sin)
Tensor.cos_ = operators._inplace_method(trig.cos)
Tensor.tanh_ = operators._inplace_method(trig.tanh)
Tensor.atan2 = trig.atan2
Tensor.arctan2 = trig.atan2
Tensor.atan2_ = _inplace_binary(trig.atan2)
Tensor.sinh = _unary(trig._sinh)
Tensor.sinh_ = special._inplace_unary(trig._sinh)
Tensor.cosh = _unary(trig._cosh)
Tensor.cosh_ = special._inplace_unary(trig._cosh)
Tensor.asin = _unary(trig._asin)
Tensor.asin_ = special._inplace_unary(trig._asin)
Tensor.acos = _unary(trig._acos)
Tensor.acos_ = special._inplace_unary(trig._acos)
Tensor.atan = _unary(trig._atan)
Tensor.atan_ = special._inplace_unary(trig._atan)
Tensor.asinh = _unary(trig._asinh)
Tensor.asinh_ = special._inplace_unary(trig._asinh)
Tensor.acosh = _unary(trig._acosh)
Tensor.acosh_ = special._inplace_unary(trig._acosh)
Tensor.atanh = _unary(trig._atanh)
Tensor.atanh_ = special._inplace_unary(trig._atanh)
Tensor.arcsin = _unary(trig._asin)
Tensor.arcsin_ = special._inplace_unary(trig._asin)
Tensor.arccos = _unary(trig._acos)
Tensor.arccos_ = special._inplace_unary(trig._acos)
Tensor.arctan = _unary(trig._atan)
Tensor.arctan_ = special._inplace_unary(trig._atan)
Tensor.arcsinh = _unary(trig._asinh)
Tensor.arcsinh_ = special._inplace_unary(trig._asinh)
Tensor.arccosh = _unary(trig._acosh)
Tensor.arccosh_ = special._inplace_unary(trig._acosh)
Tensor.arctanh = _unary(trig._atanh)
Tensor.arctanh_ = special._inplace_unary(trig._atanh)
Tensor.tan_ = inplace_of(trig.tan, "tan_")

# -------- special functions, atan2, hypot, remainder (ops/special.py)
Tensor.polygamma = lambda self, n: special.polygamma(n, self)
Tensor.polygamma_ = lambda self, n: _declare.inplace(self, lambda s: special.polygamma(n, s))
Tensor.hypot = special.hypot
Tensor.xlogy = special.xlogy
Tensor.logaddexp = special.logaddexp
Tensor.logaddexp2 = special.logaddexp2
Tensor.hypot_ = _inplace_binary(special.hypot)
Tensor.xlogy_ = _inplace_binary(special.xlogy)
Tensor.logit = special.logit
Tensor.logit_ = lambda self, eps=None: _declare.inplace(self, lambda s: special.logit(s, eps))
Tensor.remainder = special.remainder
Tensor.fmod = special.fmod
Tensor.remainder_ = _inplace_binary(special.remainder)
Tensor.fmod_ = _inplace_binary(special.fmod)
Tensor.sgn = special.sgn
Tensor.sgn_ = special._inplace_unary(special._sgn_op)
Tensor.round_ = lambda self, decimals=0: _declare.inplace(self, lambda s: elementwise.round(s, decimals=decimals))
Tensor.erf = _unary(special._erf)
Tensor.erf_ = special._inplace_unary(special._erf)
Tensor.erfc = _unary(special._erfc)
Tensor.erfc_ = special._inplace_unary(special._erfc)
Tensor.erfinv = _unary(special._erfinv)
Tensor.erfinv_ = special._inplace_unary(special._erfinv)
Tensor.lgamma = _unary(special._lgamma)
Tensor.lgamma_ = special._inplace_unary(special._lgamma)
Tensor.digamma = _unary(special._digamma)
Tensor.digamma_ = special._inplace_unary(special._digamma)
Tensor.frac = _unary(special._frac)
Tensor.frac_ = special._inplace_unary(special._frac)
Tensor.sinc = _unary(special._sinc)
Tensor.sinc_ = special._inplace_unary(special._sinc)

# -------- complex numbers (ops/complex.py)
Tensor.real = property(complex._real_prop)
Tensor.imag = property(complex._imag_prop)
Tensor.conj = complex.conj
Tensor.conj_physical = complex.conj_physical
Tensor.resolve_conj = complex.resolve_conj
Tensor.resolve_neg = complex.resolve_neg
Tensor.is_conj = complex.is_conj
Tensor.is_neg = complex.is_conj
Tensor.angle = complex.angle
Tensor.adjoint = complex.adjoint
Tensor.conj_physical_ = inplace_of(complex.conj_physical, "conj_physical_")

# -------- reductions: sum, mean, max, var, norm, softmax (ops/reduce/)
Tensor.sum = numpy_keywords(reduce.sum)
Tensor.mean = numpy_keywords(reduce.mean)
Tensor.prod = numpy_keywords(reduce.prod)
Tensor.amax = numpy_keywords(reduce.amax)
Tensor.amin = numpy_keywords(reduce.amin)
Tensor.max = numpy_keywords(reduce.max)
Tensor.min = numpy_keywords(reduce.min)
Tensor.argmax = numpy_keywords(reduce.argmax)
Tensor.argmin = numpy_keywords(reduce.argmin)
Tensor.var = numpy_keywords(reduce.var)
Tensor.std = numpy_keywords(reduce.std)
Tensor.norm = reduce.norm
Tensor.logsumexp = numpy_keywords(reduce.logsumexp)
Tensor.softmax = numpy_keywords(reduce.softmax)
Tensor.log_softmax = numpy_keywords(reduce.log_softmax)
Tensor.all = numpy_keywords(reduce.all)
Tensor.any = numpy_keywords(reduce.any)
Tensor.count_nonzero = numpy_keywords(reduce.count_nonzero)
Tensor.aminmax = numpy_keywords(reduce.aminmax)

# -------- scans: cumsum, cummax, diff (ops/scan.py)
Tensor.cumsum = numpy_keywords(scan.cumsum)
Tensor.cumprod = numpy_keywords(scan.cumprod)
Tensor.logcumsumexp = numpy_keywords(scan.logcumsumexp)
Tensor.cummax = numpy_keywords(scan.cummax)
Tensor.cummin = numpy_keywords(scan.cummin)
Tensor.diff = numpy_keywords(scan.diff)
Tensor.cumsum_ = lambda self, dim, *, dtype=None: _declare.inplace(
    self, lambda s: scan.cumsum(s, dim, dtype=dtype), saves_self=False)
Tensor.cumprod_ = lambda self, dim, *, dtype=None: _declare.inplace(self, lambda s: scan.cumprod(s, dim, dtype=dtype))

# -------- sorting (ops/sorting.py)
Tensor.sort = numpy_keywords(sorting.sort)
Tensor.argsort = numpy_keywords(sorting.argsort)
Tensor.msort = sorting.msort
Tensor.topk = numpy_keywords(sorting.topk)
Tensor.kthvalue = numpy_keywords(sorting.kthvalue)

# -------- shapes, views, copies and dtype casts (ops/shape/)
Tensor.reshape = shape.reshape
Tensor.view = shape.view
Tensor.flatten = shape.flatten
Tensor.ravel = shape.ravel
Tensor.unflatten = shape.unflatten
Tensor.squeeze = numpy_keywords(shape.squeeze)
Tensor.unsqueeze = numpy_keywords(shape.unsqueeze)
Tensor.permute = shape.permute
Tensor.transpose = shape.transpose
Tensor.swapaxes = shape.transpose
Tensor.swapdims = shape.transpose
Tensor.t = shape.t
Tensor.movedim = shape.movedim
Tensor.moveaxis = shape.movedim
Tensor.expand = shape.expand
Tensor.expand_as = shape.expand_as
Tensor.broadcast_to = shape.broadcast_to
Tensor.split = shape.split
Tensor.chunk = numpy_keywords(shape.chunk)
Tensor.unbind = numpy_keywords(shape.unbind)
Tensor.narrow = numpy_keywords(shape.narrow)
Tensor.clone = shape.clone
Tensor.to = shape.to
Tensor.float = shape._caster(_dtype.float32)
Tensor.double = shape._caster(_dtype.float64)
Tensor.half = shape._caster(_dtype.float16)
Tensor.long = shape._caster(_dtype.int64)
Tensor.int = shape._caster(_dtype.int32)
Tensor.bool = shape._caster(_dtype.bool)
Tensor.short = shape._caster(_dtype.int16)
Tensor.byte = shape._caster(_dtype.uint8)
Tensor.char = shape._caster(_dtype.int8)
Tensor.cuda = shape._cuda
Tensor.type = shape._type
Tensor.type_as = lambda self, other: shape.to(self, other.dtype)
Tensor.view_as = lambda self, other: shape.view(self, other._data.shape)
Tensor.reshape_as = lambda self, other: shape.reshape(self, other._data.shape)
Tensor.T = property(shape._T)
Tensor.mT = property(shape._mT)
Tensor.H = property(lambda self: _declare.conj(shape._T(self)))
Tensor.mH = property(lambda self: _declare.conj(shape._mT(self)))
Tensor.flip = shape.flip
Tensor.fliplr = shape.fliplr
Tensor.flipud = shape.flipud
Tensor.roll = shape.roll
Tensor.repeat = shape.repeat
Tensor.tile = shape.tile
Tensor.repeat_interleave = numpy_keywords(shape.repeat_interleave)
Tensor.rot90 = shape.rot90

# -------- indexing: select, masks, copy_ (ops/index.py)
Tensor.fill_diagonal_ = index.fill_diagonal_
Tensor.select = numpy_keywords(index.select)
Tensor.copy_ = index.copy_
Tensor.index_select = numpy_keywords(index.index_select)
Tensor.nonzero = index.nonzero
Tensor.masked_fill = index.masked_fill
Tensor.masked_select = index.masked_select
Tensor.masked_fill_ = lambda self, mask, value: _declare.inplace(
    self, lambda s: index.masked_fill(s, mask, value), saves_self=False)
Tensor.index_put = lambda self, indices, values, accumulate=False: index.index_put(self, values, tuple(indices),
                                                                                   accumulate)
Tensor.index_put_ = index.index_put_

# -------- gather and scatter (ops/gather.py)
Tensor.gather = numpy_keywords(gather.gather)
Tensor.take_along_dim = numpy_keywords(gather.take_along_dim)
Tensor.take = gather.take
Tensor.scatter = numpy_keywords(gather.scatter)
Tensor.scatter_add = numpy_keywords(gather.scatter_add)
Tensor.scatter_reduce = gather.scatter_reduce
Tensor.index_add = numpy_keywords(gather.index_add)
Tensor.index_copy = numpy_keywords(gather.index_copy)
Tensor.index_fill = numpy_keywords(gather.index_fill)
Tensor.masked_scatter = gather.masked_scatter
Tensor.scatter_ = gather._inplace(gather.scatter)
Tensor.scatter_add_ = gather._inplace(gather.scatter_add)
Tensor.scatter_reduce_ = gather._inplace(gather.scatter_reduce)
Tensor.index_add_ = gather._inplace(gather.index_add)
Tensor.index_copy_ = gather._inplace(gather.index_copy)
Tensor.index_fill_ = gather._inplace(gather.index_fill)
Tensor.masked_scatter_ = gather._inplace(gather.masked_scatter)

# -------- matrix products, diagonals, triangles (ops/matmul.py)
Tensor.matmul = matmul.matmul
Tensor.mm = matmul.mm
Tensor.bmm = matmul.bmm
Tensor.mv = matmul.mv
Tensor.dot = matmul.dot
Tensor.inner = matmul.inner
Tensor.outer = matmul.outer
Tensor.ger = matmul.outer
Tensor.diag = matmul.diag
Tensor.diagonal = matmul.diagonal
Tensor.trace = matmul.trace
Tensor.tril = matmul.tril
Tensor.triu = matmul.triu

# -------- contractions (ops/einsum.py)
Tensor.kron = einsum.kron

# -------- linear algebra (ops/linalg/)
Tensor.det = linalg.det
Tensor.logdet = linalg.logdet
Tensor.slogdet = linalg._slogdet_top
Tensor.inverse = linalg.inverse
Tensor.cholesky = linalg._cholesky_top
Tensor.qr = linalg._qr_top
Tensor.svd = linalg._svd_top
Tensor.pinverse = linalg.pinverse
Tensor.matrix_exp = linalg.matrix_exp
Tensor.cross = linalg._cross_top

# -------- neural-network functions (ops/nn/)
Tensor.hardshrink = nn.hardshrink
Tensor.prelu = nn.prelu
Tensor.celu_ = inplace_of(nn.celu, "celu_")
Tensor.selu_ = inplace_of(nn.selu, "selu_")
Tensor.threshold_ = inplace_of(nn.threshold, "threshold_")

# -------- new tensors like this one, random fills (ops/creation.py)
Tensor.new_zeros = creation._new(0)
Tensor.new_ones = creation._new(1)
Tensor.new_empty = creation._new(0)
Tensor.new_tensor = creation._new_tensor
Tensor.new_full = creation._new_full
Tensor.uniform_ = creation._sampler_(
    lambda s, g, a=0.0, b=1.0: _random_fill.uniform(g, s._data.size, s._data.dtype, a, b))
Tensor.normal_ = creation._sampler_(
    lambda s, g, mean=0.0, std=1.0: _random_fill.normal(g, s._data.size, s._data.dtype, mean, std))
