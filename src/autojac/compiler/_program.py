"""Turn a ``Tracer``'s steps into straight-line Python: one NumPy-kernel call per line, no Tensors.

The generated function takes the call's input arrays and returns its output arrays. Constants,
op forwards and dtypes are bound as globals of the generated code; tensors captured from outside
are read (``._data``) at every call, so in-place updates to them (an optimizer step) are seen.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .._core.trace import Tracer

__all__ = ["generate"]

_counter = itertools.count()


class _Namespace:
    """Names for the objects the generated code refers to."""

    def __init__(self) -> None:
        self.globals: dict[str, Any] = {"_asarray": np.asarray, "_copyto": np.copyto}
        self._ids: dict[int, str] = {}

    def name(self, obj, prefix: str) -> str:
        key = id(obj)
        name = self._ids.get(key)
        if name is None:
            name = f"{prefix}{len(self._ids)}"
            self._ids[key] = name
            self.globals[name] = obj
        return name


def _expr(ref, ns: _Namespace) -> str:
    kind = ref[0]
    if kind == "slot":
        return f"v{ref[1]}"
    if kind == "tree":
        _, typ, refs = ref
        if typ is dict:
            return "{" + ", ".join(f"{ns.name(k, 'K')}: {_expr(r, ns)}" for k, r in refs.items()) + "}"
        inner = ", ".join(_expr(r, ns) for r in refs)
        if typ is list:
            return f"[{inner}]"
        if typ is tuple:
            return f"({inner},)" if refs else "()"
        return f"{ns.name(typ, 'T')}(({inner},))"
    value = ref[1]
    if value is None or type(value) in (bool, int, str):
        return repr(value)
    return ns.name(value, "K")


def _slots_in(ref, out: set) -> set:
    if ref[0] == "slot":
        out.add(ref[1])
    elif ref[0] == "tree":
        for r in (ref[2].values() if ref[1] is dict else ref[2]):
            _slots_in(r, out)
    return out


def _step_slots(step) -> set:
    used: set = set()
    for r in step.args:
        _slots_in(r, used)
    for r in step.params.values():
        _slots_in(r, used)
    return used


def _value(ref, values: dict):
    kind = ref[0]
    if kind == "slot":
        return values[ref[1]]
    if kind == "tree":
        _, typ, refs = ref
        if typ is dict:
            return {k: _value(r, values) for k, r in refs.items()}
        items = [_value(r, values) for r in refs]
        return items if typ is list else typ(items)
    return ref[1]


def _fold_constants(tracer: Tracer) -> tuple[list, dict]:
    """Run now the steps that read only constants (the Jacobian basis and what is derived from it)."""
    values = dict(tracer.constants)
    kept = []
    for step in tracer.steps:
        used = _step_slots(step)
        if step.kind != "store" and used <= values.keys():
            if step.kind == "cast":
                values[step.outs[0]] = values[step.args[0][1]].astype(step.fn)
                continue
            result = step.fn(*[_value(r, values) for r in step.args],
                             **{k: _value(r, values) for k, r in step.params.items()})
            if step.wrap[0]:
                for k, r in zip(step.outs, result):
                    values[k] = np.asarray(r)
            else:
                values[step.outs[0]] = np.asarray(result)
            continue
        kept.append(step)
    return kept, values


def _live_steps(steps: list, outputs: list) -> list:
    """Drop the steps nothing returned depends on (the ops are pure; stores are kept)."""
    needed: set = set()
    for r in outputs:
        _slots_in(r, needed)
    live = []
    for step in reversed(steps):
        if step.kind == "store" or needed.intersection(step.outs):
            live.append(step)
            needed |= _step_slots(step)
    return live[::-1]


def _emit(steps: list, params: list, externals: dict, constants: dict, outputs: list, mutable: bool):
    """Straight-line Python for ``steps``: ``program(*params) -> tuple(outputs)``."""
    ns = _Namespace()
    lines = [f"def program({', '.join(f'v{k}' for k in params)}):"]
    used: set = set()
    for step in steps:
        used |= _step_slots(step)
    for r in outputs:
        _slots_in(r, used)
    for k, t in externals.items():
        if k in used:
            lines.append(f"    v{k} = {ns.name(t, 'E')}._data")
    for k, snapshot in constants.items():
        if k in used:
            lines.append(f"    v{k} = {ns.name(snapshot, 'C')}{'.copy()' if mutable else ''}")
    for step in steps:
        if step.kind == "cast":
            lines.append(f"    v{step.outs[0]} = v{step.args[0][1]}.astype({ns.name(step.fn, 'D')})")
            continue
        if step.kind == "store":
            dst, src = step.args
            lines.append(f"    _copyto({_expr(dst, ns)}, {_expr(src, ns)}, casting='unsafe')")
            continue
        args = [_expr(r, ns) for r in step.args]
        args += [f"{k}={_expr(r, ns)}" if k.isidentifier() else f"**{{{k!r}: {_expr(r, ns)}}}"
                 for k, r in step.params.items()]
        call = f"{ns.name(step.fn, 'F')}({', '.join(args)})"
        several, zero_d = step.wrap
        if several:
            lines.append(f"    _t = {call}")
            for i, k in enumerate(step.outs):
                lines.append(f"    v{k} = _asarray(_t[{i}])")
        elif zero_d[0]:
            lines.append(f"    v{step.outs[0]} = _asarray({call})")
        else:
            lines.append(f"    v{step.outs[0]} = {call}")
    # a returned constant is the caller's to write into: a copy per call keeps the program's own intact
    returned = [f"{_expr(r, ns)}.copy()" if r[0] == "slot" and r[1] in constants else _expr(r, ns) for r in outputs]
    lines.append("    return (" + "".join(f"{e}, " for e in returned) + ")")
    source = "\n".join(lines)
    code = compile(source, f"<autojac.compile program {next(_counter)}>", "exec")
    namespace = dict(ns.globals)
    exec(code, namespace)  # noqa: S102 (our own generated straight-line code)
    program = namespace["program"]
    program.source = source
    return program


def generate(tracer: Tracer, outputs: list, split: int | None = None, cotangents: tuple = ()):
    """The replay functions of a finished trace.

    Without ``split``: ``forward(*input_arrays) -> tuple(outputs)``. With ``split`` (the index of
    the first backward step) and the ``cotangents`` slots, ``outputs`` are the gradients: returns
    ``(forward, backward, n_saved)`` where ``forward`` returns the call's outputs (``tracer``'s
    ``call_outputs``) followed by the values the backward reads, and ``backward(*saved, *cotangents)``
    returns the gradients.
    """
    mutable = any(s.kind == "store" for s in tracer.steps)
    if mutable:  # constants may be written: every call starts from fresh copies
        steps, constants = list(tracer.steps), dict(tracer.constants)
    else:
        steps, constants = _fold_constants(tracer)
    inputs = [k for k, _ in sorted(tracer.inputs.items(), key=lambda kv: kv[1])]
    if split is None:
        steps = _live_steps(steps, outputs)
        return _emit(steps, inputs, tracer.externals, constants, outputs, mutable)
    backward_ids = {id(st) for st in tracer.steps[split:]}
    fwd_steps = [st for st in steps if id(st) not in backward_ids]
    bwd_steps = _live_steps([st for st in steps if id(st) in backward_ids], outputs)
    produced = {k for st in bwd_steps for k in st.outs} | set(cotangents) | set(constants)
    reads: set = set()
    for st in bwd_steps:
        reads |= _step_slots(st)
    for r in outputs:
        _slots_in(r, reads)
    saved = sorted(reads - produced)
    call_outputs = tracer.call_outputs
    fwd_steps = _live_steps(fwd_steps, call_outputs + [("slot", k) for k in saved])
    forward = _emit(fwd_steps, inputs, tracer.externals, constants, call_outputs + [("slot", k) for k in saved],
                    mutable)
    backward = _emit(bwd_steps, saved + list(cotangents), {}, constants, outputs, mutable)
    return forward, backward, len(saved)
