"""``vmap``: map a function over a batch dimension of its inputs (``torch.func.vmap``'s API).

This implementation runs ``func`` once per batch element on differentiable slices (``select``)
and stacks the results (``stack``), so it is exact, supports every op, and composes with
``grad``, ``jacrev``, ``jacfwd`` and forward mode (gradients flow back through the slices).
It is not yet vectorized: the per-element cost is one call of ``func``. Jacobians and
Hessians do not go through ``vmap``; they are vectorized by batched cotangents/tangents.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .._random import default_generator, vmap_randomness
from .._tensor import Tensor
from ..ops.shape import stack

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
        return type(tree)(_select_tree(t, d, b) for t, d in zip(tree, ds))
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
        return type(first)(_stack_tree([r[i] for r in results], d, f"{path}[{i}]") for i, d in enumerate(ds))
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

    return wrapped
