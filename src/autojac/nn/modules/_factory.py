"""What layers share: ``device``/``dtype`` factory arguments, tuple-ising sizes, the legacy reduction flags."""

from __future__ import annotations

import itertools
import math

from ..._tensor import Tensor
from ...ops.creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module, _cpu_only


def new_parameter(*shape: int, device=None, dtype=None) -> Parameter:
    """An uninitialised parameter of ``shape`` (layers fill it in ``reset_parameters``)."""
    if device is not None:
        _cpu_only(device)
    return Parameter(empty(*shape, dtype=dtype))


def add_weight_and_bias(module: Module, weight_shape: tuple, bias: bool, bias_size: int, device=None,
                        dtype=None) -> None:
    """Register ``weight`` and ``bias`` (or ``bias = None``) as uninitialised parameters."""
    module.weight = new_parameter(*weight_shape, device=device, dtype=dtype)
    if bias:
        module.bias = new_parameter(bias_size, device=device, dtype=dtype)
    else:
        module.register_parameter("bias", None)


def reset_kaiming_uniform(weight: Parameter, bias: Parameter | None) -> None:
    """Linear and conv layers' default init: kaiming_uniform_(a=sqrt(5)), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


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
