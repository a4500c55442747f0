"""``autojac.utils``: helpers in the places PyTorch keeps them (``autojac.utils.checkpoint``)."""

from . import checkpoint

__all__ = ["checkpoint"]
