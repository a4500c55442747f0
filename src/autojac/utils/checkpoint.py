"""Activation checkpointing: trade compute for memory (``torch.utils.checkpoint``'s API).

``checkpoint(function, *args)`` returns ``function(*args)`` but keeps none of the
intermediate values its graph would save: the graph holds one node per call, which saves
only the call's inputs. In the backward pass that node reruns ``function`` with grad mode
on (restoring the random-number state the forward saw), backpropagates through the
recomputed graph, and drops it. A chain cut into ``k`` checkpointed segments keeps about
``n / k + k`` layers' values alive instead of ``n``.

The recomputed backward is recorded under ``create_graph=True``, so higher derivatives,
``autograd.grad``, ``jacrev``/``jacobian`` (batched cotangents) and ``vmap`` all work.
Inside forward-mode AD (``jacfwd``, ``hessian``, dual tensors) the function simply runs:
forward mode keeps nothing for a backward pass, so there is nothing to trade.
Tensors ``function`` reads from its closure that are graph leaves (parameters) get their
gradients as well: the forward runs once with grad mode on to find them, then drops that
graph. Non-leaf tensors ``function`` uses should be passed as arguments.

>>> import autojac
>>> from autojac.utils.checkpoint import checkpoint
>>> x = autojac.tensor([0.5, 1.0], requires_grad=True)
>>> y = checkpoint(lambda t: t.sin().exp(), x, use_reentrant=False)
>>> y.sum().backward(); x.grad
tensor([1.4174, 1.2534])
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .._core.batching import BROADCAST
from .._core.engine import run_backward
from .._core.forward import active as forward_active
from .._core.grad_mode import STATE, enable_grad, no_grad
from .._core.node import NODE_TYPES, Op, Saves
from .._random import default_generator
from .._tensor import Tensor
from ..autograd.function import Function

__all__ = ["checkpoint", "checkpoint_sequential", "noop_context_fn"]

_REENTRANT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but "
    "if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
    "more details on the differences between the two variants."
)


def noop_context_fn() -> tuple:
    """The default ``context_fn``: no context around the forward nor the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, preserve_rng_state: bool = True, **kwargs: Any):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate values for backward.

    They are recomputed in the backward pass. Outputs may be a Tensor or a tuple/list of
    tensors and other values; arguments may mix tensors and other values. As in PyTorch,
    ``use_reentrant`` should be given (a warning says so otherwise, and it then defaults to
    True); both variants share one implementation here, which supports everything the
    non-reentrant one does. With ``use_reentrant=True`` keyword arguments are refused and,
    when no tensor argument requires grad, the output gets no gradient (PyTorch's rules).

    >>> import autojac
    >>> w = autojac.tensor([2.0], requires_grad=True)
    >>> x = autojac.tensor([1.0, 3.0], requires_grad=True)
    >>> y = checkpoint(lambda t, s: (t * w) ** 2 * s, x, 0.5, use_reentrant=False)
    >>> y.sum().backward(); x.grad, w.grad
    (tensor([ 4., 12.]), tensor([20.]))
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_WARNING, stacklevel=2)
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant and (context_fn is not noop_context_fn or debug is not False):
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_ctx, recompute_ctx = context_fn()
    if not STATE.enabled or forward_active():  # forward mode (jacfwd, hessian) saves no graph values: nothing to trade
        with forward_ctx:
            return function(*args, **kwargs)
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if use_reentrant and not any(args[i]._requires_grad for i in positions):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)
        with no_grad():
            return function(*args)
    rng = _rng_state() if preserve_rng_state else None
    out, params = _discover(function, args, positions, kwargs, forward_ctx)
    outs, single = _flatten(out)
    if not any(isinstance(o, Tensor) and o._requires_grad for o in outs):
        return out  # nothing to differentiate: no graph was recorded
    state = _Call(function, args, positions, kwargs, rng, recompute_ctx, params, outs, determinism_check)
    res = CheckpointFunction.apply(state, *(args[i] for i in positions), *params)
    res = list(res) if isinstance(res, tuple) else [res]
    return res[0] if single else type(out)(res)


class _Call:
    """What the backward needs to rerun one checkpointed call (no intermediate values)."""

    def __init__(self, function, args, positions, kwargs, rng, recompute_ctx, params, outs, check) -> None:
        self.function = function
        self.args = tuple(None if i in positions else a for i, a in enumerate(args))  # tensors travel as inputs
        self.positions = positions
        self.kwargs = kwargs
        self.rng = rng
        self.recompute_ctx = recompute_ctx
        self.params = params
        self.metas = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs]
        self.check = check
        # the first forward's outputs, detached; handed over once to CheckpointFunction.forward
        self.pending = [o.detach() if isinstance(o, Tensor) else o for o in outs]


def _rng_state() -> tuple:
    return default_generator.get_state(), default_generator._next_normal


@contextlib.contextmanager
def _fork_rng(state: tuple | None):
    """Replay the random numbers the forward drew, and leave the caller's stream untouched."""
    if state is None:
        yield
        return
    current = _rng_state()
    default_generator.set_state(state[0])
    default_generator._next_normal = state[1]
    try:
        yield
    finally:
        default_generator.set_state(current[0])
        default_generator._next_normal = current[1]


def _flatten(out: Any) -> tuple[list, bool]:
    if isinstance(out, (tuple, list)):
        return list(out), False
    return [out], True


def _discover(function: Callable, args: tuple, positions: list, kwargs: dict, forward_ctx) -> tuple:
    """Run ``function`` once recording its graph on detached inputs, to find the leaves it reads
    from its closure (parameters); the graph is dropped when this returns."""
    dargs = list(args)
    own = set()
    for i in positions:
        d = args[i].detach()
        d._requires_grad = args[i]._requires_grad
        dargs[i] = d
        own.add(id(d))
    with enable_grad(), forward_ctx:
        out = function(*dargs, **kwargs)
    outs, _ = _flatten(out)
    return out, _closure_leaves(outs, own)


def _closure_leaves(outs: list, own: set) -> list:
    found: dict = {}
    stack = []
    seen = set()
    for o in outs:
        if not isinstance(o, Tensor) or not o._requires_grad:
            continue
        if o._grad_fn is None:
            if id(o) not in own:
                found.setdefault(id(o), o)
        elif o._grad_fn not in seen:
            seen.add(o._grad_fn)
            stack.append(o._grad_fn)
    while stack:
        node = stack.pop()
        for e in node.next:
            if type(e) is Tensor:
                if id(e) not in own:
                    found.setdefault(id(e), e)
            elif type(e) in NODE_TYPES and e not in seen:
                seen.add(e)
                stack.append(e)
    return list(found.values())


_checkpoint_input = Op("checkpoint_input", lambda x: x, (lambda g, ans, x: g,), (lambda t, ans, x: t,),
                       saves_inputs=Saves.NOTHING, grad_name="AliasBackward0", batch=BROADCAST)


class CheckpointFunction(Function):
    """One checkpointed call in the graph: saves its inputs, recomputes the rest in backward."""

    batched_backward = True  # the recomputed backward takes batched cotangents as they come

    @staticmethod
    def forward(ctx, state: _Call, *tensors: Tensor):
        ctx.state = state
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(*tensors[:len(state.positions)])
        outs, state.pending = state.pending, None
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        inputs = ctx.saved_tensors
        create_graph = STATE.enabled
        aliases, cut = _stand_ins(inputs)
        try:
            outs = _recompute(state, aliases)
            roots, cots = [], []
            for o, g in zip(outs, grads):
                if g is not None and isinstance(o, Tensor) and o._requires_grad:
                    roots.append(o)
                    cots.append(g)
            targets = [a for a in aliases if a._requires_grad] + state.params
            captured = {}
            if roots:
                nb = cots[0]._data.ndim - roots[0]._data.ndim
                # retain_graph: the recomputed graph is dropped anyway; outside nodes must survive
                captured = run_backward(roots, cots, retain_graph=True, create_graph=create_graph, targets=targets,
                                        accumulate=False, nb=nb)
        finally:
            for node, edges in cut:
                node.next = edges
        grads_in = [captured.get(id(a)) if a._requires_grad else None for a in aliases]
        return (None, *grads_in, *(captured.get(id(p)) for p in state.params))


def _stand_ins(inputs: tuple) -> tuple[list, list]:
    """Aliases of the saved inputs for the recomputation, each with its own graph node.

    The nodes' edges to the outer graph are cut while the inner backward runs (so it stops
    at them and reports their gradients) and restored afterwards, so that a gradient graph
    recorded under create_graph leads back to the real inputs.
    """
    aliases, cut = [], []
    with enable_grad():
        for x in inputs:
            if not x._requires_grad:
                aliases.append(x.detach())
                continue
            a = _checkpoint_input(x)
            cut.append((a._grad_fn, a._grad_fn.next))
            a._grad_fn.next = [None]
            aliases.append(a)
    return aliases, cut


def _recompute(state: _Call, aliases: list) -> list:
    full = list(state.args)
    for i, a in zip(state.positions, aliases):
        full[i] = a
    with _fork_rng(state.rng), enable_grad(), state.recompute_ctx:
        out = state.function(*full, **state.kwargs)
    outs, _ = _flatten(out)
    if state.check == "default":
        _check_metadata(state.metas, outs)
    return outs


def _check_metadata(metas: list, outs: list) -> None:
    now = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs]
    if len(now) != len(metas) or any(a != b for a, b in zip(metas, now)):
        raise RuntimeError(
            "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata than "
            f"during the forward pass: saved (shape, dtype) {metas}, recomputed {now}. The checkpointed function "
            "must compute the same thing when it is rerun in the backward pass.")


def checkpoint_sequential(functions: Iterable[Callable], segments: int, input: Tensor,
                          use_reentrant: bool | None = None, **kwargs: Any):
    """Run ``functions`` one after another on ``input``, checkpointing all but the last of
    ``segments`` chunks (``torch.utils.checkpoint.checkpoint_sequential``).

    >>> import autojac
    >>> x = autojac.tensor([1.0, 2.0], requires_grad=True)
    >>> y = checkpoint_sequential([autojac.sin, autojac.exp, autojac.sqrt], 2, x, use_reentrant=False)
    >>> y.sum().backward(); x.grad
    tensor([ 0.4115, -0.3278])
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if hasattr(functions, "children"):
        functions = list(functions.children())
    functions = list(functions)

    def run(start: int, end: int) -> Callable:
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
