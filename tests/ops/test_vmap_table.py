"""Every op-table row under ``vmap``, against torch 2.13 (issue 10).

Each row's function runs vectorized over a batch of 3 perturbed copies of its inputs, first with
every input batched, then (for rows with several inputs) with only the first one batched. The
values, and the gradient of a random contraction of the vmapped outputs w.r.t. the batched
inputs, are compared with torch's loop over the batch: ``vmap``'s definition, which
``torch.func.vmap`` meets too except where its batching rules pick another subgradient at ties
(``max()``) or round differently (``hardsigmoid``'s 1/6 in float32). A random op under
``randomness="error"`` must raise as ``torch.func.vmap`` raises. The vectorized run is strict: an
error in a batching rule fails the row instead of falling back to the loop.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import autojac
from autojac.func import _vmap

from ._oracle import assert_close, floating, outputs, rng_for, to_np

_FAMILIES = ["test_op_table", "test_linalg", "test_linalg_more", "test_nn", "test_scan_index",
             "test_special"]
ROWS = [c for m in _FAMILIES for c in importlib.import_module(f"tests.ops.{m}").CASES]
B = 3


def _batch(xs: list, key: str) -> list:
    """``B`` copies of each input, scaled by 1 + O(1e-3) (signs, zeros and domains stay as they are)."""
    rng = rng_for("vmap" + key)
    return [np.stack([x * (1 + 1e-3 * b * rng.uniform(-1, 1, x.shape)) for b in range(B)]) for x in xs]


def _run(T, fn, arrays: list, in_dims: tuple, vmap):
    xs = [T.tensor(a, requires_grad=d == 0 and a.dtype.kind == "f") for a, d in zip(arrays, in_dims)]
    ys = outputs(vmap(lambda *a: fn(T, *a), in_dims=in_dims)(*xs))
    return xs, ys


def _torch_vmap(f, in_dims):
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


def _tols(ts, rtol: float, atol: float, case=None) -> tuple:
    """float64 tolerances (at least the row's own), or float32's where torch computed in float32."""
    if any(t.dtype in (torch.float32, torch.complex64) for t in ts):
        return 2e-5, 1e-6
    return max(rtol, getattr(case, "rtol", 0.0)), atol


def _check(case, in_dims: tuple) -> None:
    xs = case.inputs()
    big = _batch(xs, case.id)
    arrays = [b if d == 0 else x for b, x, d in zip(big, xs, in_dims)]
    try:
        tx, ty = _run(torch, case.fn, arrays, in_dims, _torch_vmap)
    except RuntimeError as e:  # a random op under randomness="error": autojac refuses the same way
        assert "randomness" in str(e)
        with pytest.raises(RuntimeError, match="randomness error mode"):
            _run(autojac, case.fn, arrays, in_dims, autojac.func.vmap)
        return
    _vmap.STRICT = True
    try:
        ax, ay = _run(autojac, case.fn, arrays, in_dims, autojac.func.vmap)
    finally:
        _vmap.STRICT = False
    assert len(ay) == len(ty), "number of outputs"
    for i, (a, t) in enumerate(zip(ay, ty)):
        assert tuple(a.shape) == tuple(t.shape), f"output {i} shape"
        assert_close(to_np(a.detach()), to_np(t.detach()), f"output {i}", *_tols(ty, 1e-9, 1e-11))
    af, tf = floating(ay), floating(ty)
    wanted = [i for i, x in enumerate(tx) if x.requires_grad]
    if not af or not wanted or not any(t.requires_grad for t in tf):
        return
    rng = rng_for("vmapw" + case.id)
    ws = [rng.standard_normal(tuple(t.shape)) for t in tf]
    tl = sum((t * torch.tensor(w)).sum() for t, w in zip(tf, ws) if t.requires_grad)
    tg = torch.autograd.grad(tl, [tx[i] for i in wanted], allow_unused=True)
    al = sum((a * autojac.tensor(w)).sum() for a, w, t in zip(af, ws, tf) if t.requires_grad)
    ag = autojac.autograd.grad(al, [ax[i] for i in wanted], allow_unused=True)
    for i, a, t in zip(wanted, ag, tg):
        if t is None:
            assert a is None or not np.any(to_np(a)), f"gradient of input {i}: torch has none"
            continue
        assert a is not None, f"gradient of input {i} missing"
        assert_close(to_np(a), to_np(t), f"gradient of input {i}", *_tols(ty, 1e-8, 1e-10, case))


@pytest.mark.parametrize("case", ROWS, ids=[c.id for c in ROWS])
def test_vmap_all_batched(case) -> None:
    _check(case, (0,) * len(case.inputs()))


def _vjp_inside(case) -> None:
    """``vmap`` of per-element VJPs: the rules run on batched values (``vmap(grad)``, per-sample gradients)."""
    xs = case.inputs()
    big = _batch(xs, case.id)
    rng = rng_for("vmapv" + case.id)
    outs0 = floating(outputs(case.fn(torch, *[torch.tensor(x) for x in xs])))
    if not outs0 or not all(x.dtype.kind == "f" for x in xs):
        return
    cots = [rng.standard_normal((B,) + tuple(o.shape)) for o in outs0]

    def per_element(T):
        def f(*args):
            inputs, vs = args[:len(xs)], args[len(xs):]
            leaves = [x.detach().requires_grad_() for x in inputs]
            outs = [o for o in floating(outputs(case.fn(T, *leaves)))]
            gs = T.autograd.grad(outs, leaves, list(vs), allow_unused=True)
            return tuple(T.zeros_like(x) if g is None else g for g, x in zip(gs, leaves))
        return f

    _vmap.STRICT = True
    try:
        got = autojac.func.vmap(per_element(autojac))(*[autojac.tensor(b) for b in big],
                                                      *[autojac.tensor(c) for c in cots])
    finally:
        _vmap.STRICT = False
    f = per_element(torch)
    want = [f(*[torch.tensor(b[i]) for b in big], *[torch.tensor(c[i]) for c in cots]) for i in range(B)]
    for k in range(len(xs)):
        w = torch.stack([r[k] for r in want])
        assert_close(to_np(got[k]), to_np(w), f"vjp of input {k}", *_tols([w], 1e-8, 1e-10, case))


@pytest.mark.parametrize("case", ROWS, ids=[c.id for c in ROWS])
def test_vmap_of_vjp(case) -> None:
    _vjp_inside(case)


MULTI = [c for c in ROWS if len(c.inputs()) > 1]


@pytest.mark.parametrize("case", MULTI, ids=[c.id for c in MULTI])
def test_vmap_first_batched(case) -> None:
    _check(case, (0,) + (None,) * (len(case.inputs()) - 1))
