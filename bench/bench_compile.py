"""``autojac.compile`` beside torch eager (and ``torch.compile`` / JAX jit when asked or installed).

Workloads (float64, one thread): the 200-op elementwise chain (forward + backward), the seeds'
Jacobians, the Hessian n=500, an MLP gradient, and a ``scipy.optimize.minimize`` run on a
20-dimensional problem with compiled ``jac`` and ``hessp``. Columns: autojac compiled (steady
state), PyTorch eager, the ratio, autojac eager, autojac's compile time (first call, trace and
code generation included), then torch.compile (``--torch-compile``: it takes seconds to minutes to
compile) and JAX jit (when importable: ``pip install jax``) with their compile times.
"""

from __future__ import annotations

import time

from _timing import autojac, check, compare, np, optional, parse_args, table, torch

A = autojac
func = autojac.func


def first_call(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def chain(x, sin, tanh, exp):
    """bench_overhead's chain: 200 elementwise ops, then a sum."""
    y = x
    for i in range(200):
        y = _step(i, y, x, sin, tanh, exp)
    return y.sum()


def _step(i, y, x, sin, tanh, exp):
    k = i % 8
    if k == 0:
        return y * x
    if k == 1:
        return y + 0.5
    if k == 2:
        return sin(y)
    if k == 3:
        return y * 0.9
    if k == 4:
        return tanh(y)
    if k == 5:
        return exp(y)
    if k == 6:
        return y - x
    return y * y


def workloads(rng) -> list:
    """(name, autojac fn, autojac args, torch fn, torch args, jax fn or None, per-op divisor)."""
    out = []
    x10 = rng.uniform(-1, 1, 10)

    def aj_chain(x):
        return func.grad(lambda x: chain(x, A.sin, A.tanh, A.exp))(x)

    def t_chain(x):
        x = x.detach().requires_grad_()
        chain(x, torch.sin, torch.tanh, torch.exp).backward()
        return x.grad

    out.append(("200 elementwise ops on 10 floats, fwd+bwd, per op", aj_chain, A.tensor(x10), t_chain,
                torch.tensor(x10), "chain", 200))

    def seed_f(T):
        return lambda x: T.stack([x[0] ** 2, x[0] * x[1], x[1] ** 2])

    x2 = np.array([1.0, 2.0])
    out.append(("Jacobian of stack([x0^2, x0*x1, x1^2])", func.jacrev(seed_f(A)), A.tensor(x2),
                torch.func.jacrev(seed_f(torch)), torch.tensor(x2), "seed", 1))

    x23 = rng.standard_normal((2, 3))
    out.append(("seed 000: Jacobian of x**2, x 2x3", func.jacrev(lambda x: x ** 2), A.tensor(x23),
                torch.func.jacrev(lambda x: x ** 2), torch.tensor(x23), "square", 1))

    n = 500
    Am = rng.standard_normal((n, n)) / np.sqrt(n)
    ta, tt = A.tensor(Am), torch.tensor(Am)

    def h(T, M):
        return lambda x: T.nn.functional.softplus(M @ x).sum() + (x * x).sum() / 2

    xh = rng.standard_normal(n)
    out.append(("Hessian of sum(softplus(A@x)) + x.x/2, n=500", func.hessian(h(A, ta)), A.tensor(xh),
                torch.func.hessian(h(torch, tt)), torch.tensor(xh), "hessian", 1))

    sizes = (64, 256, 256, 10)
    ws = [rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(3)]
    xb = rng.standard_normal((32, 64))
    yb = rng.integers(0, 10, 32)

    def mlp_loss(T, X, Y):
        def loss(*w):
            h = X
            for i, wi in enumerate(w):
                h = h @ wi.T
                if i < len(w) - 1:
                    h = T.tanh(h)
            return T.nn.functional.cross_entropy(h, Y)
        return loss

    aw = [A.tensor(w) for w in ws]
    tw = [torch.tensor(w) for w in ws]
    out.append(("MLP 64-256-256-10, batch 32, gradient", lambda *w: func.grad(mlp_loss(A, A.tensor(xb), A.tensor(yb)),
                                                                               argnums=(0, 1, 2))(*w),
                aw, lambda *w: torch.func.grad(mlp_loss(torch, torch.tensor(xb), torch.tensor(yb)),
                                               argnums=(0, 1, 2))(*w), tw, "mlp", 1))
    return out


def scipy_row(rng) -> dict:
    """A 20-dimensional extended Rosenbrock minimised by trust-ncg with compiled jac and hessp."""
    from scipy.optimize import minimize

    def rosen(x):
        return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    def hvp(x, v):
        return func.jvp(func.grad(rosen), (x,), (v,))[1]

    x0 = np.full(20, -1.2)

    def run(jac, hessp):
        return minimize(lambda x: float(rosen(A.tensor(x))), x0, method="trust-ncg",
                        jac=lambda x: jac(A.tensor(x)).numpy(),
                        hessp=lambda x, p: hessp(A.tensor(x), A.tensor(p)).numpy())

    cj, ch = A.compile(func.grad(rosen)), A.compile(hvp)
    eager = compare({"e": lambda: run(func.grad(rosen), hvp)}, 3, 0.5)["e"]
    compiled = compare({"c": lambda: run(cj, ch)}, 3, 0.5)["c"]
    res = run(cj, ch)
    assert res.success and np.allclose(res.x, 1, atol=1e-5), res
    return {"workload": f"scipy minimize trust-ncg, 20-d Rosenbrock ({res.nfev} f, {res.njev} jac, {res.nhev} hessp)",
            "autojac": compiled, "autojac eager": eager}


def main() -> None:
    parser_args = parse_args(__doc__)
    rng = np.random.default_rng(0)
    want_torch_compile = "--torch-compile" in __import__("sys").argv
    jax = optional("jax")
    rows = [measure(w, parser_args, want_torch_compile, jax) for w in workloads(rng)]
    rows.append(scipy_row(rng))
    table("autojac.compile", rows, note="compile time: the first compiled call minus an eager call (trace + codegen)")


def measure(workload, args, want_torch_compile: bool, jax) -> dict:
    """One row: compiled and eager autojac, PyTorch (eager, optionally torch.compile), JAX jit."""
    name, afn, aargs, tfn, targs, key, per = workload
    aargs = aargs if isinstance(aargs, list) else [aargs]
    targs = targs if isinstance(targs, list) else [targs]
    compiled = A.compile(afn)
    compile_s = first_call(lambda: compiled(*aargs)) - first_call(lambda: afn(*aargs))
    first = lambda r: r[0] if isinstance(r, tuple) else r  # noqa: E731
    check(name, first(compiled(*aargs)), first(tfn(*targs)), rtol=1e-8, atol=1e-10)
    fns = {"autojac": lambda: compiled(*aargs), "PyTorch": lambda: tfn(*targs), "autojac eager": lambda: afn(*aargs)}
    row = {"workload": name, "compile time": max(compile_s, 0.0)}
    if want_torch_compile:
        tc = torch.compile(tfn)
        row["torch.compile time"] = first_call(lambda: tc(*targs))
        fns["torch.compile"] = lambda: tc(*targs)
    if jax is not None:
        row.update(_jax_column(jax, key, aargs))
        if "_jax_fn" in row:
            fns["JAX jit"] = row.pop("_jax_fn")
    res = compare(fns, args.repeats, args.target)
    row.update({k: v / per for k, v in res.items()})
    return row


def _jax_column(jax, key: str, aargs: list) -> dict:
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)
    fns = {
        "chain": lambda x: jax.grad(lambda x: chain(x, jnp.sin, jnp.tanh, jnp.exp))(x),
        "seed": jax.jacrev(lambda x: jnp.stack([x[0] ** 2, x[0] * x[1], x[1] ** 2])),
        "square": jax.jacrev(lambda x: x ** 2),
    }
    if key not in fns:
        return {}
    f = jax.jit(fns[key])
    args = [jnp.asarray(a.numpy()) for a in aargs]
    t = first_call(lambda: f(*args).block_until_ready())
    return {"JAX compile time": t, "_jax_fn": lambda: f(*args).block_until_ready()}


if __name__ == "__main__":
    main()
