"""A small two-tensor regression problem run by autojac and by PyTorch side by side."""

from __future__ import annotations

import numpy as np
import torch

import autojac

RNG = np.random.default_rng(7)
X = RNG.standard_normal((8, 4))
Y = RNG.standard_normal((8, 3))
W0 = RNG.standard_normal((3, 4)) * 0.5
B0 = RNG.standard_normal(3) * 0.5
DTYPES = {"float64": (autojac.float64, torch.float64), "float32": (autojac.float32, torch.float32)}
TOL = {"float64": {"rtol": 1e-12, "atol": 1e-13}, "float32": {"rtol": 1e-5, "atol": 1e-6}}


def params(lib, dtype: str):
    dt = DTYPES[dtype][0 if lib is autojac else 1]
    w = lib.tensor(W0, dtype=dt, requires_grad=True)
    b = lib.tensor(B0, dtype=dt, requires_grad=True)
    return w, b


def loss_fn(lib, w, b, dtype: str, sign: float = 1.0):
    """Mean squared error of a tanh layer (nonlinear, smooth, bounded)."""
    dt = DTYPES[dtype][0 if lib is autojac else 1]
    x, y = lib.tensor(X, dtype=dt), lib.tensor(Y, dtype=dt)
    return sign * ((lib.tanh(x @ w.T) + b - y) ** 2).mean()


def trajectory(lib, name: str, kw: dict, group2: dict, dtype: str, steps: int = 50, sign: float = 1.0):
    """Parameters after each of ``steps`` updates, with ``w`` and ``b`` in two param groups."""
    w, b = params(lib, dtype)
    opt = getattr(lib.optim, name)([{"params": [w]}, {"params": [b], **group2}], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(lib, w, b, dtype, sign).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]).astype(np.float64))
    return np.array(out), opt


def to_autojac(obj):
    """A PyTorch state dict with its tensors turned into autojac tensors."""
    if isinstance(obj, torch.Tensor):
        return autojac.tensor(obj.detach().numpy())
    if isinstance(obj, dict):
        return {k: to_autojac(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_autojac(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_autojac(v) for v in obj)
    return obj
