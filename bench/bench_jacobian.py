"""Full Jacobians and Hessians: autojac's batched pass against PyTorch's functional API and torch.func.

Workloads (float32):

- Jacobian of ``f(x) = tanh(A @ x) * x`` for n = 100 and 1000;
- Hessian of ``sum(softplus(A @ x)) + x.x / 2`` for n = 100 and 500;
- seed 000's tiny Jacobian of ``x.exp().sum(1)``, x of shape 2x3;
- forward mode: the Jacobians above with ``strategy="forward-mode"`` (torch: ``vectorize=True``,
  torch.func: ``jacfwd``) and the Hessian n=500 forward-over-reverse;
- Hessian-vector products of the Hessian workload, n=500: ``hvp`` (forward-over-reverse here,
  the double-backward trick in torch) and ``vhp`` (reverse-over-reverse in both).

``PyTorch`` is ``torch.autograd.functional`` (default: one backward per output row), the
ratio compares autojac with it; ``torch.func`` (jacrev / hessian, vmap-vectorized) has its
own column and ratio. A variant slower than ~10 s per call is timed once.
"""

from __future__ import annotations

from _timing import autojac, check, compare, np, optional, parse_args, table, torch

tfunc = torch.func
aj_fn = autojac.autograd.functional
pt_fn = torch.autograd.functional


def problem(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32), rng.standard_normal(n).astype(np.float32)


def jac_f(ns, a):
    return lambda x: ns.tanh(a @ x) * x


def hess_f(softplus, a):
    return lambda x: softplus(a @ x).sum() + x @ x / 2


def exp_sum(x):
    return x.exp().sum(1)


def timed_row(workload: str, aj, pt, func, func_name: str, args, hips=None, jax=None) -> dict:
    """Check autojac and torch.autograd.functional against torch.func, then time every variant."""
    want = func()
    check(workload, aj(), want, rtol=1e-4, atol=1e-5)
    check(workload + " (functional)", pt(), want, rtol=1e-4, atol=1e-5)
    fns = {"autojac": aj, "PyTorch": pt, func_name: func, "HIPS": hips, "JAX jit": jax}
    row = {"workload": workload, **compare({k: f for k, f in fns.items() if f is not None}, args.repeats, args.target)}
    row["autojac/" + func_name] = f"{row['autojac'] / row[func_name]:.2f}"
    return row


def main() -> None:
    args = parse_args(__doc__)
    rows = []
    for n in (100, 1000):
        a, x = problem(n)
        ta, tx = autojac.tensor(a), autojac.tensor(x)
        pa, px = torch.tensor(a), torch.tensor(x)
        rows.append(timed_row(
            f"Jacobian tanh(A@x)*x, n={n}",
            lambda f=jac_f(autojac, ta), x=tx: aj_fn.jacobian(f, x),
            lambda f=jac_f(torch, pa), x=px: pt_fn.jacobian(f, x),
            lambda f=jac_f(torch, pa), x=px: tfunc.jacrev(f)(x), "torch.func", args,
            *_other_jacobians(a, x)))
    for n in (100, 500):
        a, x = problem(n, seed=1)
        ta, tx = autojac.tensor(a), autojac.tensor(x)
        pa, px = torch.tensor(a), torch.tensor(x)
        rows.append(timed_row(
            f"Hessian sum(softplus(A@x))+x.x/2, n={n}",
            lambda f=hess_f(autojac.softplus, ta), x=tx: aj_fn.hessian(f, x),
            lambda f=hess_f(torch.nn.functional.softplus, pa), x=px: pt_fn.hessian(f, x),
            lambda f=hess_f(torch.nn.functional.softplus, pa), x=px: tfunc.hessian(f)(x), "torch.func", args,
            *_other_hessians(a, x)))
    x = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    tx, px = autojac.tensor(x), torch.tensor(x)
    rows.append(timed_row(
        "Jacobian x.exp().sum(1), x 2x3 (seed 000)",
        lambda: aj_fn.jacobian(exp_sum, tx), lambda: pt_fn.jacobian(exp_sum, px),
        lambda: tfunc.jacrev(exp_sum)(px), "torch.func", args,
        *_other_jacobians(None, x)))
    rows += _forward_mode_rows(args)
    rows += _hvp_rows(args)
    table("Jacobians and Hessians", rows,
          note="PyTorch 2.13 references in DESIGN.md: Jacobian n=1000 functional 566 ms, func.jacrev 43.5 ms; "
               "Hessian n=500 functional 237 ms, func.hessian 87.8 ms; seed 000 Jacobian 190 us")


def _forward_mode_rows(args) -> list:
    """Forward-mode Jacobians (one pass over a basis of input tangents) and forward-over-reverse Hessians."""
    rows = []
    fwd = {"strategy": "forward-mode"}
    for n in (100, 1000):
        a, x = problem(n)
        ta, tx = autojac.tensor(a), autojac.tensor(x)
        pa, px = torch.tensor(a), torch.tensor(x)
        rows.append(timed_row(
            f"Jacobian tanh(A@x)*x, n={n}, forward-mode",
            lambda f=jac_f(autojac, ta), x=tx: aj_fn.jacobian(f, x, **fwd),
            lambda f=jac_f(torch, pa), x=px: pt_fn.jacobian(f, x, vectorize=True, **fwd),
            lambda f=jac_f(torch, pa), x=px: tfunc.jacfwd(f)(x), "torch.func", args))
    a, x = problem(500, seed=1)
    ta, tx = autojac.tensor(a), autojac.tensor(x)
    pa, px = torch.tensor(a), torch.tensor(x)
    sp = torch.nn.functional.softplus
    rows.append(timed_row(
        "Hessian sum(softplus(A@x))+x.x/2, n=500, forward-over-reverse",
        lambda f=hess_f(autojac.softplus, ta), x=tx: aj_fn.hessian(f, x, vectorize=True,
                                                                    outer_jacobian_strategy="forward-mode"),
        lambda f=hess_f(sp, pa), x=px: pt_fn.hessian(f, x, vectorize=True, outer_jacobian_strategy="forward-mode"),
        lambda f=hess_f(sp, pa), x=px: tfunc.jacfwd(tfunc.jacrev(f))(x), "torch.func", args))
    x = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    tx, px = autojac.tensor(x), torch.tensor(x)
    rows.append(timed_row(
        "Jacobian x.exp().sum(1), x 2x3 (seed 000), forward-mode",
        lambda: aj_fn.jacobian(exp_sum, tx, **fwd), lambda: pt_fn.jacobian(exp_sum, px, vectorize=True, **fwd),
        lambda: tfunc.jacfwd(exp_sum)(px), "torch.func", args))
    return rows


def _hvp_rows(args) -> list:
    """Hessian-vector products: ``hvp`` (our forward-over-reverse) and ``vhp`` (reverse-over-reverse)."""
    a, x = problem(500, seed=1)
    v = np.random.default_rng(3).standard_normal(500).astype(np.float32)
    ta, tx, tv = autojac.tensor(a), autojac.tensor(x), autojac.tensor(v)
    pa, px, pv = torch.tensor(a), torch.tensor(x), torch.tensor(v)
    af, pf = hess_f(autojac.softplus, ta), hess_f(torch.nn.functional.softplus, pa)
    func_hvp = lambda: tfunc.jvp(tfunc.grad(pf), (px,), (pv,))[1]  # noqa: E731
    return [timed_row(f"{name} of sum(softplus(A@x))+x.x/2, n=500",
                      lambda fn=name: getattr(aj_fn, fn)(af, tx, tv)[1],
                      lambda fn=name: getattr(pt_fn, fn)(pf, px, pv)[1], func_hvp, "torch.func", args)
            for name in ("hvp", "vhp")]


def _other_jacobians(a, x) -> tuple:
    """HIPS autograd / JAX jit callables (None when not importable); ``a is None``: the seed-000 function."""
    hips, jax = optional("autograd"), optional("jax")
    out = [None, None]
    if hips is not None:
        anp = optional("autograd.numpy")
        f = (lambda x: anp.sum(anp.exp(x), 1)) if a is None else (lambda x: anp.tanh(anp.dot(a, x)) * x)
        j = hips.jacobian(f)
        out[0] = lambda: j(x)
    if jax is not None:
        jnp = jax.numpy
        aj = None if a is None else jnp.asarray(a)
        f = (lambda x: jnp.exp(x).sum(1)) if a is None else (lambda x: jnp.tanh(aj @ x) * x)
        j, xj = jax.jit(jax.jacrev(f)), jnp.asarray(x)
        out[1] = lambda: j(xj).block_until_ready()
    return tuple(out)


def _other_hessians(a, x) -> tuple:
    hips, jax = optional("autograd"), optional("jax")
    out = [None, None]
    if hips is not None:
        anp = optional("autograd.numpy")
        h = hips.hessian(lambda x: anp.sum(anp.logaddexp(0.0, anp.dot(a, x))) + anp.dot(x, x) / 2)
        out[0] = lambda: h(x)
    if jax is not None:
        jnp = jax.numpy
        aj = jnp.asarray(a)
        h, xj = jax.jit(jax.hessian(lambda x: jax.nn.softplus(aj @ x).sum() + x @ x / 2)), jnp.asarray(x)
        out[1] = lambda: h(xj).block_until_ready()
    return tuple(out)


if __name__ == "__main__":
    main()
