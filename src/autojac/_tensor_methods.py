"""Tensor's methods that live above the core: assigned here, one line each, so each can be followed
to its definition.

``_tensor.py`` defines the class with what needs only the core (data, shape, autograd state,
conversions). The methods built from ops, autograd and the legacy constructors are assigned below;
``autojac/__init__.py`` imports this module last, after every layer they come from. The type stub
``_tensor.pyi`` (``python -m autojac._stubgen``) declares them all for editors and type checkers.

>>> import autojac
>>> autojac.Tensor.backward is autojac.autograd.api.tensor_backward
True
"""

from __future__ import annotations

from . import _legacy
from ._tensor import Tensor
from .autograd import api

# ----------------------------------------------------------------- construction and autograd
Tensor.__new__ = staticmethod(_legacy.tensor_new)  # Tensor(2, 3), Tensor([1., 2.])
Tensor.backward = api.tensor_backward
