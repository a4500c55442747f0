"""``autojac.autograd.graph``: hooks on the tensors saved for backward (PyTorch's ``torch.autograd.graph``).

>>> import autojac
>>> from autojac.autograd.graph import saved_tensors_hooks
>>> seen = []
>>> x = autojac.ones(3, requires_grad=True)
>>> with saved_tensors_hooks(lambda t: seen.append(t.shape) or t, lambda t: t):
...     y = x * x
>>> y.sum().backward(); seen, x.grad
([autojac.Size([3]), autojac.Size([3])], tensor([2., 2., 2.]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core import saved_hooks

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks"]


class saved_tensors_hooks:
    """Within the block, every tensor an op saves for backward goes through ``pack_hook(tensor)``, and
    backward reads ``unpack_hook(packed)`` in its place. Blocks nest: the innermost pair applies."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        saved_hooks.push(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc) -> None:
        saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are copied to CPU memory and moved back when backward reads them. autojac tensors
    always live there, so this keeps a copy; ``pin_memory`` and ``device_type`` are accepted as in PyTorch."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor):
            return tensor.device, tensor.detach().clone()

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Within the block, using ``saved_tensors_hooks`` raises ``RuntimeError(error_message)`` (so does
    entering this block while hooks are in force)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        saved_hooks.push_disabled(self.error_message)

    def __exit__(self, *exc) -> None:
        saved_hooks.pop_disabled()
