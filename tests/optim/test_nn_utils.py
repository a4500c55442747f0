"""``nn.utils`` gradient clipping and parameter vectors against PyTorch 2.13."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import autojac

RNG = np.random.default_rng(3)
GRADS = [RNG.standard_normal((3, 4)), RNG.standard_normal(5), RNG.standard_normal((2, 2, 2))]


def _params(lib, dtype="float64", with_none=True, scale=1.0):
    dt = getattr(lib, dtype)
    ps = []
    for g in GRADS:
        p = lib.zeros(g.shape, dtype=dt, requires_grad=True)
        p.grad = lib.tensor(g * scale, dtype=dt)
        ps.append(p)
    if with_none:
        ps.append(lib.zeros(2, dtype=dt, requires_grad=True))  # no grad: skipped
    return ps


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    got_p, want_p = _params(autojac, dtype), _params(torch, dtype)
    got = autojac.nn.utils.clip_grad_norm_(got_p, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(want_p, max_norm, norm_type=norm_type)
    tol = {"rtol": 1e-12} if dtype == "float64" else {"rtol": 1e-5}
    assert got.shape == want.shape and str(got.dtype)[-7:] == str(want.dtype)[-7:]
    np.testing.assert_allclose(got.item(), want.item(), **tol)
    for a, b in zip(got_p[:-1], want_p[:-1]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol, atol=1e-7)
    assert got_p[-1].grad is None


def test_clip_grad_norm_single_tensor_generator_and_empty():
    p = _params(autojac, with_none=False)[0]
    t = _params(torch, with_none=False)[0]
    np.testing.assert_allclose(autojac.nn.utils.clip_grad_norm_(p, 1.0).item(),
                               torch.nn.utils.clip_grad_norm_(t, 1.0).item(), rtol=1e-12)
    with pytest.warns(UserWarning, match="empty generator"):
        out = autojac.nn.utils.clip_grad_norm_((q for q in []), 1.0)
    assert out.item() == 0.0 and out.dtype is autojac.float32
    with pytest.warns(FutureWarning):
        autojac.nn.utils.clip_grad_norm([p], 1.0)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_nonfinite_error_matches_torch(bad):
    def run(lib):
        ps = _params(lib)
        ps[1].grad[0] = bad
        return lib.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)

    with pytest.raises(RuntimeError) as want:
        run(torch)
    with pytest.raises(RuntimeError) as got:
        run(autojac)
    assert str(got.value) == str(want.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ps = _params(autojac)
        ps[1].grad[0] = bad
        assert not math.isfinite(autojac.nn.utils.clip_grad_norm_(ps, 1.0).item())


@pytest.mark.parametrize("clip", [0.1, 1.0, 5])
def test_clip_grad_value_matches_torch(clip):
    got_p, want_p = _params(autojac), _params(torch)
    assert autojac.nn.utils.clip_grad_value_(got_p, clip) is None
    torch.nn.utils.clip_grad_value_(want_p, clip)
    for a, b in zip(got_p[:-1], want_p[:-1]):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_parameters_to_vector_and_back_match_torch():
    got_p, want_p = _params(autojac, with_none=False), _params(torch, with_none=False)
    for a, b, g in zip(got_p, want_p, GRADS):
        with autojac.no_grad():
            a.copy_(autojac.tensor(g))
        with torch.no_grad():
            b.copy_(torch.tensor(g))
    v = autojac.nn.utils.parameters_to_vector(got_p)
    tv = torch.nn.utils.parameters_to_vector(want_p)
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    (v * v).sum().backward()  # differentiable: the gradient reaches every parameter
    np.testing.assert_allclose(got_p[1].grad.numpy(), GRADS[1] + 2 * GRADS[1])
    new = autojac.arange(v.numel(), dtype=autojac.float64)
    autojac.nn.utils.vector_to_parameters(new, got_p)
    torch.nn.utils.vector_to_parameters(torch.arange(tv.numel(), dtype=torch.float64), want_p)
    for a, b in zip(got_p, want_p):
        assert a.shape == b.shape and a.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_vector_to_parameters_type_error_matches_torch():
    with pytest.raises(TypeError) as want:
        torch.nn.utils.vector_to_parameters([1.0], [torch.zeros(1)])
    with pytest.raises(TypeError) as got:
        autojac.nn.utils.vector_to_parameters([1.0], [autojac.zeros(1)])
    assert str(got.value) == str(want.value)
