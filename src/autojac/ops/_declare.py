"""Shortcuts for the common shapes of rule, and the helpers of in-place ops."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from .. import _dtype
from .._core import patterns as _patterns
from .._core.batched import BATCHING, Batched
from .._core.batching import (
    BROADCAST,
    NB,
    PER_ELEMENT,
    Axes,
    Shape,
    batch_shape,
    get_arg,
    lift,
    n_batch,
    pad_batch,
    set_arg,
    shift_axes,
)
from .._core.forward import ANY_LEVELS, has_tangent
from .._core.grad_mode import STATE
from .._core.node import Node, Op, Saves, apply, defop
from .._core.trace import TRACERS, note_store, plain
from .._tensor import Tensor, _wrap
from ._batched import store
from .creation import tensor
from .views import alias, inplace_on_view, refresh_views, save_written, take_graph

__all__ = ["defop", "Saves", "saves_of", "elementwise", "binary", "linear", "renamed", "named", "operand", "inplace",
           "apply", "Op", "conj", "conj_op"]

def elementwise(name: str, forward: Callable, deriv: Callable, *, uses: str = "x",
                cast: str | None = "float", grad_name: str | None = None, sparsity=_patterns.ELEMENTWISE) -> Op:
    """A unary op whose derivative is a pointwise factor ``deriv(ans, x)`` (holomorphic for complex
    inputs: the VJP is ``g * conj(deriv)``, the JVP ``t * deriv``).

    ``uses`` says what ``deriv`` reads: ``"x"``, ``"ans"`` or ``"both"`` (decides what is
    saved and version-checked). Its sparsity pattern is the identity (nonlinear unless told).
    """
    return defop(
        name, forward,
        vjp=(lambda g, ans, x: g * conj(deriv(ans, x)),),
        jvp=(lambda t, ans, x: t * deriv(ans, x),),
        saves_inputs=saves_of(uses), saves_ans=uses in ("ans", "both"),
        cast=cast, grad_name=grad_name, sparsity=sparsity, batch=BROADCAST,
    )


def saves_of(uses: str) -> Saves:
    """What a rule that reads ``uses`` (``"x"``, ``"ans"``, ``"both"`` or ``"cross"``) needs of the inputs."""
    return Saves.OTHER_OPERANDS if uses == "cross" else Saves.INPUTS if uses in ("x", "both") else Saves.NOTHING


def linear(name: str, forward: Callable, vjp: tuple, *, batch, **kw) -> Op:
    """A primitive linear in each differentiable input (the others fixed), whose JVP is the op itself.

    The JVP rule of input ``i`` runs the op with the tangent in slot ``i`` and the other arguments as
    given (JAX's ``deflinear2``, PyTorch's ``auto_linear``). A tangent with leading batch dims runs
    the op as ``vmap`` would run it on them, read from the op's ``batch`` metadata: ``BROADCAST``
    (the tangent is lined up with the output, see ``lift``), ``Axes`` (one tensor input: its axis
    arguments move past the batch dims), ``NB`` (the count grows), ``Shape`` (the batch shape goes in
    front) or a rule function (run on the tangent with its batch dims flattened into one). An op
    batched ``PER_ELEMENT`` (or not at all) needs its JVP written by hand (``defop``).

    >>> import autojac
    >>> from autojac._core.batching import BROADCAST
    >>> twice = linear("twice", lambda x: 2 * x, vjp=(lambda g, ans, x: 2 * g,), batch=BROADCAST)
    >>> autojac.func.jvp(twice, (autojac.tensor([1.0]),), (autojac.tensor([3.0]),))
    (tensor([2.]), tensor([6.]))
    """
    if not (batch is BROADCAST or type(batch) in (Axes, NB, Shape) or _is_rule(batch)):
        raise TypeError(f"linear op {name}: its JVP follows its batching rule, which {batch!r} is not; "
                        "write the JVP rules by hand (defop)")
    op = defop(name, forward, vjp=vjp, batch=batch, **kw)
    op.jvp = tuple(None if rule is None else _linear_jvp(op, i) for i, rule in enumerate(vjp))
    return op


def _linear_jvp(op: Op, i: int) -> Callable:
    """The JVP rule of input ``i`` of the linear ``op``: the op on the tangent (see ``linear``)."""
    def rule(t, ans, *args, **params):
        x = args[i]
        args = list(args)
        k = n_batch(t, x)
        if k == 0:
            args[i] = t
            return op(*args, **params)
        kind = op.batch
        if kind is BROADCAST:
            args[i] = lift(t, x, ans)
        elif type(kind) is NB:
            params = set_arg(args, params, kind.position, get_arg(args, params, kind.position) + k)
            args[i] = t
        elif type(kind) is Shape:
            shape = tuple(get_arg(args, params, kind.position))
            args[i] = pad_batch(t, x, len(shape)) if kind.pad else t
            params = set_arg(args, params, kind.position, batch_shape(t, x) + shape)
        elif type(kind) is Axes:
            return _linear_axes(op, kind, t, x, ans, i, args, params, k)
        else:
            return _linear_by_rule(op, kind, t, x, i, args, params, k)
        return op(*args, **params)
    return rule


def _is_rule(batch) -> bool:
    return callable(batch) and batch is not PER_ELEMENT and not isinstance(batch, (Axes, NB, Shape))


def _linear_by_rule(op: Op, rule: Callable, t, x, i: int, args: list, params: dict, k: int):
    """The op on tangent ``t`` by its batching rule function, the ``k`` batch dims of ``t`` flattened into one."""
    batch = batch_shape(t, x)
    size = math.prod(batch)
    args[i] = t if k == 1 else t.reshape((size,) + tuple(x.shape))
    out = rule(lambda a, p: op(*a, **p), args, [j == i for j in range(len(args))], params, size)
    return out if k == 1 else out.reshape(batch + tuple(out.shape[1:]))


def _linear_axes(op: Op, kind: Axes, t, x, ans, i: int, args: list, params: dict, k: int):
    scalar = x.ndim == 0 and any(type(get_arg(args, params, p)) is int for p in kind.positions)
    ndim = x.ndim
    if scalar:  # dim 0 / -1 of a 0-d tensor names the tensor itself: run on batch + (1,), then drop the 1
        t, ndim = t.reshape(batch_shape(t, x) + (1,)), 1
    for pos in kind.positions:
        params = set_arg(args, params, pos, shift_axes(get_arg(args, params, pos), ndim, k))
    args[i] = t
    out = op(*args, **params)
    return out.reshape(tuple(out.shape[:k]) + tuple(ans.shape)) if scalar else out


# Complex numbers follow PyTorch's convention: the gradient of a real loss L of a complex z is
# dL/dz* (conjugate Wirtinger), so a VJP rule multiplies the cotangent by the CONJUGATE of a
# holomorphic derivative (g * conj(f'(z))), while JVP rules stay t * f'(z). ``conj`` below is the
# rules' helper: for real tensors and numbers it returns its argument, so real code records nothing.
conj_op = linear("conj", np.conjugate, vjp=(lambda g, ans, x: conj(g),), saves_inputs=Saves.NOTHING,
                 sparsity=_patterns.LINEAR, batch=BROADCAST)


def conj(x):
    """The complex conjugate, recorded; ``x`` itself when it is real (a tensor or a Python number)."""
    if type(x) is Tensor:
        return conj_op(x) if x._data.dtype.kind == "c" else x
    return x.conjugate() if type(x) is complex or isinstance(x, np.complexfloating) else x


def renamed(op: Op, grad_name: str) -> Op:
    """The same primitive under another ``grad_fn`` name (PyTorch names overloads apart)."""
    new = copy.copy(op)  # every slot, whatever Op grows
    new.grad_name = grad_name
    return new


_RENAMED: dict = {}


def named(t: Tensor, grad_name: str) -> Tensor:
    """Show ``t``'s ``grad_fn`` under PyTorch's name for a composite op (display only, rules unchanged)."""
    node = t._grad_fn
    if node is not None:
        key = (node.op, grad_name)
        op = _RENAMED.get(key)
        if op is None:
            op = _RENAMED[key] = renamed(node.op, grad_name)
        node.op = op
        if type(node) is not Node:  # already shown under its old name
            node.__class__ = op.node_type
    return t


def binary(name: str, forward: Callable, da: Callable | None, db: Callable | None, *,
           uses: str = "x", cast: str = "promote", grad_name: str | None = None, sparsity=None) -> Op:
    """A binary op with pointwise partials ``da(ans, a, b)`` and ``db(ans, a, b)``.

    Its sparsity pattern is the union of the broadcast inputs' (every second partial may be nonzero
    unless ``sparsity`` says otherwise).
    """
    return defop(
        name, forward,
        vjp=(None if da is None else (lambda g, ans, a, b: g * conj(da(ans, a, b))),
             None if db is None else (lambda g, ans, a, b: g * conj(db(ans, a, b)))),
        jvp=(None if da is None else (lambda t, ans, a, b: lift(t, a, ans) * da(ans, a, b)),
             None if db is None else (lambda t, ans, a, b: lift(t, b, ans) * db(ans, a, b))),
        saves_inputs=saves_of(uses), saves_ans=uses in ("ans", "both"),
        cast=cast, grad_name=grad_name, sparsity=sparsity or _BINARY, batch=BROADCAST,
    )


_BINARY = _patterns.binary_pattern()


_NUMBER = (int, float, bool, complex)


def operand(x):
    """Coerce the other operand of a Tensor operator (scalars stay Python scalars)."""
    tx = type(x)
    if tx is Tensor or tx is float or tx is int:
        return x
    if isinstance(x, np.generic):  # NumPy scalars promote like Python's (float32 * np.float64(2) is float32)
        return x.item()
    if isinstance(x, Tensor) or isinstance(x, _NUMBER):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        return tensor(x)
    return NotImplemented


def _leaf_check(t: Tensor) -> None:
    if t._requires_grad and t._grad_fn is None and STATE.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _store(self: Tensor, result: Tensor) -> None:
    data = result._data
    if BATCHING and (type(data) is Batched or type(self._data) is Batched):
        return store(self, result, _store)
    if data.dtype != self._data.dtype and not np.can_cast(data.dtype, self._data.dtype, "same_kind"):
        raise RuntimeError(f"result type {result.dtype} can't be cast to the desired output type {self.dtype}")
    if data.shape != self._data.shape:
        try:
            np.broadcast_to(data, self._data.shape)
        except ValueError:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(data.shape)}"
            ) from None
    if not self._data.flags.writeable and self._data.size:
        raise RuntimeError("unsupported operation: the tensor is a read-only view (e.g. from expand); "
                           "clone() it before writing in place")
    dst = self._data
    if TRACERS:
        note_store(dst, data)
        dst, data = plain(dst), plain(data)
    if dst.size:
        np.copyto(dst, data, casting="unsafe")
    self._vc[0] += 1


def inplace(self: Tensor, fn: Callable[..., Tensor], *args, saves_self: bool = True) -> Tensor:
    """Run ``fn(self, *args)`` out of place and write the result into ``self``'s storage.

    When the result is recorded, ``self`` takes over its ``grad_fn``; ``self``'s old value
    enters the graph through an alias (a copy when the rule may read it), so gradients
    stay correct.
    """
    _leaf_check(self)
    needs_graph = STATE.enabled and (self._requires_grad or any(
        type(a) is Tensor and a._requires_grad for a in args))
    if self._base is not None and (needs_graph or (ANY_LEVELS and has_tangent(self, self._base[0], *args))):
        # the write goes into the base's storage: the base's graph (and tangent) must see it
        return inplace_on_view(self, fn, args, saves_self)
    if not needs_graph:
        with _no_record():
            result = fn(self, *args)
        _store(self, result)
        if ANY_LEVELS:
            self._fw = result._fw
            if "_views" in self.__dict__:
                refresh_views(self)
        return self
    result = fn(alias(self, copy=saves_self), *args)
    _store(self, result)
    if ANY_LEVELS:
        self._fw = result._fw
    if result._grad_fn is not None:
        save_written(result, self)
        take_graph(self, result)
    return self


class _no_record:
    __slots__ = ("prev",)

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = False

    def __exit__(self, *exc):
        STATE.enabled = self.prev


def default_float(dtype=None) -> np.dtype:
    return (_dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np


__all__ += ["default_float", "_wrap"]
