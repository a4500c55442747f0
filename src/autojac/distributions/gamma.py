"""``Gamma(concentration, rate)``.

>>> import autojac
>>> from autojac.distributions import Gamma
>>> Gamma(2.0, 1.0).log_prob(autojac.tensor(1.0))
tensor(-1.)
"""

from __future__ import annotations

import numpy as np

from .._tensor import Size, _wrap
from ..ops.creation import as_tensor
from ..ops.special import digamma, lgamma, xlogy
from . import constraints
from ._sampling import gammainc, reparam_standard_gamma, standard_gamma_array
from .distribution import Distribution
from .utils import finfo

__all__ = ["Gamma"]


def _standard_gamma(concentration):
    """Standard gamma draws with implicit-reparameterization gradients in the concentration."""
    draws = _wrap(standard_gamma_array(concentration.detach()._data))
    return reparam_standard_gamma(concentration, draws)


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate`` (density
    ``rate**concentration * x**(concentration - 1) * exp(-rate * x) / Gamma(concentration)``)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self._init_params(validate_args, concentration=concentration, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, _instance, "concentration", "rate")

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        np.maximum(value._data, _tiny(value), out=value._data)  # in place, as PyTorch: the gradient is untouched
        return value

    def log_prob(self, value):
        value = as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)


def _tiny(t):
    return finfo(t.dtype).tiny
