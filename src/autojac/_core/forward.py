"""Forward-mode AD: tensors carry a tangent per dual level; every op pushes tangents through
its JVP rules (declared beside its VJP rules, DESIGN.md decision 1).

Levels nest (``jacfwd(jacfwd(f))``): ids grow with nesting and the active ones are kept,
oldest first, in ``levels()``. While the rules of level ``L`` run, ``L`` and the newer levels
are switched off, so a tangent never gets a tangent of its own level (that would be an
epsilon-squared term) and a level-``L`` tangent carries only older levels' tangents. The
rules are autojac ops, so under grad mode they are recorded too: reverse-over-forward
and forward-over-reverse both work.

A tangent may have extra leading batch dimensions (``jacfwd`` pushes a whole basis at
once); rules handle them (decision 3).

Each thread has its own stack of levels (``levels()``), so forward-mode transforms run in
several threads at once; a thread never sees another's levels, even on a shared tensor.
``ANY_LEVELS`` holds the levels open in all threads: ``apply`` checks it on every op, so
forward mode costs nothing while no thread uses it. When a level closes, the tangents set
at it are stripped from the tensors still alive (they would otherwise keep a reference
cycle: a recorded tangent's graph saves the tensor that carries it).

>>> lv = enter_level()
>>> levels() == [lv] and lv in ANY_LEVELS
True
>>> exit_level(lv)
>>> levels()
[]
"""

from __future__ import annotations

import itertools
import threading
import weakref

from .._tensor import Tensor
from .batching import batch_shape

ANY_LEVELS: list[int] = []  # the levels open in any thread: ``if ANY_LEVELS:`` is the hot path's check
_ids = itertools.count()  # ``next`` is atomic: ids are unique across threads and never reused


class _ThreadLevels(threading.local):
    def __init__(self) -> None:
        self.stack: list[int] = []  # this thread's active levels, oldest first
        self.carriers: dict[int, list] = {}  # level -> weak refs to the tensors given a recorded tangent at it
        self.tapes: dict[int, list] = {}  # level -> the pushes recorded at it (record_tape)


_LOCAL = _ThreadLevels()


def levels() -> list[int]:
    """This thread's active dual levels, oldest first (the list itself: callers may hide levels
    by cutting it and restore them)."""
    return _LOCAL.stack


def active() -> bool:
    """Whether this thread has a dual level open."""
    return bool(ANY_LEVELS) and bool(_LOCAL.stack)


def enter_level() -> int:
    """Open a new (innermost) dual level in this thread and return its id."""
    level = next(_ids)
    local = _LOCAL
    local.carriers[level] = []
    local.stack.append(level)
    ANY_LEVELS.append(level)
    return level


def exit_level(level: int) -> None:
    """Close ``level`` in this thread and strip its tangents from the tensors still alive."""
    local = _LOCAL
    if level not in local.stack:
        raise RuntimeError(f"Trying to exit a forward AD level ({level}) that is not active")
    local.stack.remove(level)
    ANY_LEVELS.remove(level)
    local.tapes.pop(level, None)  # (a tape not stopped: its primals are not kept)
    for ref in local.carriers.pop(level, ()):
        t = ref()
        if t is not None:
            _strip(t, level)


def _strip(t: Tensor, level: int) -> None:
    fw = t._fw
    if fw is not None and level in fw:
        t._fw = {k: v for k, v in fw.items() if k != level} or None
    node = t.grad_fn
    saved = None if node is None else getattr(node, "ans_fw", None)  # the saved output's copy (engine._saved)
    if saved is not None:
        if type(saved) is tuple:
            node.ans_fw = tuple(None if f is None else ({k: v for k, v in f.items() if k != level} or None)
                                for f in saved)
        elif level in saved:
            node.ans_fw = {k: v for k, v in saved.items() if k != level} or None


def tangent_of(t: Tensor, level: int):
    fw = t._fw
    return None if fw is None else fw.get(level)


def set_tangent(t: Tensor, level: int, tangent, track: bool = False) -> None:
    """Give ``t`` ``tangent`` at ``level``; with ``track`` (or a recorded tangent) it is stripped when the level
    closes."""
    fw = t._fw
    t._fw = {level: tangent} if fw is None else {**fw, level: tangent}
    if track or tangent.grad_fn is not None:  # a recorded tangent may hold ``t`` through its graph
        carriers = _LOCAL.carriers.get(level)
        if carriers is not None:
            carriers.append(weakref.ref(t))


def has_tangent(*xs) -> bool:
    """Whether any of ``xs`` carries a tangent at one of this thread's active levels."""
    if not ANY_LEVELS:
        return False
    stack = _LOCAL.stack
    for x in xs:
        if type(x) is Tensor and x._fw is not None and any(lv in x._fw for lv in stack):
            return True
    return False


def propagate(op, args: tuple, params: dict, out) -> None:
    """Set the tangents of ``out`` (a Tensor, or a tuple for multi-output ops) at every
    level active in this thread from the tangents of ``args``."""
    local = _LOCAL
    stack = local.stack
    if not stack:
        return  # only other threads use forward mode
    for k, level in enumerate(tuple(stack)):
        pairs = []
        for i, a in enumerate(args):
            if type(a) is Tensor and a._fw is not None:
                t = a._fw.get(level)
                if t is not None:
                    pairs.append((i, a, t))
        if not pairs:
            continue
        newer = stack[k:]
        del stack[k:]
        try:
            total = _push(op, args, params, out, pairs)
        finally:
            stack.extend(newer)
        if local.tapes and level in local.tapes:
            _record(local.tapes[level], op, args, params, out, pairs)
        if total is None:
            continue
        i, a, t = pairs[0]
        batch = batch_shape(t, a)
        if op.n_out == 1:
            set_tangent(out, level, _fit_tangent(total, batch, out))
        else:
            for o, tt in zip(out, total):
                if tt is not None and o._data.dtype.kind in "fc":
                    set_tangent(o, level, _fit_tangent(tt, batch, o))


def _push(op, args, params, out, pairs):
    total = None
    jvps = op.jvp
    for i, _a, t in pairs:
        rule = jvps[i] if i < len(jvps) else None
        if rule is None:
            continue
        r = rule(t, out, *args, **params) if params else rule(t, out, *args)
        if r is None:
            continue
        if total is None:
            total = r
        elif op.n_out == 1:
            total = total + r
        else:
            total = tuple(x if y is None else (y if x is None else x + y) for x, y in zip(total, r))
    return total


def _fit_tangent(tt: Tensor, batch: tuple, out: Tensor) -> Tensor:
    """Broadcast a tangent to ``batch + out.shape`` and give it ``out``'s dtype."""
    if tt._data.shape == batch + out._data.shape and tt._data.dtype is out._data.dtype:
        return tt
    # broadcast declares its ops through node, which imports this module for propagate
    from .broadcast import fit_tangent

    return fit_tangent(tt, batch, out)


def record_tape(level: int) -> None:
    """Record every tangent push at ``level`` (this thread) until ``stop_tape``: what ``replay`` reruns."""
    _LOCAL.tapes[level] = []


def stop_tape(level: int) -> list:
    """The pushes recorded at ``level`` since ``record_tape``. The tape holds the pass's primal tensors; their
    ``level`` tangents are dropped here (read the ones you need first), so that it holds nothing more."""
    tape = _LOCAL.tapes.pop(level, [])
    for entry in tape:
        out = entry[3]
        for o in (out if type(out) is tuple else (out,)):
            if o._fw is not None:
                _strip(o, level)
    return tape


def _record(tape: list, op, args: tuple, params: dict, out, pairs: list) -> None:
    """One push for ``replay``: the op, its primal operands and outputs, which operands had a tangent, and
    the version counters that show a later in-place write."""
    tape.append((op, args, params, out, tuple(p[0] for p in pairs),
                 tuple(x._vc[0] if isinstance(x, Tensor) else None for x in args), _versions(out)))


def _versions(out) -> tuple:
    return tuple(o._vc[0] for o in out) if type(out) is tuple else (out._vc[0],)


def replay(tape: list, inputs: list, output: Tensor):
    """The tangent of ``output`` for new ``inputs`` tangents (``[(tensor, tangent), ...]``), from a recorded pass.

    Only the JVP rules run, on the primal values the recorded pass computed (``linearize``): the primal
    is not evaluated again. A new tangent may have another number of leading batch dims than the
    recorded one. Returns None where the tape cannot stand for the pass: a tensor written in place since
    (its version moved) or a tangent set outside ``propagate`` (in-place ops, custom Functions), which
    shows as an operand that had a tangent when recorded and has none now; the caller reruns the pass.

    >>> import autojac
    >>> from autojac.autograd.forward_ad import make_dual_batched, unpack_batched
    >>> x = autojac.tensor([1.0, 2.0])
    >>> lv = enter_level(); record_tape(lv)
    >>> d = make_dual_batched(x, autojac.ones(1, 2), lv)
    >>> y = d.sin() * d
    >>> unpack_batched(y, lv).tangent
    tensor([[1.3818, 0.0770]])
    >>> tape = stop_tape(lv); exit_level(lv)
    >>> replay(tape, [(d, autojac.tensor([[1.0, 0.0], [0.0, 1.0]]))], y)
    tensor([[1.3818, 0.0000],
            [0.0000, 0.0770]])
    """
    tangents = {id(x): t for x, t in inputs}
    for op, args, params, out, positions, arg_versions, out_versions in tape:
        if _versions(out) != out_versions or any(
                v is not None and a._vc[0] != v for a, v in zip(args, arg_versions)):
            return None
        pairs = []
        for i in positions:
            t = tangents.get(id(args[i]))
            if t is None:
                return None
            pairs.append((i, args[i], t))
        total = _push(op, args, params, out, pairs)
        if total is None:
            continue
        batch = batch_shape(pairs[0][2], pairs[0][1])
        if op.n_out == 1:
            tangents[id(out)] = _fit_tangent(total, batch, out)
        else:
            for o, tt in zip(out, total):
                if tt is not None and o._data.dtype.kind in "fc":
                    tangents[id(o)] = _fit_tangent(tt, batch, o)
    return tangents.get(id(output))
