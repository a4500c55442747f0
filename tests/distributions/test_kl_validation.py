"""kl_divergence pairs, validate_args errors (type and message) and the reparameterized gamma gradients vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import autojac
import autojac.distributions as AD


def _np(x):
    return x.detach().numpy()


_LEAVES: list = []  # the parameter tensors made by the last PAIRS builder


def _t(T, x):
    t = T.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    _LEAVES.append(t)
    return t


def _pair(name, T, D):
    _LEAVES.clear()
    p, q = PAIRS[name](T, D)
    return p, q, list(_LEAVES)


R = np.random.default_rng(7)
POS = R.uniform(0.5, 2.0, (6, 3))
LOCS = R.normal(size=(4, 3))
A = R.normal(size=(2, 3, 3))
SPD = A @ np.swapaxes(A, -1, -2) + 3 * np.eye(3)
W = R.normal(size=(2, 3, 2))

PAIRS = {
    "normal-normal": lambda T, D: (D.Normal(_t(T, LOCS[0]), _t(T, POS[0])), D.Normal(_t(T, LOCS[1]), _t(T, POS[1]))),
    "gamma-gamma": lambda T, D: (D.Gamma(_t(T, POS[0]), _t(T, POS[1])), D.Gamma(_t(T, POS[2]), _t(T, POS[3]))),
    "beta-beta": lambda T, D: (D.Beta(_t(T, POS[0]), _t(T, POS[1])), D.Beta(_t(T, POS[2]), _t(T, POS[3]))),
    "dirichlet-dirichlet": lambda T, D: (D.Dirichlet(_t(T, POS[:2])), D.Dirichlet(_t(T, POS[2:4]))),
    "bernoulli-bernoulli": lambda T, D: (D.Bernoulli(probs=_t(T, POS[0] / 2.5)), D.Bernoulli(logits=_t(T, LOCS[0]))),
    "categorical-categorical": lambda T, D: (D.Categorical(probs=_t(T, POS[:2])),
                                             D.Categorical(logits=_t(T, LOCS[:2]))),
    "uniform-uniform": lambda T, D: (D.Uniform(_t(T, -POS[0]), _t(T, POS[1])), D.Uniform(_t(T, -POS[0] - 1),
                                                                                       _t(T, POS[1] + 1))),
    "uniform-normal": lambda T, D: (D.Uniform(_t(T, -POS[0]), _t(T, POS[1])), D.Normal(_t(T, LOCS[0]), _t(T, POS[2]))),
    "uniform-gamma": lambda T, D: (D.Uniform(_t(T, POS[0]), _t(T, POS[0] + 1)), D.Gamma(_t(T, POS[1]), _t(T, POS[2]))),
    "uniform-beta": lambda T, D: (D.Uniform(_t(T, POS[0] / 5), _t(T, POS[0] / 5 + 0.4)), D.Beta(_t(T, POS[1]),
                                                                                          _t(T, POS[2]))),
    "beta-normal": lambda T, D: (D.Beta(_t(T, POS[0]), _t(T, POS[1])), D.Normal(_t(T, LOCS[0]), _t(T, POS[2]))),
    "beta-gamma": lambda T, D: (D.Beta(_t(T, POS[0]), _t(T, POS[1])), D.Gamma(_t(T, POS[2]), _t(T, POS[3]))),
    "gamma-normal": lambda T, D: (D.Gamma(_t(T, POS[0]), _t(T, POS[1])), D.Normal(_t(T, LOCS[0]), _t(T, POS[2]))),
    "normal-gamma": lambda T, D: (D.Normal(_t(T, LOCS[0]), _t(T, POS[2])), D.Gamma(_t(T, POS[0]), _t(T, POS[1]))),
    "independent": lambda T, D: (D.Independent(D.Normal(_t(T, LOCS[:2]), _t(T, POS[:2])), 1),
                                 D.Independent(D.Normal(_t(T, LOCS[2:]), _t(T, POS[2:4])), 1)),
    "mvn-mvn": lambda T, D: (D.MultivariateNormal(_t(T, LOCS[:2]), covariance_matrix=_t(T, SPD)),
                             D.MultivariateNormal(_t(T, LOCS[2]), precision_matrix=_t(T, SPD[0]))),
    "lowrank-lowrank": lambda T, D: (D.LowRankMultivariateNormal(_t(T, LOCS[:2]), _t(T, W), _t(T, POS[:2])),
                                     D.LowRankMultivariateNormal(_t(T, LOCS[2]), _t(T, W[1]), _t(T, POS[3]))),
    "mvn-lowrank": lambda T, D: (D.MultivariateNormal(_t(T, LOCS[:2]), scale_tril=_t(T, np.linalg.cholesky(SPD))),
                                 D.LowRankMultivariateNormal(_t(T, LOCS[2]), _t(T, W[1]), _t(T, POS[3]))),
    "lowrank-mvn": lambda T, D: (D.LowRankMultivariateNormal(_t(T, LOCS[:2]), _t(T, W), _t(T, POS[:2])),
                                 D.MultivariateNormal(_t(T, LOCS[2]), covariance_matrix=_t(T, SPD[1]))),
    "transformed": lambda T, D: (D.TransformedDistribution(D.Normal(_t(T, LOCS[0]), _t(T, POS[0])),
                                                           [D.transforms.ExpTransform()]),
                                 D.TransformedDistribution(D.Normal(_t(T, LOCS[1]), _t(T, POS[1])),
                                                           [D.transforms.ExpTransform()])),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_kl_divergence_and_its_gradient(name):
    pa, qa, xa = _pair(name, autojac, AD)
    pt, qt, xt = _pair(name, torch, TD)
    ka, kt = AD.kl_divergence(pa, qa), TD.kl_divergence(pt, qt)
    assert tuple(ka.shape) == tuple(kt.shape)
    np.testing.assert_allclose(_np(ka), _np(kt), rtol=1e-9, atol=1e-11)
    finite = np.isfinite(_np(kt))
    if not finite.any():
        return
    w = np.where(finite, 1.0, 0.0)
    ga = autojac.autograd.grad((autojac.where(autojac.tensor(finite), ka, 0.0) * autojac.tensor(w)).sum(), xa,
                               allow_unused=True, materialize_grads=True)
    gt = torch.autograd.grad((torch.where(torch.tensor(finite), kt, 0.0) * torch.tensor(w)).sum(), xt,
                             allow_unused=True, materialize_grads=True)
    for a, b in zip(ga, gt):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-8, atol=1e-10)


def test_kl_unregistered_pair_and_register_kl():
    with pytest.raises(NotImplementedError):
        AD.kl_divergence(AD.Categorical(logits=autojac.zeros(3)), AD.Normal(0.0, 1.0))

    class MyNormal(AD.Normal):
        pass

    @AD.register_kl(MyNormal, AD.Normal)
    def _kl(p, q):
        return autojac.tensor(42.0)

    assert AD.kl_divergence(MyNormal(0.0, 1.0), AD.Normal(0.0, 1.0)).item() == 42.0
    assert AD.kl_divergence(AD.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0


def _raises_like(fa, ft):
    with pytest.raises(Exception) as ea:
        fa()
    with pytest.raises(Exception) as et:
        ft()
    assert type(ea.value) is type(et.value)
    assert str(ea.value) == str(et.value).replace("torch.", "autojac.")


@pytest.mark.parametrize("make", [
    lambda T, D: D.Normal(T.tensor(0.0), T.tensor(-1.0), validate_args=True),
    lambda T, D: D.Normal(0.0, -1.0, validate_args=True),
    lambda T, D: D.Gamma(T.tensor([1.0, -2.0]), T.tensor(1.0), validate_args=True),
    lambda T, D: D.Bernoulli(probs=T.tensor([0.5, 1.5]), validate_args=True),
    lambda T, D: D.Bernoulli(probs=0.5, logits=0.1),
    lambda T, D: D.Categorical(probs=T.tensor([[0.5, -0.1]]), validate_args=True),
    lambda T, D: D.Categorical(probs=T.tensor(1.0)),
    lambda T, D: D.Dirichlet(T.tensor([1.0, -1.0]), validate_args=True),
    lambda T, D: D.Beta(-1.0, 1.0, validate_args=True),
    lambda T, D: D.Uniform(1.0, 0.0, validate_args=True),
    lambda T, D: D.MultivariateNormal(T.zeros(2), covariance_matrix=T.tensor([[1.0, 2.0], [2.0, 1.0]]),
                                      validate_args=True),
    lambda T, D: D.MultivariateNormal(T.zeros(2), scale_tril=T.tensor([[1.0, 1.0], [0.0, 1.0]]), validate_args=True),
    lambda T, D: D.MultivariateNormal(T.zeros(2)),
    lambda T, D: D.MultivariateNormal(T.tensor(0.0), covariance_matrix=T.eye(2)),
    lambda T, D: D.LowRankMultivariateNormal(T.zeros(2), T.zeros(3, 1), T.ones(2)),
    lambda T, D: D.Independent(D.Normal(T.zeros(2), T.ones(2)), 2),
    lambda T, D: D.Normal(T.zeros(2), T.ones(2), validate_args=True).log_prob(T.zeros(3)),
    lambda T, D: D.Normal(T.zeros(2), T.ones(2), validate_args=True).log_prob(T.zeros(3, 2, 3)),
    lambda T, D: D.Gamma(T.ones(2), T.ones(2), validate_args=True).log_prob(T.tensor([1.0, -1.0])),
    lambda T, D: D.Bernoulli(probs=T.tensor(0.3), validate_args=True).log_prob(T.tensor(0.5)),
    lambda T, D: D.Dirichlet(T.ones(3), validate_args=True).log_prob(T.tensor([0.5, 0.6, 0.1])),
    lambda T, D: D.Normal(0.0, 1.0, validate_args=True).log_prob(0.5),
    lambda T, D: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
])
def test_validation_errors_match_torch(make):
    _raises_like(lambda: make(autojac, AD), lambda: make(torch, TD))


def test_set_default_validate_args():
    try:
        AD.Distribution.set_default_validate_args(False)
        AD.Normal(0.0, -1.0)  # accepted silently, as torch
        with pytest.raises(ValueError):
            AD.Distribution.set_default_validate_args(2)
    finally:
        AD.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        AD.Normal(0.0, -1.0)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5, 9.0])
def test_gamma_rsample_gradient_is_torchs_standard_gamma_grad(alpha):
    autojac.manual_seed(0)
    c = autojac.full((400,), alpha, dtype=autojac.float64, requires_grad=True)
    x = AD.Gamma(c, autojac.tensor(1.0, dtype=autojac.float64)).rsample()
    (g,) = autojac.autograd.grad(x.sum(), c)
    want = torch._standard_gamma_grad(torch.full((400,), alpha, dtype=torch.float64), torch.tensor(_np(x)))
    np.testing.assert_allclose(_np(g), want.numpy(), rtol=2e-3, atol=1e-6)  # torch's series: ~1e-3
    # the implicit gradient, checked independently: moving alpha by h at a fixed CDF level moves x by h * dx/dalpha
    from scipy import special
    h = 1e-6
    q = special.gammainc(alpha, _np(x))
    moved = special.gammaincinv(alpha + h, q)
    np.testing.assert_allclose(_np(g), (moved - _np(x)) / h, rtol=1e-4, atol=1e-6)


def test_gamma_beta_dirichlet_samples_statistics_and_seeded_grad():
    autojac.manual_seed(1)
    g = AD.Gamma(autojac.tensor([0.5, 3.0], dtype=autojac.float64), autojac.tensor(2.0, dtype=autojac.float64))
    s = g.sample((20000,))
    np.testing.assert_allclose(_np(s).mean(0), [0.25, 1.5], rtol=0.03)
    np.testing.assert_allclose(_np(s).var(0), [0.125, 0.75], rtol=0.06)
    # Dirichlet: seeded draws are torch's and the gradient follows torch's _dirichlet_grad formula
    conc = np.array([[0.7, 1.5, 3.0]])
    ca = autojac.tensor(conc, requires_grad=True)
    ct = torch.tensor(conc, requires_grad=True)
    autojac.manual_seed(4)
    torch.manual_seed(4)
    xa, xt = AD.Dirichlet(ca).rsample((50,)), TD.Dirichlet(ct).rsample((50,))
    np.testing.assert_allclose(_np(xa), _np(xt), rtol=1e-12)
    w = np.random.default_rng(2).normal(size=(50, 1, 3))
    (ga,) = autojac.autograd.grad((xa * autojac.tensor(w)).sum(), ca)
    (gt,) = torch.autograd.grad((xt * torch.tensor(w)).sum(), ct)
    # torch's _dirichlet_grad is a series approximation (~1e-3 relative), ours is the exact implicit derivative
    np.testing.assert_allclose(_np(ga), _np(gt), rtol=1e-2, atol=2e-3)
    x, a = xt.detach(), ct.detach().expand_as(xt)
    from autojac.distributions._sampling import dirichlet_grad_array
    np.testing.assert_allclose(dirichlet_grad_array(x.numpy(), a.numpy()),
                               torch._dirichlet_grad(x, a, a.sum(-1, True).expand_as(a)).numpy(), rtol=3e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_generator_stream_continues_after_gamma_draws_as_torchs(dtype):
    conc = np.array([0.4, 1.0, 3.5])
    autojac.manual_seed(9)
    torch.manual_seed(9)
    da = AD.Gamma(autojac.tensor(conc, dtype=getattr(autojac, dtype)), 1.0)
    dt = TD.Gamma(torch.tensor(conc, dtype=getattr(torch, dtype)), 1.0)
    for _ in range(2):
        tol = 1e-6 if dtype == "float32" else 1e-13
        np.testing.assert_allclose(_np(da.sample((4,))), _np(dt.sample((4,))), rtol=tol)
        # small randn draws use the cached second normal of the double Box-Muller, shared with the gamma sampler
        np.testing.assert_allclose(_np(autojac.randn(3, dtype=autojac.float64)),
                                   _np(torch.randn(3, dtype=torch.float64)), rtol=1e-13)
        np.testing.assert_allclose(_np(autojac.rand(5)), _np(torch.rand(5)))
