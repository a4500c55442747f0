"""A seeded training loop (conv, batch norm, dropout, pooling; hand-written SGD) reproduces torch's losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac


def train(T, dtype, steps=15):
    T.manual_seed(0)
    model = T.nn.Sequential(
        T.nn.Conv2d(1, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU(), T.nn.MaxPool2d(2), T.nn.Flatten(),
        T.nn.Dropout(0.2), T.nn.Linear(4 * 3 * 3, 16), T.nn.GELU(), T.nn.LayerNorm(16), T.nn.Linear(16, 5),
    ).to(dtype)
    x = T.randn(8, 1, 8, 8, dtype=dtype)
    y = T.randint(0, 5, (8,))
    loss_fn = T.nn.CrossEntropyLoss(label_smoothing=0.05)
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with T.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        losses.append(loss.item())
    model.eval()
    return losses, model(x).detach().numpy(), {k: v.numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("dtype,rtol", [("float32", 2e-5), ("float64", 1e-11)])
def test_seeded_training_loop_matches_torch(dtype, rtol):
    ours = train(autojac, getattr(autojac, dtype))
    theirs = train(torch, getattr(torch, dtype))
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol)
    assert ours[0][-1] < ours[0][0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol * 10, atol=rtol)
    for k in theirs[2]:
        np.testing.assert_allclose(ours[2][k], theirs[2][k], rtol=rtol * 10, atol=rtol, err_msg=k)
