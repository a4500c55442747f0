"""Every primitive declares how it runs under ``vmap`` (issue 10): a batching rule beside its other rules,
or ``PER_ELEMENT`` — listed here, so a new op without a vectorized rule is a deliberate, visible choice."""

from __future__ import annotations

import gc

import autojac  # noqa: F401  (declares every op)
from autojac._core.batching import PER_ELEMENT
from autojac._core.node import Op
from autojac.autograd.function import _FunctionOp

# ops whose work depends on their inputs' values (lstsq, pinv's rank), or whose rule is still to write
PER_ELEMENT_OPS = {"det_hessian", "linalg_lstsq", "linalg_pinv", "nll_loss"}


def _ops() -> list:
    """Every primitive (a custom Function's op is left out: its vmap rule is the Function's own)."""
    return [o for o in gc.get_objects() if isinstance(o, Op) and not isinstance(o, _FunctionOp)]


def test_every_primitive_declares_a_batching_rule() -> None:
    missing = sorted({o.name for o in _ops() if o.batch is None})
    assert not missing, f"ops without a batching rule (declare batch= beside their rules): {missing}"


def test_the_per_element_ops_are_the_listed_ones() -> None:
    looped = {o.name for o in _ops() if o.batch is PER_ELEMENT}
    assert looped == PER_ELEMENT_OPS


def test_nondifferentiable_ops_declare_one_too() -> None:
    runs = [f for f in gc.get_objects() if callable(f) and hasattr(f, "forward") and hasattr(f, "batch")
            and type(f).__name__ == "function"]
    assert runs, "no nondiff ops found"
    missing = sorted({f.__name__ for f in runs if f.batch is None})
    assert not missing, f"nondiff ops without a batching rule: {missing}"
