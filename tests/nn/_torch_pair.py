"""Build the same layer in autojac and in PyTorch (the oracle) and compare them."""

from __future__ import annotations

import numpy as np
import torch

import autojac

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def build_pair(name: str, *args, seed: int = 0, **kwargs):
    """``autojac.nn.<name>(*args)`` and ``torch.nn.<name>(*args)``, each built after seeding its generator."""
    autojac.manual_seed(seed)
    ours = getattr(autojac.nn, name)(*args, **kwargs)
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    return ours, theirs


def copy_state(ours: autojac.nn.Module, theirs: torch.nn.Module) -> None:
    """Load torch's parameters and buffers into ours (through ``load_state_dict``)."""
    state = {k: autojac.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert repr(result) == "<All keys matched successfully>"


def as_pair(array: np.ndarray, requires_grad: bool = True):
    a = autojac.tensor(array.copy(), requires_grad=requires_grad and array.dtype.kind == "f")
    t = torch.tensor(array.copy(), requires_grad=requires_grad and array.dtype.kind == "f")
    return a, t


def close(ours, theirs, dtype, what: str, rtol: float | None = None) -> None:
    o = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    t = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert o.shape == t.shape, f"{what}: shape {o.shape} != {t.shape}"
    tol = dict(TOL[dtype], **({"rtol": rtol} if rtol else {}))
    np.testing.assert_allclose(o, t, err_msg=what, **tol)


def check_forward_backward(ours, theirs, inputs: list[np.ndarray], dtype, seed: int = 1,
                           rtol: float | None = None) -> None:
    """Same output, input gradients and parameter gradients for a random cotangent."""
    pairs = [as_pair(x) for x in inputs]
    out = ours(*[a for a, _ in pairs])
    tout = theirs(*[t for _, t in pairs])
    close(out, tout, dtype, "output")
    if not tout.requires_grad:
        return
    cot = np.random.default_rng(seed).standard_normal(tuple(tout.shape)).astype(dtype)
    (out * autojac.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for i, (a, t) in enumerate(pairs):
        if t.grad is not None:
            close(a.grad, t.grad, dtype, f"input {i} grad", rtol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_params[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.numpy().any(), name
        else:
            close(p.grad, tp.grad, dtype, f"grad of {name}", rtol)
