"""``autojac.linalg``: PyTorch's ``torch.linalg`` namespace (det, slogdet, inv, solve).

The primitives and their derivative rules live in ``autojac.ops.linalg``.
"""

from ..ops.linalg import LinAlgError, det, inv, slogdet, solve

__all__ = ["det", "slogdet", "inv", "solve", "LinAlgError"]
