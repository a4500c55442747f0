"""``autograd.Function``: custom differentiable operations with PyTorch's API.

A subclass gives a static ``forward`` and ``backward`` (and optionally ``jvp`` for forward
mode, or ``setup_context`` with a ctx-less ``forward``); ``Fn.apply(*args)`` runs it::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

Each application records one graph node (an ``Op`` per Function class and arity, so the
engine treats it like any primitive) whose rules call the user's ``backward`` once and hand
each input its gradient. The user's ``backward`` runs with grad mode equal to
``create_graph``: written with autojac ops, it is differentiable again (``once_differentiable``
turns that off). Cotangents with extra leading batch dimensions (``jacrev``, ``jacobian``,
``is_grads_batched``) are fed to ``backward`` one slice at a time unless the class sets
``batched_backward = True`` to say its ``backward`` (and ``jvp``) handle leading batch dims,
as PyTorch's ``generate_vmap_rule`` would; so Jacobians always work.

>>> import autojac
>>> class Cube(Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = autojac.tensor([1., 2.], requires_grad=True)
>>> y = Cube.apply(x); y
tensor([1., 8.], grad_fn=<CubeBackward>)
>>> y.sum().backward(); x.grad
tensor([ 3., 12.])
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core import forward, saved_hooks
from .._core.batched import BATCHING
from .._core.batching import BROADCAST
from .._core.engine import FREED_MSG, _modified_error
from .._core.forward import ANY_LEVELS, _fit_tangent, set_tangent
from .._core.grad_mode import STATE, no_grad
from .._core.node import NODE_TYPES, Node, Op
from .._tensor import Tensor, _wrap
from ..ops.shape import stack
from ..ops.views import alias
from ._function_vmap import batched_forward, newest_level

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` handed to ``forward``/``setup_context``, ``backward`` and ``jvp``.

    Holds saved tensors (version-checked when read back), the marks set in ``forward``, and
    any attribute the user stores on it.
    """

    def __init__(self) -> None:
        self._to_save: tuple | None = None  # as passed to save_for_backward, until forward ends
        self._saved: list | None = None  # packed entries after forward (see _pack_saved)
        self._saved_fw: tuple | None = None
        self._in_jvp = False
        self._dirty: tuple = ()
        self._non_diff: tuple = ()
        self.materialize_grads = True
        self.needs_input_grad: tuple = ()
        self._node_ref = None  # weakref to the recorded node: saved outputs unpack with it as grad_fn
        self._cache = None  # (cotangent, gradients) of the backward being run
        self._last_edge = -1

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for ``backward``; read them back with ``saved_tensors``."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Save tensors for ``jvp``; inside ``jvp``, ``saved_tensors`` returns them."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_forward expects all arguments to be tensors; but argument {i} is of "
                                f"type {type(t).__name__}.")
        self._saved_fw = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, checked against in-place modification."""
        if self._in_jvp:  # as PyTorch: jvp sees only what save_for_forward saved
            return tuple(self._saved_fw or ())
        if self._saved is None:
            return tuple(self._to_save or ())
        if self._saved is _FREED:
            raise RuntimeError(FREED_MSG)
        return tuple(_unpack(self, e) for e in self._saved)

    saved_variables = saved_tensors

    def mark_dirty(self, *args: Tensor) -> None:
        """Declare inputs that ``forward`` modified in place (they must also be returned)."""
        self._dirty = args

    def mark_non_differentiable(self, *args: Tensor) -> None:
        """Declare outputs that get no gradient (``backward`` still receives zeros for them)."""
        self._non_diff = args

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients reach ``backward`` as zeros (default) or as None."""
        self.materialize_grads = bool(value)


_FREED = object()


def _pack_saved(ctx: FunctionCtx, outputs: list) -> None:
    """Freeze ``save_for_backward``'s tensors with their versions once forward is over.

    An output is kept as (data, version counter, output number), not as the Tensor, so
    the output -> node -> ctx chain holds no cycle; reading it back gives a tensor whose
    ``grad_fn`` is this node, so ``backward`` written on it differentiates again.
    """
    if ctx._to_save is None:
        return
    out_nr = {id(o): k for k, o in enumerate(outputs) if isinstance(o, Tensor)}
    packed = []
    hooks = saved_hooks.current() if saved_hooks.ACTIVE else None
    for t in ctx._to_save:
        if t is None:
            packed.append(None)
        elif hooks is not None:  # saved_tensors_hooks: keep what pack returns, unpack on each read
            nr = out_nr[id(t)] if id(t) in out_nr and t._grad_fn is not None else None
            stub = t if nr is None else _wrap(t._data)  # an output's stub: no ctx -> output -> node -> ctx cycle
            stub._vc = t._vc
            packed.append(("hook", hooks[1], hooks[0](t), t._vc, t._vc[0], nr, stub))
        elif id(t) in out_nr and t._grad_fn is not None:
            packed.append(("out", t._data, t._vc, t._vc[0], out_nr[id(t)], t._fw))
        else:
            packed.append(("in", t, t._vc[0]))
    ctx._saved = packed
    ctx._to_save = None


def _unpack(ctx: FunctionCtx, entry) -> Tensor | None:
    if entry is None:
        return None
    node = ctx._node_ref() if ctx._node_ref is not None else None
    if entry[0] == "hook":
        _, unpack, packed, vc, version, nr, original = entry

        def error(t):
            which = "an input" if nr is None else f"output {nr}"
            if node is not None:
                return _modified_error(node, original, version, which)
            return RuntimeError(f"a tensor saved for backward was modified by an inplace operation: it is at "
                                f"version {vc[0]}; expected version {version} instead")
        if nr is None or node is None:
            return saved_hooks.unpack_entry(unpack, packed, vc, version, error)
        return saved_hooks.unpack_output(unpack, packed, vc, version, node, nr, True, error)
    if entry[0] == "in":
        t, version = entry[1], entry[2]
        if t._vc[0] != version:
            raise _modified_error(node, t, version, "an input") if node is not None else RuntimeError(
                f"a tensor saved for backward was modified by an inplace operation: it is at version "
                f"{t._vc[0]}; expected version {version} instead")
        return t
    _, data, vc, version, nr, fw = entry
    t = _wrap(data)
    t._vc = vc
    if vc[0] != version:
        raise _modified_error(node, t, version, f"output {nr}")
    if node is not None:
        t._requires_grad = True
        t._grad_fn = node
        t._output_nr = nr
    if fw is not None:
        t._fw = fw
    return t


# ----------------------------------------------------------------------------- the Function class
def _overrides(cls: type, name: str) -> bool:
    return getattr(cls, name) is not getattr(Function, name)


class Function:
    """Base class for custom differentiable operations; see the module docstring.

    Subclasses implement static ``forward`` and ``backward`` (or ``vjp``), optionally ``jvp``
    and ``setup_context``, and are called through ``apply``. Set ``batched_backward = True``
    when ``backward``/``jvp`` accept gradients with extra leading batch dimensions. Under
    ``func.vmap`` a ``setup_context``-style class needs a ``vmap`` staticmethod or
    ``generate_vmap_rule = True``, as in PyTorch (``_function_vmap``).
    """

    batched_backward = False
    generate_vmap_rule = False  # True: under vmap, forward/backward/jvp run on batched tensors (_function_vmap)

    def __init__(self, *args, **kwargs) -> None:
        import warnings

        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions are all static, "
                      "so you should invoke them on the class itself. Instantiating an autograd function will "
                      "raise an error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style "
            "autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """The computation, on tensors, run without recording a graph."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        """Optional: fill ``ctx`` after a ``forward`` that takes no ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        """Gradients of the inputs given the gradients of the outputs (one per forward input)."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward  # PyTorch: defining either one is enough

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Output tangents given the input tangents (forward-mode AD)."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @staticmethod
    def vmap(info: Any, in_dims: tuple, *args: Any) -> Any:
        """Optional: the batched forward, ``(outputs, out_dims)`` from the unbatched ``args`` and ``in_dims``."""
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the vmap "
                                  "staticmethod or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and record the application for differentiation."""
        return _apply(cls, args, kwargs)


# ----------------------------------------------------------------------------- apply
def _apply(cls: type, args: tuple, kwargs: dict):
    ctx = FunctionCtx()
    setup = _overrides(cls, "setup_context")
    if setup:  # as in PyTorch: keyword and default arguments become positional inputs
        bound = inspect.signature(cls.forward).bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = tuple(bound.args), {}
    grad_on = STATE.enabled
    record = grad_on and any(type(a) is Tensor and a._requires_grad for a in args)
    ctx.needs_input_grad = tuple(type(a) is Tensor and a._requires_grad for a in args)  # grad mode aside, as PyTorch
    ctx._cls = cls
    ctx._n_in = len(args)
    ctx._tensor_in = tuple(type(a) is Tensor for a in args)
    ctx._tensor_pos = tuple(i for i, a in enumerate(args) if type(a) is Tensor)
    raw = None
    if BATCHING:
        level, size = newest_level(args)
        if level:
            raw = batched_forward(cls, args, kwargs, setup, level, size)
            if raw is not None and setup:
                with no_grad():
                    cls.setup_context(ctx, args, raw)
    if raw is None:
        raw = _run_forward(cls, ctx, args, kwargs, setup)
    outs = list(raw) if isinstance(raw, tuple) else [raw]
    _check_dirty(ctx, outs, grad_on)
    node = _record(cls, ctx, args, len(outs)) if record else None
    outs = _wrap_outputs(ctx, args, outs, node)
    ctx._out_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs]
    if ANY_LEVELS:
        _forward_ad(cls, ctx, args, outs)
    _pack_saved(ctx, outs)  # after jvp: saved outputs keep their tangents (forward-over-reverse)
    if node is not None and ctx._saved is not None:
        node.versions = [None] * len(node.inputs)  # the engine frees the ctx (saved tensors) after backward
    return tuple(outs) if isinstance(raw, tuple) else outs[0]


def _run_forward(cls: type, ctx: FunctionCtx, args: tuple, kwargs: dict, setup: bool):
    """The user's forward, with grad mode and forward-mode levels off (PyTorch does the same)."""
    prev = STATE.enabled
    own = forward.levels()
    levels = own[:]
    STATE.enabled = False
    del own[:]
    try:
        if setup:
            out = cls.forward(*args)
            cls.setup_context(ctx, args, out)
            return out
        return cls.forward(ctx, *args, **kwargs)
    finally:
        STATE.enabled = prev
        own[:] = levels


def _check_dirty(ctx: FunctionCtx, outs: list, grad_on: bool) -> None:
    out_ids = {id(o) for o in outs}
    for t in ctx._dirty:
        if id(t) not in out_ids:
            raise RuntimeError("Some elements marked as dirty during the forward method were not returned as output. "
                               "The inputs that are modified inplace must all be outputs of the Function.")
        if grad_on and t._requires_grad and t._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        if grad_on and t._base is not None and t._base[0]._requires_grad:
            raise RuntimeError("autojac: mark_dirty on a view of a tensor that requires grad is not supported; "
                               "clone() the view before passing it to the Function")


class _FunctionOp(Op):
    """The primitive behind one Function class (and arity): its rules call the user's backward."""

    __slots__ = ("keeps_none",)


_OPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Function class -> {(n_in, n_out): op}
_RULES: list = []
_RULES_LOCK = threading.Lock()  # two threads growing _RULES at once would give one index two rules


def _rule(k: int) -> Callable:
    """The VJP rule of the ``k``-th tensor input; the node's last input is the ctx."""
    if len(_RULES) <= k:
        with _RULES_LOCK:
            while len(_RULES) <= k:
                j = len(_RULES)
                _RULES.append(lambda g, ans, *inputs, _j=j: inputs[-1]._grad(g, _j))
    return _RULES[k]


def _op_for(cls: type, n_in: int, n_out: int) -> _FunctionOp:
    """The op of ``cls`` applied to ``n_in`` tensors with ``n_out`` outputs (cached)."""
    ops = _OPS.get(cls)
    if ops is None:
        ops = _OPS[cls] = {}
    op = ops.get((n_in, n_out))
    if op is None:
        rules = tuple(_rule(k) for k in range(n_in)) + (None,)
        op = _FunctionOp(cls.__name__.lower(), _no_forward, rules, (None,) * (n_in + 1), saves_inputs=False,
                         grad_name=cls.__name__ + "Backward")
        op.n_out = n_out  # outputs are routed by number; nothing is saved by the engine itself
        op.keeps_none = True  # missing output cotangents reach _grads as None (materialize_grads decides)
        op.node_type = _function_node_type(cls, ops)
        ops[(n_in, n_out)] = op
    return op


def _function_node_type(cls: type, ops: dict) -> type:
    """The type of ``cls``'s nodes: ``MyFnBackward``, shown as PyTorch shows a custom Function's node."""
    for op in ops.values():  # one type per Function class, whatever the arity
        return op.node_type
    name = cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{__name__}.{name} object at {hex(id(self))}>"

    t = type(name, (Node,), {"__slots__": (), "__module__": __name__, "__repr__": __repr__})
    NODE_TYPES.add(t)
    return t


def _no_forward(*args, **kwargs):
    raise RuntimeError("a Function's op is run through Function.apply")


def _record(cls: type, ctx: FunctionCtx, args: tuple, n_out: int) -> Node:
    """The graph node of this application, with one edge per tensor input (as PyTorch's).

    Its inputs are the tensor inputs, then the ctx (which the rules read); edge ``k`` is
    the ``k``-th tensor argument.
    """
    tensors = tuple(a for a in args if type(a) is Tensor)
    node = Node(_op_for(cls, len(tensors), n_out), tensors + (ctx,), {})
    node.next = node.next[:-1]  # no edge for the ctx
    # keep only what the engine reads of the inputs (shape, dtype), not their memory
    node.inputs = tuple(_shape_stub(a) for a in tensors) + (ctx,)
    node.ans = ()
    ctx._node_ref = weakref.ref(node)
    ctx._last_edge = max((k for k, e in enumerate(node.next) if e is not None), default=-1)
    return node


def _shape_stub(a: Tensor) -> Tensor:
    return _wrap(np.broadcast_to(np.zeros((), a._data.dtype), a._data.shape))


def _wrap_outputs(ctx: FunctionCtx, args: tuple, outs: list, node: Node | None) -> list:
    """Give the outputs their ``grad_fn``: new tensors directly, returned inputs through an alias,
    inputs marked dirty in place (their history is rebased onto this node)."""
    dirty = {id(t) for t in ctx._dirty}
    non_diff = {id(t) for t in ctx._non_diff}
    input_ids = {id(a) for a in args if type(a) is Tensor}
    result = []
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            result.append(o)
            continue
        if id(o) in dirty:
            o._vc[0] += 1  # as PyTorch: marking dirty bumps the version, so stale saves of it are caught
            t = o
        elif id(o) in input_ids or o._requires_grad or o._grad_fn is not None:
            t = alias(o, copy=False)  # an input (or outside tensor) returned as is: a new view of it
        else:
            t = o
        if node is not None and o._data.dtype.kind in "fc" and id(o) not in non_diff:
            t._grad_fn = node
            t._requires_grad = True
            t._output_nr = k
            if t._retains_grad:
                t._retains_grad = False
        elif t is not o or node is not None:
            t._grad_fn = None
            t._requires_grad = False
        if ANY_LEVELS and t._fw is not None:
            t._fw = None  # tangents come from the user's jvp only
        result.append(t)
    return result


# ----------------------------------------------------------------------------- backward
def _grad(self: FunctionCtx, g, k: int):
    """Gradient for tensor input ``k``: the user's backward runs once per cotangent, for all inputs."""
    cache = self._cache
    if cache is None or cache[0] is not g:
        cache = self._cache = (g, _run_backward(self, g))
    if k >= self._last_edge:
        self._cache = None
    return cache[1][self._tensor_pos[k]]


FunctionCtx._grad = _grad


def _user_backward(cls: type) -> Callable:
    if _overrides(cls, "backward") and _overrides(cls, "vjp"):
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should "
                           "only implement one of them.")
    return cls.vjp if _overrides(cls, "vjp") else cls.backward


def _run_backward(ctx: FunctionCtx, g) -> tuple:
    gs = list(g) if type(g) in (list, tuple) else [g]
    nb, batch = _batch_of(gs, ctx._out_meta)
    if ctx.materialize_grads:
        gs = [_zeros(batch + m[0], m[1]) if gk is None and m is not None else gk for gk, m in zip(gs, ctx._out_meta)]
    fn = _user_backward(ctx._cls)
    call = functools.partial(_call_backward, ctx, fn)
    if nb and not ctx._cls.batched_backward:
        return _per_slice(call, gs, batch, ctx._n_in)
    return call(gs)


def _batch_of(gs: list, metas: list) -> tuple[int, tuple]:
    for gk, m in zip(gs, metas):
        if gk is not None and m is not None:
            nb = gk._data.ndim - len(m[0])
            return nb, tuple(gk._data.shape[:nb])
    return 0, ()


def _zeros(shape: tuple, dtype) -> Tensor:
    return _wrap(np.zeros(shape, dtype))


def _call_backward(ctx: FunctionCtx, fn: Callable, gs: list) -> tuple:
    """Call the user's backward and check its result the way PyTorch does."""
    r = fn(ctx, *gs)
    if not isinstance(r, tuple):
        r = (r,)
    n = ctx._n_in
    if len(r) > n and all(x is None for x in r[n:]):
        r = r[:n]
    name = ctx._cls.__name__ + "Backward"
    if len(r) != n:
        raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n}, got {len(r)})")
    for i, (gi, is_tensor) in enumerate(zip(r, ctx._tensor_in)):
        if gi is None:
            continue
        if not is_tensor:
            raise RuntimeError(f"function {name} returned a gradient different than None at position {i + 1}, but "
                               "the corresponding forward input was not a Variable")
        if not isinstance(gi, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(gi).__name__})")
    return r


def _per_slice(call: Callable, gs: list, batch: tuple, n_res: int) -> tuple:
    """Run a per-sample rule on each slice of the leading batch dims and stack the results.

    Slicing and stacking are autojac ops, so this stays differentiable under create_graph.
    """
    nb = len(batch)
    count = int(np.prod(batch, dtype=np.int64))
    flat = [None if gk is None else gk.reshape((count,) + tuple(gk._data.shape[nb:])) for gk in gs]
    per = [call([None if f is None else f[b] for f in flat]) for b in range(count)]
    out = []
    for i in range(n_res):
        col = [p[i] if i < len(p) else None for p in per]
        ref = next((c for c in col if c is not None), None)
        if ref is None:
            out.append(None)
            continue
        col = [c if c is not None else _zeros(ref._data.shape, ref._data.dtype) for c in col]
        out.append(stack(col).reshape(batch + tuple(ref._data.shape)))
    return tuple(out)


# ----------------------------------------------------------------------------- forward mode
def _forward_ad(cls: type, ctx: FunctionCtx, args: tuple, outs: list) -> None:
    """Push tangents through the user's ``jvp`` at every active level (as ``forward.propagate``)."""
    own = forward.levels()
    for k, level in enumerate(tuple(own)):
        tangents = [a._fw.get(level) if type(a) is Tensor and a._fw is not None else None for a in args]
        first = next((i for i, t in enumerate(tangents) if t is not None), None)
        if first is None:
            continue
        if not _overrides(cls, "jvp"):
            raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                      "with forward mode AD.")
        t0 = tangents[first]
        nb = t0._data.ndim - args[first]._data.ndim
        batch = tuple(t0._data.shape[:nb])
        if ctx.materialize_grads:
            tangents = [_zeros(batch + a._data.shape, a._data.dtype) if t is None and type(a) is Tensor
                        and a._data.dtype.kind in "fc" else t for t, a in zip(tangents, args)]
        newer = own[k:]
        del own[k:]  # a level's tangents never get tangents of their own level
        ctx._in_jvp = True
        try:
            call = functools.partial(_call_jvp, cls, ctx, len(outs))
            res = _per_slice(call, tangents, batch, len(outs)) if nb and not cls.batched_backward else call(tangents)
        finally:
            ctx._in_jvp = False
            own.extend(newer)
        for o, tt in zip(outs, res):
            if isinstance(o, Tensor) and tt is not None and o._data.dtype.kind in "fc":
                set_tangent(o, level, _fit_tangent(tt, batch, o))


def _call_jvp(cls: type, ctx: FunctionCtx, n_out: int, tangents: list) -> tuple:
    r = cls.jvp(ctx, *tangents)
    if not isinstance(r, tuple):
        r = (r,)
    if len(r) != n_out:
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of forward gradients "
                           f"(expected {n_out}, got {len(r)})")
    return r


# ----------------------------------------------------------------------------- once_differentiable
def _raise_twice(g, ans, x):
    raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


_delayed_error = Op("delayed_error", lambda x: x, (_raise_twice,), (None,), saves_inputs=False,
                    grad_name="DelayedError", batch=BROADCAST)


def once_differentiable(fn: Callable) -> Callable:
    """Decorate a ``backward`` that is not differentiable itself: it runs without recording, and
    differentiating its result (``create_graph=True``) raises, as in PyTorch.

    >>> import autojac
    >>> class Exp(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp(); ctx.save_for_backward(y); return y
    ...     @staticmethod
    ...     @once_differentiable
    ...     def backward(ctx, g):
    ...         (y,) = ctx.saved_tensors
    ...         return g * y
    >>> x = autojac.zeros(2, requires_grad=True)
    >>> autojac.autograd.grad(Exp.apply(x).sum(), x)
    (tensor([1., 1.]),)
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.enabled:
            return outputs
        # as PyTorch: only cotangents that require grad make the results differentiable-looking
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = tuple(None if o is None else _delayed_error(_fake_requires_grad(o)) for o in outs)
        return wrapped[0] if single else wrapped

    return wrapper


def _fake_requires_grad(t: Tensor) -> Tensor:
    d = t.detach()
    d._requires_grad = True
    return d
