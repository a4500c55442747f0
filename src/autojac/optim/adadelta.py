"""Adadelta with weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import add_scaled_, addcmul_
from ._update import bump, decayed_grad, incr_step, init_state, real
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class Adadelta(Optimizer):
    """Adadelta, ``torch.optim.Adadelta``'s update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9968, -1.9968], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_hyperparameters(lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho, eps, wd, maximize = group["rho"], group["eps"], group["weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    init_state(state, p, "square_avg", "acc_delta")
                incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd)
                square_avg, acc_delta = real(state["square_avg"]._data), real(state["acc_delta"]._data)
                tmp = scratch.get(x)
                square_avg *= rho
                addcmul_(square_avg, g, g, 1 - rho, tmp)
                std = np.add(square_avg, eps, out=scratch.get(x, 1))
                np.sqrt(std, out=std)
                delta = np.add(acc_delta, eps)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                acc_delta *= rho
                addcmul_(acc_delta, delta, delta, 1 - rho, tmp)
                add_scaled_(x, delta, -lr, tmp)
                bump(p)
        return loss
