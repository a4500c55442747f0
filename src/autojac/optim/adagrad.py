"""Adagrad with learning-rate decay, initial accumulator, weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from ._kernels import addcdiv_, addcmul_
from ._update import bump, decayed_grad, incr_step, real, step_tensor
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class Adagrad(Optimizer):
    """Adagrad, ``torch.optim.Adagrad``'s update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        check_hyperparameters(lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates Adagrad's state eagerly
            for p in group["params"]:
                state = self.state[p]
                state["step"] = step_tensor()
                init = initial_accumulator_value
                state["sum"] = _wrap(np.full_like(p._data, complex(init, init) if p.is_complex() else init))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lr_decay, eps, wd, maximize = group["lr_decay"], group["eps"], group["weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                step = incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = real(state["sum"]._data)
                tmp = scratch.get(x)
                addcmul_(state_sum, g, g, 1, tmp)
                std = np.sqrt(state_sum, out=scratch.get(x, 1))
                std += eps
                addcdiv_(x, g, std, -clr, tmp)
                bump(p)
        return loss
