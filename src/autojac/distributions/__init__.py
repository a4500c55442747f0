"""``autojac.distributions``: PyTorch's ``torch.distributions`` written in autojac's differentiable ops.

Every ``log_prob``, ``entropy``, ``cdf`` and ``kl_divergence`` is differentiable to any order
(Hessians of log-likelihoods); ``rsample`` is reparameterized; seeded samples draw from
autojac's generator as PyTorch's CPU kernels do. ``transforms.JacobianTransform`` (beyond
PyTorch) gives any differentiable bijection an automatic log-det Jacobian.

>>> import autojac
>>> from autojac.distributions import MultivariateNormal
>>> d = MultivariateNormal(autojac.zeros(2), scale_tril=autojac.tensor([[1., 0.], [0.5, 2.]]))
>>> d.entropy()
tensor(3.5310)
"""

from . import constraints, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, IndependentTransform,
                         JacobianTransform, PowerTransform, SigmoidTransform, SoftmaxTransform,
                         StickBreakingTransform, TanhTransform, Transform, identity_transform)
from .uniform import Uniform

__all__ = ["constraints", "transforms", "Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Gamma",
           "Independent", "kl_divergence", "register_kl", "LowRankMultivariateNormal", "MultivariateNormal", "Normal",
           "TransformedDistribution", "Uniform", "AbsTransform", "AffineTransform", "ComposeTransform",
           "ExpTransform", "IndependentTransform", "JacobianTransform", "PowerTransform", "SigmoidTransform",
           "SoftmaxTransform", "StickBreakingTransform", "TanhTransform", "Transform", "identity_transform"]
