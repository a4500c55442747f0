"""``vmap``'s argument checks, with ``torch.func.vmap``'s messages.

>>> import autojac
>>> batch_inputs("f", 0, (autojac.ones(3, 2),))[1]
3
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor

__all__ = ["batch_inputs", "check_out_dims", "out_structure_error", "check_output_leaf", "func_name"]


def func_name(func) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _prefix(name: str, in_dims) -> str:
    return f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"


def _describe(tree) -> str:
    if isinstance(tree, dict):
        return f"dict with keys {list(tree)}"
    if isinstance(tree, (tuple, list)):
        return f"{type(tree).__name__} of {len(tree)}"
    return "a leaf"


def _flatten(tree: Any, dims: Any, out: list, name: str, in_dims, root: tuple) -> None:
    """Pair every tensor leaf of ``tree`` with its in_dim (``dims`` is a prefix of the tree)."""
    def mismatch() -> ValueError:
        return ValueError(f"{_prefix(name, in_dims)}: in_dims is not compatible with the structure of `inputs`. "
                          f"in_dims has structure {_describe(in_dims)} but inputs has structure "
                          f"{_describe(root)}.")

    if isinstance(dims, (tuple, list)):
        if not isinstance(tree, (tuple, list)) or len(dims) != len(tree):
            raise mismatch()
        for t, d in zip(tree, dims):
            _flatten(t, d, out, name, in_dims, root)
    elif isinstance(dims, dict):
        if not isinstance(tree, dict) or set(dims) != set(tree):
            raise mismatch()
        for k, t in tree.items():
            _flatten(t, dims[k], out, name, in_dims, root)
    elif isinstance(tree, (tuple, list)):
        for t in tree:
            _flatten(t, dims, out, name, in_dims, root)
    elif isinstance(tree, dict):
        for t in tree.values():
            _flatten(t, dims, out, name, in_dims, root)
    elif dims is not None and (type(dims) is not int):
        raise ValueError(f"{_prefix(name, in_dims)}: expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(dims)}.")
    elif isinstance(tree, Tensor):
        if dims is not None:
            nd = tree.dim()
            if not -nd <= dims < nd:
                raise ValueError(f"{_prefix(name, in_dims)}: Got in_dim={dims} for some input, but that input is a "
                                 f"Tensor of dimensionality {nd} so expected in_dim to satisfy "
                                 f"-{nd} <= in_dim < {nd}.")
        out.append((tree, dims))
    elif dims is not None:
        raise ValueError(f"{_prefix(name, in_dims)}: Got in_dim={dims} for an input but the input is of type "
                         f"{type(tree)}. We cannot vmap over non-Tensor arguments, please use None as the "
                         "respective in_dim")


def batch_inputs(name: str, in_dims, args: tuple) -> tuple[tuple, int, list]:
    """Check ``in_dims`` against ``args``: the per-argument dims, the batch size and the (tensor, dim) leaves."""
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         "trying to vmap over a function with no inputs. The latter is unsupported.")
    if type(in_dims) is not int and not isinstance(in_dims, tuple):
        raise ValueError(f"{_prefix(name, in_dims)}: expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(in_dims)}.")
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    leaves: list = []
    _flatten(tuple(args), dims, leaves, name, in_dims, tuple(args))
    sizes = [t.shape[d] for t, d in leaves if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) != 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                         f"sizes {sizes} for the mapped dimension")
    return dims, sizes[0], leaves


def check_out_dims(name: str, out_dims) -> None:
    if out_dims is not None and type(out_dims) is not int and not isinstance(out_dims, (tuple, list)):
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                         "collection of ints representing where in the outputs the vmapped dimension should appear.")


def out_structure_error(name: str, out_dims, outputs) -> ValueError:
    return ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                      f"structure of `outputs`. out_dims has structure {_describe(out_dims)} but outputs has "
                      f"structure {_describe(outputs)}.")


def check_output_leaf(name: str, out, out_dim, batched: bool) -> None:
    """An output leaf must be a tensor (unless its out_dim is None), and a batched one needs an out_dim."""
    if not isinstance(out, Tensor):
        if out_dim is None:
            return
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(out)}. "
                         "Did you mean to set out_dims= to None for output?")
    if out_dim is None and batched:
        raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
