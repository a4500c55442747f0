"""``sum_to`` and ``expand``: the adjoint pair the engine uses to unbroadcast gradients.

Both keep ``nb`` leading batch dimensions untouched (DESIGN.md decision 3), so the
engine can unbroadcast a whole batch of cotangents at once.
"""

from __future__ import annotations

import numpy as np

from .batching import NB, Shape, n_batch
from .node import Saves, defop
from .patterns import MOVE, SUM_TO


def _sum_to_forward(x: np.ndarray, shape: tuple, nb: int) -> np.ndarray:
    lead = x.ndim - nb - len(shape)
    if lead < 0:
        raise RuntimeError(f"cannot sum a tensor of shape {list(x.shape)} to shape {list(shape)}")
    tail = x.shape[nb + lead:]
    axes = tuple(range(nb, nb + lead)) + tuple(
        nb + lead + i for i, s in enumerate(shape) if s == 1 and tail[i] != 1
    )
    r = x.sum(axis=axes, keepdims=True) if axes else x
    return r.reshape(x.shape[:nb] + tuple(shape))


def _expand_rows(g, keep: int, shape: tuple, target: tuple):
    """Broadcast ``g`` (``keep`` leading dims + ``shape``) to those dims + ``target``.

    ``shape`` aligns with the right of ``target``; the dims ``target`` has in front are new.
    """
    batch = tuple(g.shape[:keep])
    lead = len(target) - len(shape)
    if lead:
        g = g.reshape(batch + (1,) * lead + tuple(shape))
    return expand(g, batch + tuple(target))


def fit_tangent(tt, batch: tuple, out):
    """A tangent broadcast to ``batch + out.shape``, in ``out``'s dtype (forward mode's slow path)."""
    if tt._data.shape != batch + out._data.shape:
        nb = len(batch)
        tt = _expand_rows(tt, nb, tuple(tt._data.shape[nb:]), out._data.shape)
    if tt._data.dtype is not out._data.dtype:
        tt = cast_grad(tt, out)  # a complex tangent of a real output: its real part
    return tt


def cast_grad(g, x):
    """``g`` in ``x``'s dtype. A complex gradient of a real input keeps its real part, as PyTorch's
    rules do (``handle_r_to_c``): that is the gradient of a real loss along real directions."""
    if g._data.dtype.kind == "c" and x._data.dtype.kind != "c":
        g = g.real  # a recorded op: differentiable under create_graph
        if g._data.dtype is x._data.dtype:
            return g
    return g.to(x.dtype)


def _sum_to_vjp(g, ans, x, shape, nb):
    return _expand_rows(g, n_batch(g, ans) + nb, tuple(shape), tuple(x.shape[nb:]))


def _sum_to_jvp(t, ans, x, shape, nb):
    return sum_to(t, shape, nb + n_batch(t, x))


def _expand_forward(x: np.ndarray, shape: tuple) -> np.ndarray:
    return np.broadcast_to(x, shape)


def _expand_vjp(g, ans, x, shape):
    return sum_to(g, tuple(x.shape), g.ndim - len(shape))


def _expand_jvp(t, ans, x, shape):
    return _expand_rows(t, n_batch(t, x), tuple(x.shape), tuple(shape))


sum_to = defop("sum_to", _sum_to_forward, vjp=(_sum_to_vjp,), jvp=(_sum_to_jvp,),
               saves_inputs=Saves.NOTHING, grad_name="SumToBackward0", sparsity=SUM_TO, batch=NB(2))
expand = defop("expand", _expand_forward, vjp=(_expand_vjp,), jvp=(_expand_jvp,),
               saves_inputs=Saves.NOTHING, grad_name="ExpandBackward0", sparsity=MOVE, batch=Shape(1, pad=True))
