"""A minimal pytree: flatten nested tuples, lists, dicts and namedtuples into leaves and back.

The containers ``torch.utils._pytree`` knows by default (dicts keep their insertion order);
everything else, ``None`` included (as in PyTorch 2.13), is a leaf. Specs compare equal when the structures
match, which is how the transforms check that cotangents/tangents mirror outputs/primals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class TreeSpec(NamedTuple):
    """The structure of a pytree: a node type, its context (dict keys, namedtuple class), children."""

    kind: str  # "leaf", "tuple", "list", "dict", "namedtuple"
    context: Any
    children: tuple

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind == "tuple":
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        if self.kind == "list":
            return f"[{inner}]"
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.context, self.children)) + "}"
        return f"{self.context.__name__}({inner})"


LEAF = TreeSpec("leaf", None, ())


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _children(x) -> tuple[str, Any, list] | None:
    """(kind, context, children) of a container node, or None for a leaf."""
    if _is_namedtuple(x):
        return "namedtuple", type(x), list(x)
    if isinstance(x, tuple):
        return "tuple", None, list(x)
    if isinstance(x, list):
        return "list", None, list(x)
    if isinstance(x, dict):
        keys = tuple(x)
        return "dict", keys, [x[k] for k in keys]
    return None


def tree_flatten(tree) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` (depth first, left to right) and its structure."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(x, leaves: list) -> TreeSpec:
    node = _children(x)
    if node is None:
        leaves.append(x)
        return LEAF
    kind, context, kids = node
    return TreeSpec(kind, context, tuple(_flatten(k, leaves) for k in kids))


def tree_unflatten(leaves, spec: TreeSpec):
    """Rebuild a pytree of structure ``spec`` from its leaves."""
    it = iter(leaves)
    out = _unflatten(it, spec)
    if next(it, _END) is not _END:
        raise ValueError(f"tree_unflatten: too many leaves for a tree with {spec.num_leaves}")
    return out


_END = object()


def _unflatten(it, spec: TreeSpec):
    kind = spec.kind
    if kind == "leaf":
        x = next(it, _END)
        if x is _END:
            raise ValueError("tree_unflatten: too few leaves for the tree structure")
        return x
    kids = [_unflatten(it, c) for c in spec.children]
    if kind == "tuple":
        return tuple(kids)
    if kind == "list":
        return kids
    if kind == "dict":
        return dict(zip(spec.context, kids))
    return spec.context(*kids)


def tree_map(fn: Callable, tree):
    """``tree`` with ``fn`` applied to every leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]
