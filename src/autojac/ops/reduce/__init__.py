"""Reductions: sum, mean, prod, amax/amin, max/min (with indices), var/std, norm, logsumexp,
softmax and log_softmax."""

from ._sum import (
    sum, mean, prod, all, any, count_nonzero, _others_last, _others_last_forward, _sum_dim, normalize_dims,
    unreduce,
)
from ._extremes import amax, amin, max, min, argmax, argmin, aminmax, MaxResult, MinResult
from ._stats import var, std, norm, var_mean, std_mean, _vector_norm
from ._softmax import logsumexp, softmax, log_softmax

__all__ = ["sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std",
           "norm", "logsumexp", "softmax", "log_softmax", "all", "any", "count_nonzero", "var_mean",
           "std_mean", "aminmax"]
