"""``Dropout``: zeroes each element with probability ``p`` in training (``F.dropout``), identity in eval;
``Dropout1d/2d/3d`` zero whole channels.

>>> from autojac import nn
>>> nn.Dropout(0.2)
Dropout(p=0.2, inplace=False)
"""

from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class Dropout(Module):
    _fn = "dropout"

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    _fn = "dropout1d"


class Dropout2d(Dropout):
    _fn = "dropout2d"


class Dropout3d(Dropout):
    _fn = "dropout3d"
