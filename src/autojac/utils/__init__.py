"""``autojac.utils``: helpers in the places PyTorch keeps them (``autojac.utils.checkpoint``)."""

from . import benchmark, checkpoint
from . import data

__all__ = ["benchmark", "checkpoint"]
