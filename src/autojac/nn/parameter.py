"""``nn.Parameter`` and ``nn.Buffer``: tensors that a ``Module`` registers as parameters or buffers on assignment.

The engine dispatches on ``type(x) is Tensor`` on its hot paths, so a parameter stays an
instance of ``Tensor`` itself, marked as a parameter; ``isinstance(p, Parameter)`` reads the mark.

>>> import autojac
>>> p = autojac.nn.Parameter(autojac.tensor([1., 2.]))
>>> p
Parameter containing:
tensor([1., 2.], requires_grad=True)
>>> isinstance(p, autojac.nn.Parameter), isinstance(p, autojac.Tensor), p.is_leaf
(True, True, True)
"""

from __future__ import annotations

from .._tensor import Tensor, _wrap
from ..ops.creation import empty


class _ParameterMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.__dict__.get("_is_param", False)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """``Parameter(data=None, requires_grad=True)``: shares ``data``'s storage, as PyTorch's does."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        return as_parameter(data._data, requires_grad)


def as_parameter(array, requires_grad: bool = True) -> Tensor:
    """A parameter owning the NumPy ``array`` (no copy)."""
    t = _wrap(array)
    t.requires_grad_(requires_grad)
    t.__dict__["_is_param"] = True
    return t


def is_parameter(obj) -> bool:
    return isinstance(obj, Tensor) and obj.__dict__.get("_is_param", False)


class _BufferMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.__dict__.get("_is_buffer", False)


class Buffer(Tensor, metaclass=_BufferMeta):
    """``Buffer(data=None, *, persistent=True)``: assigned to a module attribute, it becomes a buffer.

    >>> import autojac
    >>> m = autojac.nn.Module()
    >>> m.stat = autojac.nn.Buffer(autojac.zeros(2), persistent=False)
    >>> [name for name, _ in m.named_buffers()], list(m.state_dict())
    (['stat'], [])
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.__dict__["persistent"] = persistent
        t.__dict__["_is_buffer"] = True
        return t
