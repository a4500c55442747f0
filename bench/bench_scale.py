"""Jacobians past one pass's memory: row by row, chunked under a budget, torch.func chunked, Dask.

``f(x)``: three rounds of a banded (tridiagonal, periodic) coupling ``y + y.roll(1)/2 - y.roll(-1)/4``
through ``tanh``, scaled by ``mean(x)`` (so every row is dense): about 20 n-sized intermediates.
A one-pass (fully vectorized) reverse Jacobian turns each into an n x n array: 3.2 GB each at
n = 20,000 in float64, far past 4 GB. The result itself is n x n (3.2 GB at n = 20,000); it is
counted apart: "working" memory is peak RSS - baseline - result.

Wall and CPU seconds are both printed: on a shared machine the CPU time is the steadier one.
Rows (each run in a fresh child process, peak = the child's VmHWM; one thread everywhere):

- n = 5,000 (one pass fits): autojac one pass vs chunked under the budget (target <= 1.5x), and
  torch.func.jacrev one pass;
- n = 20,000: autojac row by row (a sample of rows, extrapolated: stated), autojac chunked
  under the budget, torch.func.jacrev with the chunk_size that gives it the same working
  memory (its per-row memory measured at n = 5,000) and with autojac's chunk_size, and a 2-worker
  Dask LocalCluster
  (driver and worker peaks; cluster start-up not timed).

Usage: ``python bench/bench_scale.py [--n 20000] [--small 5000] [--budget 1GB] [--no-dask]``.
Takes a few minutes and ~6 GB of memory at n = 20,000.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROUNDS = 3


def f(x, T):
    y = x
    for _ in range(ROUNDS):
        y = (y + 0.5 * y.roll(1) - 0.25 * y.roll(-1)).tanh()
    return y * x.mean()


def high_water_mark() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def point(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1.0, 1.0, n)


# ----------------------------------------------------------------------------- children


def child(method: str, n: int, budget: str, chunk: int, rows: int) -> dict:
    """Run one method in this (fresh) process; seconds, memory and a checksum of the Jacobian."""
    import autojac

    x0 = point(n)
    info: dict = {}
    if method.startswith("torch"):
        import torch
        import torch.func

        torch.set_num_threads(1)
        x = torch.tensor(x0)
        fn = lambda x: f(x, torch)
        if method == "torch_onepass":
            run = lambda: torch.func.jacrev(fn)(x)
        else:
            run = lambda: torch.func.jacrev(fn, chunk_size=chunk, _preallocate_and_copy=True)(x)
            info["chunk"] = chunk
        f(x, torch)
        base = high_water_mark()
        t0, c0 = time.perf_counter(), time.process_time()
        jac = run().numpy()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        return dict(info, seconds=seconds, cpu=cpu, grown=high_water_mark() - base, checksum=float(jac.sum()),
                    result=jac.nbytes)
    import tqdm.auto  # noqa: F401  (the progress bar's one-time import, not part of any timing)

    from autojac.executors import choose_chunk, reverse_rows
    from autojac.func import jacrev

    x = autojac.tensor(x0)
    fn = lambda x: f(x, autojac)
    with autojac.enable_grad():  # the chunk autojac will choose, for the report
        xr = x.detach().requires_grad_()
        info["chunk"] = choose_chunk("jacrev", n, None, autojac.executors.parse_memory(budget), [fn(xr)], 3 * n, 8)
    if method == "aj_rows":  # a sample of single-row passes over one recorded graph, extrapolated to n rows
        base = high_water_mark()
        t0, c0 = time.perf_counter(), time.process_time()
        xr = x.detach().requires_grad_()
        out = fn(xr)
        sample = np.linspace(0, n - 1, rows).astype(int)
        acc = 0.0
        for r in sample:
            acc += reverse_rows([out], [xr], int(r), int(r) + 1).sum()
        seconds, cpu = (time.perf_counter() - t0) * n / rows, (time.process_time() - c0) * n / rows
        return dict(seconds=seconds, cpu=cpu, grown=high_water_mark() - base, checksum=None, result=0, sampled=rows)
    if method == "aj_dask":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=40)
        client = Client(cluster)
        executor = client.get_executor()
        base = high_water_mark()
        workers_base = max(client.run(high_water_mark).values())
        t0 = time.perf_counter()
        jac = jacrev(fn, max_memory=budget, executor=executor)(x).numpy()
        seconds = time.perf_counter() - t0
        info["workers_grown"] = max(client.run(high_water_mark).values()) - workers_base
        grown = high_water_mark() - base
        client.close()
        cluster.close()
        return dict(info, seconds=seconds, grown=grown, checksum=float(jac.sum()), result=jac.nbytes)
    fn(x)
    base = high_water_mark()
    t0, c0 = time.perf_counter(), time.process_time()
    jac = (jacrev(fn) if method == "aj_onepass" else jacrev(fn, max_memory=budget))(x).numpy()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(info, seconds=seconds, cpu=cpu, grown=high_water_mark() - base, checksum=float(jac.sum()),
                result=jac.nbytes)


def spawn(method: str, n: int, budget: str, chunk: int = 0, rows: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--child", method, "--n", str(n), "--budget", budget, "--chunk", str(chunk),
           "--rows", str(rows)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        return {"error": (res.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(res.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- report


def gb(b) -> str:
    return "-" if b is None else f"{b / 1e9:.2f} GB"


def show(name: str, n: int, r: dict) -> None:
    if "error" in r:
        print(f"{name:<44} n={n:<6} failed: {r['error']}")
        return
    working = r["grown"] - r["result"]
    extra = f"  chunk {r['chunk']}" if "chunk" in r else ""
    if "workers_grown" in r:
        extra += f"  worker peak growth {gb(r['workers_grown'])}"
    if "sampled" in r:
        extra += f"  ({r['sampled']} rows timed, extrapolated)"
    cpu = f"{r['cpu']:7.2f} s cpu" if "cpu" in r else " " * 13
    print(f"{name:<44} n={n:<6} {r['seconds']:8.2f} s wall {cpu}   working {gb(working):>9}   "
          f"result {gb(r['result'])}{extra}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--small", type=int, default=5_000)
    p.add_argument("--budget", default="1GB")
    p.add_argument("--rows", type=int, default=400, help="rows timed for the row-by-row estimate")
    p.add_argument("--repeats", type=int, default=3, help="runs of the n=small comparison (median)")
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--chunk", type=int, default=0, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(a.child, a.n, a.budget, a.chunk, a.rows)))
        return
    from autojac.executors import parse_memory

    budget = parse_memory(a.budget)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"f: {ROUNDS} rounds of tanh(banded coupling), float64, one thread; budget {a.budget}; "
          f"peaks from each child's VmHWM")
    print(f"\nn = {a.small} (one pass fits): median of {a.repeats} runs")
    runs = {m: [spawn(m, a.small, a.budget) for _ in range(a.repeats)]
            for m in ("aj_onepass", "aj_budget", "torch_onepass")}
    med = {m: sorted(rs, key=lambda r: r.get("seconds", np.inf))[len(rs) // 2] for m, rs in runs.items()}
    show("autojac jacrev, one pass", a.small, med["aj_onepass"])
    show(f"autojac jacrev, max_memory={a.budget}", a.small, med["aj_budget"])
    show("torch.func.jacrev, one pass", a.small, med["torch_onepass"])
    for what in ("seconds", "cpu"):
        ratio = med["aj_budget"][what] / med["aj_onepass"][what]
        print(f"chunked / one pass (autojac), {what}: {ratio:.2f}x (target <= 1.5x)")
    probe = max(1, a.small // 10)  # torch's working memory per row, to give it the same budget at n
    tp = spawn("torch_chunk", a.small, a.budget, chunk=probe)
    per_row = max(tp["grown"] - tp["result"], 1) / probe * (a.n / a.small)
    torch_chunk = max(1, int(budget // per_row))

    print(f"\nn = {a.n} (one pass would need ~{ROUNDS * 7 * a.n * a.n * 8 / 1e9:.0f} GB of intermediates)")
    rows = spawn("aj_rows", a.n, a.budget, rows=a.rows)
    show("autojac row by row (sampled)", a.n, rows)
    chunked = spawn("aj_budget", a.n, a.budget)
    show(f"autojac jacrev, max_memory={a.budget}", a.n, chunked)
    tc = spawn("torch_chunk", a.n, a.budget, chunk=torch_chunk)
    show("torch.func.jacrev, chunk_size (same memory)", a.n, tc)
    if "chunk" in chunked:
        show("torch.func.jacrev, chunk_size = autojac's", a.n, spawn("torch_chunk", a.n, a.budget,
                                                                   chunk=chunked["chunk"]))
    if not a.no_dask:
        show("autojac + Dask LocalCluster, 2 workers", a.n, spawn("aj_dask", a.n, a.budget))
    if "seconds" in chunked and "seconds" in tc:
        for what in ("seconds", "cpu"):
            print(f"chunked autojac / chunked torch.func, {what}: {chunked[what] / tc[what]:.2f}x (target < 1)")
        if chunked.get("checksum") is not None and tc.get("checksum") is not None:
            print(f"checksums agree: {np.isclose(chunked['checksum'], tc['checksum'], rtol=1e-9)}")
    if "seconds" in rows and "seconds" in chunked:
        print(f"row by row / chunked (autojac): {rows['seconds'] / chunked['seconds']:.1f}x")


if __name__ == "__main__":
    main()
