"""Scalar types: autojac dtypes, the default dtype and PyTorch's promotion rules."""

from __future__ import annotations

import builtins as _builtins

import numpy as np

_pyfloat, _pyint, _pybool, _pycomplex = _builtins.float, _builtins.int, _builtins.bool, _builtins.complex

__all__ = [
    "dtype", "float16", "float32", "float64", "complex64", "complex128",
    "int8", "int16", "int32", "int64", "uint8", "bool",
    "half", "float", "double", "int", "long", "short", "cfloat", "cdouble",
    "get_default_dtype", "set_default_dtype", "to_dtype", "result_type",
]

# Promotion categories, in PyTorch's order.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, e.g. ``autojac.float32``; wraps a NumPy dtype."""

    __slots__ = ("name", "np", "category", "itemsize")

    def __init__(self, name: str, np_dtype: np.dtype, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    @property
    def is_signed(self) -> bool:
        return self.np.kind != "u" and self.category != _BOOL

    def __repr__(self) -> str:
        return f"autojac.{self.name}"

    def __reduce__(self):
        return (to_dtype, (self.name,))


float16 = dtype("float16", np.float16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
complex64 = dtype("complex64", np.complex64, _COMPLEX)
complex128 = dtype("complex128", np.complex128, _COMPLEX)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - PyTorch's name

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

_ALL = (float16, float32, float64, complex64, complex128, int8, int16, int32, int64, uint8, bool)
FROM_NP: dict[np.dtype, dtype] = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}

# PyTorch's ScalarType names, which its error messages print ("expected scalar type Float")
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "uint8": "Byte", "bool": "Bool"}


def torch_name(d) -> str:
    """PyTorch's name of an autojac or NumPy dtype in its error messages (its own name if PyTorch has none).

    >>> torch_name(float32), torch_name(np.dtype("int64")), torch_name(np.dtype("float128"))
    ('Float', 'Long', 'float128')
    """
    return _TORCH_NAMES.get(d.name, d.name)


_default = float32


def get_default_dtype() -> dtype:
    """The floating dtype that new float tensors get (``float32`` unless changed).

    >>> import autojac
    >>> autojac.get_default_dtype()
    autojac.float32
    """
    return _default


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (``float32`` or ``float64`` or ``float16``).

    >>> import autojac
    >>> autojac.set_default_dtype(autojac.float64); autojac.tensor([1.5]).dtype
    autojac.float64
    >>> autojac.set_default_dtype(autojac.float32)
    """
    global _default
    d = to_dtype(d)
    if d.category != _FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d


def to_dtype(d) -> dtype:
    """Accept an autojac dtype, a NumPy dtype or type, a name, or a Python type.

    Python's types map as in PyTorch, whatever the default dtype: ``float`` is float64,
    ``complex`` complex128, ``int`` int64, ``bool`` bool.

    >>> import builtins as py
    >>> to_dtype(py.float), to_dtype(py.complex), to_dtype("float32")
    (autojac.float64, autojac.complex128, autojac.float32)
    """
    if isinstance(d, dtype):
        return d
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    if d is _pyfloat:
        return float64
    if d is _pyint:
        return int64
    if d is _pybool:
        return bool
    if d is _pycomplex:
        return complex128
    try:
        return FROM_NP[np.dtype(d)]
    except (TypeError, KeyError):
        raise TypeError(f"dtype must be an autojac dtype such as autojac.float32, got {d!r}") from None


def default_for_category(category: int) -> dtype:
    if category == _FLOAT:
        return _default
    if category == _COMPLEX:
        return complex128 if _default is float64 else complex64
    if category == _INT:
        return int64
    return bool


def scalar_dtype(x) -> dtype:
    """The dtype PyTorch infers for a Python scalar or a nested list of them."""
    if isinstance(x, _pybool):
        return bool
    if isinstance(x, _pyint):
        return int64
    if isinstance(x, _pyfloat):
        return _default
    if isinstance(x, _pycomplex):
        return default_for_category(_COMPLEX)
    raise TypeError(f"expected a number, got {type(x).__name__}")


_promote_cache: dict = {}


def result_type(a, a_level: _builtins.int, b, b_level: _builtins.int) -> dtype:
    """PyTorch's promotion of two operands.

    ``a``/``b`` are dtypes; a level says how strongly each operand takes part:
    2 for a tensor with dimensions, 1 for a zero-dim tensor, 0 for a Python scalar.
    """
    key = (a, a_level, b, b_level)
    r = _promote_cache.get(key)
    if r is not None:
        return r
    if a.category == b.category:
        if a_level == b_level:
            r = FROM_NP[np.promote_types(a.np, b.np)] if a is not b else a
        else:
            r = a if a_level > b_level else b
    else:
        (hi, hi_level), (lo, lo_level) = ((a, a_level), (b, b_level)) if a.category > b.category else \
            ((b, b_level), (a, a_level))
        r = default_for_category(hi.category) if hi_level == 0 else hi
        if hi.category == _COMPLEX and lo.category == _FLOAT and lo_level >= hi_level and lo_level:
            # PyTorch keeps the float's precision: float64 with a complex scalar (or complex64) is complex128
            r = FROM_NP[np.promote_types(lo.np, r.np)] if lo_level == hi_level else (
                complex128 if lo is float64 else complex64)
    if a_level and b_level:  # scalars' "dtype" depends on the default; don't cache those
        _promote_cache[key] = r
    return r
