"""What layers share: ``device``/``dtype`` factory arguments, tuple-ising sizes, the legacy reduction flags."""

from __future__ import annotations

import itertools

from ..._tensor import Tensor
from ...ops.creation import empty
from ..parameter import Parameter
from .module import _cpu_only


def new_parameter(*shape: int, device=None, dtype=None) -> Parameter:
    """An uninitialised parameter of ``shape`` (layers fill it in ``reset_parameters``)."""
    if device is not None:
        _cpu_only(device)
    return Parameter(empty(*shape, dtype=dtype))


def new_buffer(tensor: Tensor, device=None) -> Tensor:
    if device is not None:
        _cpu_only(device)
    return tensor


def ntuple(n: int):
    def parse(x):
        if isinstance(x, (list, tuple)):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    return parse


_single, _pair, _triple = ntuple(1), ntuple(2), ntuple(3)


def legacy_reduction(size_average, reduce) -> str:
    """PyTorch's ``_Reduction.legacy_get_string`` for the deprecated ``size_average``/``reduce`` flags."""
    import warnings

    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  stacklevel=3)
    return ret
