"""Module backward hooks: ``register_full_backward_hook`` and ``register_full_backward_pre_hook``.

As in PyTorch, a module call with backward hooks passes its tensor inputs and outputs through
identity functions; the output one sees ``grad_output`` (pre-hooks may replace it), the input one
sees ``grad_input`` (the module's hooks may replace it) once all of it is known.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Function


class _Identity(Function):
    """Passes tensors through; its backward hands their gradients to ``on_grads`` (which may replace them)."""

    @staticmethod
    def forward(ctx, on_grads, *tensors):
        ctx.on_grads = on_grads
        return tuple(t.clone() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.on_grads(grads))


def _through(tensors: list[Tensor], on_grads) -> list[Tensor]:
    out = _Identity.apply(on_grads, *tensors)
    return list(out) if isinstance(out, tuple) else [out]


def call_with_backward_hooks(module, forward, args: tuple, kwargs: dict):
    """``forward(*args, **kwargs)`` with the module's backward pre-hooks and hooks wired in."""
    state: dict = {"grad_output": None}
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    inputs_need_grad = any(args[i].requires_grad for i in positions)

    def run_hooks(grad_input: tuple) -> tuple:
        for hook in list(module._backward_hooks.values()):
            out = hook(module, grad_input, state["grad_output"])
            if out is not None:
                if len(out) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                       f"but expected {len(grad_input)}")
                grad_input = tuple(out)
        return grad_input

    def on_output_grads(grads: tuple) -> tuple:
        for hook in list(module._backward_pre_hooks.values()):
            out = hook(module, grads)
            if out is not None:
                grads = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        state["grad_output"] = grads
        if not inputs_need_grad:  # PyTorch calls the hooks now, with no input gradients
            run_hooks((None,) * len(positions))
        return grads

    if inputs_need_grad:
        wrapped = _through([args[i] for i in positions], run_hooks)
        args = list(args)
        for i, t in zip(positions, wrapped):
            args[i] = t
        args = tuple(args)
    result = forward(*args, **kwargs)
    if isinstance(result, Tensor):
        return _through([result], on_output_grads)[0] if result.requires_grad else result
    if isinstance(result, (tuple, list)) and any(isinstance(r, Tensor) and r.requires_grad for r in result):
        idx = [i for i, r in enumerate(result) if isinstance(r, Tensor) and r.requires_grad]
        out = list(result)
        for i, t in zip(idx, _through([result[i] for i in idx], on_output_grads)):
            out[i] = t
        return type(result)(out)
    return result
