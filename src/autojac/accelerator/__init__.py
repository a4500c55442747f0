"""``autojac.accelerator``: no accelerator is ever present (autojac computes with NumPy on the CPU).

>>> import autojac
>>> autojac.accelerator.is_available(), autojac.accelerator.device_count()
(False, 0)
"""

from __future__ import annotations

__all__ = ["is_available", "device_count", "current_accelerator"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator."""
    return None
