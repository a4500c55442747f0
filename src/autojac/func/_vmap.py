"""``vmap``: map a function over a batch dimension of its inputs (``torch.func.vmap``'s API).

``vmap`` is vectorized: the inputs become batched tensors of a new vmap *level*
(``_core.batched``) and every primitive the function runs goes through its batching rule
(``_batching``), so the function runs once on the whole batch. Levels nest, and batched tensors
compose with ``grad``, ``jacrev``, ``jacfwd``, ``jvp`` and ``autograd.grad`` in any order.

A function that reads the *values* of a batched tensor outside an op (``.item()``, Python
control flow on a tensor, a NumPy function on ``._data``) or draws random numbers with
``randomness="different"`` or ``"same"`` cannot be vectorized: ``vmap`` warns once and runs it
once per batch element on differentiable slices (``select``), stacking the results, which is
exact for any function.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .._core.batched import BATCHING, Batched, BatchedRead, placeholder, vmap_dual_marks, vmap_levels
from .._core.forward import levels as forward_levels
from .._random import Vectorized, default_generator, restore_draws, vmap_randomness
from .._tensor import Tensor, _wrap
from ..ops.shape import cat, stack
from . import _batching  # noqa: F401  (installs the batching interpreter)
from ._vmap_args import batch_inputs, check_out_dims, check_output_leaf, func_name, out_structure_error

_RANDOMNESS = ("error", "different", "same")
_INPLACE_ON_CAPTURED = (
    "vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor `other` in "
    "extra_args that has more elements than `self`. This happened due to `other` being vmapped over but `self` "
    "not being vmapped over in a vmap. Please try to use out-of-place operators instead of inplace arithmetic. "
    "If said operator is being called inside the PyTorch framework, please file a bug report instead. "
    "(autojac: the function wrote in place into {name}, a tensor it captured rather than received as an input; "
    "autojac's vmap calls the function once per batch element, so it refuses any such write.)"
)


def _captured_tensors(func: Callable) -> dict:
    """Tensors ``func`` reaches without receiving them: its closure, the globals its code names, its defaults,
    a bound method's object and a partial's arguments (one attribute level deep), by name."""
    found: dict = {}

    def add(name: str, obj: Any, depth: int = 0) -> None:
        if isinstance(obj, Tensor):
            found.setdefault(id(obj), (name, obj))
        elif depth < 2 and isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj[:64]):
                add(f"{name}[{i}]", v, depth + 1)
        elif depth < 2 and isinstance(obj, dict):
            for k, v in list(obj.items())[:64]:
                add(f"{name}[{k!r}]", v, depth + 1)
        elif depth < 1 and hasattr(obj, "__dict__") and not isinstance(obj, type) and not callable(obj):
            for k, v in list(vars(obj).items())[:64]:
                add(f"{name}.{k}", v, depth + 1)

    seen = set()
    stack = [func]
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        if isinstance(f, functools.partial):
            add("a partial's argument", (f.args, f.keywords))
            stack.append(f.func)
            continue
        self_obj = getattr(f, "__self__", None)
        if self_obj is not None and not isinstance(self_obj, type):
            add("self", self_obj)
        f = getattr(f, "__func__", f)
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        for var, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            add(var, value)
            if callable(value):
                stack.append(value)
        g = getattr(f, "__globals__", {})
        codes = [code]
        while codes:
            c = codes.pop()
            for n in c.co_names:
                if n in g:
                    add(n, g[n])
            codes.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        for v in getattr(f, "__defaults__", None) or ():
            add("a default argument", v)
    return found


def _rebuild(like: tuple | list, items) -> tuple | list:
    """A sequence of ``like``'s type (a named tuple too) holding ``items``."""
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _select_tree(tree: Any, dims: Any, b: int) -> Any:
    """The ``b``-th slice of every batched tensor leaf."""
    if isinstance(tree, (tuple, list)):
        ds = dims if isinstance(dims, (tuple, list)) else (dims,) * len(tree)
        return _rebuild(tree, [_select_tree(t, d, b) for t, d in zip(tree, ds)])
    if isinstance(tree, dict):
        return {k: _select_tree(t, dims[k] if isinstance(dims, dict) else dims, b) for k, t in tree.items()}
    if isinstance(tree, Tensor) and dims is not None:
        return tree.select(dims, b)
    return tree


def _stack_tree(results: list, out_dims: Any, name: str) -> Any:
    first = results[0]
    if isinstance(out_dims, (tuple, list)) and (not isinstance(first, (tuple, list)) or len(out_dims) != len(first)):
        raise out_structure_error(name, out_dims, first)
    if isinstance(first, (tuple, list)):
        ds = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        return _rebuild(first, [_stack_tree([r[i] for r in results], d, name) for i, d in enumerate(ds)])
    if isinstance(first, dict):
        return {k: _stack_tree([r[k] for r in results], out_dims[k] if isinstance(out_dims, dict) else out_dims,
                               name) for k in first}
    batched = isinstance(first, Tensor) and any(r is not first for r in results)
    check_output_leaf(name, first, out_dims, batched)
    if out_dims is None:
        return first
    return stack(results, dim=out_dims)


def _run(func, args, kwargs, dims, leaves, batch: int, out_dims, randomness: str, name: str):
    """``func`` over the batch: vectorized by batching rules, or as a loop when it reads batched values."""
    stack_ = vmap_levels()
    level = (stack_[-1] if stack_ else 0) + 1
    flags = vmap_randomness()
    marks, duals = vmap_dual_marks(), forward_levels()
    stack_.append(level)
    marks.append(duals[-1] if duals else -1)
    BATCHING.append(level)
    flag = Vectorized(randomness, level, batch)
    flags.append(flag)
    try:
        inputs = _batch_tree(tuple(args), tuple(dims), level, batch)
        return _unbatch_tree(func(*inputs, **kwargs), out_dims, level, batch, name)
    except BatchedRead as e:
        cause = f"it read the values of a batched tensor ({e})"
    except Exception as e:  # an op the batching rules cannot express; the loop gives the exact result or error
        if STRICT or getattr(e, "vmap_refusal", False):  # (a refusal comes before anything was written)
            raise
        cause = f"the vectorized run raised {type(e).__name__}: {e}"
    finally:
        flags.pop()
        BATCHING.remove(level)
        marks.pop()
        stack_.pop()
    restore_draws(flag)  # the loop draws the same numbers again
    result = _loop(func, args, kwargs, dims, leaves, batch, out_dims, randomness, name)
    key = (getattr(func, "__code__", id(func)), cause)  # once per function and cause
    if key not in _FELL_BACK:
        _FELL_BACK.add(key)
        warnings.warn(f"vmap: {getattr(func, '__qualname__', 'the function')} could not be vectorized: {cause}; "
                      "it ran once per batch element instead.", VmapFallbackWarning, stacklevel=3)
    return result


class VmapFallbackWarning(UserWarning):
    """``vmap`` ran a function as a loop over the batch (see the message for why)."""


# Tests set this to see a vectorized run's errors instead of the loop's result.
STRICT = False


_FELL_BACK: set = set()


def _loop(func, args, kwargs, dims, leaves, batch: int, out_dims, randomness: str, name: str):
    """``func`` once per batch element, results stacked (exact for any function)."""
    input_ids = {id(t) for t, _ in leaves}
    captured = [(name, t, t._vc[0]) for i, (name, t) in _captured_tensors(func).items() if i not in input_ids]
    flags = vmap_randomness()
    flags.append(randomness)
    state = default_generator.get_state() if randomness == "same" else None
    try:
        results = []
        for b in range(batch):
            if state is not None:
                default_generator.set_state(state)
            results.append(func(*_select_tree(tuple(args), tuple(dims), b), **kwargs))
            for name, t, version in captured:
                if t._vc[0] != version:
                    raise RuntimeError(_INPLACE_ON_CAPTURED.format(name=f"`{name}`"))
    finally:
        flags.pop()
    return _stack_tree(results, out_dims, name)


def _chunked(wrapped, args, kwargs, dims, batch: int, chunk_size: int, out_dims):
    """``wrapped`` on slices of ``chunk_size`` batch elements, results concatenated."""
    parts = []
    for start in range(0, batch, chunk_size):
        n = min(chunk_size, batch - start)
        parts.append(_run_chunk(wrapped, args, kwargs, dims, start, n))
    return _cat_tree(parts, out_dims)


def _run_chunk(wrapped, args, kwargs, dims, start: int, n: int):
    sliced = _map_tree(tuple(args), tuple(dims), lambda t, d: t.narrow(d, start, n))
    return wrapped.__wrapped_chunkless__(*sliced, **kwargs)


def _map_tree(tree: Any, dims: Any, fn: Callable) -> Any:
    """``fn(leaf, dim)`` on every batched tensor leaf (``dims`` is a prefix of the tree)."""
    if isinstance(tree, (tuple, list)):
        ds = dims if isinstance(dims, (tuple, list)) else (dims,) * len(tree)
        return _rebuild(tree, [_map_tree(t, d, fn) for t, d in zip(tree, ds)])
    if isinstance(tree, dict):
        return {k: _map_tree(t, dims[k] if isinstance(dims, dict) else dims, fn) for k, t in tree.items()}
    if isinstance(tree, Tensor) and dims is not None:
        return fn(tree, dims)
    return tree


def _batch_tree(tree: Any, dims: Any, level: int, size: int) -> Any:
    """Every batched tensor leaf as a batched tensor of ``level`` (its physical tensor: the batch dim first)."""
    def batched(t: Tensor, d: int) -> Tensor:
        phys = t if d == 0 or d == -t.dim() else t.movedim(d, 0)
        w = _wrap(placeholder(phys, level, size))
        w._vc = phys._vc
        w._requires_grad = phys._requires_grad
        return w

    return _map_tree(tree, dims, batched)


def _unbatch_tree(out: Any, out_dims: Any, level: int, size: int, name: str) -> Any:
    if isinstance(out_dims, (tuple, list)) and (not isinstance(out, (tuple, list)) or len(out_dims) != len(out)):
        raise out_structure_error(name, out_dims, out)
    if isinstance(out, (tuple, list)):
        ds = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(out)
        return _rebuild(out, [_unbatch_tree(o, d, level, size, name) for o, d in zip(out, ds)])
    if isinstance(out, dict):
        return {k: _unbatch_tree(o, out_dims[k] if isinstance(out_dims, dict) else out_dims, level, size, name)
                for k, o in out.items()}
    d = out._data if isinstance(out, Tensor) else None
    is_batched = type(d) is Batched and d.level == level
    check_output_leaf(name, out, out_dims, is_batched)
    if out_dims is None:
        return out
    if is_batched:
        phys = d.phys
    else:  # the same for every element: broadcast (a view, as torch.func returns)
        shape = tuple(d.shape)
        phys = out.reshape((1,) + shape).expand((size,) + shape)
    nd = phys.dim()
    if not -nd <= out_dims < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {out_dims})")
    return phys if out_dims in (0, -nd) else phys.movedim(0, out_dims)


def _cat_tree(parts: list, out_dims: Any) -> Any:
    first = parts[0]
    if isinstance(first, (tuple, list)):
        ds = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        return _rebuild(first, [_cat_tree([p[i] for p in parts], d) for i, d in enumerate(ds)])
    if isinstance(first, dict):
        return {k: _cat_tree([p[k] for p in parts], out_dims[k] if isinstance(out_dims, dict) else out_dims)
                for k in first}
    if out_dims is None:
        return first
    return cat(parts, dim=out_dims)


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Vectorizing map: ``vmap(f)(x)[i] == f(x[i])``, over dim ``in_dims`` of each input.

    ``in_dims`` is an int, None (not batched) or a structure matching the positional
    arguments; ``out_dims`` says where the batch dimension goes in the outputs.

    >>> import autojac
    >>> from autojac.func import vmap, grad
    >>> w = autojac.tensor([1., 2.])
    >>> xs = autojac.tensor([[1., 0.], [0., 1.], [1., 1.]])
    >>> vmap(grad(lambda w, x: (w * x).sum() ** 2), in_dims=(None, 0))(w, xs)
    tensor([[2., 0.],
            [0., 4.],
            [6., 6.]])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    if not callable(func):
        raise TypeError(f"vmap(func): Expected func to be a callable, got {type(func).__name__}")

    name = func_name(func)
    check_out_dims(name, out_dims)

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        dims, batch, leaves = batch_inputs(name, in_dims, args)
        if chunk_size is not None and chunk_size < batch:
            return _chunked(wrapped, args, kwargs, dims, batch, chunk_size, out_dims)
        return _run(func, args, kwargs, dims, leaves, batch, out_dims, randomness, name)

    wrapped.__wrapped_chunkless__ = vmap(func, in_dims, out_dims, randomness) if chunk_size else None
    return wrapped
