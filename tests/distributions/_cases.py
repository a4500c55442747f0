"""The table of distributions tested against torch.distributions: one builder per case, run with either library.

A case is ``(id, build, value)``: ``build(T, params)`` constructs the distribution with library ``T``
(``autojac`` or ``torch``) from the float64 parameter tensors ``params``; ``value(rng)`` draws a point
of its support (NumPy) at which log_prob is compared.
"""

from __future__ import annotations

import numpy as np


def _pos(rng, *shape):
    return rng.uniform(0.5, 2.0, shape)


def _spd(rng, n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(rng, n, batch=()):
    a = np.tril(rng.normal(size=batch + (n, n)) * 0.3)
    idx = np.arange(n)
    a[..., idx, idx] = rng.uniform(0.5, 1.5, batch + (n,))
    return a


def _simplex(rng, shape):
    p = rng.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def cases():
    """(id, params(rng), build(D, p), value(rng)) for the table."""
    return [
        ("normal-scalar", lambda r: {"loc": r.normal(size=()), "scale": _pos(r)},
         lambda D, p: D.Normal(p["loc"], p["scale"]), lambda r: r.normal(size=(4,))),
        ("normal-batch", lambda r: {"loc": r.normal(size=(2, 3)), "scale": _pos(r, 3)},
         lambda D, p: D.Normal(p["loc"], p["scale"]), lambda r: r.normal(size=(2, 3))),
        ("uniform", lambda r: {"low": r.uniform(-1, 0, (3,)), "high": r.uniform(1, 2, (3,))},
         lambda D, p: D.Uniform(p["low"], p["high"]), lambda r: r.uniform(0, 0.9, (3,))),
        ("bernoulli-probs", lambda r: {"probs": r.uniform(0.1, 0.9, (3,))},
         lambda D, p: D.Bernoulli(probs=p["probs"]), lambda r: (r.uniform(size=(2, 3)) < 0.5) * 1.0),
        ("bernoulli-logits", lambda r: {"logits": r.normal(size=(2, 3))},
         lambda D, p: D.Bernoulli(logits=p["logits"]), lambda r: (r.uniform(size=(2, 3)) < 0.5) * 1.0),
        ("categorical-probs", lambda r: {"probs": _simplex(r, (2, 4))},
         lambda D, p: D.Categorical(probs=p["probs"]), lambda r: r.integers(0, 4, (3, 2))),
        ("categorical-logits", lambda r: {"logits": r.normal(size=(5,))},
         lambda D, p: D.Categorical(logits=p["logits"]), lambda r: r.integers(0, 5, (3,))),
        ("gamma", lambda r: {"concentration": _pos(r, 3), "rate": _pos(r, 2, 1)},
         lambda D, p: D.Gamma(p["concentration"], p["rate"]), lambda r: _pos(r, 2, 3)),
        ("beta", lambda r: {"c1": _pos(r, 3), "c0": _pos(r, 3)},
         lambda D, p: D.Beta(p["c1"], p["c0"]), lambda r: r.uniform(0.05, 0.95, (3,))),
        ("dirichlet", lambda r: {"concentration": _pos(r, 2, 4)},
         lambda D, p: D.Dirichlet(p["concentration"]), lambda r: _simplex(r, (2, 4))),
        ("mvn-cov", lambda r: {"loc": r.normal(size=(3,)), "cov": _spd(r, 3)},
         lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"]), lambda r: r.normal(size=(5, 3))),
        ("mvn-prec-batch", lambda r: {"loc": r.normal(size=(2, 3)), "prec": _spd(r, 3, (2,))},
         lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"]), lambda r: r.normal(size=(2, 3))),
        ("mvn-tril-bcast", lambda r: {"loc": r.normal(size=(2, 1, 3)), "tril": _tril(r, 3, (4,))},
         lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["tril"]), lambda r: r.normal(size=(2, 4, 3))),
        ("lowrank-mvn", lambda r: {"loc": r.normal(size=(2, 4)), "W": r.normal(size=(4, 2)), "D": _pos(r, 4)},
         lambda D, p: D.LowRankMultivariateNormal(p["loc"], p["W"], p["D"]), lambda r: r.normal(size=(2, 4))),
        ("independent-normal", lambda r: {"loc": r.normal(size=(2, 3)), "scale": _pos(r, 2, 3)},
         lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1), lambda r: r.normal(size=(2, 3))),
        ("lognormal-transformed", lambda r: {"loc": r.normal(size=(3,)), "scale": _pos(r, 3)},
         lambda D, p: D.TransformedDistribution(D.Normal(p["loc"], p["scale"]), [D.transforms.ExpTransform()]),
         lambda r: _pos(r, 3)),
        ("logistic-normal-transformed", lambda r: {"loc": r.normal(size=(3,)), "scale": _pos(r, 3)},
         lambda D, p: D.TransformedDistribution(D.Normal(p["loc"], p["scale"]),
                                                [D.transforms.StickBreakingTransform()]),
         lambda r: _simplex(r, (4,))),
        ("affine-tanh-transformed", lambda r: {"loc": r.normal(size=(3,)), "scale": _pos(r, 3)},
         lambda D, p: D.TransformedDistribution(D.Normal(0.0, 1.0).expand([3]),
                                                [D.transforms.AffineTransform(p["loc"], p["scale"]),
                                                 D.transforms.TanhTransform()]),
         lambda r: r.uniform(-0.9, 0.9, (3,))),
    ]
