"""autojac.utils.benchmark vs torch.utils.benchmark: Measurement reprs and statistics from the same times,
and the structure (not the times) of timeit / blocked_autorange / adaptive_autorange results."""

from __future__ import annotations

import re

import pytest
import torch
import torch.utils.benchmark as tb

import autojac
import autojac.utils.benchmark as ab

TIMES = {
    "one": [3.2e-5],
    "three": [1e-3, 1.2e-3, 1.1e-3],
    "steady": [2.00e-6, 2.01e-6, 2.02e-6, 1.99e-6, 2.0e-6],
    "noisy": [1e-5, 2e-5, 3e-5, 4e-5, 9e-5],
    "fluctuating": [1.0, 1.05, 1.12, 1.2, 1.1, 1.0],
}
SPECS = [dict(stmt="x + 1", setup="pass"),
         dict(stmt="y = x @ x\ny.sum()", setup="x = torch.ones(3)\nx = x * 2", label="mm", sub_label="3x3",
              description="square", num_threads=4),
         dict(stmt="f(x)", setup="x = 1", sub_label="small")]


def _body(m) -> str:
    """The repr without its first line (the object's address)."""
    return repr(m).split("\n", 1)[1] if "\n" in repr(m) else ""


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", list(TIMES))
def test_measurement_repr_and_statistics_match_torch(name, spec):
    ma = ab.Measurement(7, [t * 7 for t in TIMES[name]], ab.TaskSpec(**spec))
    mt = tb.Measurement(7, [t * 7 for t in TIMES[name]], tb.TaskSpec(**spec))
    assert _body(ma) == _body(mt)
    assert re.match(r"<autojac\.utils\.benchmark\.utils\.common\.Measurement object at 0x[0-9a-f]+>", repr(ma))
    for attr in ("median", "mean", "iqr"):
        assert getattr(ma, attr) == pytest.approx(getattr(mt, attr), rel=1e-12)
    assert ma.times == pytest.approx(mt.times) and ma.has_warnings == mt.has_warnings
    assert ma.title == mt.title and ma.label == mt.label and ma.num_threads == mt.num_threads


def _shape(m) -> list[str]:
    """The repr's lines with numbers and units blanked: the layout without the times."""
    return [re.sub(r"\d+(\.\d+)?", "N", re.sub(r" (ns|us|ms|s)\b", " U", line)) for line in repr(m).splitlines()[1:]
            if "WARNING" not in line and "suggests" not in line and "indicate" not in line]


def test_timer_results_have_torchs_structure():
    kwargs = dict(stmt="(x * x).sum()", setup="x = torch.ones(8)", label="square", sub_label="n=8",
                  description="elementwise")
    ta = ab.Timer(**kwargs)
    tt = tb.Timer(**kwargs)
    a, t = ta.timeit(50), tt.timeit(50)
    assert (a.number_per_run, len(a.raw_times)) == (t.number_per_run, len(t.raw_times)) == (50, 1)
    assert _shape(a) == _shape(t)
    a, t = ta.blocked_autorange(min_run_time=0.02), tt.blocked_autorange(min_run_time=0.02)
    assert a.number_per_run >= 1 and len(a.times) >= 1 and sum(a.raw_times) >= 0.02
    assert a.task_spec.summarize() == t.task_spec.summarize()
    assert _shape(a)[0:2] == _shape(t)[0:2]
    a = ta.adaptive_autorange(threshold=0.5, max_run_time=0.2)
    assert len(a.times) >= 4 or sum(a.raw_times) > 0.2


def test_timer_globals_setup_and_errors():
    x = autojac.ones(3)
    m = ab.Timer("torch.sin(x).sum()", globals={"x": x}).timeit(5)
    assert m.median > 0 and m.stmt == "torch.sin(x).sum()"
    calls = []
    ab.Timer("f()", globals={"f": lambda: calls.append(1)}).timeit(10)
    assert len(calls) == 10 + 2  # torch's warm-up runs max(number // 100, 2) times first
    with pytest.raises(ValueError, match="Currently only a `str` stmt is supported."):
        ab.Timer(lambda: None)
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        ab.Timer("pass", global_setup="int x = 1;")
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        ab.Timer().autorange()
    assert torch.__name__ == "torch"  # the oracle is untouched
