"""``autojac.compile``: trace a call once per input signature, then replay it as plain NumPy.

The first call with a signature runs ``fn`` eagerly under a ``Tracer`` (so it returns the eager
result) and keeps the flat program of NumPy calls it ran; later calls with the same signature run
that program, without Tensors, graph nodes or rules. When gradients must flow through the call
(an input or a captured tensor requires grad), the program also holds the backward that the rules
ran, and the call shows up in the graph as one node, ``CompiledFunctionBackward``.
"""

from __future__ import annotations

import functools
import types
import warnings
from collections import OrderedDict

import numpy as np

from .._core.grad_mode import STATE, enable_grad
from .._core.trace import Tracer
from .._tensor import Tensor, _wrap
from ..autograd import grad as autograd_grad
from ..autograd.function import Function
from ..func._pytree import tree_flatten, tree_unflatten
from ._program import generate

__all__ = ["CompiledCallable", "CompiledFunction", "CompileError", "cache_size_limit"]

cache_size_limit = 8  # signatures kept per compiled function, as torch._dynamo.config.cache_size_limit
_EAGER = object()  # a signature that runs eagerly (the trace broke)
_SIMPLE = (int, float, bool, complex, str, type(None))


class CompileError(RuntimeError):
    """Raised under ``fullgraph=True`` when the function cannot be captured as one program."""


def _guarded_cells(fn, depth: int = 0, seen: set | None = None) -> list:
    """The closure cells, defaults and attributes whose values the program depends on.

    Returned as ``(container, key)`` pairs read at every call: Python numbers and strings there are
    constants of the program (guarded by value); other objects (captured tensors, functions) by
    identity, so rebinding one retraces.
    """
    seen = set() if seen is None else seen
    if depth > 4 or id(fn) in seen:
        return []
    seen.add(id(fn))
    out: list = []
    if isinstance(fn, functools.partial):
        out += [(fn.args, i) for i in range(len(fn.args))] + [(fn.keywords, k) for k in fn.keywords]
        for v in list(fn.args) + list(fn.keywords.values()):
            if callable(v):
                out += _guarded_cells(v, depth + 1, seen)
        return out + _guarded_cells(fn.func, depth + 1, seen)
    if isinstance(fn, types.MethodType):
        return _guarded_cells(fn.__self__, depth + 1, seen) + _guarded_cells(fn.__func__, depth + 1, seen)
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object (a module): its plain attributes (``training``, hyperparameters)
        attrs = getattr(fn, "__dict__", None)
        if isinstance(attrs, dict):
            out += [(attrs, k) for k, v in attrs.items() if type(v) in _SIMPLE]
        call = getattr(type(fn), "forward", None) or (type(fn).__call__ if callable(fn) else None)
        return out + (_guarded_cells(call, depth + 1, seen) if call is not None else [])
    for cell in fn.__closure__ or ():
        out.append((cell, None))
        try:
            v = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(v) and not isinstance(v, Tensor):
            out += _guarded_cells(v, depth + 1, seen)
    if fn.__defaults__:
        out += [(fn.__defaults__, i) for i in range(len(fn.__defaults__))]
    if fn.__kwdefaults__:
        out += [(fn.__kwdefaults__, k) for k in fn.__kwdefaults__]
    return out


def _guard_value(container, key):
    try:
        v = container.cell_contents if key is None else container[key]
    except (ValueError, KeyError, IndexError):
        return _EMPTY
    return v if type(v) in _SIMPLE else id(v)


_EMPTY = object()


def _leaf_key(x) -> tuple:
    if isinstance(x, Tensor):
        return ("T", x._data.shape, x._data.dtype.str, x._requires_grad)
    if type(x) in _SIMPLE:
        return ("V", type(x), x)
    if isinstance(x, np.ndarray):
        return ("A", x.shape, x.dtype.str, id(x))
    return ("O", id(x))


class _Entry:
    """One traced signature: the program and how to rebuild the result from its arrays."""

    __slots__ = ("program", "out_spec", "out_kinds")

    def __init__(self, program, out_spec, out_kinds) -> None:
        self.program = program
        self.out_spec = out_spec
        self.out_kinds = out_kinds  # per output leaf: "tensor" or "value"

    def run(self, tensors: list, leaves: list, compiled):
        arrays = self.program(*[t._data for t in tensors])
        return tree_unflatten([_wrap(a) if kind == "tensor" else a for a, kind in zip(arrays, self.out_kinds)],
                              self.out_spec)


class _GradEntry(_Entry):
    """A signature through which gradients flow: forward and backward programs, one graph node."""

    __slots__ = ("backward", "n_saved", "externals", "diff_inputs", "in_spec", "diff_mask")

    def __init__(self, programs, out_spec, out_kinds, externals: list, diff_inputs: list, in_spec,
                 diff_mask: list) -> None:
        super().__init__(programs[0], out_spec, out_kinds)
        self.backward = programs[1]
        self.n_saved = programs[2]
        self.externals = externals  # captured tensors that require grad: extra inputs of the node
        self.diff_inputs = diff_inputs  # positions (among the call's tensors) the backward returns gradients for
        self.in_spec = in_spec
        self.diff_mask = diff_mask  # per tensor output: whether the backward takes a cotangent for it

    def run(self, tensors: list, leaves: list, compiled):
        outs = CompiledFunction.apply(self, compiled, leaves, *tensors, *self.externals)
        outs = list(outs)
        return tree_unflatten([outs.pop(0) if kind == "tensor" else kind[1] for kind in self.out_kinds],
                              self.out_spec)


class CompiledFunction(Function):
    """The node a compiled call leaves in the graph: its backward is the traced backward program."""

    @staticmethod
    def forward(ctx, entry: _GradEntry, compiled, leaves: list, *tensors):
        n_call = len(tensors) - len(entry.externals)
        arrays = entry.program(*[t._data for t in tensors[:n_call]])
        n_out = len(arrays) - entry.n_saved
        ctx.entry, ctx.compiled, ctx.leaves = entry, compiled, leaves
        ctx.saved_arrays = arrays[n_out:]
        ctx.tensors = tensors
        outs = tuple(_wrap(a) for a in arrays[:n_out])
        ctx.out_meta = [(a.shape, a.dtype) for a in arrays[:n_out]]
        nondiff = [o for o in outs if o._data.dtype.kind not in "fc"]
        if nondiff:
            ctx.mark_non_differentiable(*nondiff)
        return outs

    @staticmethod
    def backward(ctx, *grads):
        entry = ctx.entry
        n_tensors = len(ctx.tensors)
        if STATE.enabled:  # create_graph: differentiate the eager computation instead
            result = _eager_grads(ctx, grads)
        else:
            cots = [np.zeros(shape, dtype) if g is None else g._data
                    for g, (shape, dtype), diff in zip(grads, ctx.out_meta, entry.diff_mask) if diff]
            result = [None if a is None else _wrap(np.asarray(a))
                      for a in entry.backward(*ctx.saved_arrays, *cots)]
        out: list = [None] * n_tensors
        for pos, g in zip(entry.diff_inputs, result):
            out[pos] = g
        return (None, None, None, *out)


def _eager_grads(ctx, grads) -> list:
    """The gradients by running the function eagerly again, recorded (for ``create_graph=True``)."""
    entry = ctx.entry
    n_call = len(ctx.tensors) - len(entry.externals)
    call_tensors = iter(ctx.tensors[:n_call])
    leaves = [next(call_tensors) if isinstance(x, Tensor) else x for x in ctx.leaves]
    args, kwargs = tree_unflatten(leaves, entry.in_spec)
    with enable_grad():
        result = ctx.compiled._fn(*args, **kwargs)
        outs = [o for o in tree_flatten(result)[0] if isinstance(o, Tensor)]
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o._requires_grad]
        targets = [ctx.tensors[p] for p in entry.diff_inputs]
        return list(autograd_grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=True,
                                  allow_unused=True))


class CompiledCallable:
    """What ``autojac.compile`` returns: a callable that traces once per signature, then replays."""

    def __init__(self, fn, *, fullgraph: bool = False, dynamic=None, mode: str | None = None) -> None:
        self._fn = fn
        self._fullgraph = fullgraph
        self._cache: OrderedDict = OrderedDict()
        self._warned: set = set()
        self._cells: list | None = None
        self._specs: dict = {}
        functools.update_wrapper(self, fn, updated=())

    @property
    def _orig_mod(self):  # torch's OptimizedModule attribute name
        return self._fn

    def __get__(self, obj, cls=None):
        return self if obj is None else types.MethodType(self, obj)

    def _key(self, leaves: list, spec):
        cells = self._cells
        if cells is None:
            cells = self._cells = _guarded_cells(self._fn)
        return (spec, tuple(_leaf_key(x) for x in leaves), STATE.enabled,
                tuple(_guard_value(c, k) for c, k in cells))

    def __call__(self, *args, **kwargs):
        if not kwargs and all(type(a) is Tensor for a in args):  # the common case, without a pytree walk
            leaves = list(args)
            spec = self._specs.get(len(args))
            if spec is None:
                spec = self._specs[len(args)] = tree_flatten((args, kwargs))[1]
        else:
            leaves, spec = tree_flatten((args, kwargs))
        key = self._key(leaves, spec)
        entry = self._cache.get(key)
        if entry is None:
            self._cells = None  # the closure may hold other functions now: walk it again
            key = self._key(leaves, spec)
            entry = self._cache.get(key)
        if entry is None:
            if len(self._cache) >= cache_size_limit:
                self._warn_once("cache", f"autojac.compile: {self._name()} was traced for {cache_size_limit} "
                                         "signatures (cache_size_limit); new signatures run eagerly")
                return self._fn(*args, **kwargs)
            return self._trace(key, leaves, args, kwargs)
        if entry is _EAGER:
            return self._fn(*args, **kwargs)
        self._cache.move_to_end(key)
        return entry.run([x for x in leaves if isinstance(x, Tensor)], leaves, self)

    # ------------------------------------------------------------------ tracing
    def _name(self) -> str:
        return getattr(self._fn, "__qualname__", None) or type(self._fn).__name__

    def _warn_once(self, key, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=4)

    def _trace(self, key, leaves: list, args, kwargs):
        tensors = [x for x in leaves if isinstance(x, Tensor)]
        with Tracer() as tracer:
            for i, t in enumerate(tensors):
                tracer.add_input(t, i)
            result = self._fn(*args, **kwargs)
            out_leaves, out_spec = tree_flatten(result)
            outputs, kinds, diff_outs = [], [], []
            for o in out_leaves:
                if isinstance(o, Tensor):
                    k = tracer.slot_of(o._data)
                    if k is None:  # a tensor from outside returned as is: read like a capture
                        k = tracer._tensor_slot(o)
                    outputs.append(("slot", k))
                    kinds.append("tensor")
                    if o._requires_grad:
                        diff_outs.append(o)
                else:
                    outputs.append(("const", o))
                    kinds.append(("value", o))
            grad_plan = None
            if STATE.enabled and diff_outs and tracer.broken is None:
                grad_plan = self._trace_backward(tracer, tensors, diff_outs)
        if tracer.broken is not None:
            self._break(key, tracer)
            return result
        in_spec = tree_flatten((args, kwargs))[1]
        if grad_plan is None:
            program = generate(tracer, outputs)
            self._cache[key] = _Entry(program, out_spec, ["tensor" if k == "tensor" else "value" for k in kinds])
        else:
            split, cots, grad_refs, externals, diff_inputs = grad_plan
            tracer.call_outputs = [r for r, k in zip(outputs, kinds) if k == "tensor"]
            programs = generate(tracer, grad_refs, split, cots)
            diff_ids = {id(o) for o in diff_outs}
            mask = [id(o) in diff_ids for o in out_leaves if isinstance(o, Tensor)]
            self._cache[key] = _GradEntry(programs, out_spec, kinds, externals, diff_inputs, in_spec, mask)
        return result

    def _trace_backward(self, tracer: Tracer, tensors: list, diff_outs: list):
        """Record the backward the rules run for the call's differentiable outputs (retaining the graph)."""
        externals = [t for t in tracer.externals.values() if t._requires_grad]
        diff_inputs = [i for i, t in enumerate(tensors) if t._requires_grad]
        targets = [tensors[i] for i in diff_inputs] + externals
        diff_inputs += list(range(len(tensors), len(tensors) + len(externals)))
        split = len(tracer.steps)
        cots = []
        placeholders = []
        for o in diff_outs:
            g = _wrap(np.ones_like(o._data.view(np.ndarray)))  # registered as a constant: make it an input
            k = tracer.slot_of(g._data)
            tracer.constants.pop(k, None)
            cots.append(k)
            placeholders.append(g)
        grads = autograd_grad(diff_outs, targets, placeholders, retain_graph=True, allow_unused=True)
        refs = []
        for g in grads:
            if g is None:
                refs.append(("const", None))
            else:
                k = tracer.slot_of(g._data)
                refs.append(("slot", k) if k is not None else ("const", g._data.copy()))
        return split, tuple(cots), refs, externals, diff_inputs

    def _break(self, key, tracer: Tracer) -> None:
        message = (f"autojac.compile: {self._name()} falls back to eager: {tracer.broken} "
                   f"(at {tracer.where})")
        if self._fullgraph:
            raise CompileError(message.replace("falls back to eager",
                                               "cannot be captured as one graph (fullgraph=True)"))
        self._cache[key] = _EAGER
        self._warn_once(("break", tracer.broken, tracer.where), message)


