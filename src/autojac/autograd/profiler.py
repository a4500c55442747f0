"""``autograd.profiler``: ``profile`` and ``record_function``, with PyTorch's tables.

While a profiler is active, every primitive op is recorded as ``aten::<op name>`` (the forward)
and every backward node as its ``grad_fn`` name (``MulBackward0``), with CPU time, self time
(minus nested events) and counts; ``record_function`` adds named user ranges. The hook costs
nothing when no profiler runs: entering ``profile`` rebinds the op dispatch (``apply``) and the
backward engine's node step to recording wrappers, leaving restores the originals.

>>> import autojac
>>> from autojac.autograd import profiler
>>> x = autojac.ones(3, requires_grad=True)
>>> with profiler.profile() as prof:
...     with profiler.record_function("block"):
...         y = (x * x).sin().sum()
...     y.backward()
>>> counts = {e.key: e.count for e in prof.key_averages()}
>>> counts["block"], counts["aten::sin"], counts["MulBackward0"], counts["aten::cos"]  # cos: sin's backward rule
(1, 1, 1, 1)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from .._core import engine as _engine
from .._core import node as _node

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg"]

_perf_ns = time.perf_counter_ns


class FunctionEvent:
    """One recorded range: name, start/end (us), thread, its parent and children."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, input_shapes=None) -> None:  # noqa: A002
        self.id = id
        self.name = name
        self.key = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us
        self.input_shapes = input_shapes
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []
        self.count = 1

    @property
    def cpu_time_total(self) -> float:
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.start_us:.3f} end_us={self.end_us:.3f} thread={self.thread} "
                f"input_shapes={self.input_shapes or []}>")


class FunctionEventAvg:
    """The events of one key added up: count, total and self CPU time."""

    def __init__(self, key: str, input_shapes=None) -> None:
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.input_shapes = input_shapes
        self.cpu_parent = None

    def add(self, evt) -> FunctionEventAvg:
        self.count += evt.count
        self.cpu_time_total += evt.cpu_time_total
        self.self_cpu_time_total += evt.self_cpu_time_total
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)}  input_shapes={self.input_shapes or ''}>")


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_share(time_us: float, total_us: float) -> str:
    return "NaN" if total_us == 0 else f"{time_us * 100.0 / total_us:.2f}%"


class EventList(list):
    """A list of events (or of averages) with ``key_averages``, ``table`` and ``total_average``."""

    def key_averages(self, group_by_input_shapes: bool = False) -> EventList:
        stats: dict = {}
        for evt in self:
            key = (evt.key, str(evt.input_shapes)) if group_by_input_shapes else evt.key
            if key not in stats:
                stats[key] = FunctionEventAvg(evt.key, evt.input_shapes if group_by_input_shapes else None)
            stats[key].add(evt)
        return EventList(stats.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for evt in self:
            total.add(evt)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """PyTorch's profiler table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of Calls."""
        return _build_table(self, sort_by=sort_by, row_limit=row_limit, header=header,
                            max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width,
                            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def __str__(self) -> str:
        return self.table()


def _build_table(events, *, sort_by, row_limit, header, max_name_column_width, max_shapes_column_width,
                 top_level_events_only, time_unit) -> str:
    if len(events) == 0:
        return ""
    has_shapes = any(e.input_shapes for e in events)
    if sort_by is not None:
        events = sorted(events, key=lambda e: getattr(e, sort_by), reverse=True)
    name_w = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    shapes_w = min(max(len(str(e.input_shapes)) for e in events) + 4, max_shapes_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    widths = [name_w] + [12] * 6
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_w)
    row_format = "".join("{: >" + str(w) + "}  " for w in widths)
    sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2

    def fmt(t: float) -> str:
        if time_unit == "s":
            return f"{t / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{t / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{t:.3f}us"
        return _format_time(t)

    total_self = sum(e.self_cpu_time_total for e in events)
    out = []
    if header is not None:
        out += ["=" * line_length, header]
    if top_level_events_only:
        out += ["=" * line_length, "This report only display top-level ops statistics"]
    out += [sep, row_format.format(*headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key if len(e.key) < max_name_column_width - 3 else e.key[:max_name_column_width - 3] + "..."
        row = [name, _format_share(e.self_cpu_time_total, total_self), fmt(e.self_cpu_time_total),
               _format_share(e.cpu_time_total, total_self), fmt(e.cpu_time_total), fmt(e.cpu_time), e.count]
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_w])
        out.append(row_format.format(*row))
    out += [sep, f"Self CPU time total: {fmt(total_self)}"]
    return "".join(line + "\n" for line in out)


class _Recorder:
    """The active profile's event stream: a stack per thread gives parents and self times."""

    def __init__(self, record_shapes: bool) -> None:
        self.record_shapes = record_shapes
        self.events: list[FunctionEvent] = []
        self.local = threading.local()
        self.t0 = _perf_ns()
        self.lock = threading.Lock()

    def begin(self, name: str, args: tuple = ()) -> FunctionEvent:
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        shapes = [list(a.shape) if hasattr(a, "shape") else [] for a in args] if self.record_shapes else None
        with self.lock:
            evt = FunctionEvent(len(self.events), name, threading.get_ident(), (_perf_ns() - self.t0) / 1e3, shapes)
            self.events.append(evt)
        if stack:
            evt.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(evt)
        stack.append(evt)
        return evt

    def end(self, evt: FunctionEvent) -> None:
        evt.end_us = (_perf_ns() - self.t0) / 1e3
        stack = self.local.stack
        while stack and stack.pop() is not evt:  # an exception may have skipped inner ends
            pass


_ACTIVE: _Recorder | None = None
_ORIGINAL_APPLY = _node.apply
_ORIGINAL_EXECUTE = _engine._execute


def _profiled_apply(op, args, params=_node.EMPTY):
    rec = _ACTIVE
    if rec is None:
        return _ORIGINAL_APPLY(op, args, params)
    evt = rec.begin("aten::" + op.name, args)
    try:
        return _ORIGINAL_APPLY(op, args, params)
    finally:
        rec.end(evt)


def _profiled_execute(node, *rest):
    rec = _ACTIVE
    if rec is None:
        return _ORIGINAL_EXECUTE(node, *rest)
    evt = rec.begin(node.op.grad_name)
    try:
        return _ORIGINAL_EXECUTE(node, *rest)
    finally:
        rec.end(evt)


def _rebind(enable: bool) -> None:
    """Point every autojac module's ``apply`` (and the engine's node step) at the recording wrappers or back."""
    old, new = (_ORIGINAL_APPLY, _profiled_apply) if enable else (_profiled_apply, _ORIGINAL_APPLY)
    for name, mod in list(sys.modules.items()):
        if (name == "autojac" or name.startswith("autojac.")) and name != __name__:  # our originals stay
            namespace = vars(mod)
            for attr in [a for a, v in namespace.items() if v is old]:  # under any local name
                namespace[attr] = new
    _engine._execute = _profiled_execute if enable else _ORIGINAL_EXECUTE


class profile:  # noqa: N801  (PyTorch's name)
    """Context manager recording op, backward-node and ``record_function`` events.

    ``key_averages()`` groups them by name; ``table(sort_by=..., row_limit=...)`` prints PyTorch's
    table; ``export_chrome_trace(path)`` writes a ``chrome://tracing`` file.
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device=None, record_shapes: bool = False,
                 with_flops: bool = False, profile_memory: bool = False, with_stack: bool = False,
                 with_modules: bool = False, use_kineto: bool = False, use_cpu: bool = True,
                 experimental_config=None, acc_events: bool = False, custom_trace_id_callback=None) -> None:
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.function_events: EventList | None = None
        self._recorder: _Recorder | None = None
        self.entered = False

    def __enter__(self) -> profile:
        global _ACTIVE
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        if _ACTIVE is not None:
            raise RuntimeError("Profiler is already enabled on this thread")
        self.entered = True
        self._recorder = _Recorder(self.record_shapes)
        _ACTIVE = self._recorder
        _rebind(True)
        return self

    def __exit__(self, *exc) -> None:
        global _ACTIVE
        if not self.enabled:
            return
        _rebind(False)
        _ACTIVE = None
        self.function_events = EventList(self._recorder.events)

    def _check_finished(self) -> None:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def events(self) -> EventList:
        self._check_finished()
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        self._check_finished()
        return self.function_events.key_averages(group_by_input_shape)

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs) -> str:
        self._check_finished()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def total_average(self) -> FunctionEventAvg:
        self._check_finished()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        self._check_finished()
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path: str) -> None:
        """Write the events in Chrome's trace-event JSON format."""
        self._check_finished()
        trace = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total, "tid": e.thread, "pid": "CPU",
                  "args": {}} for e in self.function_events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)

    def __str__(self) -> str:
        return self.table()


class record_function:  # noqa: N801  (PyTorch's name)
    """A named range in the profile (context manager or decorator); free when no profiler runs."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._event: FunctionEvent | None = None
        self._recorder: _Recorder | None = None

    def __enter__(self) -> record_function:
        rec = _ACTIVE
        if rec is not None:
            self._recorder = rec
            self._event = rec.begin(self.name)
        return self

    def __exit__(self, *exc) -> None:
        if self._event is not None:
            self._recorder.end(self._event)
            self._event = self._recorder = None

    def __call__(self, fn: Callable) -> Callable:
        @wraps(fn)
        def wrapped(*args: Any, **kwargs: Any):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped
