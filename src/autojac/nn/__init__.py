"""``autojac.nn``: PyTorch's ``torch.nn``: ``Module``, ``Parameter``, layers, losses, ``init``, ``functional``.

>>> import autojac
>>> import autojac.nn.functional as F
>>> F.relu(autojac.tensor([-1., 2.]))
tensor([0., 2.])
>>> autojac.nn.Sequential(autojac.nn.Linear(4, 8), autojac.nn.ReLU())
Sequential(
  (0): Linear(in_features=4, out_features=8, bias=True)
  (1): ReLU()
)
"""

from . import functional, init
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .modules.module import RemovableHandle
from .parameter import Buffer, Parameter
from . import utils  # noqa: E402

__all__ = ["functional", "init", "utils", "Parameter", "Buffer", "RemovableHandle", *_modules_all]

# layers outside autojac's scope: a clear error instead of an AttributeError
_OUT_OF_SCOPE = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "Transformer",
                 "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
                 "MultiheadAttention", "DataParallel", "SyncBatchNorm"}


def __getattr__(name: str):
    if name in _OUT_OF_SCOPE:
        raise NotImplementedError(f"autojac.nn.{name} is out of autojac's scope (recurrent, transformer and "
                                  "distributed layers are not provided); build it from autojac.nn layers and ops")
    raise AttributeError(f"module 'autojac.nn' has no attribute '{name}'")
