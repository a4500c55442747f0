"""Adamax (Adam with the infinity norm) with weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import addcdiv_, lerp_
from ._update import bump, decayed_grad, incr_step, init_state, real
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class Adamax(Optimizer):
    """Adamax, ``torch.optim.Adamax``'s update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_hyperparameters(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    init_state(state, p, "exp_avg", "exp_inf")
                step = incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd)
                exp_avg, exp_inf = real(state["exp_avg"]._data), real(state["exp_inf"]._data)
                tmp = scratch.get(x)
                lerp_(exp_avg, g, 1 - beta1, tmp)
                exp_inf *= beta2
                g_abs = np.abs(g, out=scratch.get(x, 1))
                g_abs += eps
                np.maximum(exp_inf, g_abs, out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                addcdiv_(x, exp_avg, exp_inf, -clr, tmp)
                bump(p)
        return loss
