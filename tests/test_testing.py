"""autojac.testing.assert_close / make_tensor vs torch.testing: pass/fail, error types and message texts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import autojac
from autojac.testing import assert_close, make_tensor


def _both(build):
    return build(autojac), build(torch)


def _message(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (comparing whatever torch raises)
        return type(e).__name__, str(e)
    return None


CASES = {
    "equal": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0]), {}),
    "within-float32-tolerance": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0 + 1e-6]), {}),
    "float32-mismatch": lambda T: (T.tensor([1.0, 2.0, 3.0]), T.tensor([1.0, 2.5, 3.0]), {}),
    "float64-mismatch-2d": lambda T: (T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64),
                                      T.tensor([[1.0, 2.1], [3.3, 4.0]], dtype=T.float64), {}),
    "scalar-tensor": lambda T: (T.tensor(1.0), T.tensor(1.5), {}),
    "int-mismatch": lambda T: (T.tensor([1, 2, 3]), T.tensor([1, 5, 3]), {}),
    "bool-mismatch": lambda T: (T.tensor([True, False]), T.tensor([True, True]), {}),
    "shape": lambda T: (T.ones(2, 3), T.ones(3, 2), {}),
    "dtype": lambda T: (T.ones(2), T.ones(2, dtype=T.float64), {}),
    "dtype-unchecked": lambda T: (T.ones(2), T.ones(2, dtype=T.float64), {"check_dtype": False}),
    "nan": lambda T: (T.tensor([1.0, math.nan]), T.tensor([1.0, math.nan]), {}),
    "nan-equal": lambda T: (T.tensor([1.0, math.nan]), T.tensor([1.0, math.nan]), {"equal_nan": True}),
    "inf": lambda T: (T.tensor([1.0, math.inf]), T.tensor([1.0, -math.inf]), {}),
    "custom-tolerance": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.1, 2.0]), {"rtol": 0.2, "atol": 0.0}),
    "equality": lambda T: (T.tensor([1.0, 2.0]), T.tensor([1.0, 2.0 + 1e-6]), {"rtol": 0, "atol": 0}),
    "only-rtol": lambda T: (T.tensor([1.0]), T.tensor([1.0]), {"rtol": 0.1}),
    "msg-string": lambda T: (T.tensor([1.0]), T.tensor([2.0]), {"msg": "my message"}),
    "msg-callable": lambda T: (T.tensor([1.0]), T.tensor([2.0]), {"msg": lambda m: "prefix: " + m}),
    "numbers": lambda T: (1.0, 1.5, {}),
    "numbers-close": lambda T: (1.0, 1.0 + 1e-9, {}),
    "ints": lambda T: (3, 4, {}),
    "bools": lambda T: (True, False, {}),
    "none": lambda T: (None, 1.0, {}),
    "tensor-vs-number": lambda T: (T.tensor(1.0), 1.0, {}),
    "sequence-length": lambda T: ([T.ones(1)], [T.ones(1), T.ones(1)], {}),
    "sequence-item": lambda T: ([T.ones(1), T.ones(2)], [T.ones(1), T.zeros(2)], {}),
    "mapping-keys": lambda T: ({"a": T.ones(1)}, {"b": T.ones(1)}, {}),
    "mapping-item": lambda T: ({"a": T.ones(1), "b": T.ones(2)}, {"a": T.ones(1), "b": 2 * T.ones(2)}, {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_assert_close_matches_torch(name):
    (aa, ea, oa), (at, et, ot) = _both(CASES[name])
    got = _message(lambda: assert_close(aa, ea, **oa))
    want = _message(lambda: torch.testing.assert_close(at, et, **ot))
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert got[0] == want[0]
        assert got[1].replace("autojac._tensor.", "autojac.") == want[1].replace("torch.", "autojac.")


def test_assert_close_on_numpy_arrays_and_grad_tensors():
    assert_close(np.ones(3), np.ones(3))
    x = autojac.ones(2, requires_grad=True)
    assert_close(x * 2, autojac.full((2,), 2.0))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_make_tensor_draws_torchs_values(dtype):
    autojac.manual_seed(5)
    torch.manual_seed(5)
    a = make_tensor(4, 3, dtype=getattr(autojac, dtype), device="cpu")
    t = torch.testing.make_tensor(4, 3, dtype=getattr(torch, dtype), device="cpu")
    assert a.shape == tuple(t.shape) and str(a.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(a.numpy(), t.numpy(), rtol=1e-6)
    b = make_tensor((2,), dtype=autojac.float64, low=0.5, high=1.0, requires_grad=True)
    assert b.requires_grad and (b.detach().numpy() >= 0.5).all() and (b.detach().numpy() < 1.0).all()
    with pytest.raises(ValueError, match="must be less than"):
        make_tensor(2, dtype=autojac.int64, low=3, high=1)
