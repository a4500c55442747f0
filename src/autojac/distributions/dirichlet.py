"""``Dirichlet(concentration)`` on the simplex.

>>> import autojac
>>> from autojac.distributions import Dirichlet
>>> Dirichlet(autojac.tensor([1.0, 1.0, 1.0])).log_prob(autojac.tensor([0.2, 0.3, 0.5]))
tensor(0.6931)
"""

from __future__ import annotations

from .._tensor import Size, _wrap
from ..nn.functional import one_hot
from ..ops.elementwise import where
from ..ops.special import digamma, lgamma, xlogy
from . import constraints
from ._sampling import dirichlet_array, reparam_dirichlet
from .distribution import Distribution
from .utils import _as_size

__all__ = ["Dirichlet"]


class Dirichlet(Distribution):
    """The Dirichlet distribution with concentration vector ``concentration`` (last dimension)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = _as_size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        return self._init_expanded(new, batch_shape, self.event_shape)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        concentration = self.concentration.expand(shape)
        draws = _wrap(dirichlet_array(concentration.detach()._data))
        return reparam_dirichlet(concentration, draws)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        # all concentrations below 1: the mode sits at the vertex of the largest one
        mask = (self.concentration < 1).all(-1, keepdim=True)
        vertex = one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return where(mask, vertex, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((c - 1.0) * digamma(c)).sum(-1)
