"""``autograd.backward`` and ``autograd.grad`` with PyTorch's signatures and checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._core.engine import _accumulate_grad, run_backward
from .._tensor import Tensor, _wrap

TensorOrTensors = Tensor | Sequence[Tensor]


def _as_tuple(x, name: str) -> tuple:
    if isinstance(x, Tensor):
        return (x,)
    if isinstance(x, (list, tuple)):
        for i, t in enumerate(x):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}[{i}] must be a Tensor, got {type(t).__name__}")
        return tuple(x)
    raise TypeError(f"{name} must be a Tensor or a sequence of Tensors, got {type(x).__name__}")


def _make_grads(outputs: tuple, grad_outputs, is_grads_batched: bool) -> list:
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"Mismatch in number of gradients: got {len(grad_outputs)} gradient(s) for "
                           f"{len(outputs)} output(s)")
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f":  # complex too: PyTorch asks for a grad_output then
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            if is_grads_batched:
                raise RuntimeError("grad_outputs must be given when is_grads_batched=True")
            grads.append(_wrap(np.ones(out._data.shape, out._data.dtype)))
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"grad_outputs[{i}] must be a Tensor or None, got {type(g).__name__}")
        gshape = g._data.shape[1:] if is_grads_batched else g._data.shape
        if gshape != out._data.shape or (is_grads_batched and g._data.ndim == 0):
            hint = "" if not is_grads_batched else (
                " With is_grads_batched=True the first dimension of each grad_output is the batch "
                f"dimension and the remaining ones ({list(gshape)}) must match the output's shape.")
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape "
                f"of {out.shape}.{hint}"
            )
        # as in PyTorch, a real grad_output of another dtype (even int or bool) is cast to the
        # output's dtype; only mixing complex and real is an error
        if (g._data.dtype.kind == "c") != (out._data.dtype.kind == "c"):
            raise RuntimeError(
                "For complex Tensors, both grad_output and output are required to have the same dtype. "
                f"Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and output[{i}] has a "
                f"dtype of {out.dtype}."
            )
        if g._data.dtype != out._data.dtype:
            g = g.to(out.dtype)
        grads.append(g)
    return grads


def _check_inputs(inputs: tuple) -> None:
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")


def _pull_back(outputs: tuple, grad_outputs, retain_graph: bool | None, create_graph: bool, targets,
               accumulate: bool, is_grads_batched: bool = False) -> tuple[list, dict]:
    """The steps ``backward`` and ``grad`` share: check the outputs, make their gradients, run the
    engine (``retain_graph`` defaults to ``create_graph``); returns the gradients and what the engine captured."""
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    grads = _make_grads(outputs, grad_outputs, is_grads_batched)
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph, targets=targets,
                            accumulate=accumulate, nb=1 if is_grads_batched else 0)
    return grads, captured


def tensor_backward(self: Tensor, gradient: Tensor | None = None, retain_graph: bool | None = None,
                    create_graph: bool = False, inputs=None) -> None:
    """``Tensor.backward``: accumulate d(self)/d(leaf) into each leaf's ``.grad`` (see ``backward``).

    >>> import autojac
    >>> x = autojac.tensor([1., 2.], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([2., 4.])
    """
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def backward(tensors: TensorOrTensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables=None, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of graph leaves.

    >>> import autojac
    >>> x = autojac.tensor([1., 2., 3.], requires_grad=True)
    >>> autojac.autograd.backward(x * x, autojac.ones(3)); x.grad
    tensor([2., 4., 6.])
    """
    if grad_variables is not None:
        grad_tensors = grad_variables
    outputs = _as_tuple(tensors, "tensors")
    targets = None
    if inputs is not None:
        targets = _as_tuple(inputs, "inputs")
        if not targets:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        _check_inputs(targets)
    _, captured = _pull_back(outputs, grad_tensors, retain_graph, create_graph, targets, accumulate=True)
    if targets is not None:
        for t in targets:
            if t._grad_fn is not None and id(t) in captured:
                _accumulate_grad(t, captured[id(t)], create_graph)


def grad(outputs: TensorOrTensors, inputs: TensorOrTensors, grad_outputs=None,
         retain_graph: bool | None = None, create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    ``grad_outputs`` is the vector in the vector-Jacobian product; with
    ``is_grads_batched=True`` its first dimension is a batch, computed in one pass.

    >>> import autojac
    >>> x = autojac.tensor([2., 3.], requires_grad=True)
    >>> autojac.autograd.grad(x ** 2, x, grad_outputs=autojac.ones(2))
    (tensor([4., 6.]),)
    """
    outs = _as_tuple(outputs, "outputs")
    ins = _as_tuple(inputs, "inputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    _check_inputs(ins)
    grads, captured = _pull_back(outs, grad_outputs, retain_graph, create_graph, ins, False, is_grads_batched)
    result = []
    for i, t in enumerate(ins):
        g = captured.get(id(t))
        if g is None:
            if materialize_grads:
                batch = grads[0]._data.shape[:1 if is_grads_batched else 0]
                g = _wrap(np.zeros(batch + t._data.shape, t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
        result.append(g)
    return tuple(result)
