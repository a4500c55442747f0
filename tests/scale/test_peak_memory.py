"""Peak RSS under ``max_memory``, measured in child processes: the budgeted Jacobian peaks below the
one-pass one, and within budget + baseline (imports, inputs, the result) + slack.

The peak is the kernel's high-water mark of the child's memory image (``VmHWM``). ``ru_maxrss``
would be the same number, except that Linux carries it over fork and exec from the parent (the
test process, with torch loaded, is bigger than the child), so the child reads ``VmHWM``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SRC = str(Path(__file__).resolve().parents[2] / "src")
N = 2000
BUDGET = 24 * 2 ** 20
SLACK = 24 * 2 ** 20  # allocator and interpreter noise

CHILD = """
import json, sys
import numpy as np
import autojac
from autojac.func import jacrev

def f(x):  # 13 n-sized intermediates: a one-pass Jacobian keeps several n-by-n cotangents alive
    y = x
    for _ in range(4):
        y = (y * 1.1 + 0.1).tanh()
    return y * x.flip(0)

x = autojac.tensor(np.linspace(-1.0, 1.0, {n}))
budget = {budget}
def high_water_mark():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

f(x)  # warm up (imports inside ops)
base = high_water_mark()
jac = jacrev(f, max_memory=budget)(x) if budget else jacrev(f)(x)
peak = high_water_mark()
print(json.dumps(dict(base=base, peak=peak, jac=jac.numpy().nbytes, trace=float(np.trace(jac.numpy())))))
"""


def run_child(budget: int | None) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", CHILD.format(n=N, budget=budget)], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_budgeted_peak_rss_stays_under_budget_and_below_one_pass():
    one_pass = run_child(None)
    budgeted = run_child(BUDGET)
    np.testing.assert_allclose(budgeted["trace"], one_pass["trace"], rtol=1e-12)
    grown_one_pass = one_pass["peak"] - one_pass["base"]
    grown_budgeted = budgeted["peak"] - budgeted["base"]
    assert grown_budgeted < grown_one_pass - BUDGET, (grown_budgeted, grown_one_pass)
    assert grown_budgeted <= budgeted["jac"] + BUDGET + SLACK, (grown_budgeted, budgeted["jac"])
