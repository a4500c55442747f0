"""constraints.check against torch.distributions.constraints on values inside and outside each region; transform
caching, signs and equality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import autojac
import autojac.distributions as AD

VALUES = {
    "scalars": np.array([-1.5, 0.0, 0.3, 1.0, 2.0, np.nan]),
    "vectors": np.array([[0.2, 0.3, 0.5], [0.5, 0.6, -0.1], [1.0, 0.0, 0.0], [0.0, 2.0, 1.0]]),
    "matrices": np.array([[[2.0, 0.0], [0.5, 1.0]], [[1.0, 0.3], [0.3, 1.0]], [[-1.0, 0.0], [0.0, 1.0]],
                          [[1.0, 2.0], [2.0, 1.0]]]),
}
CONSTRAINTS = {
    "real": (lambda C: C.real, "scalars"),
    "positive": (lambda C: C.positive, "scalars"),
    "nonnegative": (lambda C: C.nonnegative, "scalars"),
    "unit_interval": (lambda C: C.unit_interval, "scalars"),
    "interval": (lambda C: C.interval(-1.0, 0.5), "scalars"),
    "half_open_interval": (lambda C: C.half_open_interval(0.0, 1.0), "scalars"),
    "greater_than": (lambda C: C.greater_than(0.3), "scalars"),
    "greater_than_eq": (lambda C: C.greater_than_eq(0.3), "scalars"),
    "less_than": (lambda C: C.less_than(0.3), "scalars"),
    "boolean": (lambda C: C.boolean, "scalars"),
    "integer_interval": (lambda C: C.integer_interval(0, 1), "scalars"),
    "nonnegative_integer": (lambda C: C.nonnegative_integer, "scalars"),
    "simplex": (lambda C: C.simplex, "vectors"),
    "real_vector": (lambda C: C.real_vector, "vectors"),
    "independent_positive": (lambda C: C.independent(C.positive, 1), "vectors"),
    "one_hot": (lambda C: C.one_hot, "vectors"),
    "lower_triangular": (lambda C: C.lower_triangular, "matrices"),
    "lower_cholesky": (lambda C: C.lower_cholesky, "matrices"),
    "symmetric": (lambda C: C.symmetric, "matrices"),
    "positive_definite": (lambda C: C.positive_definite, "matrices"),
    "positive_semidefinite": (lambda C: C.positive_semidefinite, "matrices"),
    "square": (lambda C: C.square, "matrices"),
}


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_constraint_check_repr_and_event_dim_match_torch(name):
    build, kind = CONSTRAINTS[name]
    ca, ct = build(AD.constraints), build(TD.constraints)
    v = VALUES[kind]
    got = ca.check(autojac.tensor(v)).numpy()
    want = ct.check(torch.tensor(v)).numpy()
    np.testing.assert_array_equal(got, want)
    assert repr(ca) == repr(ct)
    assert ca.event_dim == ct.event_dim and ca.is_discrete == ct.is_discrete


def test_dependent_constraints():
    assert AD.constraints.is_dependent(AD.constraints.dependent)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        AD.constraints.dependent.check(autojac.ones(1))
    assert AD.Uniform(0.0, 2.0).support.upper_bound.item() == 2.0
    assert AD.Categorical(logits=autojac.zeros(4)).support.upper_bound == 3


def test_transform_cache_sign_equality_and_inverse_identity():
    t = AD.transforms.ExpTransform(cache_size=1)
    x = autojac.tensor([0.5, 1.0])
    y = t(x)
    assert t(x) is y and t.inv(y) is x  # cached pair
    assert AD.transforms.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        AD.transforms.ExpTransform(cache_size=2)
    assert AD.transforms.AffineTransform(0.0, -2.0).sign == TD.transforms.AffineTransform(0.0, -2.0).sign == -1
    c = AD.transforms.ComposeTransform([AD.transforms.AffineTransform(1.0, -2.0), AD.transforms.ExpTransform()])
    assert c.sign == -1 and c.inv.inv is c and c == AD.transforms.ComposeTransform(list(c.parts))
    assert AD.transforms.ExpTransform() == AD.transforms.ExpTransform() != AD.transforms.SigmoidTransform()
    assert AD.transforms.ExpTransform().inv == AD.transforms.ExpTransform().inv
    assert repr(c) == repr(TD.transforms.ComposeTransform([TD.transforms.AffineTransform(1.0, -2.0),
                                                            TD.transforms.ExpTransform()]))
    assert repr(AD.transforms.ExpTransform().inv) == "_InverseTransform(ExpTransform())"
    s = AD.transforms.SoftmaxTransform()
    np.testing.assert_allclose(s(autojac.tensor([1.0, 2.0, 3.0])).numpy(),
                               TD.transforms.SoftmaxTransform()(torch.tensor([1.0, 2.0, 3.0])).numpy(), rtol=1e-6)
    assert AD.transforms.identity_transform(x) is x
