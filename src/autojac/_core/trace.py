"""Recording the NumPy program a call runs, for ``autojac.compile``.

While a ``Tracer`` is active, every primitive that runs (``apply``, non-differentiable ops, the
in-place store) reports the exact arrays its forward received and produced; the result is a flat
list of steps that ``autojac.compile`` turns into straight-line Python.

A value the program computes is *traced*: tensors hold it as a ``_Traced`` ndarray view while the
trace runs. NumPy used on such a value outside a recorded forward (``.item()``, ``bool()``, a
helper computing on ``._data``, a NumPy function called by the user) would hide a data dependency
the program cannot replay, so it marks the trace *broken* with its cause and the user's line, and
the caller falls back to eager. Random draws and in-place writes into tensors captured from
outside break it too.

The hot path pays one truthiness check of ``TRACERS`` per op when no trace runs.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

from .batched import Batched

__all__ = ["TRACERS", "Tracer", "Step", "enter", "leave", "note_wrap", "note_store", "note_break", "plain"]

# The active tracers (one per tracing thread). A list, so the hot path's check is one truthiness test.
TRACERS: list = []
_LOCAL = threading.local()
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _current():
    """The tracer of this thread, if one is recording."""
    return getattr(_LOCAL, "tracer", None)


def plain(a):
    """``a`` as a base-class ndarray (a view, no copy) when it is a traced value."""
    return a.view(np.ndarray) if type(a) is _Traced else a


def _plain_tree(x):
    if type(x) is _Traced:
        return x.view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_plain_tree(v) for v in x)
    if isinstance(x, list):
        return [_plain_tree(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain_tree(v) for k, v in x.items()}
    return x


def _escape(what: str) -> None:
    tracer = _current()
    if tracer is not None:
        tracer.fail(what)


_METADATA = {np.may_share_memory, np.shares_memory, np.shape, np.ndim, np.size, np.result_type, np.can_cast}


class _Traced(np.ndarray):
    """A value computed by the traced program: NumPy reaching it outside a recorded op breaks the trace."""

    def __array_finalize__(self, obj) -> None:
        # a view or copy made of a traced value (reshape, astype, copy, .T, ...) outside a recorded op
        if type(obj) is _Traced:
            _escape("a NumPy method on a tensor's data")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _escape(f"numpy.{ufunc.__name__} on a tensor's data")
        if "out" in kwargs:
            kwargs["out"] = _plain_tree(kwargs["out"])
        return getattr(ufunc, method)(*_plain_tree(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func not in _METADATA:  # these read no values: nothing the program would miss
            _escape(f"numpy.{func.__name__} on a tensor's data")
        return func(*_plain_tree(args), **_plain_tree(kwargs))

    def astype(self, dtype, *args, **kwargs):
        # a conversion (type promotion in ``apply``): the result stays traced, so its uses are checked
        return self.view(np.ndarray).astype(dtype, *args, **kwargs).view(_Traced)

    def __getitem__(self, idx):
        _escape("indexing a tensor's data")
        return self.view(np.ndarray)[_plain_tree(idx)]

    def __setitem__(self, idx, value):
        _escape("writing into a tensor's data")
        self.view(np.ndarray)[_plain_tree(idx)] = _plain_tree(value)

    def _read(name: str):  # noqa: N805 (a factory of methods, run at class creation)
        def method(self, *args, **kwargs):
            _escape(f"reading a tensor's value ({name})")
            return getattr(self.view(np.ndarray), name)(*args, **kwargs)
        method.__name__ = name
        return method

    for _name in ("item", "tolist", "tobytes", "argmax", "argmin", "argsort", "nonzero", "__bool__", "__float__",
                  "__int__", "__index__", "__complex__", "__iter__", "__reduce__", "__reduce_ex__"):
        locals()[_name] = _read(_name)
    del _name, _read


class Step:
    """One recorded call: ``outs = fn(*args, **params)``.

    ``args`` and ``params`` hold ``("slot", k)`` references to earlier values or constants;
    ``kind`` is ``"op"`` (a forward returning one array, or a tuple when ``n_out`` > 1),
    ``"cast"`` (``astype``) or ``"store"`` (``np.copyto`` into a slot, an in-place write).
    """

    __slots__ = ("kind", "fn", "args", "params", "outs", "wrap")

    def __init__(self, kind: str, fn: Any, args: list, params: dict, outs: tuple, wrap: tuple = ()) -> None:
        self.kind = kind
        self.fn = fn
        self.args = args
        self.params = params
        self.outs = outs
        self.wrap = wrap  # (several outputs?, per output: 0-d, so NumPy may return a scalar)


class Tracer:
    """Records the steps of one call in one thread (see the module docstring)."""

    def __init__(self) -> None:
        self.slots: dict[int, int] = {}  # id(array) -> slot
        self.keep: list = []  # every array whose id is a key of ``slots`` (ids stay unique)
        self.n = 0
        self.steps: list[Step] = []
        self.inputs: dict[int, int] = {}  # slot -> position among the call's tensor inputs
        self.externals: dict[int, Any] = {}  # slot -> Tensor captured from outside, read live at replay
        self.constants: dict[int, np.ndarray] = {}  # slot -> value at creation of an array made during the call
        self.stored = False  # whether an in-place store was recorded (constants are snapshots from then on)
        self.broken: str | None = None
        self.where: str | None = None
        self.pending: tuple | None = None
        self.created: list = []  # tensors whose data became traced views (made plain again at the end)
        self.owner = threading.get_ident()

    # ------------------------------------------------------------------ slots
    def _new_slot(self, *arrays) -> int:
        k = self.n
        self.n += 1
        for a in arrays:
            self.slots[id(a)] = k
            self.keep.append(a)
        return k

    def slot_of(self, a) -> int | None:
        return self.slots.get(id(a))

    def add_input(self, t, position: int) -> None:
        data = t._data
        k = self.slots.get(id(data))
        if k is None:
            k = self._new_slot(data)
        self.inputs[k] = position
        self._trace_tensor(t)

    def _trace_tensor(self, t) -> None:
        d = t._data
        if type(d) is not _Traced and type(d) is not Batched and d.dtype.kind != "O":  # (vmap: values are in phys)
            v = d.view(_Traced)
            k = self.slots[id(d)]
            self.slots[id(v)] = k
            self.keep.append(v)
            t._data = v
            self.created.append(t)

    def _alias_slot(self, x: np.ndarray) -> int | None:
        """The slot of a traced array that ``x`` is a whole-array view of (``np.asarray`` of a traced value)."""
        base = x.base
        if base is None or not isinstance(base, np.ndarray):
            return None
        k = self.slots.get(id(base))
        if k is None or base.shape != x.shape or base.strides != x.strides or base.dtype != x.dtype:
            return None
        if base.__array_interface__["data"][0] != x.__array_interface__["data"][0]:
            return None
        self.slots[id(x)] = k
        self.keep.append(x)
        return k

    def _tensor_slot(self, t) -> int:
        """The slot of a tensor's data; a tensor not seen before is captured from outside."""
        d = t._data
        k = self.slots.get(id(d))
        if k is None:
            k = self._alias_slot(d)
        if k is None:
            k = self._new_slot(d)
            self.externals[k] = t
        return k

    def _ref(self, x):
        """A step argument: a slot reference for a traced array, else the constant itself."""
        if isinstance(x, np.ndarray):
            k = self.slots.get(id(x))
            if k is None:
                k = self._alias_slot(x)
            if k is not None:
                return ("slot", k)
            if type(x) is _Traced:  # derived outside the program: already reported by _Traced
                self.fail("a value derived from a tensor's data outside an op")
            return ("const", x)
        if isinstance(x, (tuple, list)):
            refs = [self._ref(v) for v in x]
            if any(type(r) is tuple and r and r[0] in ("slot", "tree") for r in refs):
                return ("tree", type(x), refs)
            return ("const", x)
        if isinstance(x, dict):
            refs = {k: self._ref(v) for k, v in x.items()}
            if any(type(r) is tuple and r and r[0] in ("slot", "tree") for r in refs.values()):
                return ("tree", dict, refs)
            return ("const", x)
        return ("const", x)

    # ------------------------------------------------------------------ hooks
    def enter(self, fn, args, datas: list, params: dict) -> list:
        from .._tensor import Tensor  # noqa: PLC0415  (_tensor imports _core; the tracer is only loaded to trace)

        refs = []
        for i, d in enumerate(datas):
            a = args[i] if i < len(args) else None
            if type(a) is Tensor:
                k = self._tensor_slot(a)
                if d is not a._data:  # the op's type promotion cast it
                    cast = self._new_slot(d)
                    self.steps.append(Step("cast", d.dtype, [("slot", k)], {}, (cast,)))
                    k = cast
                refs.append(("slot", k))
            else:
                refs.append(self._ref(d))
        prefs = {k: self._ref(v) for k, v in params.items()} if params else {}
        self.pending = (fn, refs, prefs)
        out = [plain(d) for d in datas]
        return out

    def leave(self, result) -> None:
        pending, self.pending = self.pending, None
        if pending is None:
            return
        fn, refs, prefs = pending
        tensors = result if isinstance(result, tuple) else (result,)
        outs = []
        for t in tensors:
            d = t._data
            outs.append(self._new_slot(d))
            self._trace_tensor(t)
        zero_d = tuple(t._data.ndim == 0 for t in tensors)  # NumPy may return scalars for these
        self.steps.append(Step("op", fn, refs, prefs, tuple(outs), (isinstance(result, tuple), zero_d)))

    def wrap(self, t) -> None:
        """A tensor made around an array (a constant created during the call, or a traced value)."""
        if self.pending is not None:  # the outputs of the op being recorded: ``leave`` takes them
            return
        d = t._data
        if id(d) in self.slots:
            if type(d) is not _Traced:
                self._trace_tensor(t)
            return
        if type(d) is _Traced:
            self.fail("a value derived from a tensor's data outside an op")
            return
        # a constant (made from Python values or other constants): NumPy may read it freely
        k = self._new_slot(d)
        # until the first in-place store nothing can change it: keep the array itself, copy only then
        self.constants[k] = np.array(d, copy=True) if self.stored else d

    def store(self, dst, src) -> None:
        if not self.stored:  # constants may be written from now on: keep their values as they are
            self.stored = True
            self.constants = {k: np.array(v, copy=True) for k, v in self.constants.items()}
        k = self.slots.get(id(dst))
        s = self.slots.get(id(src))
        if k is None or k in self.externals:
            self.fail("an in-place write into a tensor captured from outside the function")
            return
        self.steps.append(Step("store", None, [("slot", k), ("slot", s) if s is not None else self._ref(src)], {},
                               ()))

    def fail(self, why: str) -> None:
        if self.broken is None:
            self.broken = why
            self.where = _user_line()

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> Tracer:
        if _current() is not None:
            raise RuntimeError("autojac.compile: a trace is already running in this thread")
        _LOCAL.tracer = self
        TRACERS.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _LOCAL.tracer = None
        TRACERS.remove(self)
        for t in self.created:  # tensors that outlive the call hold ordinary arrays again
            if type(t._data) is _Traced:
                t._data = t._data.view(np.ndarray)
        self.created = []


def _user_line() -> str:
    """``file:line`` of the innermost frame outside autojac (where the user's code asked for it)."""
    f = sys._getframe(1)
    numpy_dir = os.path.dirname(np.__file__)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not path.startswith(_PACKAGE) and not path.startswith(numpy_dir):
            return f"{f.f_code.co_filename}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


# --------------------------------------------------------------------------- the hooks the core calls
def enter(fn, args, datas: list, params: dict) -> list:
    """Called by ``apply`` (when ``TRACERS``) before a forward: the arrays to pass it."""
    tracer = _current()
    return datas if tracer is None else tracer.enter(fn, args, datas, params)


def leave(result) -> None:
    tracer = _current()
    if tracer is not None:
        tracer.leave(result)


def note_wrap(t) -> None:
    tracer = _current()
    if tracer is not None:
        tracer.wrap(t)


def note_store(dst: np.ndarray, src: np.ndarray) -> None:
    tracer = _current()
    if tracer is not None:
        tracer.store(dst, src)


def note_break(why: str) -> None:
    tracer = _current()
    if tracer is not None:
        tracer.fail(why)
