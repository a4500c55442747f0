"""Distributions against torch.distributions 2.13: log_prob, entropy, cdf/icdf, moments, gradients, shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import autojac
import autojac.distributions as AD

from ._cases import cases

CASES = cases()
IDS = [c[0] for c in CASES]


def _build(case, lib, requires_grad=False):
    name, params, build, value = case
    rng = np.random.default_rng(sum(map(ord, name)))
    p = params(rng)
    T, D = (torch, TD) if lib == "torch" else (autojac, AD)
    tp = {k: T.tensor(v, dtype=T.float64, requires_grad=requires_grad) for k, v in p.items()}
    return build(D, tp), tp, value(rng)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_value_and_gradients(case):
    da, pa, v = _build(case, "autojac", requires_grad=True)
    dt, pt, _ = _build(case, "torch", requires_grad=True)
    dtype = "int64" if "categorical" in case[0] else "float64"
    va = autojac.tensor(v, dtype=getattr(autojac, dtype))
    vt = torch.tensor(v, dtype=getattr(torch, dtype))
    la, lt = da.log_prob(va), dt.log_prob(vt)
    assert tuple(la.shape) == tuple(lt.shape)
    _close(la, lt, rtol=1e-9)
    ga = autojac.autograd.grad(la.sum(), list(pa.values()))
    gt = torch.autograd.grad(lt.sum(), list(pt.values()))
    for a, b in zip(ga, gt):
        _close(a, b, rtol=1e-8, atol=1e-10)
    assert da.batch_shape == tuple(dt.batch_shape) and da.event_shape == tuple(dt.event_shape)


@pytest.mark.parametrize("case", [c for c in CASES if "transformed" not in c[0]], ids=lambda c: c[0])
def test_entropy_and_moments(case):
    da, _, _ = _build(case, "autojac")
    dt, _, _ = _build(case, "torch")
    _close(da.entropy(), dt.entropy(), rtol=1e-9)
    for name in ("mean", "variance", "stddev", "mode"):
        a, t = getattr(da, name), getattr(dt, name)
        np.testing.assert_allclose(_np(a), _np(t), rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("normal-batch", "uniform", "gamma",
                                                             "lognormal-transformed")], ids=lambda c: c[0])
def test_cdf_icdf(case):
    da, _, v = _build(case, "autojac")
    dt, _, _ = _build(case, "torch")
    _close(da.cdf(autojac.tensor(v)), dt.cdf(torch.tensor(v)), rtol=1e-9)
    if case[0] != "gamma":
        q = np.full(np.broadcast_shapes(v.shape, tuple(dt.batch_shape)), 0.3)
        _close(da.icdf(autojac.tensor(q)), dt.icdf(torch.tensor(q)), rtol=1e-9)


@pytest.mark.parametrize("case", [c for c in CASES if c[0].startswith(("normal", "uniform", "mvn", "lowrank",
                                                                         "independent", "lognormal"))],
                         ids=lambda c: c[0])
def test_seeded_rsample_matches_torch_and_its_gradient(case):
    da, pa, _ = _build(case, "autojac", requires_grad=True)
    dt, pt, _ = _build(case, "torch", requires_grad=True)
    autojac.manual_seed(3)
    torch.manual_seed(3)
    xa, xt = da.rsample((5,)), dt.rsample((5,))
    assert tuple(xa.shape) == tuple(xt.shape)
    _close(xa, xt, rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(0).normal(size=tuple(xt.shape))
    ga = autojac.autograd.grad((xa * autojac.tensor(w)).sum(), list(pa.values()), allow_unused=True)
    gt = torch.autograd.grad((xt * torch.tensor(w)).sum(), list(pt.values()), allow_unused=True)
    for a, b in zip(ga, gt):
        if b is None:
            assert a is None or not np.any(_np(a))
        else:
            _close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("normal-batch", "uniform", "bernoulli-probs",
                                                             "categorical-probs", "categorical-logits", "gamma",
                                                             "beta", "dirichlet", "mvn-cov")],
                         ids=lambda c: c[0])
def test_seeded_sample_is_torchs(case, dtype):
    name, params, build, _ = case
    p = params(np.random.default_rng(1))
    da = build(AD, {k: autojac.tensor(v, dtype=getattr(autojac, dtype)) for k, v in p.items()})
    dt = build(TD, {k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in p.items()})
    for shape in ((), (3,), (7, 5)):
        autojac.manual_seed(11)
        torch.manual_seed(11)
        a, t = da.sample(shape), dt.sample(shape)
        assert tuple(a.shape) == tuple(t.shape) and a.dtype.is_floating_point == t.dtype.is_floating_point
        tol = 2e-6 if dtype == "float32" else 1e-13
        np.testing.assert_allclose(_np(a), _np(t), rtol=tol, atol=tol)
        assert not a.requires_grad


def test_expand_and_repr():
    d = AD.Normal(autojac.tensor(0.0), autojac.tensor(1.0))
    e = d.expand([2, 3])
    assert e.batch_shape == (2, 3) and e.sample().shape == (2, 3)
    assert repr(AD.Normal(0.0, 1.0)) == repr(TD.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    loc = np.zeros(3)
    ra = repr(AD.MultivariateNormal(autojac.tensor(loc), covariance_matrix=autojac.eye(3, dtype=autojac.float64)))
    rt = repr(TD.MultivariateNormal(torch.tensor(loc), covariance_matrix=torch.eye(3, dtype=torch.float64)))
    assert ra == rt.replace("torch.", "autojac.")
    assert repr(AD.Bernoulli(probs=0.3)) == repr(TD.Bernoulli(probs=0.3))
    assert repr(AD.constraints.interval(0.0, 1.0)) == repr(TD.constraints.interval(0.0, 1.0))
    assert repr(AD.constraints.independent(AD.constraints.positive, 1)) == repr(
        TD.constraints.independent(TD.constraints.positive, 1))


def test_hessian_of_mvn_log_likelihood_vs_torch_func():
    rng = np.random.default_rng(5)
    data = rng.normal(size=(6, 2))
    theta0 = np.array([0.3, -0.2, 0.1, 0.4, 0.2])  # loc (2), log-diag (2), off-diagonal (1) of scale_tril

    def nll(T, D):
        x = T.tensor(data)

        def f(theta):
            tril = T.stack([T.stack([theta[2].exp(), theta[0] * 0]), T.stack([theta[4], theta[3].exp()])])
            return -D.MultivariateNormal(theta[:2], scale_tril=tril).log_prob(x).sum()
        return f

    ha = autojac.func.hessian(nll(autojac, AD))(autojac.tensor(theta0))
    ht = torch.func.hessian(nll(torch, TD))(torch.tensor(theta0))
    _close(ha, ht, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_expand_matches_torch(case):
    da, _, v = _build(case, "autojac")
    dt, _, _ = _build(case, "torch")
    shape = (2,) + tuple(dt.batch_shape)
    ea, et = da.expand(shape), dt.expand(shape)
    assert ea.batch_shape == tuple(et.batch_shape) and ea.event_shape == tuple(et.event_shape)
    torch.manual_seed(0)
    x = et.sample((3,))  # values of the expanded support, with a sample dimension
    la, lt = ea.log_prob(autojac.tensor(x.numpy())), et.log_prob(x)
    assert tuple(la.shape) == tuple(lt.shape) == (3,) + shape
    _close(la, lt, rtol=1e-9)
    assert tuple(ea.sample().shape) == tuple(et.sample().shape)


@pytest.mark.parametrize("case", [c for c in CASES if c[0].startswith(("mvn", "lowrank"))], ids=lambda c: c[0])
def test_mvn_matrix_properties_and_their_gradients(case):
    da, pa, _ = _build(case, "autojac", requires_grad=True)
    dt, pt, _ = _build(case, "torch", requires_grad=True)
    for name in ("scale_tril", "covariance_matrix", "precision_matrix", "variance"):
        a, t = getattr(da, name), getattr(dt, name)
        assert tuple(a.shape) == tuple(t.shape), name
        _close(a, t, rtol=1e-9, atol=1e-11)
        w = np.random.default_rng(1).normal(size=tuple(t.shape))
        opts = dict(allow_unused=True, retain_graph=True, materialize_grads=True)
        ga = autojac.autograd.grad((a * autojac.tensor(w)).sum(), list(pa.values()), **opts)
        gt = torch.autograd.grad((t * torch.tensor(w)).sum(), list(pt.values()), **opts)
        for x, y in zip(ga, gt):
            _close(x, y, rtol=1e-8, atol=1e-10)
