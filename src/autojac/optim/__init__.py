"""``autojac.optim``: PyTorch's optimizers and learning-rate schedulers.

Updates run in place on the parameters' arrays in the operation order of PyTorch's
single-tensor (``foreach=False``) implementations, so trajectories match PyTorch's.

>>> import autojac
>>> w = autojac.tensor([2.0], requires_grad=True)
>>> opt = autojac.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
>>> w
tensor([0.2500], requires_grad=True)
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "NAdam", "Optimizer", "RAdam", "RMSprop",
           "Rprop", "SGD", "lr_scheduler"]
