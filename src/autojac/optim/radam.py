"""RAdam (rectified Adam) with (decoupled) weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._update import adam_moments, bump, decayed_grad, incr_step, init_state, real
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class RAdam(Optimizer):
    """RAdam, ``torch.optim.RAdam``'s update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    init_state(state, p, "exp_avg", "exp_avg_sq")
                step = incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd, decoupled)
                exp_avg, exp_avg_sq = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                tmp = scratch.get(x)
                adam_moments(exp_avg, exp_avg_sq, g, beta1, beta2, tmp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = np.divide(exp_avg, bias_correction1, out=tmp)
                update *= lr
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    # PyTorch's scalar / tensor is reciprocal(tensor) * scalar
                    adaptive = np.sqrt(exp_avg_sq, out=scratch.get(x, 1))
                    adaptive += eps
                    np.reciprocal(adaptive, out=adaptive)
                    adaptive *= bias_correction2 ** 0.5
                    update *= adaptive
                    update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                x -= update
                bump(p)
        return loss
