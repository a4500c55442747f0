"""Losses: mse, l1, smooth_l1/huber, nll, cross_entropy, binary_cross_entropy (with logits), kl_div."""

from __future__ import annotations

import numpy as np

from ..._core.batched import BATCHING, Batched
from ..._core.batching import BROADCAST, PER_ELEMENT, n_batch
from ..._core.node import nondiff
from ..._core.patterns import Sparsity, fibers, groups
from ..._tensor import Tensor, _wrap
from .._declare import defop, named
from ..creation import arange, ones
from ..elementwise import abs as _abs
from ..elementwise import exp, log1p, where
from ..reduce import log_softmax as _log_softmax_fn
from ..reduce import softmax as _softmax_fn
from ..special import xlogy
from ._activations import _logsigmoid


# --------------------------------------------------------------------------- losses
def _reduction(size_average, reduce, reduction: str) -> str:
    """The legacy ``size_average``/``reduce`` flags, as PyTorch's ``_Reduction.legacy_get_string``."""
    if size_average is None and reduce is None:
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, input: Tensor, by_weight: bool = True) -> Tensor:
    """PyTorch 2.13's elementwise ``weight``: mse_loss/l1_loss divide the weighted sum by ``weight.sum()``
    for ``'mean'``; huber_loss (``by_weight=False``) takes the plain mean of the weighted losses."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _check_target_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        import warnings

        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) of squared differences.

    >>> import autojac
    >>> autojac.nn.functional.mse_loss(autojac.tensor([1., 2.]), autojac.tensor([0., 0.]))
    tensor(2.5000)
    """
    _check_target_size(input, target)
    red = _reduction(size_average, reduce, reduction)
    d = input - target
    loss = _weighted(d * d, weight, red, input)
    return named(loss, "MseLossBackward0") if weight is None else loss


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """Mean (or sum) of absolute differences.

    >>> import autojac
    >>> autojac.nn.functional.l1_loss(autojac.tensor([1., -2.]), autojac.tensor([0., 0.]))
    tensor(1.5000)
    """
    _check_target_size(input, target)
    return _weighted(_abs(input - target), weight, _reduction(size_average, reduce, reduction), input)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta/2`` (``d = input - target``).

    >>> import autojac
    >>> autojac.nn.functional.smooth_l1_loss(autojac.tensor([0.5, 3.]), autojac.tensor([0., 0.]))
    tensor(1.3125)
    """
    _check_target_size(input, target)
    red = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=red)
    d = input - target
    ad = _abs(d)
    loss = where(ad < beta, (0.5 / beta) * d * d, ad - 0.5 * beta)
    return named(_reduce(loss, red), "SmoothL1LossBackward0")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - delta/2)``.

    >>> import autojac
    >>> autojac.nn.functional.huber_loss(autojac.tensor([0.5, 3.]), autojac.tensor([0., 0.]), delta=2.)
    tensor(2.0625)
    """
    _check_target_size(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    ad = _abs(d)
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    out = _weighted(loss, weight, _reduction(None, None, reduction), input, by_weight=False)
    return named(out, "HuberLossBackward0") if weight is None else out


def _class_dim(input: Tensor) -> int:
    return 1 if input._data.ndim >= 2 else 0


def _check_targets(input: Tensor, target: Tensor, fn: str) -> None:
    nd = input._data.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    expect = (input.shape[0],) + tuple(input.shape[2:]) if nd >= 2 else ()
    if tuple(target.shape) != expect:
        if nd >= 2 and target._data.ndim and target.shape[0] != input.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        raise RuntimeError(f"{fn}: expected target of size {list(expect)}, got {list(target.shape)}")


def _picked(input: Tensor, t: np.ndarray) -> Tensor:
    """``input[n, t[n, ...], ...]``: the class ``t`` picks along dim 1 (or 0 unbatched)."""
    if input._data.ndim == 1:
        return input[int(t)]
    grids = [_wrap(g) for g in np.indices(t.shape, sparse=True)]
    return input[(grids[0], _wrap(t)) + tuple(grids[1:])]


def _nll_batched(logp: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """The class-index negative log likelihood of log-probabilities ``logp`` inside ``vmap``, where the targets'
    values cannot be read: the picks are a one-hot mask made by comparisons, which batch. (Targets out of
    range pick nothing here; outside vmap they raise.)"""
    cdim = _class_dim(logp)
    c = logp.shape[cdim]
    classes = arange(c).reshape((c,) + (1,) * (logp.ndim - cdim - 1))
    onehot = (target.unsqueeze(cdim) == classes) & (target != ignore_index).unsqueeze(cdim)
    w = ones(c, dtype=logp.dtype) if weight is None else weight.to(logp.dtype)
    wt = where(onehot, w.reshape(classes.shape), 0.0).sum(cdim)
    loss = -where(onehot, logp, 0.0).sum(cdim) * wt
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum()


def _batched(*tensors) -> bool:
    return bool(BATCHING) and any(type(t._data) is Batched for t in tensors if t is not None)


def _nll(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str) -> Tensor:
    """The class-index negative log likelihood, composed of differentiable gathers."""
    if _batched(input, target, weight):
        return _nll_batched(input, target, weight, ignore_index, reduction)
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    c = input.shape[_class_dim(input)]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    w = np.ones(c, input._data.dtype) if weight is None else weight._data.astype(input._data.dtype)
    wt = np.where(valid, w[safe], 0).astype(input._data.dtype)
    loss = -_picked(input, safe) * _wrap(wt)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / _wrap(np.asarray(wt.sum()))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood of class indices ``target`` under log-probabilities ``input (N, C, ...)``.

    ``weight`` rescales classes; targets equal to ``ignore_index`` count for nothing; ``'mean'`` divides
    by the total weight of the counted targets.

    >>> import autojac
    >>> logp = autojac.tensor([[-0.5, -1.0], [-2.0, -0.1]])
    >>> autojac.nn.functional.nll_loss(logp, autojac.tensor([0, 1]))
    tensor(0.3000)
    """
    red = _reduction(size_average, reduce, reduction)
    _check_targets(input, target, "nll_loss")
    loss = _nll(input, target, weight, ignore_index, red)
    nd = input._data.ndim
    if nd <= 2:
        return named(loss, "NllLossBackward0")
    return named(loss, "ViewBackward0" if red == "none" and nd == 3 else "NllLoss2DBackward0")


# --------------------------------------------------------------------------- fused cross entropy
# One primitive for the common case (class indices, no label smoothing): log-sum-exp minus the picked
# logit, weighted. Its rules are written in softmax and constants, so every order differentiates.
def _ce_forward(x, t, wt, scale, cdim, reduction):
    m = x.max(axis=cdim, keepdims=True)
    if not np.isfinite(m).all():  # rows of -inf (or inf) logits: shift by 0 there, as log_softmax does
        m = np.where(np.isfinite(m), m, 0)
    lse = np.log(np.exp(x - m).sum(axis=cdim, keepdims=True)) + m
    picked = np.take_along_axis(x, t[(slice(None),) * cdim + (None,)], axis=cdim)
    loss = (lse - picked).squeeze(cdim) * wt
    if reduction == "none":
        return loss
    return np.asarray(loss.sum() * scale, dtype=x.dtype)


def _ce_dlogits(ans, x, t, wt, scale, cdim, reduction):
    """``d loss_i / d x_ic = (softmax(x)_ic - [c = t_i]) wt_i``, as a recorded expression of ``x``."""
    onehot = np.zeros(x.shape, dtype=x._data.dtype)
    np.put_along_axis(onehot, np.expand_dims(t, cdim), 1, axis=cdim)
    w = np.expand_dims(wt * (scale if reduction != "none" else 1), cdim).astype(x._data.dtype)
    return (_softmax_fn(x, cdim) - _wrap(onehot)) * _wrap(w)


def _ce_vjp(g, ans, x, t, wt, scale, cdim, reduction):
    nb = n_batch(g, ans)
    if reduction == "none":
        g = g.unsqueeze(nb + cdim)
    else:
        g = g.reshape(tuple(g.shape) + (1,) * x.ndim)
    return g * _ce_dlogits(ans, x, t, wt, scale, cdim, reduction)


def _ce_jvp(tan, ans, x, t, wt, scale, cdim, reduction):
    per = (tan * _ce_dlogits(ans, x, t, wt, scale, cdim, reduction)).sum(cdim - x.ndim)
    if reduction == "none":
        return per
    return per.sum(tuple(range(-(x.ndim - 1), 0))) if x.ndim > 1 else per


def _ce_pattern(op, out_shape, args, params, active):
    """Each loss reads its sample's logits over the classes (every logit when reduced)."""
    x = args[0]
    dims = (params["cdim"],) if params["reduction"] == "none" else tuple(range(np.ndim(x)))
    return (groups(fibers(np.shape(x), dims), int(np.size(x))) if active[0] else None,)


_cross_entropy_op = defop("nll_loss", _ce_forward, vjp=(_ce_vjp,), jvp=(_ce_jvp,), cast="float",
                          sparsity=Sparsity(_ce_pattern, ((0, 0),)), batch=PER_ELEMENT)


def _cross_entropy_indices(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                           reduction: str) -> Tensor:
    if _batched(input, target, weight):
        return _nll_batched(_log_softmax_fn(input, _class_dim(input)), target, weight, ignore_index, reduction)
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    cdim = _class_dim(input)
    c = input.shape[cdim]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0).astype(np.intp)
    w = np.ones(c, input._data.dtype) if weight is None else weight._data.astype(input._data.dtype)
    wt = np.where(valid, w[safe], 0).astype(input._data.dtype)
    scale = 1.0 / wt.sum(dtype=np.float64) if reduction == "mean" else 1.0  # mean: over the counted weight
    if reduction == "mean" and not wt.sum():
        scale = np.nan  # every target ignored: 0/0, as torch
    loss = _cross_entropy_op(input, t=safe, wt=wt, scale=scale, cdim=cdim, reduction=reduction)
    nd = input._data.ndim
    if nd <= 2:
        return named(loss, "NllLossBackward0")
    return named(loss, "ViewBackward0" if reduction == "none" and nd == 3 else "NllLoss2DBackward0")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between logits ``input (N, C, ...)`` and class indices or class probabilities.

    Class indices honour ``weight``, ``ignore_index`` and ``label_smoothing``; probability targets
    (a float tensor shaped like ``input``) honour ``weight`` and ``label_smoothing``.

    >>> import autojac
    >>> logits = autojac.tensor([[2., 0.], [0., 2.]])
    >>> autojac.nn.functional.cross_entropy(logits, autojac.tensor([0, 1]))
    tensor(0.1269)
    >>> autojac.nn.functional.cross_entropy(logits, autojac.tensor([[0.5, 0.5], [0., 1.]]))
    tensor(0.6269)
    """
    red = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    cdim = _class_dim(input)
    c = input.shape[cdim]
    if target._data.dtype.kind != "f" and label_smoothing == 0:
        _check_targets(input, target, "cross_entropy")
        return _cross_entropy_indices(input, target, weight, ignore_index, red)
    logp = _log_softmax_fn(input, cdim)
    wshape = (-1,) + (1,) * (input._data.ndim - 2) if input._data.ndim >= 2 else (-1,)
    if target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / c
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape(wshape)
        if red == "mean":
            return named(-prod.sum() / (input.numel() / c), "DivBackward1")
        if red == "sum":
            return -prod.sum()
        return -prod.sum(cdim)
    _check_targets(input, target, "cross_entropy")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=red)
    ignored = _wrap(target._data == ignore_index)
    smooth = -(logp * weight.reshape(wshape)).sum(cdim) if weight is not None else -logp.sum(cdim)
    smooth = where(ignored, 0.0, smooth)
    if red == "mean":
        if weight is not None:
            t = target._data
            denom = weight._data[t[t != ignore_index]].sum()
            smooth = smooth.sum() / _wrap(np.asarray(denom, input._data.dtype))
        else:
            smooth = smooth.sum() / _wrap(np.asarray((target._data != ignore_index).sum()))
    elif red == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


_EPS = 1e-12


def _bce_forward(x, t, w):
    with np.errstate(all="ignore"):
        loss = -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log1p(-x), -100.0))
    return loss if w is None else loss * w


def _bce_dx(g, ans, x, t, w):
    # PyTorch: (x - t) / max(x (1 - x), eps), times weight
    d = g * (x - t) / (x * (1.0 - x)).clamp_min(_EPS)
    return d if w is None else d * w


def _bce_dt(g, ans, x, t, w):
    d = g * (log1p(-x) - x.log())  # -logit(x)
    return d if w is None else d * w


_bce = defop(
    "binary_cross_entropy", _bce_forward,
    vjp=(_bce_dx, _bce_dt, None),  # no derivative for weight, as in PyTorch
    jvp=(_bce_dx, _bce_dt, None),
    cast="promote", batch=BROADCAST
)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (t log x + (1 - t) log(1 - x))`` for probabilities ``x`` (logs clamped at -100).

    >>> import autojac
    >>> autojac.nn.functional.binary_cross_entropy(autojac.tensor([0.8, 0.4]), autojac.tensor([1., 0.]))
    tensor(0.3670)
    """
    red = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    x = input._data
    if type(x) is Batched:  # under vmap the values are checked by an op, on the whole batch
        _check_probabilities(input)
    elif ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None and tuple(np.broadcast_shapes(weight.shape, input.shape)) != tuple(input.shape):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, weight: {list(weight.shape)})")
    return named(_reduce(_bce(input, target, weight), red), "BinaryCrossEntropyBackward0")


def _probabilities_forward(x: np.ndarray) -> np.ndarray:
    if ((x < 0) | (x > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    return x


_check_probabilities = nondiff("bce_input_check", _probabilities_forward, batch=BROADCAST)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    ``pos_weight`` multiplies the positive term (``t log sigmoid(x)``); ``weight`` the whole loss.

    >>> import autojac
    >>> autojac.nn.functional.binary_cross_entropy_with_logits(autojac.tensor([2., -1.]), autojac.tensor([1., 0.]))
    tensor(0.2201)
    """
    red = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    ls = _logsigmoid(input)  # log sigmoid(x); log(1 - sigmoid(x)) = ls - x
    if pos_weight is None:
        loss = (1 - target) * input - ls
    else:
        loss = (1 - target) * input - (1 + (pos_weight - 1) * target) * ls
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, red), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``sum target * (log target - input)``, ``input`` being log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right mean).

    >>> import autojac
    >>> p = autojac.tensor([[0.5, 0.5]])
    >>> autojac.nn.functional.kl_div(autojac.tensor([[0.25, 0.75]]).log(), p, reduction="batchmean")
    tensor(0.1438)
    """
    if size_average is not None or reduce is not None:
        red = _reduction(size_average, reduce, "mean")
    else:
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        red = reduction
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if red == "batchmean":
        s = loss.sum()
        return s / input.shape[0] if input._data.ndim else s
    return _reduce(loss, red)
