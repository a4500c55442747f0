"""``autojac.nn``: PyTorch's ``torch.nn`` namespace; for now its functional interface.

>>> import autojac
>>> import autojac.nn.functional as F
>>> F.relu(autojac.tensor([-1., 2.]))
tensor([0., 2.])
"""

from . import functional
from . import utils

__all__ = ["functional"]
