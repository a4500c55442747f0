"""Shared timing helpers for the benchmarks: medians of repeats, one thread, a ratio table.

Each benchmark times autojac and PyTorch (and JAX / HIPS autograd when they happen to be
importable) in the same process and prints ``autojac / PyTorch``. The machine may be
busy, so every figure is the median of several repeats, each an average over an
auto-chosen number of calls.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")  # NumPy's BLAS on one thread too, like torch below
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import autojac  # noqa: E402

torch.set_num_threads(1)

SLOW_S = 10.0  # a single call slower than this is timed once, not repeated


def parse_args(doc: str | None = None) -> argparse.Namespace:
    """Common command line: ``--repeats`` and ``--target`` (seconds per repeat)."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--repeats", type=int, default=7, help="repeats; the median is reported (default 7)")
    p.add_argument("--target", type=float, default=0.2, help="seconds per repeat, sets the inner loop count")
    return p.parse_args()


def optional(name: str):
    """The module ``name`` if it is importable, else None (never installs anything)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def compare(fns: dict[str, Callable[[], object]], repeats: int = 7, target: float = 0.2) -> dict:
    """Median seconds per call of each callable, timed in interleaved repeats.

    Each callable runs once to warm up and once more to size its inner loop (about ``target``
    seconds per repeat); then every repeat times each callable in turn, so that load from other
    processes hits all of them alike. A callable slower than ``SLOW_S`` is reported from
    its single warm-up run.
    """
    out: dict = {}
    numbers = {}
    for name, fn in fns.items():
        first = _once(fn)
        if first <= SLOW_S:
            first = min(first, _once(fn))
        if first > SLOW_S:
            out[name] = first
        else:
            numbers[name] = max(1, int(target / max(first, 1e-7))), first
    per_repeat = sum(n * first for n, first in numbers.values())
    if per_repeat * repeats > 4 * SLOW_S:  # keep a benchmark within a few tens of seconds
        repeats = max(3, int(4 * SLOW_S / max(per_repeat, 1e-9)))
    samples: dict = {name: [] for name in numbers}
    for _ in range(repeats):
        for name, (number, _first) in numbers.items():
            fn = fns[name]
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - t0) / number)
    for name, ts in samples.items():
        out[name] = statistics.median(ts)
    return out


def _once(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fmt_time(s: float | None) -> str:
    """Seconds with a readable unit."""
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def table(title: str, rows: list[dict], note: str = "") -> None:
    """Print rows ``{"workload", "autojac", "PyTorch", ...}`` with the autojac/PyTorch ratio.

    The ratio is that of the two medians. Any other key (``"JAX jit"``, ``"HIPS"``,
    ``"torch.func"``...) becomes a column of its own: seconds, or a string printed as is.
    """
    extra = []
    for r in rows:
        for k in r:
            if k not in ("workload", "autojac", "PyTorch") and k not in extra:
                extra.append(k)
    cols = ["workload", "autojac", "PyTorch", "ratio (autojac/PyTorch)", *extra]
    cells = []
    for r in rows:
        a, t = r.get("autojac"), r.get("PyTorch")
        ratio = f"{a / t:.2f}" if a is not None and t else "-"
        cells.append([r["workload"], fmt_time(a), fmt_time(t), ratio, *(_cell(r.get(k)) for k in extra)])
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    print(f"\n{title}  (numpy {np.__version__}, torch {torch.__version__} x{torch.get_num_threads()} thread,"
          f" autojac {autojac.__version__}, python {sys.version.split()[0]})")
    for row in (cols, *cells):
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if row is cols:
            print("-+-".join("-" * w for w in widths))
    if note:
        print(note)


def _cell(v) -> str:
    return v if isinstance(v, str) else fmt_time(v)


def check(name: str, got, want, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Assert that autojac's result matches the reference before anything is timed."""
    g = np.asarray(got.detach().numpy() if hasattr(got, "detach") else got, dtype=np.float64)
    w = np.asarray(want.detach().numpy() if hasattr(want, "detach") else want, dtype=np.float64)
    if g.shape != w.shape or not np.allclose(g, w, rtol=rtol, atol=atol):
        err = np.max(np.abs(g - w)) if g.shape == w.shape else f"shapes {g.shape} vs {w.shape}"
        raise AssertionError(f"{name}: autojac and the reference disagree (max abs diff {err})")
