"""Every op-table line compiled: the replayed program gives eager's results at new inputs.

Each line is traced at its table inputs, then called at different inputs (the replay); the
result must be eager's at those inputs, for the op's value and for its gradient (a compiled
``autograd.grad`` of ``<out, v>``). The replay runs the very NumPy calls eager runs, so the
tolerance is a few ulps (NumPy's SIMD reductions may pair terms by memory alignment). A line the
tracer cannot capture (random draws, data-dependent indices) falls back to eager, with a warning,
and must still be right.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ops import table_core, table_nn, table_special
from ops._oracle import autojac, lib_tensors, outputs, rng_for, to_np

CASES = [*table_core.ROWS, *table_nn.ROWS, *table_special.ROWS]
IDS = [c.test_id for c in CASES]
assert len(set(IDS)) == len(IDS)


def _moved(arrays: list, key: str) -> list:
    """Other inputs in the same domain: a small random step, signs and kinks kept."""
    rng = rng_for("moved" + key)
    return [a * (1 + 0.05 * rng.uniform(-1, 1, a.shape)) for a in arrays]


def _ulps(dtype: str) -> dict:
    eps = np.finfo(dtype).eps
    return dict(rtol=8 * eps, atol=8 * eps)


def _float_outputs(res) -> list:
    return [to_np(o) for o in outputs(res)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_compiled_value_is_eagers(case, dtype: str) -> None:
    xs = case.inputs()
    later = xs if case.values is not None else _moved(xs, case.id)

    def fn(*ts):
        return case.fn(autojac, *ts)

    compiled = autojac.compile(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fallback warns; its result is eager's by construction
        first = compiled(*lib_tensors(autojac, xs, dtype, requires_grad=False))
        replay = compiled(*lib_tensors(autojac, later, dtype, requires_grad=False))
    eager_first = fn(*lib_tensors(autojac, xs, dtype, requires_grad=False))
    eager = fn(*lib_tensors(autojac, later, dtype, requires_grad=False))
    for got, want in ((first, eager_first), (replay, eager)):
        for g, w in zip(_float_outputs(got), _float_outputs(want), strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, equal_nan=True, **_ulps(str(w.dtype) if w.dtype.kind == "f" else dtype))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_compiled_gradient_is_eagers(case) -> None:
    xs = case.inputs()
    later = xs if case.values is not None else _moved(xs, case.id)

    def grads(*ts):
        outs = [o for o in outputs(case.fn(autojac, *ts)) if o.requires_grad]
        if not outs:
            return ()
        vs = [autojac.ones_like(o) * 0.5 for o in outs]
        gs = autojac.autograd.grad(outs, ts, vs, allow_unused=True)
        return tuple(autojac.zeros_like(t) if g is None else g for t, g in zip(ts, gs))

    def run(f, arrays):
        ts = lib_tensors(autojac, arrays, "float64", requires_grad=True)
        return f(*ts)

    compiled = autojac.compile(grads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(compiled, xs)
        replay = run(compiled, later)
    eager = run(grads, later)
    for g, w in zip(replay, eager, strict=True):
        np.testing.assert_allclose(to_np(g), to_np(w), equal_nan=True, **_ulps("float64"))
