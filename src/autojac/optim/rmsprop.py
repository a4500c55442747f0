"""RMSprop with momentum, centering, weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import add_scaled_, addcdiv_, addcmul_, lerp_
from ._update import bump, decayed_grad, incr_step, init_state, real, zeros_state
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class RMSprop(Optimizer):
    """RMSprop, ``torch.optim.RMSprop``'s update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_hyperparameters(lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    init_state(state, p, "square_avg")
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_state(p)
                    if centered:
                        state["grad_avg"] = zeros_state(p)
                incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd)
                tmp = scratch.get(x)
                square_avg = real(state["square_avg"]._data)
                square_avg *= alpha
                addcmul_(square_avg, g, g, 1 - alpha, tmp)
                if centered:
                    grad_avg = real(state["grad_avg"]._data)
                    lerp_(grad_avg, g, 1 - alpha, tmp)
                    avg = scratch.get(x, 1)
                    np.copyto(avg, square_avg)
                    addcmul_(avg, grad_avg, grad_avg, -1, tmp)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg, out=scratch.get(x, 1))
                avg += eps
                if momentum > 0:
                    buf = real(state["momentum_buffer"]._data)
                    buf *= momentum
                    addcdiv_(buf, g, avg, 1, tmp)
                    add_scaled_(x, buf, -lr, tmp)
                else:
                    addcdiv_(x, g, avg, -lr, tmp)
                bump(p)
        return loss
