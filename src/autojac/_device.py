"""Devices: ``autojac.device`` and the one check every ``device=`` argument goes through.

autojac computes with NumPy in host memory, so ``"cpu"`` is the only device a tensor can
live on. Other devices can be named (``device("cuda")`` builds, as in PyTorch) but using
one raises PyTorch's error for a build without it.
"""

from __future__ import annotations

import re

__all__ = ["device", "check_device", "CPU"]

# PyTorch's device types, in the order of its error message
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
          "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

_DEVICE_STRING = re.compile(r"[a-zA-Z_]+(:([1-9][0-9]*|0))?")


class device:
    """A device name with an optional index, as ``torch.device``.

    >>> import autojac
    >>> autojac.device("cpu"), autojac.device("cpu", 0), autojac.ones(2).device
    (device(type='cpu'), device(type='cpu', index=0), device(type='cpu'))
    >>> str(autojac.device("cpu:0")), autojac.device("cpu").index
    ('cpu:0', None)
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device object takes no index")
            type, index = type._type, type._index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # as PyTorch: a bare ordinal names a CUDA device
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid argument: expected a string or an int, "
                            f"got {_type_name(type)}")
        else:
            if not _DEVICE_STRING.fullmatch(type):
                raise RuntimeError(f"Invalid device string: '{type}'")
            name, sep, idx = type.partition(":")
            if name not in _TYPES:
                raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device "
                                   f"string: {type}")
            if sep:
                if index is not None:
                    raise RuntimeError(f"type (string) must not include an index because index was passed "
                                       f"explicitly: {type}")
                index = int(idx)
            type = name
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self._type, self._index = type, index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        idx = "" if self._index is None else f", index={self._index}"
        return f"device(type='{self._type}'{idx})"

    def __reduce__(self):
        return (device, (self._type, self._index))


def _type_name(x) -> str:
    return type(x).__name__


CPU = device("cpu")


def check_device(dev) -> None:
    """Accept ``None``, ``"cpu"`` (``"cpu:0"``) or ``device("cpu")``; raise PyTorch's error for any other.

    >>> check_device("cpu")
    >>> check_device("cuda")
    Traceback (most recent call last):
    ...
    AssertionError: Torch not compiled with CUDA enabled (autojac computes with NumPy on the CPU)
    """
    if dev is None or dev == "cpu" or (type(dev) is device and dev._type == "cpu"):
        return
    d = dev if isinstance(dev, device) else device(dev)
    if d._type == "cpu":
        return
    if d._type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled (autojac computes with NumPy on the CPU)")
    if d._type == "meta":
        raise NotImplementedError("autojac has no meta tensors: every tensor holds its data in a NumPy array "
                                  "on the CPU; use device='cpu'")
    raise RuntimeError(f"autojac is not linked with support for {d._type} devices: tensors live on the CPU "
                       "(NumPy); use device='cpu'")
