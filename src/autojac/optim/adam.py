"""Adam and AdamW (decoupled weight decay), with AMSGrad and ``maximize``."""

from __future__ import annotations

import numpy as np

from ._kernels import addcdiv_
from ._update import adam_moments, bump, decayed_grad, incr_step, init_state, real
from .optimizer import Optimizer, _to_scalar, check_hyperparameters


class Adam(Optimizer):
    """Adam, ``torch.optim.Adam``'s single-tensor update in its operation order.

    >>> import autojac
    >>> w = autojac.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = autojac.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_hyperparameters(lr, eps=eps, betas=betas, weight_decay=weight_decay)
        tensor_betas = [hasattr(b, "numel") for b in betas[:2]]
        if not (all(isinstance(b, float) for b in betas[:2]) or all(tensor_betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas[:2]):
            if tensor_betas[i] and b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        scratch = self._scratch()
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = (_to_scalar(b) for b in group["betas"])
            eps, wd, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            for p, state in self._with_grads(group):
                if len(state) == 0:
                    init_state(state, p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
                step = incr_step(state["step"])
                g, x = decayed_grad(p, maximize, lr, wd, decoupled)
                exp_avg, exp_avg_sq = real(state["exp_avg"]._data), real(state["exp_avg_sq"]._data)
                tmp, denom = scratch.get(x, 0), scratch.get(x, 1)
                adam_moments(exp_avg, exp_avg_sq, g, beta1, beta2, tmp)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    m = real(state["max_exp_avg_sq"]._data)
                    np.maximum(m, exp_avg_sq, out=m)
                    np.sqrt(m, out=denom)
                else:
                    np.sqrt(exp_avg_sq, out=denom)
                denom /= bias_correction2_sqrt
                denom += eps
                addcdiv_(x, exp_avg, denom, -step_size, tmp)
                bump(p)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (``weight_decay=1e-2`` by default), ``torch.optim.AdamW``.

    >>> import autojac
    >>> w = autojac.tensor([1.0], requires_grad=True)
    >>> opt = autojac.optim.AdamW([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0.8990], requires_grad=True)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
