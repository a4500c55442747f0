"""Adadelta with weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import add_scaled, add_scaled_, addcmul_
from .optimizer import Optimizer, _bump, _grad_array, _incr_step, _real, _step_tensor, _to_scalar, _zeros_state


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
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
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
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_state(p)
                    state["acc_delta"] = _zeros_state(p)
                _incr_step(state["step"])
                g = _grad_array(p, maximize)
                x = p._data
                if wd != 0:
                    g = add_scaled(g, x, wd)
                g, x = _real(g), _real(x)
                square_avg, acc_delta = _real(state["square_avg"]._data), _real(state["acc_delta"]._data)
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
                _bump(p)
        return loss
