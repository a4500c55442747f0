"""Copies and casts: clone, to/type and the dtype methods, alias."""

from __future__ import annotations

from ... import _dtype
from ..._core.batched import Batched
from ..._core.batching import BROADCAST
from ..._core.node import Saves, nondiff
from ..._core.patterns import LINEAR
from ..._device import check_device, device
from ..._tensor import Tensor, _wrap
from .._declare import defop

# --------------------------------------------------------------------------- copies and casts
_clone = defop("clone", lambda x: x.copy(), vjp=(lambda g, ans, x: g,), jvp=(lambda t, ans, x: t,),
               saves_inputs=Saves.NOTHING, sparsity=LINEAR, batch=BROADCAST)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of the data that stays in the graph."""
    return _clone(input)


def _cast_forward(x, dtype):
    return x.astype(dtype)


_cast = defop("to", _cast_forward,
              vjp=(lambda g, ans, x, dtype: _cast_to(g, x.dtype),),
              jvp=(lambda t, ans, x, dtype: _cast_to(t, _dtype.FROM_NP[dtype]),),
              saves_inputs=Saves.NOTHING, grad_name="ToCopyBackward0", sparsity=LINEAR, batch=BROADCAST)


def _cast_to(x: Tensor, d: _dtype.dtype) -> Tensor:
    if x._data.dtype == d.np:
        return x
    if x._data.dtype.kind in "fc" and d.category >= 2:
        return _cast(x, d.np)
    if type(x._data) is Batched:  # under vmap: an op, which runs on the whole batch
        return _cast_nograd(x, d.np)
    return _wrap(x._data.astype(d.np))  # to an integer type, or from one: no gradient


_cast_nograd = nondiff("to_nograd", _cast_forward, batch=BROADCAST)


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Convert to a dtype; ``device`` may be given (a string, ``autojac.device`` or a tensor's) but only the
    CPU exists. ``to(dtype)``, ``to(device, dtype)``, ``to(other)``, ``to(dtype=..., device=..., copy=...)``.

    >>> import autojac
    >>> autojac.ones(2).to("cpu", float).dtype
    autojac.float64
    """
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    check_device(kwargs.pop("device", None))
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    flags = [a for a in args[1:] if isinstance(a, bool)]  # non_blocking, copy passed positionally
    if len(flags) >= 2:
        copy = flags[1]
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            check_device(a)
        elif not (i and isinstance(a, bool)):
            dtype = a
    if dtype is None:
        return clone(self) if copy else self
    out = _cast_to(self, _dtype.to_dtype(dtype))
    return clone(out) if copy and out is self else out


def _cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    check_device("cuda")


_LEGACY_TYPE_NAMES = {f"torch.{k}Tensor": v for k, v in (
    ("Float", _dtype.float32), ("Double", _dtype.float64), ("Half", _dtype.float16), ("Long", _dtype.int64),
    ("Int", _dtype.int32), ("Short", _dtype.int16), ("Char", _dtype.int8), ("Byte", _dtype.uint8),
    ("Bool", _dtype.bool), ("ComplexFloat", _dtype.complex64), ("ComplexDouble", _dtype.complex128))}


def _caster(d: _dtype.dtype):
    def method(self: Tensor, memory_format=None) -> Tensor:
        return _cast_to(self, d)
    return method


def _type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs):
    if isinstance(dtype, str) and dtype in _LEGACY_TYPE_NAMES:
        dtype = _LEGACY_TYPE_NAMES[dtype]
    if dtype is None:
        return {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "int64": "torch.LongTensor",
                "int32": "torch.IntTensor", "bool": "torch.BoolTensor", "float16": "torch.HalfTensor"}.get(
            self.dtype.name, self.dtype.name)
    return to(self, dtype)


# The same storage under a new tensor object (in the graph, identity rules): what
# make_dual/unpack_dual return, as PyTorch returns views there.
alias = defop("alias", lambda x: x.view(), vjp=(lambda g, ans, x: g,), jvp=(lambda t, ans, x: t,),
              saves_inputs=Saves.NOTHING, grad_name="AliasBackward0", sparsity=LINEAR, batch=BROADCAST)
