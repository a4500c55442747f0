"""Adagrad with learning-rate decay, initial accumulator, weight decay and ``maximize``."""

from __future__ import annotations

import numpy as np

from .._tensor import _wrap
from ._kernels import add_scaled, addcdiv_, addcmul_
from .optimizer import Optimizer, _bump, _grad_array, _incr_step, _real, _step_tensor, _to_scalar


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
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates Adagrad's state eagerly
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
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
                step = _incr_step(state["step"])
                g = _grad_array(p, maximize)
                x = p._data
                if wd != 0:
                    g = add_scaled(g, x, wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                g, x = _real(g), _real(x)
                state_sum = _real(state["sum"]._data)
                tmp = scratch.get(x)
                addcmul_(state_sum, g, g, 1, tmp)
                std = np.sqrt(state_sum, out=scratch.get(x, 1))
                std += eps
                addcdiv_(x, g, std, -clr, tmp)
                _bump(p)
        return loss
