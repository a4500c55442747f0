"""``autograd.Function`` under ``vmap``: the ``vmap`` staticmethod and ``generate_vmap_rule``.

``Function.apply`` calls ``batched_forward`` when an argument is a batched tensor
(``_core.batched``). At the newest vmap level among the arguments, as PyTorch does:

- a class with a ``vmap`` staticmethod gets ``vmap(info, in_dims, *args)`` with the physical
  tensors (batch dim first, so ``in_dims`` is 0 for them and None for the rest); its outputs,
  moved to put their ``out_dims`` first, become batched tensors of the level;
- a class with ``generate_vmap_rule = True`` is applied to the physical tensors as
  ``Vmapped<Name>``, a Function whose ``forward``, ``setup_context``, ``backward`` and ``jvp``
  run the user's on batched tensors (so an enclosing ``grad`` uses the user's ``backward``);
- a ``setup_context``-style class with neither raises PyTorch's error; a class whose ``forward``
  takes ``ctx`` (PyTorch refuses it under every func transform) keeps autojac's leniency: its
  ``forward`` runs on the batched tensors, so a forward written in autojac ops vectorizes.

The caller then records the application at the batched level with the user's
``setup_context`` and ``backward`` (so ``vmap(grad(f))`` differentiates with them too).

>>> import numpy as np, autojac
>>> from autojac.autograd import Function
>>> class NumpyExp(Function):
...     @staticmethod
...     def forward(x):
...         return autojac.tensor(np.exp(x.numpy()))
...     @staticmethod
...     def setup_context(ctx, inputs, output):
...         ctx.save_for_backward(output)
...     @staticmethod
...     def backward(ctx, g):
...         (y,) = ctx.saved_tensors
...         return g * y
...     @staticmethod
...     def vmap(info, in_dims, x):
...         return NumpyExp.apply(x), in_dims[0]
>>> autojac.func.vmap(autojac.func.grad(lambda t: NumpyExp.apply(t).sum()))(autojac.zeros(2, 3))
tensor([[1., 1., 1.],
        [1., 1., 1.]])
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from typing import Any, NamedTuple

from .._core.batched import BATCHING, Batched, placeholder, vmap_levels
from .._random import vmap_randomness
from .._tensor import Tensor, _wrap

__all__ = ["VmapInfo", "batched_forward", "newest_level"]

_DOCS = "For more details, please see https://pytorch.org/docs/main/notes/extending.func.html"
NEEDS_SETUP = ("In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, ...), it "
               "must override the setup_context staticmethod. " + _DOCS)


class VmapInfo(NamedTuple):
    """What the ``vmap`` staticmethod learns of the vmap it runs under."""

    batch_size: int
    randomness: str


def _refuse(msg: str) -> RuntimeError:
    e = RuntimeError(msg)
    e.vmap_refusal = True  # vmap raises it rather than retrying as a loop
    return e


def newest_level(args: tuple) -> tuple[int, int]:
    """The newest vmap level among ``args``' batched tensors and its batch size ((0, 0) if none)."""
    level = size = 0
    for a in args:
        if type(a) is Tensor:
            d = a._data
            if type(d) is Batched and d.level > level:
                level, size = d.level, d.bsize
    return level, size


def _overridden(cls: type, name: str) -> bool:
    from .function import Function

    return getattr(cls, name) is not getattr(Function, name)


def batched_forward(cls: type, args: tuple, kwargs: dict, setup: bool, level: int, size: int):
    """The outputs of ``cls`` on ``args`` batched at ``level``, as batched tensors; None: run forward as is."""
    has_rule = _overridden(cls, "vmap")
    if not setup:
        if has_rule or cls.generate_vmap_rule:
            raise _refuse(NEEDS_SETUP)
        return None
    if cls.generate_vmap_rule:
        if has_rule:
            raise _refuse(f"You tried to vmap over {cls.__name__}, but it has both generate_vmap_rule=True and an "
                          "overridden vmap staticmethod. Please set generate_vmap_rule=False or delete the "
                          f"overridden vmap staticmethod to avoid ambiguity. {_DOCS}")
        return _generated(cls, args, level, size)
    if not has_rule:
        raise _refuse(f"You tried to vmap over {cls.__name__}, but it does not have vmap support. Please override "
                      f"and implement the vmap staticmethod or set generate_vmap_rule=True. {_DOCS}")
    return _by_rule(cls, args, kwargs, level, size)


def _phys(args: tuple, level: int) -> tuple[list, list]:
    """The physical tensors of ``args`` batched at ``level`` (others as they are) and their in_dims."""
    phys, dims = [], []
    for a in args:
        d = a._data if type(a) is Tensor else None
        if type(d) is Batched and d.level == level:
            phys.append(d.phys)
            dims.append(0)
        else:
            phys.append(a)
            dims.append(None)
    return phys, dims


def _batched(phys: Tensor, level: int, size: int) -> Tensor:
    t = _wrap(placeholder(phys, level, size))
    t._vc = phys._vc
    return t


def _randomness() -> str:
    flags = vmap_randomness()
    if not flags:
        return "error"
    return flags[-1] if type(flags[-1]) is str else flags[-1].mode


# ----------------------------------------------------------------------------- the vmap staticmethod
def _by_rule(cls: type, args: tuple, kwargs: dict, level: int, size: int):
    phys, dims = _phys(args, level)
    result = cls.vmap(VmapInfo(size, _randomness()), tuple(dims), *phys, **kwargs)
    base = ("Expected the vmap staticmethod to have two returns, an output and out_dims with pytree structure "
            "compatible with the output. ")
    if not isinstance(result, tuple):
        raise _refuse(base + f"Got a {type(result)} instead")
    if len(result) != 2:
        raise _refuse(base + f"Got {len(result)} returns instead")
    outputs, out_dims = result
    many = isinstance(outputs, tuple)
    flat = list(outputs) if many else [outputs]
    if isinstance(out_dims, (tuple, list)):
        if not many or len(out_dims) != len(flat):
            raise _refuse(f"The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) "
                          f"tuple. Expected out_dims={out_dims} to be compatible with the structure of `output`. "
                          f"{_DOCS}")
        flat_dims = list(out_dims)
    else:
        flat_dims = [out_dims] * len(flat)
    originals = {id(p): a for p, a, d in zip(phys, args, dims) if d is not None}
    wrapped = []
    for o, d in zip(flat, flat_dims):
        if not isinstance(o, Tensor) or d is None:
            wrapped.append(o)
        elif id(o) in originals:  # an input returned as is stays that input (mark_dirty's identity)
            wrapped.append(originals[id(o)])
        else:
            wrapped.append(_batched(o if d in (0, -o.dim()) else o.movedim(d, 0), level, size))
    return tuple(wrapped) if many else wrapped[0]


# ----------------------------------------------------------------------------- generate_vmap_rule
@contextlib.contextmanager
def _at_level(level: int) -> Iterator[None]:
    """Run code that reads tensors batched at ``level`` after their vmap returned (a backward, a jvp)."""
    stack = vmap_levels()
    pushed = not stack or stack[-1] < level  # a vmap nested inside numbers its level past this one
    if pushed:
        stack.append(level)
    BATCHING.append(level)
    try:
        yield
    finally:
        BATCHING.remove(level)
        if pushed:
            stack.pop()


def _rebatch(values: tuple, batched: list, level: int, size: int) -> list:
    return [_batched(v, level, size) if b and isinstance(v, Tensor) else v for v, b in zip(values, batched)]


def _unbatch(value: Any, level: int, size: int, batched: bool):
    """A value the user's rule returned at ``level``, as a physical value for an input ``batched`` or not."""
    if not isinstance(value, Tensor):
        return value
    d = value._data
    if type(d) is Batched and d.level == level:
        return d.phys if batched else d.phys.sum(0)
    if batched:  # the same for every element
        return value.reshape((1,) + tuple(d.shape)).expand((size,) + tuple(d.shape))
    return value


class _State:
    """One application's facts, handed to ``Vmapped<Name>`` as its last (non-tensor) input."""

    __slots__ = ("level", "size", "in_batched", "inputs", "out", "out_batched")

    def __init__(self, level: int, size: int, in_batched: list) -> None:
        self.level, self.size, self.in_batched = level, size, in_batched


_VMAPPED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Function class -> its Vmapped<Name>


def _vmapped_class(cls: type) -> type:
    """``Vmapped<Name>``: ``cls``'s rules run on the batched tensors of the application's level (cached)."""
    vmapped = _VMAPPED.get(cls)
    if vmapped is not None:
        return vmapped
    from .function import Function

    user_backward = cls.backward if _overridden(cls, "backward") else cls.vjp

    def forward(*p):
        st = p[-1]
        st.inputs = _rebatch(p[:-1], st.in_batched, st.level, st.size)
        st.out = out = cls.forward(*st.inputs)
        outs = list(out) if isinstance(out, tuple) else [out]
        st.out_batched = [isinstance(o, Tensor) and type(o._data) is Batched and o._data.level == st.level
                          for o in outs]
        res = [o._data.phys if b else o for o, b in zip(outs, st.out_batched)]
        return tuple(res) if isinstance(out, tuple) else res[0]

    def setup_context(ctx, inputs, output):
        st = inputs[-1]
        # keyed by class: under nested vmaps Vmapped<Vmapped<Name>> and Vmapped<Name> fill one ctx
        ctx.__dict__.setdefault("_vmap_states", {})[cls] = st
        cls.setup_context(ctx, tuple(st.inputs), st.out)

    def backward(ctx, *grads):
        st = ctx._vmap_states[cls]
        with _at_level(st.level):
            r = user_backward(ctx, *_rebatch(grads, st.out_batched, st.level, st.size))
            rs = r if isinstance(r, tuple) else (r,)
            flags = st.in_batched + [False] * len(rs)
            return tuple(_unbatch(g, st.level, st.size, b) for g, b in zip(rs, flags)) + (None,)

    def jvp(ctx, *tangents):
        st = ctx._vmap_states[cls]
        with _at_level(st.level):
            r = cls.jvp(ctx, *_rebatch(tangents[:-1], st.in_batched, st.level, st.size))
            rs = r if isinstance(r, tuple) else (r,)
            out = tuple(_unbatch(t, st.level, st.size, b) for t, b in zip(rs, st.out_batched))
            return out if isinstance(r, tuple) else out[0]

    body = {"forward": staticmethod(forward), "setup_context": staticmethod(setup_context),
            "backward": staticmethod(backward), "generate_vmap_rule": True, "__module__": cls.__module__}
    if _overridden(cls, "jvp"):
        body["jvp"] = staticmethod(jvp)
    vmapped = _VMAPPED[cls] = type("Vmapped" + cls.__name__, (Function,), body)
    return vmapped


def _generated(cls: type, args: tuple, level: int, size: int):
    """Apply ``Vmapped<cls>`` to the physical tensors; its outputs as batched tensors of ``level``."""
    phys, dims = _phys(args, level)
    st = _State(level, size, [d is not None for d in dims])
    out = _vmapped_class(cls).apply(*phys, st)
    many = isinstance(out, tuple)
    outs = list(out) if many else [out]
    res = [_batched(o, level, size) if b else o for o, b in zip(outs, st.out_batched)]
    return tuple(res) if many else res[0]
