"""End to end: a seeded training loop written once for torch runs under autojac with torch's numbers.

Parameters from ``randn`` after ``manual_seed``, shuffled minibatches from a ``DataLoader``,
``clip_grad_norm_``, an optimizer and a scheduler: the loss curve matches PyTorch's.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac


def train(lib, opt_name: str, opt_kw: dict, sched: str) -> list[float]:
    F = lib.nn.functional
    data = lib.utils.data
    lib.manual_seed(0)
    x = lib.randn(40, 5, dtype=lib.float64)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    w1 = (lib.randn(16, 5, dtype=lib.float64) * 0.3).requires_grad_()
    b1 = lib.zeros(16, dtype=lib.float64, requires_grad=True)
    w2 = (lib.randn(3, 16, dtype=lib.float64) * 0.3).requires_grad_()
    b2 = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = getattr(lib.optim, opt_name)([{"params": [w1, w2]}, {"params": [b1, b2], "weight_decay": 0.0}],
                                       **opt_kw)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=8, shuffle=True)
    if sched == "onecycle":
        scheduler = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=5 * len(loader))
    else:
        scheduler = lib.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.7)
    losses = []
    for _ in range(5):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(F.linear(F.relu(F.linear(xb, w1, b1)), w2, b2), yb)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(params, max_norm=0.5)
            opt.step()
            scheduler.step()
            losses.append(loss.item())
    return losses


@pytest.mark.parametrize("opt_name,opt_kw,sched", [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}, "onecycle"),
    ("Adam", {"lr": 0.01, "weight_decay": 1e-3}, "onecycle"),
    ("AdamW", {"lr": 0.01, "amsgrad": True}, "step"),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True}, "step"),
])
def test_seeded_loop_reproduces_torch_loss_curve(opt_name, opt_kw, sched):
    got = train(autojac, opt_name, opt_kw, sched)
    want = train(torch, opt_name, opt_kw, sched)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert got[-1] < got[0]
