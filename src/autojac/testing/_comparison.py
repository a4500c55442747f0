"""``assert_close``: PyTorch's comparison of tensors, numbers and their containers, with its messages.

Tolerances default per dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7; ...), the
loosest of the two inputs; a mismatch raises PyTorch's ``AssertionError`` text, e.g.
``Tensor-likes are not close!`` with the count of mismatched elements and the greatest
absolute and relative differences and their indices.

>>> import autojac
>>> from autojac.testing import assert_close
>>> try:
...     assert_close(autojac.tensor([1.0, 2.0, 3.0]), autojac.tensor([1.0, 2.5, 3.0]))
... except AssertionError as e:
...     print(e)
Tensor-likes are not close!
<BLANKLINE>
Mismatched elements: 1 / 3 (33.3%)
Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)
"""

from __future__ import annotations

import collections.abc
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..ops.creation import as_tensor

__all__ = ["assert_close"]

_PRECISIONS = {"float16": (0.001, 1e-5), "bfloat16": (0.016, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex32": (0.001, 1e-5), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPES = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}


class _Failure(Exception):
    """A comparison failure: the exception type to raise, its message and the item path."""

    def __init__(self, type_: type, msg: str, id_: tuple = ()) -> None:
        super().__init__(msg)
        self.type, self.msg, self.id = type_, msg, id_

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


def _default_tolerances(*dtypes) -> tuple[float, float]:
    rtols, atols = zip(*(_PRECISIONS.get(str(d).split(".")[-1], (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)


def _tolerances(*dtypes, rtol, atol, id_) -> tuple[float, float]:
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                                   f"but got no {'rtol' if rtol is None else 'atol'}.", id_)
    if rtol is not None:
        return rtol, atol
    return _default_tolerances(*dtypes)


def _mismatch_msg(identifier, default: str, extra: str | None, abs_diff, abs_idx, atol, rel_diff, rel_idx,
                  rtol) -> str:
    equality = rtol == 0 and atol == 0

    def diff_line(kind: str, diff, idx, tol) -> str:
        if idx is None:
            line = f"{kind.title()} difference: {diff}"
        else:
            line = f"Greatest {kind} difference: {diff} at index {idx}"
        return line + ("" if equality else f" (up to {tol} allowed)") + "\n"

    if identifier is None:
        identifier = default
    elif callable(identifier):
        identifier = identifier(default)
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_line("absolute", abs_diff, abs_idx, atol)
    msg += diff_line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _is_number(x) -> bool:
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool, np.bool_))


def _compare_numbers(actual, expected, *, rtol, atol, equal_nan, check_dtype, id_) -> None:
    ta, te = type(actual), type(expected)
    dta = _NUMBER_DTYPES.get(ta, _dtype.float64)
    dte = _NUMBER_DTYPES.get(te, _dtype.float64)
    rtol, atol = _tolerances(dta, dte, rtol=rtol, atol=atol, id_=id_)
    if check_dtype and ta is not te:
        raise _Failure(AssertionError, f"The (d)types do not match: {ta} != {te}.", id_)
    if actual == expected:
        return
    if equal_nan and _isnan(actual) and _isnan(expected):
        return
    abs_diff = abs(actual - expected)
    tolerance = atol + rtol * abs(expected)
    if np.isfinite(abs_diff) and abs_diff <= tolerance:
        return
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    raise _Failure(AssertionError, _mismatch_msg(None, "Scalars", f"Expected {expected} but got {actual}.", abs_diff,
                                                 None, atol, rel_diff, None, rtol), id_)


def _isnan(x) -> bool:
    return x != x


def _unravel(flat: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _compare_tensors(actual, expected, *, rtol, atol, equal_nan, check_device, check_dtype, check_stride,
                     identifier, id_) -> None:
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if not related:
        raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                  f"{type(expected)}.", id_)
    if isinstance(actual, np.ndarray):
        actual, expected = as_tensor(actual), as_tensor(expected)
    rtol, atol = _tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol, id_=id_)

    def attr(name, a, e):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.", id_)

    if actual.shape != expected.shape:
        attr("shape", actual.shape, expected.shape)
    if check_device and actual.device != expected.device:
        attr("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        attr("dtype", actual.dtype, expected.dtype)
    a, e = actual.detach()._data, expected.detach()._data
    if a.dtype != e.dtype:
        common = np.result_type(a.dtype, e.dtype)
        a, e = a.astype(common), e.astype(common)
    if a.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(invalid="ignore", over="ignore"):
        matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if a.dtype.kind in "iu":  # isclose on integers: exact within the tolerance, in float64
            matches = np.abs(a.astype(np.float64) - e) <= atol + rtol * np.abs(e.astype(np.float64))
        if matches.all():
            return
        if a.shape == ():
            x, y = a.item(), e.item()
            abs_diff = abs(x - y)
            rel_diff = float("inf") if y == 0 else abs_diff / abs(y)
            raise _Failure(AssertionError, _mismatch_msg(identifier, "Scalars", f"Expected {y} but got {x}.",
                                                         abs_diff, None, atol, rel_diff, None, rtol), id_)
        af, ef, mf = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
        if af.dtype.kind in "iu":
            af, ef = af.astype(np.int64), ef.astype(np.int64)
        abs_diff = np.abs(af - ef)
        abs_diff[mf] = 0
        ia = int(np.argmax(abs_diff)) if not np.isnan(abs_diff).any() else int(np.argmax(np.isnan(abs_diff)))
        rel = abs_diff / np.abs(ef)
        if af.dtype.kind in "iu":  # integer true division gives the default float dtype in PyTorch
            rel = rel.astype(_dtype.get_default_dtype().np)
        rel[mf] = 0
        ir = int(np.argmax(rel)) if not np.isnan(rel).any() else int(np.argmax(np.isnan(rel)))
    total = af.size - int(mf.sum())
    extra = f"Mismatched elements: {total} / {af.size} ({total / af.size:.1%})"
    raise _Failure(AssertionError, _mismatch_msg(identifier, "Tensor-likes", extra, _item(abs_diff[ia]),
                                                 _unravel(ia, a.shape), atol, _item(rel[ir]), _unravel(ir, a.shape),
                                                 rtol), id_)


def _item(x):
    return x.item() if isinstance(x, np.generic) else x


def _compare(actual, expected, id_: tuple, **options) -> None:
    if isinstance(actual, collections.abc.Sequence) and not isinstance(actual, str) and \
            isinstance(expected, collections.abc.Sequence) and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           id_)
        for i in range(len(actual)):
            _compare(actual[i], expected[i], (*id_, i), **options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        ka, ke = set(actual.keys()), set(expected.keys())
        if ka != ke:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                                           f"Additional keys in the actual mapping: {sorted(ka - ke)}", id_)
        try:
            keys = sorted(ka)
        except TypeError:
            keys = list(ka)
        for k in keys:
            _compare(actual[k], expected[k], (*id_, k), **options)
        return
    if actual is None or expected is None:
        if not (actual is None and expected is None):
            raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", id_)
        return
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) is not bool(expected):
            raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id_)
        return
    if _is_number(actual) and _is_number(expected):
        _compare_numbers(actual, expected, rtol=options["rtol"], atol=options["atol"],
                         equal_nan=options["equal_nan"], check_dtype=False, id_=id_)
        return
    if isinstance(actual, (Tensor, np.ndarray)) and isinstance(expected, (Tensor, np.ndarray)):
        _compare_tensors(actual, expected, id_=id_, **options)
        return
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.", id_)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Assert that ``actual`` and ``expected`` are close: ``|actual - expected| <= atol + rtol * |expected|``.

    Tensors must also agree in shape, device and (with ``check_dtype``) dtype; sequences and
    mappings are compared item by item. ``msg`` replaces the message (a string) or edits it (a
    callable taking the generated message).
    """
    __tracebackhide__ = True
    try:
        _compare(actual, expected, (), rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                 check_dtype=check_dtype, check_stride=check_stride, identifier=None)
    except _Failure as failure:
        raise failure.to_error(msg) from None
