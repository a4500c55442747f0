"""Tensor creation: ``tensor``, ``zeros``, ``ones``, ``arange``, ``rand``... with PyTorch's dtype inference."""

from __future__ import annotations

import math
import os

import numpy as np

from .. import _dtype
from .._core.batched import Batched, read_batched
from .._device import check_device
from .._random import batched_draw, check_vmap_randomness, default_generator, draw_shape
from .._tensor import Tensor, _wrap

__all__ = [
    "tensor", "as_tensor", "from_numpy", "asarray", "zeros", "ones", "full", "empty", "zeros_like",
    "ones_like", "full_like", "empty_like", "arange", "linspace", "logspace", "eye", "rand", "randn",
    "randint", "rand_like", "randn_like", "randint_like", "randperm", "normal", "scalar_tensor",
]


_SEQ = (list, tuple, range)


def _leaf_dtype(x) -> _dtype.dtype:
    """The dtype one element contributes: its own for tensors and NumPy values, the default for Python's."""
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return _np_dtype(x.dtype)
    if isinstance(x, (bool, int, float, complex)):
        return _dtype.scalar_dtype(x)
    if x is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    raise TypeError(f"Could not infer dtype of {type(x).__name__}: tensor data must be numbers, "
                    "(nested) sequences of numbers, NumPy arrays or tensors")


def _infer_dtype(data) -> _dtype.dtype:
    """PyTorch's dtype for Python data: the promotion of all elements' dtypes.

    Python scalars count as bool, int64, the default float or complex dtype; NumPy
    scalars, arrays and tensors count with their own dtype (``[np.float64(1.), 2.]``
    is float64, ``[1, np.int32(2)]`` int64).
    """
    result = None
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, _SEQ):
            kinds = set(map(type, x))
            if kinds <= {float, int, bool, complex}:  # the common case, decided without a Python loop
                found = [_dtype.scalar_dtype(k()) for k in kinds]
            else:
                stack.extend(x)
                continue
        else:
            found = [_leaf_dtype(x)]
        for d in found:
            result = d if result is None or result is d else _dtype.result_type(result, 2, d, 2)
    return result if result is not None else _dtype.get_default_dtype()


def _np_dtype(npd: np.dtype) -> _dtype.dtype:
    d = _dtype.FROM_NP.get(npd)
    if d is None:
        raise TypeError(f"can't convert np.ndarray of type {npd}. The only supported types are: float64, "
                        "float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
    return d


def _ragged_error(data) -> Exception:
    """PyTorch's message for nested sequences that do not form a rectangular array."""
    sizes = []
    x = data
    while isinstance(x, (*_SEQ, np.ndarray, Tensor)) and getattr(x, "ndim", 1):
        sizes.append(len(x))
        if not len(x):
            break
        x = x[0]

    def check(x, dim: int) -> Exception | None:
        is_seq = isinstance(x, (*_SEQ, np.ndarray, Tensor)) and getattr(x, "ndim", 1) > 0
        if dim == len(sizes):
            return TypeError(f"expected a number at dim {dim} of the nested data (got a sequence)") if is_seq else None
        if not is_seq:
            return TypeError(f"expected a sequence of length {sizes[dim]} at dim {dim} (got a number)")
        if len(x) != sizes[dim]:
            return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)})")
        for item in x:
            err = check(item, dim + 1)
            if err is not None:
                return err
        return None

    return check(data, 0) or ValueError("expected a rectangular nested sequence of numbers")


def _to_array(data, dtype) -> np.ndarray:
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (np.ndarray, np.generic)):  # NumPy values keep their dtype, as in PyTorch
        arr = np.asarray(data)
    elif isinstance(data, _SEQ):
        d = _infer_dtype(data) if dtype is None else _dtype.to_dtype(dtype)
        try:
            arr = np.array(_unwrap_nested(data))
        except (ValueError, OverflowError):
            raise _ragged_error(data) from None
        if arr.dtype == object or arr.dtype == np.uint64:  # Python ints beyond int64
            if d.category < 2:
                raise ValueError("Overflow when unpacking long long")
            arr = np.array(_unwrap_nested(data), dtype=d.np)
        if arr.dtype == object:
            raise _ragged_error(data)
        return arr.astype(d.np, copy=False)
    else:
        d = _leaf_dtype(data)  # a clear error for strings, None and other non-numbers
        if type(data) is int and not -2**63 <= data < 2**63:
            if (_dtype.to_dtype(dtype) if dtype is not None else d).category < 2:
                raise ValueError("Overflow when unpacking long long")
            data = float(data)
        arr = np.array(data)
    if dtype is None:
        d = _np_dtype(arr.dtype) if isinstance(data, (Tensor, np.ndarray, np.generic)) else _infer_dtype(data)
    else:
        d = _dtype.to_dtype(dtype)
    return arr.astype(d.np, copy=False)


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, _SEQ):
        return [_unwrap_nested(x) for x in data]
    return data


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (numbers, nested lists, arrays).

    >>> import autojac
    >>> autojac.tensor([[1, 2], [3, 4]]).dtype, autojac.tensor([0.5]).dtype
    (autojac.int64, autojac.float32)
    """
    check_device(device)
    if isinstance(data, Tensor):
        arr = data._data.astype(_dtype.to_dtype(dtype).np) if dtype is not None else data._data
        return _finish(arr.copy(), requires_grad)
    return _finish(np.array(_to_array(data, dtype), copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a Tensor or ndarray where it can."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is _dtype.to_dtype(dtype) else data.to(dtype)
    return _wrap(_to_array(data, dtype))


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return _wrap(_to_array(ndarray, None))


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return tensor(float(s), dtype=dtype, device=device, requires_grad=requires_grad)


def _size(size, size_kw=None, fn: str = "zeros") -> tuple:
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))`` (PyTorch's keyword)."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{fn}() got multiple values for argument 'size'")
        if not isinstance(size_kw, (tuple, list)):
            raise TypeError(f"{fn}(): argument 'size' must be tuple of ints, not {type(size_kw).__name__}")
        size = tuple(size_kw)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"size must be a sequence of ints, got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _allocatable(shape: tuple, npd: np.dtype) -> tuple:
    """``shape``, after checking that its storage can exist (PyTorch's errors, raised before allocating)."""
    n = math.prod(shape)
    nbytes = n * np.dtype(npd).itemsize
    if n >= 2**63 or nbytes >= 2**63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    if nbytes > _physical_memory():
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                           "Error code 12 (Cannot allocate memory)")
    return shape


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: let NumPy try
        return 2**63


def _float_dtype(dtype) -> np.dtype:
    return (_dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np


def _filled(fill, shape: tuple, dtype, device, requires_grad) -> Tensor:
    check_device(device)
    d = _float_dtype(dtype)
    return _finish(np.full(_allocatable(shape, d), fill, dtype=d), requires_grad)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of zeros; the shape as ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.

    >>> import autojac
    >>> autojac.zeros(2, 3).shape, autojac.zeros(size=(2,)).shape
    (autojac.Size([2, 3]), autojac.Size([2]))
    """
    return _filled(0, _size(sizes, size, "zeros"), dtype, device, requires_grad)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of ones."""
    return _filled(1, _size(sizes, size, "ones"), dtype, device, requires_grad)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad: bool = False, **kw) -> Tensor:
    """An uninitialized tensor (zeros here, for determinism)."""
    return _filled(0, _size(sizes, size, "empty"), dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it, as in PyTorch)."""
    check_device(device)
    if dtype is None:
        dtype = _infer_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    d = _dtype.to_dtype(dtype).np
    shape = _allocatable(_size((size,) if isinstance(size, int) else tuple(size)), d)
    return _finish(np.full(shape, fill_value, dtype=d), requires_grad)


def _like(fill):
    def fn(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
        check_device(device)
        d = _dtype.to_dtype(dtype).np if dtype is not None else input._data.dtype
        return _finish(np.full(input._data.shape, fill, dtype=d), requires_grad)
    return fn


zeros_like = _like(0)
ones_like = _like(1)
empty_like = _like(0)
zeros_like.__doc__ = "Zeros with the shape and dtype of ``input``."
ones_like.__doc__ = "Ones with the shape and dtype of ``input``."


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    d = _dtype.to_dtype(dtype).np if dtype is not None else input._data.dtype
    return _finish(np.full(input._data.shape, fill_value, dtype=d), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless a bound is a float.

    >>> import autojac
    >>> autojac.arange(3.)
    tensor([0., 1., 2.])
    """
    check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError(f"upper bound and lower bound inconsistent with step sign: arange({vals[0]}, "
                           f"{vals[1]}, {vals[2]}) would be empty")
    if dtype is None:
        dtype = _infer_dtype(vals)
    d = _dtype.to_dtype(dtype)
    n = max(0, math.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + np.arange(n, dtype=np.float64 if d.category >= 2 else np.int64) * vals[2]).astype(d.np)
    return _finish(arr, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    The values are PyTorch's bit for bit up to 15 points (its scalar kernel); longer ones may
    differ in the last bit where PyTorch's SIMD kernel takes over.

    >>> import autojac
    >>> autojac.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    check_device(device)
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    start, end = (v.item() if isinstance(v, Tensor) else v for v in (start, end))
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    return _finish(_linspace(start, end, int(steps), d.np), requires_grad)


def _linspace(start, end, steps: int, npd: np.dtype) -> np.ndarray:
    """PyTorch's CPU kernel: ``start + step*i`` for the first half, ``end - step*(steps-1-i)`` after.

    PyTorch computes in the output dtype with fused multiply-adds (a double step for
    integer outputs); computing in a wider type and rounding once gives the same values.
    """
    if steps <= 1:
        return np.full(steps, start, dtype=npd)
    i = np.arange(steps)
    first = i < steps // 2
    if npd == np.float16:  # c10::Half arithmetic rounds after every operation
        s, e = np.float16(start), np.float16(end)
        step = np.float16(np.float32(np.float16(e - s)) / (steps - 1))
        lo = s + (step * i.astype(np.float16)).astype(np.float16)
        hi = e - (step * (steps - 1 - i).astype(np.float16)).astype(np.float16)
        return np.where(first, lo, hi).astype(npd)
    if npd.kind == "f":  # the step in the output dtype, each operation rounded
        s, e = npd.type(start), npd.type(end)
        step = npd.type(npd.type(e - s) / npd.type(steps - 1))
        wide = np.longdouble if npd == np.float64 else np.float64
    else:  # integer outputs: a double step, truncated results
        s, e = np.float64(int(start)), np.float64(int(end))
        step = (e - s) / (steps - 1)
        wide = np.longdouble
    lo = wide(s) + wide(step) * i
    hi = wide(e) - wide(step) * (steps - 1 - i)
    # round once to double (the fused multiply-add's result), then to the output dtype
    return np.where(first, lo, hi).astype(np.float64).astype(npd)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    check_device(device)
    return _finish(np.logspace(float(start), float(end), steps, base=base).astype(_float_dtype(dtype)),
                   requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    check_device(device)
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise RuntimeError(f"eye(): {name} must be greater or equal to 0, got {v}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def _gen(generator):
    """The generator to draw from, and the vectorized vmaps (randomness "different") whose batches the
    draw spans: one leading dim each, in front of the requested shape (``draw_shape``)."""
    levels = check_vmap_randomness(generator)
    return (default_generator if generator is None else generator), levels


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1); same stream as PyTorch's CPU generator for a given seed."""
    check_device(device)
    d = _float_dtype(dtype)
    shape = _allocatable(_size(sizes, size, "rand"), d)
    gen, levels = _gen(generator)
    shape = draw_shape(levels, shape)
    if d.kind == "c":  # PyTorch draws the real and imaginary parts as one real tensor of twice the size
        f = _real_of(d)
        vals = gen.uniform(2 * math.prod(shape), f).astype(f)
        return batched_draw(_finish(vals.view(d).reshape(shape), requires_grad), levels)
    vals = gen.uniform(math.prod(shape), d).astype(d)
    if d == np.float16:  # a draw that rounds up to 1 wraps to 0, as in PyTorch: [0, 1) stays half-open
        vals[vals == 1] = 0
    return batched_draw(_finish(vals.reshape(shape), requires_grad), levels)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples; same stream as PyTorch's CPU generator for a given seed.

    >>> import autojac
    >>> _ = autojac.manual_seed(0); autojac.randn(3)
    tensor([ 1.5410, -0.2934, -2.1788])
    """
    check_device(device)
    d = _float_dtype(dtype)
    shape = _allocatable(_size(sizes, size, "randn"), d)
    gen, levels = _gen(generator)
    shape = draw_shape(levels, shape)
    if d.kind == "c":  # PyTorch: normal parts of variance 1/2, drawn as one real tensor of twice the size
        f, n = _real_of(d), 2 * math.prod(shape)
        vals = gen.normal(n, f)
        std = 1.0 / math.sqrt(2.0)  # multiplied in float32 where PyTorch's float kernel does (n >= 16)
        vals = vals.astype(f) * f.type(std) if f == np.float32 and n >= 16 else (vals * std).astype(f)
        return batched_draw(_finish(vals.view(d).reshape(shape), requires_grad), levels)
    vals = gen.normal(math.prod(shape), d)
    return batched_draw(_finish(vals.astype(d).reshape(shape), requires_grad), levels)


def _real_of(d: np.dtype) -> np.dtype:
    return np.dtype(np.float32 if d == np.complex64 else np.float64)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)``, ``randint(low, high, size)``.

    >>> import autojac
    >>> autojac.randint(0, 5, size=(3,)).shape, autojac.randint(5, size=(2,)).dtype
    (autojac.Size([3]), autojac.int64)
    """
    check_device(device)
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    shape = _allocatable(_size((), size, "randint"), d.np)
    gen, levels = _gen(generator)
    shape = draw_shape(levels, shape)
    vals = gen.integers(int(low), int(high), math.prod(shape))
    return batched_draw(_finish(vals.astype(d.np).reshape(shape), requires_grad), levels)


def rand_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return rand(*input._data.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randn(*input._data.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, dtype=None, device=None) -> Tensor:
    return randint(low, high, input._data.shape, dtype=dtype or input.dtype, device=device)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``; the same as PyTorch's for a given seed."""
    check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    d = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    gen, levels = _gen(generator)
    if levels:  # one permutation per batch element: the loop over the batch draws them
        read_batched("randperm under vmap(randomness='different')")
    return _finish(gen.permutation(int(n)).astype(d.np), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    check_device(device)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        z = randn(*ref._data.shape, generator=generator, dtype=ref.dtype)
        return z * std + mean
    return randn(*_size(tuple(size)), generator=generator, dtype=dtype) * std + mean


def _new(fill):
    def method(self: Tensor, *sizes, size=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        check_device(device)
        d = _dtype.to_dtype(dtype).np if dtype is not None else self._data.dtype
        return _finish(np.full(_allocatable(_size(sizes, size, "new_zeros"), d), fill, dtype=d), requires_grad)
    return method


def _new_tensor(self: Tensor, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return tensor(data, dtype=dtype if dtype is not None else self.dtype, device=device, requires_grad=requires_grad)


def _new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    d = dtype if dtype is not None else self.dtype
    return full(size, fill_value, dtype=d, device=device, requires_grad=requires_grad)


def _sampler_(draw):
    def method(self: Tensor, *args, generator=None, **kw) -> Tensor:
        gen, levels = _gen(generator)
        if levels:
            d = self._data
            if not (len(levels) == 1 and type(d) is Batched and d.level == levels[0].level
                    and type(d.phys._data) is not Batched):  # other nestings: the loop over the batch writes them
                read_batched("an in-place random fill under vmap(randomness='different')")
            phys = d.phys  # one fill of the whole batch, as torch.func draws it
            phys._data[...] = draw(phys, gen, *args, **kw).reshape(phys._data.shape).astype(phys._data.dtype)
            phys._vc[0] += 1
            if self._vc is not phys._vc:
                self._vc[0] += 1
            return self
        vals = draw(self, gen, *args, **kw)
        self._data[...] = vals.reshape(self._data.shape).astype(self._data.dtype)
        self._vc[0] += 1
        return self
    return method
