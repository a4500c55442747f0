"""Reductions: sum, mean, prod, amax/amin, max/min (with indices), var/std, norm, logsumexp,
softmax and log_softmax."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .._core.patterns import ELEMENTWISE, fiberwise_pattern, reduce_pattern
from .._tensor import Tensor, _wrap, _wrap_dim
from ._declare import attach, conj, defop, named, renamed
from .elementwise import where
from .shape import _clone

__all__ = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std",
           "norm", "logsumexp", "softmax", "log_softmax", "all", "any", "count_nonzero", "var_mean",
           "std_mean", "aminmax"]

import builtins as _b


def normalize_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)) and _b.all(isinstance(d, (int, np.integer)) for d in dim):
        dims = tuple(dim)
    else:
        what = type(dim).__name__ if not isinstance(dim, (tuple, list)) else \
            f"{type(dim).__name__} of {', '.join(sorted({type(d).__name__ for d in dim}))}"
        raise TypeError(f"argument 'dim' must be tuple of ints, not {what}")
    if not dims:
        return tuple(range(ndim))
    wrapped = [_wrap_dim(d, ndim) for d in dims]
    out = tuple(sorted(wrapped))
    if ndim == 0:  # a 0-d tensor accepts dim 0 / -1, but has no axis to reduce
        return ()
    if len(set(out)) != len(out):  # torch names the first repeated dim, wrapped
        dup = next(d for i, d in enumerate(wrapped) if d in wrapped[:i])
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out


def _shift(dims: tuple, nb: int) -> tuple:
    return tuple(d + nb for d in dims)


def unreduce(g: Tensor, x_shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced cotangent (batch + reduced shape) back to batch + ``x_shape``.

    Calls the reshape and expand primitives directly: the shapes are right by construction,
    and a cotangent is never written in place, so the public methods' checks and view
    bookkeeping are not needed on this hot path (seed 000's Jacobian).
    """
    from .._core.broadcast import expand as expand_op
    from .shape import _reshape_alias_op

    gs = g._data.shape
    nb = len(gs) - (len(x_shape) if keepdim else len(x_shape) - len(dims))
    batch = gs[:nb]
    kept = tuple(1 if i in dims else s for i, s in enumerate(x_shape))
    if gs[nb:] != kept:
        g = _reshape_alias_op(g, batch + kept)
    target = batch + tuple(x_shape)
    return g if g._data.shape == target else expand_op(g, target)


def _sum_forward(x, dims, keepdim):
    r = np.sum(x, axis=dims, keepdims=keepdim)
    if x.dtype.kind in "bi" and x.dtype != np.int64:
        r = r.astype(np.int64)
    return r


_sum = defop("sum", _sum_forward,
             vjp=(lambda g, ans, x, dims, keepdim: unreduce(g, tuple(x.shape), dims, keepdim),),
             jvp=(lambda t, ans, x, dims, keepdim: _sum(t, _shift(dims, t.ndim - x.ndim), keepdim),),
             saves_inputs=False, sparsity=reduce_pattern(nonlinear=()))
_sum_dim = defop("sum", _sum_forward, vjp=_sum.vjp, jvp=_sum.jvp, saves_inputs=False,
                 grad_name="SumBackward1", sparsity=_sum.sparsity)


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001
    """Sum over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([[1., 2.], [3., 4.]]).sum(dim=1)
    tensor([3., 7.])
    """
    if dtype is not None:
        input = input.to(dtype)
    dims = normalize_dims(dim, input._data.ndim)
    return (_sum if dim is None else _sum_dim)(input, dims, keepdim)


def _count(shape: tuple, dims: tuple) -> int:
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _float_check(x: Tensor, name: str) -> None:
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {x.dtype.name.capitalize() if x.dtype.name != 'int64' else 'Long'}"
        )


_mean = defop(
    "mean", lambda x, dims, keepdim: np.mean(x, axis=dims, keepdims=keepdim),
    vjp=(lambda g, ans, x, dims, keepdim:
         unreduce(g, tuple(x.shape), dims, keepdim) / float(_b.max(_count(tuple(x.shape), dims), 1)),),
    jvp=(lambda t, ans, x, dims, keepdim: _mean(t, _shift(dims, t.ndim - x.ndim), keepdim),),
    saves_inputs=False, sparsity=_sum.sparsity,
)
_mean_dim = defop("mean", _mean.forward, vjp=_mean.vjp, jvp=_mean.jvp, saves_inputs=False,
                  grad_name="MeanBackward1", sparsity=_sum.sparsity)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([1., 2., 6.]).mean()
    tensor(3.)
    """
    if dtype is not None:
        input = input.to(dtype)
    _float_check(input, "mean")
    dims = normalize_dims(dim, input._data.ndim)
    return (_mean if dim is None else _mean_dim)(input, dims, keepdim)


def _others_last_forward(x: np.ndarray) -> np.ndarray:
    """Product of all other elements along the last axis (exact with zeros, no division)."""
    if not x.shape[-1]:
        return x.copy()
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    left = np.concatenate([ones, np.cumprod(x, axis=-1)[..., :-1]], axis=-1)
    right = np.concatenate([np.cumprod(x[..., ::-1], axis=-1)[..., :-1][..., ::-1], ones], axis=-1)
    return left * right


def _others_pairs(x: Tensor) -> Tensor:
    """``P[..., j, k]``: the product of all ``x_i`` with ``i`` not in ``{j, k}`` (0 on the diagonal).

    It is d(others_j)/d(x_k); built from ``_others_last`` again, so it is differentiable again.
    """
    n = x.shape[-1]
    eye = _wrap(np.eye(n, dtype=bool))
    rows = where(eye, _wrap(np.ones((), x._data.dtype)), x.unsqueeze(-2))  # row j: x with x_j := 1
    return where(eye, _wrap(np.zeros((), x._data.dtype)), _others_last(rows))


_others_last = defop(
    "prod_others", _others_last_forward,
    vjp=(lambda g, ans, x: (g.unsqueeze(-1) * conj(_others_pairs(x))).sum(-2),),
    jvp=(lambda t, ans, x: (t.unsqueeze(-2) * _others_pairs(x)).sum(-1),),
    grad_name="ProdBackward0",
)


def _prod_others(x: Tensor, dims: tuple) -> Tensor:
    """Product of all other elements of each reduced slice, differentiably (exact with zeros)."""
    keep = [d for d in range(x.ndim) if d not in dims]
    perm = tuple(keep + list(dims))
    xt = x.permute(perm)
    flat = xt.reshape(tuple(xt.shape[:len(keep)]) + (int(np.prod(xt.shape[len(keep):])),))  # no -1: may be empty
    out = _others_last(flat).reshape(tuple(xt.shape))
    return out.permute(tuple(np.argsort(perm).tolist()))


def _prod_vjp(g, ans, x, dims, keepdim):
    ge = unreduce(g, tuple(x.shape), dims, keepdim)
    if not np.any(x._data == 0):
        return ge * conj(unreduce(ans, tuple(x.shape), dims, keepdim)) / conj(x)
    return ge * conj(_prod_others(x, dims))


_prod = defop("prod", lambda x, dims, keepdim: _sum_like_prod(x, dims, keepdim),
              vjp=(_prod_vjp,),
              jvp=(lambda t, ans, x, dims, keepdim: _sum(
                  t * _prod_others(x, dims), _shift(dims, t.ndim - x.ndim), keepdim),),
              saves_ans=True, sparsity=reduce_pattern())


_prod_dim = renamed(_prod, "ProdBackward1")


def _sum_like_prod(x, dims, keepdim):
    r = np.prod(x, axis=dims, keepdims=keepdim)
    if x.dtype.kind in "bi" and x.dtype != np.int64:
        r = r.astype(np.int64)
    return r


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over all elements or over one ``dim``."""
    if dtype is not None:
        input = input.to(dtype)
    return (_prod if dim is None else _prod_dim)(input, normalize_dims(dim, input._data.ndim), keepdim)


# --------------------------------------------------------------------------- max / min
def _extreme_vjp(g, ans, x, dims, keepdim):
    # ties share the gradient evenly, as PyTorch's amax/amin/max() do
    # a product with the 0/1 mask, as PyTorch's (a nan cotangent spreads over the slice as there)
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    mask = (x == full)
    count = _sum(mask, dims, True)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(mask, 1.0, 0.0) / count


def _extreme_all_vjp(g, ans, x, dims, keepdim):
    # max()/min() of everything: a nan result sends the gradient to the nan entries, shared evenly
    # (PyTorch's evenly_distribute_backward), where x == ans would match nothing
    if not np.isnan(ans._data).any() if type(ans) is Tensor else not np.isnan(ans).any():
        return _extreme_vjp(g, ans, x, dims, keepdim)
    from .elementwise import isnan

    mask = isnan(x)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(mask, 1.0, 0.0) / _sum(mask, dims, True)


def _extreme_jvp(t, ans, x, dims, keepdim):
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    mask = (x == full)
    # where, not mask / count: a bool / int64 division would round the weights to float32
    return _sum(where(mask, t / _sum(mask, dims, True), 0.0), _shift(dims, t.ndim - x.ndim), keepdim)


def _reduce_extreme(fn, name: str):

    def forward(x, dims, keepdim):
        if x.size == 0:
            if x.ndim == len(dims):  # every dim reduced: no dim given
                raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            for d in dims:
                if x.shape[d] == 0:
                    raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        return fn(x, axis=dims, keepdims=keepdim)
    return forward


_amax = defop("amax", _reduce_extreme(np.max, "amax"), vjp=(_extreme_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
              sparsity=reduce_pattern())  # the whole fiber, not just the current maximum: valid everywhere
_amin = defop("amin", _reduce_extreme(np.min, "amin"), vjp=(_extreme_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
              sparsity=reduce_pattern())
_max_all = defop("max", _reduce_extreme(np.max, "max"), vjp=(_extreme_all_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
                 grad_name="MaxBackward1", sparsity=_amax.sparsity)
_min_all = defop("min", _reduce_extreme(np.min, "min"), vjp=(_extreme_all_vjp,), jvp=(_extreme_jvp,), saves_ans=True,
                 grad_name="MinBackward1", sparsity=_amax.sparsity)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (all dims by default); ties share the gradient."""
    return _amax(input, normalize_dims(dim, input._data.ndim), keepdim)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (all dims by default); ties share the gradient."""
    return _amin(input, normalize_dims(dim, input._data.ndim), keepdim)


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _select_vjp(g, ans, x, idx, dim, keepdim):
    """Route the cotangent to the selected index along ``dim`` (max/min with dim, sort...)."""
    xs = tuple(x.shape)
    idx = idx._data
    gk = g if keepdim else g.unsqueeze(dim - x.ndim)
    positions = np.indices(idx.shape, sparse=True)
    full = list(np.broadcast_arrays(*positions))
    full[dim] = idx
    onehot = np.zeros(xs, dtype=bool)
    onehot[tuple(full)] = True
    return where(_wrap(onehot), gk, 0.0)


def _dim_extreme(np_arg, name: str):
    def forward(x, idx, dim, keepdim):
        v = np.take_along_axis(x, idx, axis=dim)
        return v if keepdim else np.squeeze(v, axis=dim)

    return defop(name, forward,
                 vjp=(_select_vjp, None),
                 jvp=(lambda t, ans, x, idx, dim, keepdim: _sum(
                     _select_vjp(t, ans, x, idx, dim, True), (t.ndim - x.ndim + dim,), keepdim), None),
                 saves_inputs=False, sparsity=reduce_pattern(dims_at=2))  # the fiber, not the argmax at x


_max_dim = _dim_extreme(np.argmax, "max")
_min_dim = _dim_extreme(np.argmin, "min")
_PICK_0D = {_max_dim: renamed(_clone, "MaxBackward0"), _min_dim: renamed(_clone, "MinBackward0")}


def _extreme(input, dim, keepdim, other, all_op, dim_op, np_arg, result, pair):
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return pair(input, other)
    if dim is None:
        return all_op(input, tuple(range(input._data.ndim)), False)
    d = _wrap_dim(dim, input._data.ndim)
    if input._data.shape and input._data.shape[d] == 0:
        raise IndexError(f"max(): Expected reduction dim {d} to have non-zero size.")
    x = input._data if input._data.ndim else input._data.reshape(1)
    idx = np.expand_dims(np_arg(x, axis=d), d)
    if input._data.ndim == 0:  # a new tensor with its own grad_fn, as in PyTorch, not the input itself
        return result(_PICK_0D[dim_op](input), _wrap(np.array(0)))
    values = dim_op(input, _wrap(idx), d, keepdim)
    return result(values, _wrap(idx if keepdim else np.squeeze(idx, axis=d)))


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Largest element; with ``dim``, a ``(values, indices)`` pair; with a tensor, ``maximum``.

    >>> import autojac
    >>> autojac.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    autojac.return_types.max(
    values=tensor([5., 7.]),
    indices=tensor([1, 0]))
    """
    from .elementwise import maximum

    return _extreme(input, dim, keepdim, other, _max_all, _max_dim, np.argmax, _ReturnMax, maximum)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """Smallest element; with ``dim``, a ``(values, indices)`` pair; with a tensor, ``minimum``."""
    from .elementwise import minimum

    return _extreme(input, dim, keepdim, other, _min_all, _min_dim, np.argmin, _ReturnMin, minimum)


class _ReturnMax(MaxResult):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"autojac.return_types.max(\nvalues={self.values!r},\nindices={self.indices!r})"


class _ReturnMin(MinResult):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"autojac.return_types.min(\nvalues={self.values!r},\nindices={self.indices!r})"


def _arg(np_fn):
    name = np_fn.__name__

    def fn(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
        x = input._data
        if x.size == 0:
            if dim is None:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
            d = _wrap_dim(dim, x.ndim)
            if x.shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        if dim is None:
            r = np.asarray(np_fn(x.reshape(-1)))
            return _wrap((r.reshape((1,) * x.ndim) if keepdim else r).astype(np.int64))
        d = _wrap_dim(dim, x.ndim)
        r = np_fn(x, axis=d, keepdims=keepdim) if x.ndim else np.asarray(0)
        return _wrap(np.asarray(r).astype(np.int64))
    return fn


argmax = _arg(np.argmax)
argmin = _arg(np.argmin)


def aminmax(input: Tensor, *, dim=None, keepdim=False):
    dims = () if dim is None else dim
    return named(amin(input, dims, keepdim), "AminmaxBackward0"), named(amax(input, dims, keepdim), "AminmaxBackward0")


# --------------------------------------------------------------------------- statistics
def _correction(unbiased, correction) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance (Bessel-corrected by default, as in PyTorch).

    >>> import autojac
    >>> autojac.tensor([1., 2., 3., 4.]).var()
    tensor(1.6667)
    """
    if isinstance(dim, bool):  # var(unbiased) positional form
        unbiased, dim = dim, None
    _float_check(input, "var")
    dims = normalize_dims(dim, input._data.ndim)
    n = _count(input._data.shape, dims)
    c = _correction(unbiased, correction)
    centered = input - mean(input, dims, True)
    sq = centered * centered if input._data.dtype.kind != "c" else _abs2(centered)
    return named(sum(sq, dims, keepdim) / float(np.maximum(n - c, 0)), "VarBackward0")


def _abs2(z: Tensor) -> Tensor:
    """``|z|^2`` of a complex tensor, as a real one (var and std of complex tensors are real)."""
    from .complex import real

    return real(z * conj(z))


def _std_rule(g, ans, v):
    # PyTorch's std backward, (g / (2 std)).masked_fill_(std == 0, 0): zero where std is 0 whatever g is
    # (even nan); the inner where keeps the masked branch finite, so higher derivatives stay 0 too
    zero = ans == 0
    return where(zero, 0.0, g * (0.5 / where(zero, 1.0, ans)))


_std_sqrt = defop("std", np.sqrt, vjp=(_std_rule,), jvp=(_std_rule,), saves_inputs=False, saves_ans=True,
                  cast="float", grad_name="StdBackward0", sparsity=ELEMENTWISE)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation (Bessel-corrected by default)."""
    return _std_sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (named(var(input, dim, unbiased, keepdim, correction=correction), "VarMeanBackward0"),
            named(mean(input, dim, keepdim), "VarMeanBackward0"))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (named(std(input, dim, unbiased, keepdim, correction=correction), "StdMeanBackward0"),
            named(mean(input, dim, keepdim), "StdMeanBackward0"))


def _norm2_forward(x, dims, keepdim):
    r = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
    return r if _norm_ok(r, 2.0) else _rescaled_norm(x, 2.0, dims, keepdim)


def _pnorm_forward(x, p, dims, keepdim):
    r = np.sum(np.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    return r if _norm_ok(r, p) else _rescaled_norm(x, p, dims, keepdim)


def _norm_ok(r: np.ndarray, p: float) -> bool:
    """Whether no power |x|^p can have overflowed, or underflowed enough to matter (PyTorch's
    naive sum overflows to inf from |x| ~ 1e154 in float64, 1e19 in float32)."""
    fi = np.finfo(r.dtype)
    lo = (float(fi.tiny) / float(fi.eps)) ** (1.0 / p) if p > 0 else 0.0
    return bool(np.all((r >= lo) & (r < np.inf)))


def _rescaled_norm(x, p, dims, keepdim):
    """The p-norm computed as ``m * ||x / m||`` with ``m`` the largest magnitude: no overflow or
    underflow of the powers (the slow path, taken only when the plain sum went out of range)."""
    a = np.abs(x)
    if a.size:
        m = np.max(a, axis=dims, keepdims=True)
        m = np.where((m > 0) & (m < np.inf), m, np.ones((), a.dtype))
    else:
        m = np.ones((1,) * a.ndim, a.dtype)
    s = a / m
    r = (np.sqrt(np.sum(s * s, axis=dims, keepdims=True)) if p == 2.0 else
         np.sum(s ** p, axis=dims, keepdims=True) ** (1.0 / p)) * m
    return r if keepdim else np.squeeze(r, axis=dims)


def _norm2_vjp(g, ans, x, dims, keepdim):
    # zero gradient at a zero norm, as PyTorch defines it
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    return unreduce(g, tuple(x.shape), dims, keepdim) * where(full == 0, 0.0, x / full)


def _norm2_jvp(t, ans, x, dims, keepdim):
    full = unreduce(ans, tuple(x.shape), dims, keepdim)
    return _sum(t * where(full == 0, 0.0, x / full), _shift(dims, t.ndim - x.ndim), keepdim)


_norm2 = defop("norm", _norm2_forward, vjp=(_norm2_vjp,), jvp=(_norm2_jvp,), saves_ans=True,
               saves_inputs=True, grad_name="NormBackward1", sparsity=reduce_pattern())


# General p: d||x||_p/dx = sgn(x) (|x| / ||x||)^(p-1) (PyTorch's norm_backward/norm_jvp). For p >= 2
# it is computed from the ratio |x|/||x|| <= 1, so no power overflows or underflows at extreme
# magnitudes; zero at a zero norm for p > 1; for p < 1 as |x|^(p-1) ||x||^(1-p), zero where x == 0
# (an inner where keeps that masked branch finite: higher derivatives are not poisoned by 0 * inf).
def _pnorm_factor(ans, x, p, dims, keepdim):
    from .elementwise import abs as _abs
    from .elementwise import sign

    n = unreduce(ans, tuple(x.shape), dims, keepdim)
    if p < 1.0:
        xz = x == 0
        return sign(x) * where(xz, 0.0, where(xz, 1.0, _abs(x)) ** (p - 1.0)) * n ** (1.0 - p)
    if p < 2.0:  # powers below 1 of |x| and of the norm stay in range; the ratio's would spread nan
        nz = n == 0  # (d r^(p-1)/dr is infinite at r = 0) from one entry to all in higher derivatives
        return sign(x) * _abs(x) ** (p - 1.0) * where(nz, 0.0, 1.0 / where(nz, 1.0, n) ** (p - 1.0))
    return sign(x) * (_abs(x) / where(n == 0, 1.0, n)) ** (p - 1.0)


def _pnorm_vjp(g, ans, x, p, dims, keepdim):
    return unreduce(g, tuple(x.shape), dims, keepdim) * _pnorm_factor(ans, x, p, dims, keepdim)


def _pnorm_jvp(t, ans, x, p, dims, keepdim):
    return _sum(t * _pnorm_factor(ans, x, p, dims, keepdim), _shift(dims, t.ndim - x.ndim), keepdim)


_pnorm = defop("norm", _pnorm_forward, vjp=(_pnorm_vjp,), jvp=(_pnorm_jvp,), saves_ans=True,
               saves_inputs=True, grad_name="NormBackward1", sparsity=reduce_pattern(dims_at=2))


# p = +-inf: the largest (smallest) |x|. PyTorch's rule: sgn(x) * g / count on a mask of the entries equal
# to the norm or nan, so a nan entry takes the gradient times sgn(nan), which PyTorch makes 0
def _inf_norm_factor(ans, x, dims, keepdim):
    from .elementwise import abs as _abs
    from .elementwise import isnan, sign

    ax = _abs(x)
    mask = (ax == unreduce(ans, tuple(x.shape), dims, keepdim)) | isnan(ax)
    return where(mask, where(isnan(x), 0.0, sign(x)), 0.0) / _sum(mask, dims, True)


def _inf_norm_vjp(g, ans, x, dims, keepdim):
    return unreduce(g, tuple(x.shape), dims, keepdim) * _inf_norm_factor(ans, x, dims, keepdim)


def _inf_norm_jvp(t, ans, x, dims, keepdim):
    return _sum(t * _inf_norm_factor(ans, x, dims, keepdim), _shift(dims, t.ndim - x.ndim), keepdim)


def _abs_extreme(fn):
    def forward(x, dims, keepdim):
        return fn(np.abs(x), dims, keepdim)
    return forward


_inf_norm = defop("norm", _abs_extreme(_amax.forward), vjp=(_inf_norm_vjp,), jvp=(_inf_norm_jvp,), saves_ans=True,
                  grad_name="NormBackward1")
_neg_inf_norm = defop("norm", _abs_extreme(_amin.forward), vjp=(_inf_norm_vjp,), jvp=(_inf_norm_jvp,),
                      saves_ans=True, grad_name="NormBackward1")


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm (2 by default) over all elements or over ``dim``.

    >>> import autojac
    >>> autojac.tensor([3., 4.]).norm()
    tensor(5.)
    """
    if dtype is not None:
        input = input.to(dtype)
    _float_check(input, "norm")
    if input._data.dtype.kind == "c":  # every p-norm depends on |z| only; abs gives the complex gradient
        from .elementwise import abs as _abs

        input = _abs(input)
    if p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:  # PyTorch: a matrix norm then
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    return named(_vector_norm(input, p, normalize_dims(dim, input._data.ndim), keepdim), "LinalgVectorNormBackward0")


def _vector_norm(input: Tensor, p, dims: tuple, keepdim: bool) -> Tensor:
    from .elementwise import abs as _abs

    if p in ("fro", 2, 2.0, None):
        return _norm2(input, dims, keepdim)
    if p in (float("inf"), "inf"):
        return _inf_norm(input, dims, keepdim)
    if p in (float("-inf"), "-inf"):
        return _neg_inf_norm(input, dims, keepdim)
    if p == 0:
        return sum(input != 0, dims, keepdim).to(input.dtype)
    if p == 1:
        return sum(_abs(input), dims, keepdim)
    if isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported norm type {p!r}")
    return _pnorm(input, float(p), dims, keepdim)


def _lse_forward(x, dims, keepdim):
    m = np.max(x.real, axis=dims, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    m = np.where(np.isfinite(m), m, 0)
    r = np.log(np.sum(np.exp(x - m), axis=dims, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dims)


def _lse_weights(ans, x, dims, keepdim):
    """softmax(x) over ``dims``, normalized directly rather than as exp(x - logsumexp(x)): that
    form loses the small terms of logsumexp to rounding (exp(1e300 - 1e300) = 1 for both entries
    of [1e300, 1e300]; float32 rows near -1000 get 2e-5 relative errors). The shift ``m`` is a
    constant: softmax does not depend on it, so higher derivatives stay exact."""
    from .elementwise import exp

    xd = x._data
    m = np.max(xd.real, axis=dims, keepdims=True) if xd.size else np.zeros((1,) * xd.ndim, xd.dtype)
    e = exp(x - _wrap(np.where(np.isfinite(m), m, 0).astype(xd.dtype, copy=False)))
    return e / _sum(e, dims, True)


_lse = defop(
    "logsumexp", _lse_forward,
    vjp=(lambda g, ans, x, dims, keepdim:
         unreduce(g, tuple(x.shape), dims, keepdim) * conj(_lse_weights(ans, x, dims, keepdim)),),
    jvp=(lambda t, ans, x, dims, keepdim:
         _sum(t * _lse_weights(ans, x, dims, keepdim), _shift(dims, t.ndim - x.ndim), keepdim),),
    saves_ans=True, cast="float", sparsity=reduce_pattern(),
)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed without overflow."""
    return _lse(input, normalize_dims(dim, input._data.ndim), keepdim)


def _complex_kernel_check(x, name: str) -> None:
    if x.dtype.kind == "c":
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{'ComplexFloat' if x.dtype == np.complex64 else 'ComplexDouble'}'")


def _softmax_forward(x, dim):
    _complex_kernel_check(x, "softmax_lastdim_kernel_impl")
    if x.size == 0:  # np.max has no identity for an empty axis; the result is just as empty
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=dim, keepdims=True)


def _softmax_rule(g, ans, x, dim):
    d = dim - x.ndim  # negative, so it addresses the same axis with or without batch dims
    return ans * (g - _sum(g * ans, (g.ndim + d,), True))


_softmax = defop("softmax", _softmax_forward, vjp=(_softmax_rule,), jvp=(_softmax_rule,),
                 saves_inputs=False, saves_ans=True, cast="float", sparsity=fiberwise_pattern())


def _log_softmax_forward(x, dim):
    _complex_kernel_check(x, "log_softmax_lastdim_kernel_impl")
    if x.size == 0:
        return x.copy()
    m = np.max(x, axis=dim, keepdims=True)
    s = x - m
    return s - np.log(np.sum(np.exp(s), axis=dim, keepdims=True))


def _log_softmax_vjp(g, ans, x, dim):
    from .elementwise import exp

    d = dim - x.ndim
    return g - exp(ans) * _sum(g, (g.ndim + d,), True)


def _log_softmax_jvp(t, ans, x, dim):
    from .elementwise import exp

    d = dim - x.ndim
    return t - _sum(t * exp(ans), (t.ndim + d,), True)


_log_softmax = defop("log_softmax", _log_softmax_forward, vjp=(_log_softmax_vjp,), jvp=(_log_softmax_jvp,),
                     saves_inputs=False, saves_ans=True, cast="float", sparsity=fiberwise_pattern())


def _softmax_dim(input: Tensor, dim, dtype) -> tuple:
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input._data.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return input, _wrap_dim(dim, input._data.ndim)


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``.

    >>> import autojac
    >>> autojac.softmax(autojac.tensor([0., 0.]), dim=0)
    tensor([0.5000, 0.5000])
    """
    input, d = _softmax_dim(input, dim, dtype)
    if input._data.ndim == 0:
        return named(_softmax(input.reshape(1), 0).reshape(()), "SoftmaxBackward0")
    return _softmax(input, d)


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably."""
    input, d = _softmax_dim(input, dim, dtype)
    if input._data.ndim == 0:
        return named(_log_softmax(input.reshape(1), 0).reshape(()), "LogSoftmaxBackward0")
    return _log_softmax(input, d)


# --------------------------------------------------------------------------- logical reductions
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.all(input._data, axis=None if dim is None else normalize_dims(dim, input._data.ndim),
                                   keepdims=keepdim)))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _wrap(np.asarray(np.any(input._data, axis=None if dim is None else normalize_dims(dim, input._data.ndim),
                                   keepdims=keepdim)))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return _wrap(np.asarray(np.count_nonzero(input._data, axis=dim)).astype(np.int64))


attach(
    sum=sum, mean=mean, prod=prod, amax=amax, amin=amin, max=max, min=min, argmax=argmax, argmin=argmin,
    var=var, std=std, norm=norm, logsumexp=logsumexp, softmax=softmax, log_softmax=log_softmax,
    all=all, any=any, count_nonzero=count_nonzero, aminmax=aminmax,
)
