"""autojac: automatic differentiation of NumPy array code with PyTorch's autograd API.

>>> import autojac as torch
>>> x = torch.tensor([2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward(); x.grad
tensor([4., 6.])
"""

from __future__ import annotations

import warnings as _warnings

# PyTorch computes log(0) = -inf or 0/0 = nan silently; NumPy warns. Silence those, but only
# for floating-point warnings raised from autojac's own code.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"autojac(\.|$)")

from . import _dtype
from ._core.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled
from ._core.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                              no_grad, set_grad_enabled)
from ._dtype import (bool, cdouble, cfloat, complex64, complex128, double, dtype, float, float16, float32,
                     float64, get_default_dtype, half, int, int8, int16, int32, int64, long, set_default_dtype,
                     short, uint8)
from ._format import set_printoptions
from ._random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                      set_rng_state)
from ._tensor import Size, Tensor, is_tensor
from . import ops  # noqa: F401
from .ops.creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_numpy, full, full_like,
                           linspace, logspace, normal, ones, ones_like, rand, rand_like, randint, randint_like,
                           randn, randn_like, randperm, scalar_tensor, tensor, zeros, zeros_like)
from .ops.elementwise import (abs, absolute, add, allclose, bitwise_and, bitwise_or, bitwise_xor, ceil, clamp,
                              clamp_max, clamp_min, clip, div, divide, eq, equal, exp, exp2, expm1, floor,
                              fmax, fmin, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le,
                              less, less_equal, log, log1p, log2, log10, logical_and, logical_not, logical_or,
                              logical_xor, lt, maximum, minimum, mul, multiply, ne, neg, negative, not_equal,
                              pow, reciprocal, relu, round, rsqrt, sigmoid, sign, softplus, sqrt, square,
                              sub, subtract, true_divide, trunc, where)
from .ops.index import index_select, masked_fill, masked_select, nonzero, select
from .ops.matmul import bmm, diag, diagonal, dot, ger, inner, matmul, mm, mv, outer, trace, tril, triu
from .ops.reduce import (all, amax, amin, aminmax, any, argmax, argmin, count_nonzero, logsumexp, log_softmax,
                         max, mean, min, norm, prod, softmax, std, std_mean, sum, var, var_mean)
from .ops.shape import (broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone, concat,
                        concatenate, flatten, hstack, movedim, moveaxis, narrow, permute, ravel, reshape,
                        split, squeeze, stack, swapaxes, swapdims, t, transpose, unbind, unflatten, unsqueeze,
                        vstack)
from . import autograd  # noqa: E402
from . import func  # noqa: E402

__version__ = "0.1.0"



def numel(input: Tensor) -> int:
    """Number of elements of a tensor."""
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def result_type(tensor1, tensor2) -> dtype:
    """The dtype PyTorch's promotion gives for two operands."""
    def info(x):
        if isinstance(x, Tensor):
            return x.dtype, (2 if x.ndim else 1)
        return _dtype.scalar_dtype(x), 0
    (a, la), (b, lb) = info(tensor1), info(tensor2)
    return _dtype.result_type(a, la, b, lb)


def promote_types(type1: dtype, type2: dtype) -> dtype:
    return _dtype.result_type(type1, 2, type2, 2)


from . import linalg  # noqa: E402
from .ops.linalg import _slogdet_top as slogdet, det, inverse, logdet  # noqa: E402
from .ops.gather import (gather, index_add, index_copy, index_fill, masked_scatter, scatter, scatter_add,  # noqa: E402
                         scatter_reduce, take, take_along_dim)
from .ops.shape import flip, fliplr, flipud, repeat_interleave, roll, rot90, tile  # noqa: E402
from .ops.scan import cummax, cummin, cumprod, cumsum, diff, logcumsumexp  # noqa: E402
from .ops.sorting import argsort, kthvalue, msort, sort, topk  # noqa: E402
from . import utils  # noqa: E402
from . import optim  # noqa: E402
from .ops.einsum import cdist, einsum, kron, tensordot  # noqa: E402
from .ops.linalg import _cholesky_top as cholesky, _cross_top as cross, _qr_top as qr, _svd_top as svd, matrix_exp, pinverse  # noqa: E402,E501
from .ops.special import (digamma, erf, erfc, erfinv, fmod, frac, hypot, lgamma, logaddexp, logaddexp2,  # noqa: E402
                          logit, polygamma, remainder, sgn, sinc, xlogy)
from .ops.trig import (acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh, atan,  # noqa: E402
                       atan2, atanh, cos, cosh, sin, sinh, tan, tanh)
from . import nn  # noqa: E402
from .ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d  # noqa: E402
from .ops.nn import celu, hardshrink, layer_norm, prelu, selu, threshold  # noqa: E402
from .ops.complex import (adjoint, angle, complex, conj, conj_physical, imag, is_conj, polar, real,  # noqa: E402
                          resolve_conj, resolve_neg, view_as_complex, view_as_real)
from . import viz  # noqa: E402  (graph pictures, Jacobian plots; matplotlib/graphviz imported only when drawing)
from . import compiler  # noqa: E402
from .compiler import compile  # noqa: E402
from . import distributions  # noqa: E402
from . import testing  # noqa: E402
from . import profiler  # noqa: E402
from . import executors  # noqa: E402,F401  (chunked and distributed Jacobians; the machinery is in _jacobian)
from ._device import device  # noqa: E402
from . import accelerator, cuda  # noqa: E402,F401
from ._legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,  # noqa: E402
                      IntTensor, LongTensor, ShortTensor)
from .func import vmap  # noqa: E402
from .ops.aliases import install as _install_aliases  # noqa: E402
from . import _tensor_methods  # noqa: E402  (Tensor's methods from the layers above the core: imported last)

_install_aliases(globals())
