"""Run one case with torch and with autojac and compare what comes out: values and dtypes, or the error.

``same(case)`` calls ``case(torch)`` and ``case(autojac)``. When torch raises, autojac must raise the same
exception type with the same message (or one matching ``match``, a regex, where our wording adds
context); otherwise both results are compared after ``plain``: tensors by dtype name and values
(floating point within a tolerance that follows from the dtype), dtypes by name, sizes as tuples.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import autojac

_RTOL = {"float16": 1e-3, "float32": 1e-6, "complex64": 1e-6, "float64": 1e-12, "complex128": 1e-12}


def plain(x):
    """A library-neutral form of a result, for comparison."""
    if isinstance(x, (torch.Tensor, autojac.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], x.detach().numpy().copy(), tuple(x.shape))
    if isinstance(x, (torch.dtype, autojac.dtype)):
        return ("dtype", str(x).split(".")[-1])
    if isinstance(x, (torch.Size, autojac.Size)):
        return ("size", tuple(x))
    if isinstance(x, (torch.device, autojac.device)):
        return ("device", str(x), repr(x))
    if isinstance(x, (list, tuple)):  # named tuples (torch.return_types) compare by their values
        return "seq", [plain(v) for v in x]
    return x


def assert_plain_equal(ours, theirs, where: str = "result") -> None:
    if isinstance(theirs, tuple) and theirs and theirs[0] == "tensor":
        assert isinstance(ours, tuple) and ours[0] == "tensor", f"{where}: expected a tensor, got {ours!r}"
        assert ours[1] == theirs[1], f"{where}: dtype {ours[1]} != torch's {theirs[1]}"
        assert ours[3] == theirs[3], f"{where}: shape {ours[3]} != torch's {theirs[3]}"
        rtol = _RTOL.get(theirs[1])
        if rtol is None:
            np.testing.assert_array_equal(ours[2], theirs[2], err_msg=where)
        else:
            np.testing.assert_allclose(ours[2], theirs[2], rtol=rtol, atol=rtol, equal_nan=True, err_msg=where)
    elif isinstance(theirs, tuple) and len(theirs) == 2 and isinstance(theirs[1], list):
        assert isinstance(ours, tuple) and ours[0] == theirs[0] and len(ours[1]) == len(theirs[1]), \
            f"{where}: {ours!r} != {theirs!r}"
        for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
            assert_plain_equal(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, f"{where}: {ours!r} != torch's {theirs!r}"


def run(case, lib):
    try:
        return plain(case(lib)), None
    except Exception as e:  # noqa: BLE001 - the exception is the result under test
        return None, e


def same(case, match: str | None = None):
    """Assert autojac does what torch does on ``case``; returns torch's (plain) result or exception."""
    theirs, t_err = run(case, torch)
    ours, a_err = run(case, autojac)
    if t_err is not None:
        assert a_err is not None, f"torch raised {type(t_err).__name__}: {t_err}; autojac returned {ours!r}"
        assert type(a_err) is type(t_err), (f"torch raised {type(t_err).__name__}({t_err}), autojac "
                                            f"{type(a_err).__name__}({a_err})")
        if match is None:
            assert str(a_err) == str(t_err), f"message {str(a_err)!r} != torch's {str(t_err)!r}"
        else:
            assert re.search(match, str(a_err)), f"message {str(a_err)!r} does not match {match!r}"
            assert re.search(match, str(t_err)), f"torch's message {str(t_err)!r} does not match {match!r}"
        return t_err
    if a_err is not None:
        raise AssertionError(f"torch returned {theirs!r}; autojac raised") from a_err
    assert_plain_equal(ours, theirs)
    return theirs


def raises_like(case, exc_type: type, match: str):
    """For cases torch cannot run (autojac's own decision): autojac raises ``exc_type`` matching ``match``."""
    with pytest.raises(exc_type, match=match):
        case(autojac)
