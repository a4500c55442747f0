"""autograd.profiler / torch.profiler vs torch's: events, counts, nesting, table layout (not the times)."""

from __future__ import annotations

import json
import re

import pytest
import torch

import autojac
from autojac._core import engine, node
from autojac.autograd import profiler


def _run(T, prof_mod, **kw):
    x = T.ones(3, requires_grad=True)
    with prof_mod.profile(**kw) as prof:
        with prof_mod.record_function("my_block"):
            y = (x * x).sin().sum()
        y.backward()
    return prof


def _layout(table: str) -> list[str]:
    """Table lines with names, numbers and units blanked."""
    out = []
    for line in table.splitlines():
        line = re.sub(r"[-\d.]+(us|ms|s|%)", "T", line)
        line = re.sub(r"(?<=\s)\d+(?=\s*$)", "N", line)
        out.append(line)
    return out


def test_profile_records_ops_backward_nodes_and_user_ranges_like_torch():
    pa, pt = _run(autojac, profiler), _run(torch, torch.autograd.profiler)
    ka = {e.key: e for e in pa.key_averages()}
    kt = {e.key: e for e in pt.key_averages()}
    for key in ("my_block", "aten::mul", "aten::sin", "aten::sum", "MulBackward0", "SinBackward0", "SumBackward0"):
        assert key in ka and key in kt, key
    for key in ("my_block", "aten::sin", "aten::sum", "SinBackward0"):
        assert ka[key].count == kt[key].count, key
    block = ka["my_block"]
    assert block.cpu_time_total >= block.self_cpu_time_total >= 0
    events = pa.events()
    (blk,) = [e for e in events if e.name == "my_block"]
    assert {c.name for c in blk.cpu_children} == {"aten::mul", "aten::sin", "aten::sum"}
    assert all(e.cpu_parent is None or e.cpu_parent.start_us <= e.start_us for e in events)
    total = pa.key_averages().total_average()
    assert total.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in events))


def test_table_layout_matches_torch():
    pa, pt = _run(autojac, profiler), _run(torch, torch.autograd.profiler)
    ta = pa.key_averages().table(sort_by="self_cpu_time_total", row_limit=4)
    tt = pt.key_averages().table(sort_by="self_cpu_time_total", row_limit=4)
    la, lt = ta.splitlines(), tt.splitlines()
    assert len(la) == len(lt) == 4 + 4 + 1  # rule, header, rule, 4 rows, rule, total
    assert la[1].split() == lt[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU",
                                               "total", "CPU", "time", "avg", "#", "of", "Calls"]
    # the same column widths apart from the name column (its width follows the longest name)
    assert [len(c) for c in la[0].split()][1:] == [len(c) for c in lt[0].split()][1:]
    assert la[-1].startswith("Self CPU time total: ") and lt[-1].startswith("Self CPU time total: ")
    assert _layout(ta)[3].split()[1:] == ["T"] * 5 + ["N"]
    assert ta.endswith("\n") and tt.endswith("\n")
    with_header = pa.key_averages().table(header="HEAD", row_limit=1)
    assert with_header.splitlines()[1] == "HEAD" and set(with_header.splitlines()[0]) == {"="}
    grouped = autojac.autograd.profiler.profile(record_shapes=True)
    with grouped:
        autojac.ones(2, 3) * 2
    assert "Input Shapes" in grouped.key_averages(group_by_input_shape=True).table()


def test_profiler_hook_is_removed_and_errors(tmp_path):
    apply_before, execute_before = node.apply, engine._execute
    prof = _run(autojac, profiler)
    assert node.apply is apply_before and engine._execute is execute_before  # zero cost once it stops
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    assert {"my_block", "aten::sin"} <= {e["name"] for e in trace}
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        p = profiler.profile()
        with p:
            p.key_averages()
    with profiler.record_function("outside"):  # no profiler: nothing recorded, no error
        autojac.ones(1) + 1
    with profiler.profile(enabled=False) as off:
        autojac.ones(1) + 1
    assert off.function_events is None


def test_torch_profiler_namespace_and_decorated_function():
    @autojac.profiler.record_function("decorated")
    def f(x):
        return (x + 1).exp()

    seen = []
    with autojac.profiler.profile(activities=[autojac.profiler.ProfilerActivity.CPU],
                                  on_trace_ready=seen.append) as prof:
        f(autojac.ones(2))
    keys = {e.key: e.count for e in prof.key_averages()}
    assert keys["decorated"] == 1 and keys["aten::exp"] == 1 and seen == [prof]
