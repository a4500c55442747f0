"""PyTorch's extra spellings of existing functions: NumPy-style keywords and top-level in-place forms.

PyTorch's argument parser takes ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``
wherever those arguments exist, and exposes in-place ops as functions (``torch.sin_(x)``).
``install`` adds both to a namespace (``autojac``'s); ``_tensor_methods`` gives Tensor's methods the same.

>>> import autojac
>>> x = autojac.tensor([[1., 2.], [3., 4.]])
>>> autojac.sum(x, axis=0), x.mean(axis=1, keepdims=True).shape
(tensor([4., 6.]), autojac.Size([2, 1]))
>>> autojac.exp_(autojac.zeros(2))
tensor([1., 1.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from .._tensor import Tensor
from ._declare import inplace, operand

__all__ = ["numpy_keywords", "install"]

# functions and methods with a ``dim`` (and maybe ``keepdim``) argument
DIM_FUNCTIONS = (
    "sum", "mean", "prod", "max", "min", "amax", "amin", "std", "var", "all", "any", "argmax", "argmin", "cumsum",
    "cumprod", "logsumexp", "softmax", "log_softmax", "nansum", "median", "count_nonzero", "var_mean", "std_mean",
    "aminmax", "squeeze", "unsqueeze", "cat", "concat", "concatenate", "stack", "sort", "argsort", "topk", "cummax",
    "cummin", "logcumsumexp", "diff", "kthvalue", "gather", "index_select", "unbind", "chunk", "narrow", "select",
    "mode", "take_along_dim", "scatter", "scatter_add", "index_add", "index_copy", "index_fill", "repeat_interleave",
)

# PyTorch's top-level in-place functions (``[n for n in dir(torch) if n.endswith("_")]``) that have an
# out-of-place autojac counterpart
INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "celu_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_",
    "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_",
    "frac_", "gcd_", "i0_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_",
    "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "selu_", "sigmoid_", "sin_",
    "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "threshold_", "trunc_", "xlogy_", "zero_",
)


def numpy_keywords(fn: Callable) -> Callable:
    """``fn`` also taking ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            for alias, name in (("axis", "dim"), ("keepdims", "keepdim")):
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{wrapper.__name__}() got multiple values for argument '{name}'")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    wrapper._numpy_keywords = True
    return wrapper


def inplace_of(fn: Callable, name: str) -> Callable:
    """The in-place method ``name`` (``exp_``) of the out-of-place function ``fn`` (``exp``)."""

    def method(self, *args, **kwargs):
        args = tuple(operand(a) for a in args)
        return inplace(self, lambda s, *a: fn(s, *a, **kwargs), *args)

    method.__name__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: writes the result into ``self`` and returns it."
    return method


def install(namespace: dict) -> None:
    """Add the NumPy-style keywords and the top-level in-place functions to ``namespace`` (``autojac``'s).

    Tensor's methods take the keywords already, and have the in-place forms: ``_tensor_methods``
    assigns them with ``numpy_keywords`` and ``inplace_of``.
    """
    for name in DIM_FUNCTIONS:
        fn = namespace.get(name)
        if callable(fn) and not getattr(fn, "_numpy_keywords", False):
            namespace[name] = numpy_keywords(fn)
    for name in INPLACE_FUNCTIONS:
        meth = getattr(Tensor, name, None)
        if meth is not None:
            namespace.setdefault(name, meth)
