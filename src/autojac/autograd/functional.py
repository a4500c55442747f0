"""``autograd.functional``: Jacobians and Hessians of functions, every row in one batched pass.

PyTorch builds a Jacobian row by row (or with ``vectorize=True`` through vmap); here the
rows of each output block come from a single backward pass whose cotangent is the
identity with a leading batch dimension (DESIGN.md decision 3). ``vectorize`` is
accepted for compatibility and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core.grad_mode import enable_grad
from .._tensor import Tensor, _wrap
from .api import grad as _grad


def _as_tuple(x, arg: str, fn: str) -> tuple[bool, tuple]:
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)):
        for i, t in enumerate(x):
            if not isinstance(t, Tensor):
                raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but "
                                f"the value at index {i} has type {type(t).__name__}.")
        return True, tuple(x)
    raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the given "
                    f"{arg} has type {type(x).__name__}.")


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh differentiable handles on the inputs; keep their history under ``create_graph``."""
    out = []
    for x in inputs:
        if create_graph and x._requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(x._data.dtype.kind in "fc"))
    return tuple(out)


def _identity_rows(out: Tensor) -> Tensor:
    m = out._data.size
    return _wrap(np.eye(m, dtype=out._data.dtype).reshape((m,) + out._data.shape))


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``, shaped ``output.shape + input.shape``.

    Tuple inputs and/or outputs give (nested) tuples as in PyTorch.

    >>> import autojac
    >>> from autojac.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, autojac.tensor([2., 3.]))
    tensor([[4., 0.],
            [0., 6.]])
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                         'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                         'Otherwise, prefer to use "reverse-mode".')
    in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    with enable_grad():
        ins = _prepare(inputs, create_graph)
        outputs = func(*ins)
        out_tuple, outs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        rows = []
        for j, out in enumerate(outs):
            if not out._requires_grad:
                if strict:
                    raise RuntimeError(
                        f"Output {j} of the user-provided function does not require gradients. The outputs "
                        "must be computed in a differentiable manner from the input when running in strict mode."
                    )
                grads = (None,) * len(ins)
            elif out._data.size == 0:
                grads = (None,) * len(ins)
            else:
                grads = _grad(out, ins, _identity_rows(out), retain_graph=True, create_graph=create_graph,
                              allow_unused=True, is_grads_batched=True)
            row = []
            for i, (x, g) in enumerate(zip(ins, grads)):
                shape = out._data.shape + x._data.shape
                if g is None:
                    if strict and out._requires_grad:
                        raise RuntimeError(
                            f"Output {j} of the user-provided function is independent of input {i}. This is "
                            "not allowed in strict mode."
                        )
                    g = _wrap(np.zeros(shape, dtype=out._data.dtype))
                else:
                    g = g.reshape(shape)
                    if not create_graph:
                        g = g.detach()
                row.append(g)
            rows.append(tuple(row))
    if not out_tuple:
        return rows[0] if in_tuple else rows[0][0]
    return tuple(r if in_tuple else r[0] for r in rows)


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function, shaped ``input.shape + input.shape``.

    >>> import autojac
    >>> from autojac.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), autojac.tensor([1., 2.]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp):
        out = func(*inp)
        is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_tuple and len(outs) != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if outs[0]._data.size != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single "
                               "element")
        return outs[0].reshape(())

    def jac_func(*inp):
        return jacobian(scalar_func, inp if in_tuple else inp[0], create_graph=True, strict=strict)

    return jacobian(jac_func, inputs if in_tuple else inputs[0], create_graph=create_graph, strict=strict,
                    strategy=outer_jacobian_strategy)
