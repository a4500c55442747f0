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
import threading
import warnings
from collections.abc import Callable
from typing import Any

from .._core.batched import BATCHING, Batched, BatchedRead, placeholder
from .._random import default_generator, vmap_randomness
from .._tensor import Tensor, _wrap
from ..ops.shape import cat, stack
from . import _batching  # noqa: F401  (installs the batching interpreter)

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


def _flatten(tree: Any, dims: Any, path: str, out: list) -> None:
    """Pair every tensor leaf of ``tree`` with its in_dim (``dims`` is a prefix of the tree)."""
    if isinstance(tree, (tuple, list)):
        if isinstance(dims, (tuple, list)):
            if len(dims) != len(tree):
                raise ValueError(f"vmap: in_dims {dims!r} is not compatible with the structure of the input "
                                 f"at {path or 'inputs'} ({len(tree)} entries)")
            for i, (t, d) in enumerate(zip(tree, dims)):
                _flatten(t, d, f"{path}[{i}]", out)
        else:
            for i, t in enumerate(tree):
                _flatten(t, dims, f"{path}[{i}]", out)
    elif isinstance(tree, dict):
        for k, t in tree.items():
            _flatten(t, dims[k] if isinstance(dims, dict) else dims, f"{path}[{k!r}]", out)
    elif isinstance(tree, Tensor):
        if dims is not None and not isinstance(dims, int):
            raise ValueError(f"vmap: in_dim must be an int or None for the tensor at {path}, got {dims!r}")
        out.append((path, tree, dims))
    elif dims is not None and not isinstance(dims, (tuple, list, dict)):
        raise ValueError(f"vmap: Got in_dim={dims} for an input but the input is of type {type(tree).__name__}. "
                         "We cannot vmap over non-Tensor arguments, please use None as the respective in_dim")


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


def _stack_tree(results: list, out_dims: Any, path: str = "outputs") -> Any:
    first = results[0]
    if isinstance(first, (tuple, list)):
        ds = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        if len(ds) != len(first):
            raise ValueError(f"vmap: out_dims={out_dims!r} is not compatible with the structure of `outputs` "
                             f"({len(first)} entries)")
        return _rebuild(first, [_stack_tree([r[i] for r in results], d, f"{path}[{i}]") for i, d in enumerate(ds)])
    if isinstance(first, dict):
        return {k: _stack_tree([r[k] for r in results], out_dims[k] if isinstance(out_dims, dict) else out_dims,
                               f"{path}[{k!r}]") for k in first}
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap: `{path}` must only contain Tensors, got type {type(first).__name__}")
    if out_dims is None:
        return first  # the caller promises the output does not depend on the batch
    if not isinstance(out_dims, int):
        raise ValueError(f"vmap: out_dim must be an int or None for {path}, got {out_dims!r}")
    return stack(results, dim=out_dims)


_LEVELS = threading.local()


def _run(func, args, kwargs, dims, leaves, batch: int, out_dims, randomness: str):
    """``func`` over the batch: vectorized by batching rules, or as a loop when it reads batched values."""
    stack_ = getattr(_LEVELS, "stack", None)
    if stack_ is None:
        stack_ = _LEVELS.stack = []
    level = (stack_[-1] if stack_ else 0) + 1
    flags = vmap_randomness()
    stack_.append(level)
    BATCHING.append(level)
    flags.append(randomness + ":batched")
    try:
        inputs = _batch_tree(tuple(args), tuple(dims), level, batch)
        return _unbatch_tree(func(*inputs, **kwargs), out_dims, level, batch)
    except BatchedRead as e:
        cause = f"it read the values of a batched tensor ({e})"
    except Exception as e:  # an op the batching rules cannot express; the loop gives the exact result or error
        if STRICT:
            raise
        cause = f"the vectorized run raised {type(e).__name__}: {e}"
    finally:
        flags.pop()
        BATCHING.remove(level)
        stack_.pop()
    result = _loop(func, args, kwargs, dims, leaves, batch, out_dims, randomness)
    key = (getattr(func, "__qualname__", repr(func)), cause)
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


def _loop(func, args, kwargs, dims, leaves, batch: int, out_dims, randomness: str):
    """``func`` once per batch element, results stacked (exact for any function)."""
    input_ids = {id(t) for _, t, _ in leaves}
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
    return _stack_tree(results, out_dims)


def _chunked(wrapped, args, kwargs, dims, leaves, batch: int, chunk_size: int, out_dims):
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


def _unbatch_tree(out: Any, out_dims: Any, level: int, size: int, path: str = "outputs") -> Any:
    if isinstance(out, (tuple, list)):
        ds = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(out)
        if len(ds) != len(out):
            raise ValueError(f"vmap: out_dims={out_dims!r} is not compatible with the structure of `outputs` "
                             f"({len(out)} entries)")
        return _rebuild(out, [_unbatch_tree(o, d, level, size, f"{path}[{i}]")
                              for i, (o, d) in enumerate(zip(out, ds))])
    if isinstance(out, dict):
        return {k: _unbatch_tree(o, out_dims[k] if isinstance(out_dims, dict) else out_dims, level, size,
                                 f"{path}[{k!r}]") for k, o in out.items()}
    if not isinstance(out, Tensor):
        raise ValueError(f"vmap: `{path}` must only contain Tensors, got type {type(out).__name__}")
    d = out._data
    is_batched = type(d) is Batched and d.level == level
    if out_dims is None:
        if is_batched:
            raise ValueError(f"vmap: out_dims=None for {path}, but it depends on the mapped inputs")
        return out
    if not isinstance(out_dims, int):
        raise ValueError(f"vmap: out_dim must be an int or None for {path}, got {out_dims!r}")
    if is_batched:
        phys = d.phys
    else:  # the same for every element: broadcast (a view, as torch.func returns)
        shape = tuple(d.shape)
        phys = out.reshape((1,) + shape).expand((size,) + shape)
    nd = phys.dim()
    if not -nd <= out_dims < nd:
        raise ValueError(f"vmap: out_dims={out_dims} is out of range for an output of {nd - 1} dims")
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

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if isinstance(in_dims, (tuple, list)) and len(in_dims) != len(args):
            raise ValueError(f"vmap(func, in_dims={tuple(in_dims)}, ...)(<inputs>): in_dims is not compatible "
                             f"with the structure of `inputs`. in_dims has structure of length {len(in_dims)} "
                             f"but inputs has structure of length {len(args)}.")
        leaves: list = []
        _flatten(tuple(args), tuple(dims), "inputs", leaves)
        sizes = []
        for path, t, d in leaves:
            if d is None:
                continue
            nd = t.dim()
            if not -nd <= d < nd:
                raise ValueError(f"vmap: Tried to map over dim {d} for the input at {path}, but that input is a "
                                 f"Tensor of dimensionality {nd}, so expected in_dim to satisfy "
                                 f"-{nd} <= in_dim < {nd}.")
            sizes.append(t.shape[d])
        if not sizes:
            raise ValueError("vmap(func, in_dims=..., ...)(<inputs>): Got in_dims=None for every input, but at "
                             "least one Tensor input must be mapped over (have a non-None in_dim).")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                             f"sizes {sizes} for the mapped dimension")
        batch = sizes[0]
        if batch == 0:
            raise ValueError("vmap: cannot map over a dimension of size 0 (the output structure is unknown)")
        if chunk_size is not None and chunk_size < batch:
            return _chunked(wrapped, args, kwargs, dims, leaves, batch, chunk_size, out_dims)
        return _run(func, args, kwargs, dims, leaves, batch, out_dims, randomness)

    wrapped.__wrapped_chunkless__ = vmap(func, in_dims, out_dims, randomness) if chunk_size else None
    return wrapped
