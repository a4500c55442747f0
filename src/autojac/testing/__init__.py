"""``autojac.testing``: ``assert_close`` and ``make_tensor``, as ``torch.testing``.

>>> import autojac
>>> autojac.testing.assert_close(autojac.tensor([1.0, 2.0]), autojac.tensor([1.0, 2.0 + 1e-7]))
"""

from ._comparison import assert_close
from ._creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
