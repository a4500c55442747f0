"""Rprop: per-coordinate step sizes adapted by the sign of successive gradients."""

from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from ._update import bump, grad_array, incr_step, init_state, real
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class Rprop(Optimizer):
    """Rprop, ``torch.optim.Rprop``'s update.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_hyperparameters(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    lr = _to_scalar(group["lr"])
                    init_state(state, p, "prev")
                    state["step_size"] = _wrap(np.full_like(p._data, complex(lr, lr) if p.is_complex() else lr))
                incr_step(state["step"])
                g = real(grad_array(p, maximize))
                x = real(p._data)
                prev, step_size = real(state["prev"]._data), real(state["step_size"]._data)
                sign = np.sign(g * prev)
                sign[sign > 0] = etaplus
                sign[sign < 0] = etaminus
                sign[sign == 0] = 1
                step_size *= sign
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = g.copy()
                g[sign == etaminus] = 0  # after a sign change, skip this coordinate once
                update = np.sign(g)
                update *= -1
                update *= step_size
                x += update
                prev[...] = g
                bump(p)
        return loss
