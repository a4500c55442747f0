"""Running a row under ``vmap`` in autojac and as torch's loop over the batch (the ``vmap`` checks).

The batch is 3 perturbed copies of the row's inputs (scaled by 1 + O(1e-3): signs, zeros and domains
stay). torch's loop over the batch is ``vmap``'s definition; ``torch.func.vmap`` meets it too except
where its batching rules pick another subgradient at ties (``max()``) or round differently
(``hardsigmoid``'s 1/6 in float32), so it is asked only whether it refuses a random op. autojac's
vectorized run is strict: an error in a batching rule fails the row instead of falling back to the loop.
"""

from __future__ import annotations

import numpy as np
import torch

from autojac.func import _vmap

from ._oracle import floating, outputs, rng_for

B = 3


def batch_of(xs: list, key: str) -> list:
    rng = rng_for("vmap" + key)
    return [np.stack([x * (1 + 1e-3 * b * rng.uniform(-1, 1, x.shape)) for b in range(B)]) for x in xs]


def strict(call):
    """``call()`` with autojac's vmap raising what a vectorized run raises (no fallback to the loop)."""
    _vmap.STRICT = True
    try:
        return call()
    finally:
        _vmap.STRICT = False


def torch_loop(f, in_dims):
    """torch's loop over the batch; ``torch.func.vmap`` first, for its randomness error."""
    def run(*xs):
        try:
            torch.func.vmap(f, in_dims=in_dims)(*[x.detach() for x in xs])
        except RuntimeError as e:
            if "randomness" in str(e):
                raise
        cols = [[x.select(0, b) if d == 0 else x for x, d in zip(xs, in_dims)] for b in range(B)]
        res = [f(*c) for c in cols]
        if isinstance(res[0], tuple):
            return tuple(torch.stack([r[k] for r in res]) for k in range(len(res[0])))
        return torch.stack(res)
    return run


def run(T, fn, arrays: list, in_dims: tuple, vmap):
    """The batched inputs (leaves requiring grad where batched and floating) and the vmapped outputs."""
    xs = [T.tensor(a, requires_grad=d == 0 and a.dtype.kind in "fc") for a, d in zip(arrays, in_dims)]
    return xs, outputs(vmap(lambda *a: fn(T, *a), in_dims=in_dims)(*xs))


def tols(ts, rtol: float, atol: float, case) -> tuple:
    """float64 tolerances (at least the row's own), or float32's where torch computed in float32."""
    if any(t.dtype in (torch.float32, torch.complex64) for t in ts):
        return 2e-5, 1e-6
    return max(rtol, case.rtol), atol


def contraction_grads(T, outs: list, leaves: list, ws: list):
    """d/d(leaves) of the real part of sum_k <outs_k, ws_k> (over the outputs torch differentiates)."""
    terms = [(o * T.tensor(w)).sum() for o, w in zip(outs, ws)]
    total = sum(t.real if t.is_complex() else t for t in terms)
    return T.autograd.grad(total, leaves, allow_unused=True)


def per_element_vjp(T, case, n_inputs: int):
    """``f(*inputs, *cotangents)``: the row's VJP at one element (its rules run on batched values under vmap)."""
    def f(*args):
        inputs, vs = args[:n_inputs], args[n_inputs:]
        leaves = [x.detach().requires_grad_() for x in inputs]
        outs = floating(outputs(case.fn(T, *leaves)))
        gs = T.autograd.grad(outs, leaves, list(vs), allow_unused=True)
        return tuple(T.zeros_like(x) if g is None else g for g, x in zip(gs, leaves))
    return f
