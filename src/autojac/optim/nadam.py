"""NAdam (Adam with Nesterov momentum), with momentum decay and (decoupled) weight decay."""

from __future__ import annotations

import numpy as np

from ._kernels import addcdiv_
from ._update import adam_moments, bump, decayed_grad, incr_step, real, step_tensor, zeros_state
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class NAdam(Optimizer):
    """NAdam, ``torch.optim.NAdam``'s update in its operation order (``mu_product`` kept as
    PyTorch keeps it, a 0-d tensor of the scalar dtype).

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, momentum_decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    state["step"] = step_tensor()
                    state["mu_product"] = step_tensor(1.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                step = incr_step(state["step"])
                bias_correction2 = 1 - beta2 ** step
                g, x = decayed_grad(p, maximize, lr, wd, decoupled)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"]._data
                mu_product *= mu  # in the counter's dtype, as PyTorch's 0-d tensor
                mu_product_next = float(mu_product) * mu_next
                exp_avg, exp_avg_sq = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                tmp = scratch.get(x)
                adam_moments(exp_avg, exp_avg_sq, g, beta1, beta2, tmp)
                denom = np.divide(exp_avg_sq, bias_correction2, out=scratch.get(x, 1))
                np.sqrt(denom, out=denom)
                denom += eps
                addcdiv_(x, g, denom, -lr * (1.0 - mu) / (1.0 - float(mu_product)), tmp)
                addcdiv_(x, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)
                bump(p)
        return loss
