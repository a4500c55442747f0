"""Learning-rate schedulers (``torch.optim.lr_scheduler``), with PyTorch's recursive and
closed forms so the sequences of learning rates are PyTorch's to the last bit.

>>> import autojac
>>> w = autojac.zeros(1, requires_grad=True)
>>> opt = autojac.optim.SGD([w], lr=1.0)
>>> sched = autojac.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     opt.step(); lrs.append(sched.get_last_lr()[0]); sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from .base import LRScheduler, _LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .cyclic import OneCycleLR
from .decay import (ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, LambdaLR, LinearLR,
                    MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR)
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "SequentialLR",
           "ChainedScheduler", "OneCycleLR", "ReduceLROnPlateau", "_LRScheduler"]
