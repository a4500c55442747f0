"""Saved-tensor hooks: ``pack`` runs on each tensor an op saves for backward, ``unpack`` when backward reads it.

The hooks in force are per thread (a stack: the innermost pair wins), as in PyTorch. ``ACTIVE`` counts
the pairs in force in all threads: ``apply`` looks at nothing else when it is empty, so code that never
uses hooks pays one truth test per recorded op. What a node packed lives in ``PACKED`` (weakly keyed by
node), which the engine consults only once anything was packed.

The version check is kept where it guards a value: when ``unpack`` returns the saved tensor itself (or
a tensor sharing its memory and version counter), an in-place write since the save raises PyTorch's
error. PyTorch skips the check under hooks and silently uses the new value; a copy made by ``pack``
(as ``save_on_cpu`` makes) holds the old value, so it is used without complaint, as in PyTorch.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from .._tensor import Tensor, _wrap

__all__ = ["ACTIVE", "PACKED", "EVER_PACKED", "push", "pop", "push_disabled", "pop_disabled", "current", "pack_node",
           "unpack_entry"]

ACTIVE: list = []  # one entry per hook pair in force, in any thread
PACKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> (unpack, {input i: packed}, outputs)
EVER_PACKED: list = []  # non-empty once any node was packed: until then the engine never looks in PACKED


class _Local(threading.local):
    def __init__(self) -> None:
        self.hooks: list = []  # (pack, unpack) pairs, innermost last
        self.disabled: list = []  # error messages of disable_saved_tensors_hooks, innermost last


_LOCAL = _Local()


def current():
    """The (pack, unpack) pair in force in this thread, or None."""
    hooks = _LOCAL.hooks
    return hooks[-1] if hooks else None


def push(pack: Callable, unpack: Callable) -> None:
    if _LOCAL.disabled:
        raise RuntimeError(_LOCAL.disabled[-1])
    _LOCAL.hooks.append((pack, unpack))
    ACTIVE.append(None)


def pop() -> None:
    _LOCAL.hooks.pop()
    ACTIVE.pop()


def push_disabled(message: str) -> None:
    if _LOCAL.hooks:
        raise RuntimeError(message)
    _LOCAL.disabled.append(message)


def pop_disabled() -> None:
    _LOCAL.disabled.pop()


def pack_node(node, outputs) -> None:
    """Run the pack hook on the tensors ``node`` saves: its saved inputs, and its outputs if it keeps them."""
    hooks = current()
    if hooks is None:
        return
    pack, unpack = hooks
    packed_inputs = {}
    if node.versions is not None:
        for i, (x, v) in enumerate(zip(node.inputs, node.versions)):
            if v is not None and type(x) is Tensor:
                packed_inputs[i] = pack(x)
    packed_outputs = None
    if node.op.saves_ans:
        packed_outputs = tuple(pack(o) for o in outputs) if type(outputs) is tuple else (pack(outputs),)
    if packed_inputs or packed_outputs:
        PACKED[node] = (unpack, packed_inputs, packed_outputs)
        if not EVER_PACKED:
            EVER_PACKED.append(True)


def unpack_entry(unpack: Callable, packed, original_vc: list, version: int, error: Callable) -> Tensor:
    """``unpack(packed)``, checked: a result sharing the saved tensor's version counter must be unmodified."""
    t = unpack(packed)
    if not isinstance(t, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{type(t).__name__}")
    if t._vc is original_vc and original_vc[0] != version:
        raise error(t)
    return t


def unpack_output(unpack: Callable, packed, vc: list, expected: int, node, nr: int, create_graph: bool, error):
    """An output read back through ``unpack``; the saved output itself comes back attached to ``node``."""
    t = unpack_entry(unpack, packed, vc, expected, error)
    if t._vc is vc and create_graph:  # the output itself: differentiable again through this node
        t = _wrap(t._data)
        t._vc = vc
        t._requires_grad = True
        t._grad_fn = node
        t._output_nr = nr
    return t
