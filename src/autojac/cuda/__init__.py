"""``autojac.cuda``: what ``torch.cuda`` answers on a machine without CUDA.

autojac computes with NumPy on the CPU, so CUDA is never available. The queries code
asks before choosing a device answer as PyTorch's do without CUDA; seeding is a no-op
there too; anything that needs a GPU raises PyTorch's error.

>>> import autojac
>>> autojac.cuda.is_available(), autojac.cuda.device_count()
(False, 0)
>>> autojac.cuda.manual_seed_all(0)
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "empty_cache", "current_device", "set_device", "synchronize", "get_device_name",
           "get_device_properties", "get_device_capability", "memory_allocated", "max_memory_allocated"]

_NO_CUDA = "Torch not compiled with CUDA enabled (autojac computes with NumPy on the CPU)"


def is_available() -> bool:
    """False: autojac has no CUDA backend."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op, as in PyTorch without CUDA (seed the CPU generator with ``autojac.manual_seed``)."""


def manual_seed_all(seed: int) -> None:
    """A no-op, as in PyTorch without CUDA."""


def seed() -> None:
    """A no-op, as in PyTorch without CUDA."""


def seed_all() -> None:
    """A no-op, as in PyTorch without CUDA."""


def empty_cache() -> None:
    """A no-op, as in PyTorch when CUDA was never initialized."""


def _needs_cuda(name: str):
    def fn(*args, **kwargs):
        raise AssertionError(_NO_CUDA)

    fn.__name__ = name
    fn.__doc__ = f"Raises, as ``torch.cuda.{name}`` does without CUDA."
    return fn


current_device = _needs_cuda("current_device")
set_device = _needs_cuda("set_device")
synchronize = _needs_cuda("synchronize")
get_device_name = _needs_cuda("get_device_name")
get_device_properties = _needs_cuda("get_device_properties")
get_device_capability = _needs_cuda("get_device_capability")
memory_allocated = _needs_cuda("memory_allocated")
max_memory_allocated = _needs_cuda("max_memory_allocated")
