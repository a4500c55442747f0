"""The extra checks: batched gradients, multiplication by the grad output, undefined gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._core import forward
from ..._random import Generator
from ..._tensor import Tensor, _wrap
from ..api import grad as _grad
from ._common import GradcheckError, _allclose, _differentiable_outputs, _is_float, _t, _zeros_like
from ._fast import _fast_vectors
from ._forward import _dual_call, _tangents

# ----------------------------------------------------------------------------- extra checks


_BATCHED_MSG = ("gradcheck or gradgradcheck failed while testing batched gradient computation "
                "(derivative rules called with leading batch dimensions, as autograd.functional.jacobian, "
                "func.jacrev/jacfwd and is_grads_batched call them). Check that the rule handles extra "
                "leading dimensions (negative axes, right-aligned broadcasting), or call "
                "gradcheck/gradgradcheck with check_batched_grad=False (check_batched_forward_grad=False).")


def _batched_fail(out_idx: int, in_idx: int, res, exp) -> str:
    return f"For output {out_idx} and input {in_idx}:\n\n{_BATCHED_MSG}\n\nGot:\n{res}\n\nExpected:\n{exp}"


def _compare_batched(fn: Callable, vectors: list, fail: Callable) -> None:
    """``fn(vector, batched)`` once on the stacked ``vectors`` against a loop over them; ``fail(i, res, exp)``
    words the error for output ``i``."""
    expected = [np.stack(s) for s in zip(*(fn(v, False) for v in vectors))]
    try:
        result = fn(np.stack(vectors), True)
    except Exception as ex:
        raise GradcheckError(f"While computing batched gradients, got: {ex}\n\n{_BATCHED_MSG}") from ex
    for i, (res, exp) in enumerate(zip(result, expected)):
        if not _allclose(res, exp, 1e-5, 1e-8):
            raise GradcheckError(fail(i, _t(res), _t(exp)))


def _test_batched_grad(output: Tensor, out_idx: int, xs: list) -> None:
    """Two random VJPs as one batched pass (``is_grads_batched``) against a loop."""
    gen = Generator().manual_seed(0)
    od = output._data
    gos = [gen.normal(od.size, od.dtype).astype(od.dtype).reshape(od.shape) for _ in range(2)]

    def vjp(go, batched: bool) -> list:
        gs = _grad(output, xs, _wrap(go), retain_graph=True, allow_unused=True, is_grads_batched=batched)
        b = go.shape[:1] if batched else ()
        return [np.zeros(b + x._data.shape, x._data.dtype) if g is None else g._data for g, x in zip(gs, xs)]

    _compare_batched(vjp, gos, lambda i, res, exp: _batched_fail(out_idx, i, res, exp))


def _test_batched_forward(func: Callable, tupled: tuple, diff: list) -> None:
    """Two random JVPs as one batched forward pass against a loop."""
    gen = Generator().manual_seed(0)
    for k in diff:
        x = tupled[k]
        tans = [gen.normal(x._data.size, x._data.dtype).astype(x._data.dtype).reshape(x._data.shape)
                for _ in range(2)]

        def jvp(t: np.ndarray, batched: bool, k: int = k) -> list:
            level = forward.enter_level()
            try:
                outs = _dual_call(func, tupled, diff, {k: t}, level)
                res = _tangents(outs, level)
            finally:
                forward.exit_level(level)
            b = t.shape[:1] if batched else ()
            return [np.zeros(b + o._data.shape, o._data.dtype) if r is None else r
                    for r, o in zip(res, outs) if _is_float(o)]

        _compare_batched(jvp, tans, lambda j, res, exp, i=diff.index(k): _batched_fail(j, i, res, exp))


def _test_mul_by_grad_output(outputs: list, xs: list, masked: bool) -> None:
    """Zero cotangents must give zero gradients of the inputs' dtype and shape."""
    if not outputs:
        return
    gs = _grad(outputs, xs, [_zeros_like(o) for o in outputs], allow_unused=True)
    for g, x in zip(gs, xs):
        if g is None:
            continue
        gd = g._data
        zero = np.allclose(gd, 0) if masked else not np.any(gd != 0)
        if not zero:
            raise GradcheckError("backward not multiplied by grad_output")
        if gd.dtype != x._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gd.shape != x._data.shape:
            raise GradcheckError("grad is incorrect size")


def _test_undefined_backward(func: Callable, tupled: tuple, xs: list) -> None:
    """An output left out of a backward pass (PyTorch's undefined gradient) counts as zero: with
    each output dropped in turn and zeros for the rest, every input gradient must be zero."""
    n_out = len(_differentiable_outputs(func(*tupled)))
    for drop in range(n_out if n_out > 1 else 0):
        outs = [o for k, o in enumerate(_differentiable_outputs(func(*tupled))) if k != drop]
        try:
            gs = _grad(outs, xs, [_zeros_like(o) for o in outs], allow_unused=True)
        except RuntimeError as e:
            raise GradcheckError("Expected backward function to handle undefined output grads (an output that "
                                 "takes no part in the backward pass counts as zeros).") from e
        for g in gs:
            if g is not None and np.any(g._data != 0):
                raise GradcheckError("Expected all input grads to be undefined or zero when all output grads are "
                                     "undefined or zero.")


def _test_undefined_forward(func: Callable, tupled: tuple, diff: list) -> None:
    """With the other inputs carrying tangents, a zero tangent on input ``k`` and no tangent at
    all must give the same output tangents."""
    us, _ = _fast_vectors(tupled, diff, [], forward_ad=True)
    tangents = {k: u.reshape(tupled[k]._data.shape).astype(tupled[k]._data.dtype) for k, u in zip(diff, us)}
    for k in diff:
        x = tupled[k]
        level = forward.enter_level()
        try:
            zero = _dual_call(func, tupled, diff, {**tangents, k: np.zeros(x._data.shape, x._data.dtype)}, level)
            with_zero = _tangents(zero, level)
            without = _tangents(_dual_call(func, tupled, diff, {**tangents, k: None}, level), level)
        finally:
            forward.exit_level(level)
        for idx, (t1, t2) in enumerate(zip(with_zero, without)):
            if t1 is not None and t2 is not None and not _allclose(t1, t2, 1e-5, 1e-8):
                raise GradcheckError(f"Mismatch in tangent values for output with index: {idx} when input {k} has "
                                     f"an undefined tangent value. Got: {_t(t1)} but expected: {_t(t2)}")
