"""Jacobian determinants: ``jacdet(f)(x) = det(df/dx)`` and ``slogjacdet`` (sign, log|det|).

The square Jacobian comes from one batched backward pass (identity cotangents), recorded
when grad mode is on, so the determinant is differentiable itself: a normalizing flow's
log-likelihood trains through ``slogjacdet``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.grad_mode import enable_grad, is_grad_enabled
from .._core.node import NODE_TYPES
from .._jacobian import basis_rows
from .._tensor import Tensor, _wrap
from ..autograd.api import grad as _grad
from ..linalg import det, slogdet
from ..ops.shape import alias


def _reaches_other_leaf(t: Tensor, own: Tensor) -> bool:
    """Whether ``t``'s graph reaches a leaf requiring grad other than ``own``."""
    if t._grad_fn is None:
        return t._requires_grad and t is not own
    seen = set()
    stack = [t._grad_fn]
    while stack:
        fn = stack.pop()
        for e in fn.next:
            if e is None:
                continue
            if type(e) in NODE_TYPES:
                if e not in seen:
                    seen.add(e)
                    stack.append(e)
            elif e is not own:
                return True
    return False


def _square_jacobian(func: Callable, argnums: int, args: tuple, name: str) -> Tensor:
    if not isinstance(argnums, int):
        raise TypeError(f"{name}: argnums must be an int (the Jacobian must be square), got {argnums!r}")
    if not -len(args) <= argnums < len(args):
        raise RuntimeError(f"{name}: Got argnums={argnums} but only {len(args)} positional inputs")
    x = args[argnums]
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"{name}: the input at argnums={argnums} must be a floating-point Tensor, "
                        f"got {type(x).__name__ if not isinstance(x, Tensor) else x.dtype}")
    keep = is_grad_enabled()
    with enable_grad():
        xin = alias(x) if x.requires_grad else x.detach().requires_grad_()
        call_args = list(args)
        call_args[argnums] = xin
        out = func(*call_args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}: func must return a single Tensor, got {type(out).__name__}")
        n_in, n_out = x.numel(), out.numel()
        if n_in != n_out:
            raise RuntimeError(
                f"{name}: the Jacobian must be square, but func maps an input of shape {list(x.shape)} "
                f"({n_in} elements) to an output of shape {list(out.shape)} ({n_out} elements), "
                f"a {n_out} x {n_in} Jacobian"
            )
        if not out.requires_grad:
            return _wrap(np.zeros((n_out, n_in), dtype=out.numpy(force=True).dtype))
        (basis,) = basis_rows([out], 0, n_out)
        (jac,) = _grad(out, xin, basis, create_graph=keep, allow_unused=True, is_grads_batched=True,
                       materialize_grads=True)
    jac = jac.reshape(n_out, n_in)
    if jac.requires_grad and not x.requires_grad and not _reaches_other_leaf(jac, xin):
        jac = jac.detach()  # only our own differentiation handle was in the graph
    return jac


def jacdet(func: Callable, argnums: int = 0) -> Callable:
    """``det`` of the (square) Jacobian of ``func`` with respect to argument ``argnums``.

    >>> import autojac
    >>> from autojac.func import jacdet
    >>> A = autojac.tensor([[2., 1.], [0., 3.]])
    >>> jacdet(lambda x: A @ x)(autojac.ones(2))
    tensor(6.)
    """
    def wrapped(*args):
        return det(_square_jacobian(func, argnums, args, "jacdet"))

    return wrapped


def slogjacdet(func: Callable, argnums: int = 0) -> Callable:
    """``(sign, log|det|)`` of the (square) Jacobian of ``func``; stable for large or tiny determinants.

    >>> import autojac
    >>> from autojac.func import slogjacdet
    >>> sign, logabsdet = slogjacdet(lambda x: -2 * x)(autojac.ones(3))
    >>> sign, logabsdet
    (tensor(-1.), tensor(2.0794))
    """
    def wrapped(*args):
        return slogdet(_square_jacobian(func, argnums, args, "slogjacdet"))

    return wrapped
