"""``autojac.autograd``: reverse-mode differentiation with PyTorch's API."""

from . import functional
from .api import backward, grad

__all__ = ["backward", "grad", "functional"]
