"""Sparse Jacobians: autojac (end to end, and from a plan) vs CasADi, SciPy finite differences, dense jacrev.

Workloads (float64, one thread):

- the tridiagonal map ``y[i] = x[i-1] - 2 x[i] + x[i+1] + 0.1 sin(x[i]) x[i]`` (zero boundary), n = 10,000 and
  100,000;
- the 2-D 5-point stencil + cubic ``lap(u) + u**3`` on a 316 x 316 grid (n = 99,856);
- and a Hessian: Rosenbrock in n = 100,000 dims (star coloring, forward-over-reverse).

Columns: setup (autojac: detect + color; CasADi, with SX and with MX graphs: build the symbolic
graph, its Jacobian and the Function; SciPy: group the columns of the pattern the user wrote),
evaluation at a new point, the number of passes (colors). "end to end" is autojac's
``sparse.jacobian(f, x)`` from nothing; CasADi's counterpart is setup + one evaluation.
Evaluations are timed interleaved (``_timing.compare``); the ratios compare with the better of
CasADi's SX and MX. Every value is checked against the others before timing.

Run: ``python bench/bench_sparse.py [--repeats 5]`` (CasADi when installed: ``pip install autojac[bench]``).
"""

from __future__ import annotations

import statistics
import time

# isort: off
from _timing import autojac, compare, fmt_time, np, optional, parse_args  # first: it pins the BLAS threads
import autojac.sparse as sparse
import scipy.sparse as sp
from scipy.optimize._numdiff import approx_derivative, group_columns
# isort: on


# --------------------------------------------------------------------------- the functions
def tridiagonal(x):
    xp = autojac.nn.functional.pad(x, (1, 1))
    return xp[:-2] - 2 * x + xp[2:] + 0.1 * autojac.sin(x) * x


def tridiagonal_np(x):
    xp = np.pad(x, 1)
    return xp[:-2] - 2 * x + xp[2:] + 0.1 * np.sin(x) * x


def stencil(k: int):
    def f(x):
        u = x.reshape(k, k)
        p = autojac.nn.functional.pad(u.unsqueeze(0), (1, 1, 1, 1)).squeeze(0)
        return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u + u ** 3).reshape(-1)
    return f


def stencil_np(k: int):
    def f(x):
        u = x.reshape(k, k)
        p = np.pad(u, 1)
        return (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u + u ** 3).reshape(-1)
    return f


def casadi_tridiagonal(ca, n: int, sym: str = "SX"):
    S = getattr(ca, sym)
    x = S.sym("x", n)
    zero = S.zeros(1)
    y = ca.vertcat(zero, x[0:n - 1]) - 2 * x + ca.vertcat(x[1:n], zero) + 0.1 * ca.sin(x) * x
    return ca.Function("J", [x], [ca.jacobian(y, x)])


def casadi_stencil(ca, k: int, sym: str = "SX"):
    S = getattr(ca, sym)
    n = k * k
    x = S.sym("x", n)
    zero1, zerok = S.zeros(1), S.zeros(k)
    col = np.arange(n) % k  # row-major grid: neighbours j +- 1 in the same row, j +- k across rows
    left = ca.vertcat(zero1, x[0:n - 1]) * ca.DM((col != 0).astype(float))
    right = ca.vertcat(x[1:n], zero1) * ca.DM((col != k - 1).astype(float))
    up = ca.vertcat(zerok, x[0:n - k])
    down = ca.vertcat(x[k:n], zerok)
    y = left + right + up + down - 4 * x + x ** 3
    return ca.Function("J", [x], [ca.jacobian(y, x)])


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def casadi_rosenbrock_hessian(ca, n: int, sym: str = "SX"):
    x = getattr(ca, sym).sym("x", n)
    f = ca.sum1(100 * (x[1:n] - x[0:n - 1] ** 2) ** 2 + (1 - x[0:n - 1]) ** 2)
    H, _ = ca.hessian(f, x)
    return ca.Function("H", [x], [H])


def casadi_to_scipy(J) -> sp.csc_array:
    rows, cols = J.sparsity().get_triplet()
    return sp.csc_array((np.array(J.nonzeros()), (rows, cols)), shape=J.shape)


# --------------------------------------------------------------------------- timing
def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def mem_available_gb() -> float:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable"):
                    return int(line.split()[1]) / 2 ** 20
    except OSError:
        pass
    return 0.0


def run_case(name: str, f, f_np, x0: np.ndarray, x1: np.ndarray, ca_build, repeats: int, dense: bool) -> list:
    n = x0.size
    rows = []
    # autojac: end to end, and from a plan at a new point
    J_ref = sparse.jacobian(f, x1)
    e2e = median_time(lambda: sparse.jacobian(f, x1), repeats)
    plan = sparse.jacobian_plan(f, x0)
    setup = median_time(lambda: sparse.jacobian_plan(f, x0), repeats)
    assert abs(plan(x1) - J_ref).max() < 1e-12
    evals = {"autojac": lambda: plan(x1)}
    ca = optional("casadi")
    built = {}
    if ca is not None:  # both CasADi graphs: SX (scalar expressions) and MX (matrix expressions)
        for sym in ("SX", "MX"):
            F = ca_build(ca, sym)
            assert abs(casadi_to_scipy(F(x1)) - J_ref).max() < 1e-10, "CasADi and autojac disagree"
            built[sym] = median_time(lambda sym=sym: ca_build(ca, sym), repeats)
            evals[f"CasADi {sym}"] = lambda F=F: F(x1)
    # evaluations timed interleaved, so that load from other processes hits all alike
    times = compare(evals, repeats=max(repeats, 7), target=0.3)
    ev = times["autojac"]
    rows.append([name, "autojac", fmt_time(setup), fmt_time(ev), fmt_time(e2e), str(plan.n_colors), plan.mode])
    ca_total = ca_eval = None
    if ca is None:
        rows.append([name, "CasADi", "not installed (pip install autojac[bench])", "", "", "", ""])
    else:
        for sym, ca_setup in built.items():
            t = times[f"CasADi {sym}"]
            rows.append([name, f"CasADi {sym}", fmt_time(ca_setup), fmt_time(t), fmt_time(ca_setup + t), "-",
                         "symbolic"])
            ca_total = ca_setup + t if ca_total is None else min(ca_total, ca_setup + t)
            ca_eval = t if ca_eval is None else min(ca_eval, t)
    # SciPy finite differences over the colors of a user-written pattern
    P = plan.sparsity
    groups = group_columns(P)
    g_setup = median_time(lambda: group_columns(P), repeats)
    fd = lambda: approx_derivative(f_np, x1, sparsity=(P, groups))  # noqa: E731
    Jfd = fd()
    assert abs(sp.csr_array(Jfd) - J_ref).max() < 1e-5
    rows.append([name, "SciPy FD + jac_sparsity", fmt_time(g_setup), fmt_time(median_time(fd, max(repeats, 5))), "-",
                 str(int(groups.max()) + 1), "approximate"])
    # dense reverse mode, where it fits
    if dense:
        need = 8 * n * n * 3 / 2 ** 30
        if mem_available_gb() > need + 2:
            jac = autojac.func.jacrev(f, chunk_size=1000)
            t0 = time.perf_counter()
            Jd = jac(autojac.tensor(x1, dtype=autojac.float64))
            td = time.perf_counter() - t0
            assert np.abs(Jd.numpy()[:5] - J_ref[:5].toarray()).max() < 1e-12
            del Jd
            rows.append([name, "autojac dense jacrev", "-", fmt_time(td), fmt_time(td), str(n), "rev"])
        else:
            rows.append([name, "autojac dense jacrev", f"skipped: needs ~{need:.1f} GB, "
                         f"{mem_available_gb():.1f} GB available", "", "", "", ""])
    else:
        rows.append([name, "autojac dense jacrev", f"skipped: a dense {n}x{n} Jacobian is "
                     f"{8 * n * n / 2 ** 30:.0f} GB", "", "", "", ""])
    if ca_total is not None:
        rows.append([name, "ratio autojac / best CasADi", "", f"{ev / ca_eval:.2f} (eval)",
                     f"{e2e / ca_total:.2f} (e2e)", "", ""])
    return rows


def run_hessian_case(n: int, repeats: int) -> list:
    """The Hessian of Rosenbrock in n dims: star coloring, one forward-over-reverse pass."""
    name = f"Rosenbrock Hessian n={n:,}"
    rng = np.random.default_rng(1)
    x0, x1 = rng.standard_normal(n), rng.standard_normal(n)
    H_ref = sparse.hessian(rosenbrock, x1)
    e2e = median_time(lambda: sparse.hessian(rosenbrock, x1), repeats)
    plan = sparse.hessian_plan(rosenbrock, x0)
    setup = median_time(lambda: sparse.hessian_plan(rosenbrock, x0), repeats)
    evals = {"autojac": lambda: plan(x1)}
    ca = optional("casadi")
    built = {}
    if ca is not None:
        for sym in ("SX", "MX"):
            F = casadi_rosenbrock_hessian(ca, n, sym)
            assert abs(casadi_to_scipy(F(x1)) - H_ref).max() < 1e-8, "CasADi and autojac disagree"
            built[sym] = median_time(lambda sym=sym: casadi_rosenbrock_hessian(ca, n, sym), 3)
            evals[f"CasADi {sym}"] = lambda F=F: F(x1)
    times = compare(evals, repeats=max(repeats, 7), target=0.3)
    rows = [[name, "autojac", fmt_time(setup), fmt_time(times["autojac"]), fmt_time(e2e), str(plan.n_colors),
             "fwd-over-rev"]]
    for sym, ca_setup in built.items():
        t = times[f"CasADi {sym}"]
        rows.append([name, f"CasADi {sym}", fmt_time(ca_setup), fmt_time(t), fmt_time(ca_setup + t), "-", "symbolic"])
    return rows


def main() -> None:
    args = parse_args(__doc__)
    repeats = max(3, args.repeats)
    rng = np.random.default_rng(0)
    cols = ["workload", "tool", "setup", "eval (new point)", "end to end", "passes", "mode"]
    rows = []
    for n, dense in ((10_000, True), (100_000, False)):
        x0, x1 = rng.standard_normal(n), rng.standard_normal(n)
        rows += run_case(f"tridiagonal n={n:,}", tridiagonal, tridiagonal_np, x0, x1,
                         lambda ca, sym, n=n: casadi_tridiagonal(ca, n, sym), repeats, dense)
    k = 316
    x0, x1 = rng.standard_normal(k * k), rng.standard_normal(k * k)
    rows += run_case(f"5-point stencil + cubic n={k * k:,}", stencil(k), stencil_np(k), x0, x1,
                     lambda ca, sym: casadi_stencil(ca, k, sym), repeats, False)
    rows += run_hessian_case(100_000, repeats)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    ca = optional("casadi")
    print(f"\nSparse Jacobians, float64, one thread (numpy {np.__version__}, "
          f"casadi {getattr(ca, '__version__', 'not installed')}, autojac {autojac.__version__}); "
          f"medians of {repeats}+ runs")
    for r in (cols, *rows):
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if r is cols:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
