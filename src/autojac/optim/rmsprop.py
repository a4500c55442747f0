"""RMSprop with momentum, centering, weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import add_scaled, add_scaled_, addcdiv_, addcmul_, lerp_
from .optimizer import Optimizer, _bump, _grad_array, _incr_step, _real, _step_tensor, _to_scalar, _zeros_state


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
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
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
                    state["step"] = _step_tensor()
                    state["square_avg"] = _zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_state(p)
                    if centered:
                        state["grad_avg"] = _zeros_state(p)
                g = _grad_array(p, maximize)
                x = p._data
                _incr_step(state["step"])
                if wd != 0:
                    g = add_scaled(g, x, wd)
                g, x = _real(g), _real(x)
                tmp = scratch.get(x)
                square_avg = _real(state["square_avg"]._data)
                square_avg *= alpha
                addcmul_(square_avg, g, g, 1 - alpha, tmp)
                if centered:
                    grad_avg = _real(state["grad_avg"]._data)
                    lerp_(grad_avg, g, 1 - alpha, tmp)
                    avg = scratch.get(x, 1)
                    np.copyto(avg, square_avg)
                    addcmul_(avg, grad_avg, grad_avg, -1, tmp)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg, out=scratch.get(x, 1))
                avg += eps
                if momentum > 0:
                    buf = _real(state["momentum_buffer"]._data)
                    buf *= momentum
                    addcdiv_(buf, g, avg, 1, tmp)
                    add_scaled_(x, buf, -lr, tmp)
                else:
                    addcdiv_(x, g, avg, -lr, tmp)
                _bump(p)
        return loss
