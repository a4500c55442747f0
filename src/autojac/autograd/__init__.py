"""``autojac.autograd``: reverse-mode differentiation with PyTorch's API."""

from . import forward_ad, functional
from .api import backward, grad

__all__ = ["backward", "grad", "functional", "forward_ad"]
