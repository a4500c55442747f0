"""Primitive declarations (``Op``), graph nodes (``Node``) and ``apply``, the per-op hot path.

An ``Op`` holds the forward computation on arrays and one VJP and one JVP rule per
input. ``apply`` runs the forward and, when grad mode is on and an input requires
grad, records a ``Node`` that keeps what the rules need.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from types import MethodType
from typing import Any

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap
from . import trace as _trace
from .anomaly import MODE as ANOMALY
from .anomaly import creation_stack
from .batched import BATCHING, DISPATCH
from .forward import ANY_LEVELS, propagate
from .grad_mode import STATE
from .saved_hooks import ACTIVE as SAVED_HOOKS
from .saved_hooks import pack_node
from .trace import TRACERS

_new = object.__new__

Rule = Callable[..., Any]
EMPTY: dict = {}
_ndarray = np.ndarray
_asarray = np.asarray


class Saves(Enum):
    """What a node keeps of its op's inputs for the VJP rules (and version-checks before they run).

    ``INPUTS``: every input (rules read their values). ``NOTHING``: only shapes (linear ops whose rules
    read no input value, e.g. ``add``, ``sum``): such a node may be differentiated twice.
    ``OTHER_OPERANDS``: each input's rule reads only the *other* operands (``mul``, ``matmul``): with one
    differentiable input only the others are checked, so ``x * w`` with a frozen ``w`` lets ``x`` change.

    >>> Saves.OTHER_OPERANDS
    <Saves.OTHER_OPERANDS: 'other operands'>
    """

    INPUTS = "inputs"
    NOTHING = "nothing"
    OTHER_OPERANDS = "other operands"


# module-level names: Node.__init__ compares by identity against these (a global read, no enum lookup)
_INPUTS, _OTHERS = Saves.INPUTS, Saves.OTHER_OPERANDS


class Op:
    """One primitive: forward on arrays, plus a VJP and a JVP rule per input.

    ``vjp[i](g, ans, *inputs, **params)`` returns the cotangent for input ``i`` given the
    output cotangent ``g``; ``jvp[i](t, ans, *inputs, **params)`` returns the output
    tangent caused by the tangent ``t`` of input ``i``. Rules use autojac ops, so they are
    differentiable again, and must accept extra leading batch dimensions on ``g``/``t``.
    ``None`` as a rule marks an input as non-differentiable. ``sparsity`` is the op's pattern
    rule for ``autojac.sparse`` (an ``ops._patterns.Sparsity``; ``None``: dense, with a warning).
    ``batch`` is its batching rule for ``vmap`` (a kind from ``_core.batching`` or a function; ``None``:
    the generic loop over the batch, with a warning). ``saves_inputs`` is a ``Saves`` member (``True`` and
    ``False`` are read as ``INPUTS`` and ``NOTHING``, for callers not yet moved to the enum).
    """

    __slots__ = ("name", "forward", "vjp", "jvp", "saves_inputs", "saves_ans", "_grad_name", "node_type",
                 "cast", "n_out", "n_in", "sparsity", "batch", "__weakref__")

    def __init__(self, name: str, forward: Callable, vjp: tuple = (), jvp: tuple = (), *,
                 saves_inputs: Saves | bool = Saves.INPUTS, saves_ans: bool = False, grad_name: str | None = None,
                 cast: str | None = None, n_out: int = 1, sparsity: Any = None, batch: Any = None) -> None:
        self.name = name
        self.forward = forward
        self.vjp = tuple(vjp)
        self.jvp = tuple(jvp)
        if type(saves_inputs) is bool:
            saves_inputs = Saves.INPUTS if saves_inputs else Saves.NOTHING
        elif type(saves_inputs) is not Saves:
            raise TypeError(f"op {name}: saves_inputs must be a Saves member, got {saves_inputs!r}")
        self.saves_inputs = saves_inputs
        self.saves_ans = saves_ans
        self.grad_name = grad_name or "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        self.cast = cast  # None, "promote" (binary type promotion) or "float" (ints become float)
        self.n_out = n_out
        self.n_in = len(self.vjp)
        self.sparsity = sparsity
        self.batch = batch
        if n_out > 1 and not saves_ans:
            raise ValueError(f"op {name}: multi-output ops must save their outputs (saves_ans=True)")

    @property
    def grad_name(self) -> str:
        """PyTorch's name for this op's backward node (``MulBackward0``): also the name of its nodes' type."""
        return self._grad_name

    @grad_name.setter
    def grad_name(self, name: str) -> None:
        self._grad_name = name
        self.node_type = node_type(name)

    def __call__(self, *args, **params):
        return apply(self, args, params)

    def __get__(self, obj, cls=None):
        # an Op stored on Tensor acts as a method
        return self if obj is None else MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<autojac op {self.name}>"


class Node:
    """A recorded application of an ``Op``: the ``grad_fn`` of the tensors it produced.

    Nodes are recorded as ``Node`` (one type keeps the attribute reads of the engine's hot
    loop monomorphic, hence fast); shown to the user (``Tensor.grad_fn``, ``next_functions``),
    a node takes its op's subclass, named as PyTorch names the backward
    (``type(y.grad_fn).__name__ == "MulBackward0"``). ``NODE_TYPES`` holds them all.
    """

    __slots__ = ("op", "inputs", "params", "next", "next_nr", "versions", "ans", "ans_vc",
                 "hooks", "retains", "ans_fw", "trace", "__weakref__")

    def __init__(self, op: Op, inputs: tuple, params: dict) -> None:
        self.op = op
        self.inputs = inputs
        self.params = params
        # an edge per input: the producing node, the leaf itself, or None
        nxt = []
        nrs = None
        n_req = 0
        for x in inputs:
            if type(x) is Tensor and x._requires_grad:
                fn = x._grad_fn
                if fn is None:
                    nxt.append(x)
                else:
                    nxt.append(fn)
                    if x._output_nr:
                        if nrs is None:
                            nrs = [0] * len(inputs)
                        nrs[len(nxt) - 1] = x._output_nr
                n_req += 1
            else:
                nxt.append(None)
        self.next = nxt
        self.next_nr = nrs
        saves = op.saves_inputs
        if saves is _INPUTS or (saves is _OTHERS and n_req > 1):
            self.versions = [x._vc[0] if type(x) is Tensor else None for x in inputs]
        elif saves is _OTHERS:  # only the rule of the one differentiable input runs: it reads the others
            self.versions = [x._vc[0] if type(x) is Tensor and e is None else None for x, e in zip(inputs, nxt)]
        else:
            self.versions = None
        self.ans = None  # the output array if the op saves it, else just its shape
        self.ans_vc = None
        self.hooks = None
        self.retains = None
        if ANOMALY.enabled:
            self.trace = creation_stack()

    # PyTorch-compatible introspection
    def name(self) -> str:
        return self.op._grad_name

    def __repr__(self) -> str:
        return f"<{self.op.grad_name} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        out = []
        inputs = self.inputs
        for i, fn in enumerate(self.next):
            if fn is None:
                if inputs is not None and not _is_operand(inputs[i]):
                    continue  # an op parameter passed positionally (dims, keepdim), not an input edge
                if inputs is not None and type(inputs[i]) is not Tensor and (
                        self.op.cast is None or self.op._grad_name in _SCALAR_NOT_AN_EDGE):
                    continue  # a number PyTorch folds into the node (an index, an exponent)
                out.append((None, 0))
            elif type(fn) is Tensor:
                out.append((AccumulateGrad(fn), 0))
            else:
                if type(fn) is Node:
                    fn.__class__ = fn.op.node_type  # shown to the user: its named type
                out.append((fn, self.next_nr[i] if self.next_nr else 0))
        return tuple(out)

    def register_hook(self, fn: Callable) -> None:
        raise RuntimeError("hooks on grad_fn are not supported; use Tensor.register_hook")

    # hooks and retain_grad of the tensors this node produced
    def _tensor_hooks(self, nr: int) -> list:
        if self.hooks is None:
            self.hooks = {}
        return self.hooks.setdefault(nr, [])

    def _retain(self, nr: int, ref) -> None:
        if self.retains is None:
            self.retains = {}
        self.retains[nr] = ref

    def release(self) -> None:
        """Free saved tensors after a backward pass without ``retain_graph``.

        The engine calls this only for nodes that save values. A node whose op saves nothing
        keeps its inputs (its rules read only their shapes), so, as in PyTorch, it may be
        differentiated again: ``y = (x + 1).sum(); y.backward(); y.backward()`` works.
        """
        self.inputs = None
        self.ans = None
        self.ans_fw = None


NODE_TYPES: set = {Node}
_BY_NAME: dict = {}


def node_type(grad_name: str) -> type:
    """The ``Node`` subclass named ``grad_name`` (one per name, created on first use)."""
    cls = _BY_NAME.get(grad_name)
    if cls is None:
        cls = _BY_NAME[grad_name] = type(grad_name, (Node,), {"__slots__": (), "__module__": Node.__module__})
        NODE_TYPES.add(cls)
    return cls


# Arithmetic ops whose Python-number operands PyTorch does not show as edges (other binary arithmetic
# shows them as (None, 0); non-arithmetic ops never do)
_SCALAR_NOT_AN_EDGE = frozenset({"RsubBackward1", "PowBackward0", "PowBackward2"})


class OutputMeta:
    """What a rule may read of an output that was not saved: its shape and ndim."""

    __slots__ = ("shape", "ndim")

    def __init__(self, shape: tuple) -> None:
        self.shape = shape
        self.ndim = len(shape)


def _is_operand(x) -> bool:
    """Whether PyTorch would show an edge for this input: tensors and (non-bool) Python numbers."""
    return type(x) is Tensor or (isinstance(x, (int, float, complex)) and not isinstance(x, bool))


class AccumulateGrad:
    """Stand-in shown in ``next_functions`` for a leaf that accumulates into ``.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _level(x) -> int:
    return (2 if x._data.ndim else 1) if type(x) is Tensor else 0


def _scalar_dtype(x) -> _dtype.dtype:
    return _dtype.scalar_dtype(x)


def _cast_datas(op: Op, args: tuple, datas: list) -> None:
    """Apply PyTorch's type promotion to the forward's array arguments, in place."""
    target = None
    target_level = 0
    if any(isinstance(a, np.generic) for a in args):
        # NumPy scalars take part like Python scalars (weakly), as in PyTorch
        args = tuple(a.item() if isinstance(a, np.generic) else a for a in args)
        datas[:] = [a if isinstance(a, (bool, int, float, complex)) else d for a, d in zip(args, datas)]
    for a in args:
        if type(a) is Tensor:
            d, lvl = _dtype.FROM_NP[a._data.dtype], (2 if a._data.ndim else 1)
        elif isinstance(a, (bool, int, float, complex)):
            d, lvl = _dtype.scalar_dtype(a), 0
        else:
            continue
        if target is None:
            target, target_level = d, lvl
        else:
            target = _dtype.result_type(target, target_level, d, lvl)
            target_level = max(target_level, lvl)
    if target is None:
        return
    if op.cast == "float" and target.category < 2:
        target = _dtype.get_default_dtype()
    np_target = target.np
    for i, a in enumerate(args):
        if type(a) is Tensor:
            if datas[i].dtype is not np_target:
                datas[i] = datas[i].astype(np_target)
        elif isinstance(a, (bool, int, float, complex)):
            # Python scalars are weak in NumPy too; only cast where NumPy would widen
            if target.category < _dtype.scalar_dtype(a).category or isinstance(a, bool) and target.category:
                datas[i] = np_target.type(a)


def _broadcast_error(args: tuple, err: Exception) -> RuntimeError:
    """PyTorch's message for operands that do not broadcast, naming the two shapes that clash."""
    shapes = [tuple(a._data.shape) if type(a) is Tensor else a.shape for a in args
              if type(a) is Tensor or type(a) is _ndarray]  # ops may pass masks as arrays
    for i, a in enumerate(shapes):
        for b in shapes[i + 1:]:
            n = max(len(a), len(b))
            pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
            for d in range(n - 1, -1, -1):
                if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
                    return RuntimeError(
                        f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                        f"non-singleton dimension {d}: shapes {list(a)} and {list(b)} do not broadcast"
                    )
    return RuntimeError(str(err))


def apply(op: Op, args: tuple, params: dict = EMPTY):
    """Run ``op`` on tensors (and Python scalars) and record it when gradients are needed."""
    if BATCHING:
        out = DISPATCH[0](op, args, params)
        if out is not None:
            return out
    datas = []
    rg = False
    dt = None
    uniform = True  # one float dtype among the tensors, only plain Python int/float scalars
    for a in args:
        ta = type(a)
        if ta is Tensor:
            d = a._data
            datas.append(d)
            if a._requires_grad:
                rg = True
            if dt is None:
                dt = d.dtype
            elif d.dtype is not dt:
                uniform = False
        else:
            datas.append(a)
            if ta is not float and ta is not int:
                uniform = False
    if op.cast is not None and not (uniform and dt is not None and dt.kind == "f"):
        _cast_datas(op, args, datas)
    if TRACERS:
        datas = _trace.enter(op.forward, args, datas, params)
    try:
        out = op.forward(*datas, **params)
    except ValueError as e:
        if "broadcast" in str(e):
            raise _broadcast_error(args, e) from None
        raise
    record = rg and STATE.enabled
    if op.n_out == 1:
        if type(out) is not _ndarray:
            out = _asarray(out)
        t = _new(Tensor)  # _wrap, inlined: this is the hottest line of the library
        t._data = out
        t._vc = [0]
        if record:
            node = Node(op, args, params)
            if op.saves_ans:
                node.ans = out
                node.ans_vc = t._vc
            else:
                node.ans = out.shape
            t._requires_grad = True
            t._grad_fn = node
            if SAVED_HOOKS:
                pack_node(node, t)
        else:
            t._requires_grad = False
            t._grad_fn = None
        if TRACERS:
            _trace.leave(t)
        if ANY_LEVELS:
            propagate(op, args, params, t)
            if record and op.saves_ans and t._fw is not None:
                node.ans_fw = t._fw  # the saved output keeps its tangents (forward-over-reverse)
        return t
    outs = tuple(_wrap(o if type(o) is _ndarray else _asarray(o)) for o in out)
    if TRACERS:
        _trace.leave(outs)
    return _finish(op, args, params, outs, record)


def _finish(op: Op, args: tuple, params: dict, outs: tuple, record: bool):
    """Record the node of outputs ``outs`` (when ``record``) and push forward-mode tangents."""
    if record:
        node = Node(op, args, params)
        node.ans = tuple(o._data for o in outs)
        node.ans_vc = tuple(o._vc for o in outs)
        for i, o in enumerate(outs):
            if o._data.dtype.kind in "fc":
                o._requires_grad = True
                o._grad_fn = node
                o._output_nr = i
        if SAVED_HOOKS:
            pack_node(node, outs)
    if ANY_LEVELS:
        propagate(op, args, params, outs)
        if record:
            node.ans_fw = tuple(o._fw for o in outs)
    return outs


def wrap_outputs(op: Op, args: tuple, params: dict, datas: tuple):
    """Tensors around ``op``'s output arrays ``datas``, recorded as ``apply`` records them.

    The batching interpreter computes an op's outputs its own way (as placeholders of batched
    values) and finishes here, so the graph and the tangents of batched tensors are ``apply``'s.
    """
    record = False
    if STATE.enabled:
        for a in args:
            if type(a) is Tensor and a._requires_grad:
                record = True
                break
    if op.n_out > 1:
        return _finish(op, args, params, tuple(_wrap(d) for d in datas), record)
    data = datas[0]
    t = _wrap(data)
    if record:
        node = Node(op, args, params)
        node.ans = data if op.saves_ans else data.shape
        if op.saves_ans:
            node.ans_vc = t._vc
        t._requires_grad = True
        t._grad_fn = node
        if SAVED_HOOKS:
            pack_node(node, t)
    if ANY_LEVELS:
        propagate(op, args, params, t)
        if record and op.saves_ans and t._fw is not None:
            node.ans_fw = t._fw
    return t


def defop(name: str, forward: Callable, vjp: tuple = (), jvp: tuple = (), **kw) -> Op:
    """Declare a primitive; see ``Op``. Returns the op, callable on tensors."""
    return Op(name, forward, vjp, jvp, **kw)


def nondiff(name: str, forward: Callable, **kw) -> Callable:
    """Declare an operation with no derivative (comparisons, argmax): never recorded."""

    def run(*args, **params):
        if BATCHING:
            out = DISPATCH[1](run, args, params)
            if out is not None:
                return out
        datas = [a._data if type(a) is Tensor else a for a in args]
        if TRACERS:
            datas = _trace.enter(forward, args, datas, params)
        out = forward(*datas, **params)
        t = _wrap(out if type(out) is _ndarray else _asarray(out))
        if TRACERS:
            _trace.leave(t)
        return t

    run.__name__ = name
    run.forward = forward
    run.batch = kw.get("batch")
    return run
