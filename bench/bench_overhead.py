"""Per-op overhead: a chain of 200 elementwise ops on 10 float32 values, forward + backward.

The arrays are tiny, so this measures the bookkeeping per recorded op (graph node,
dispatch, backward rule), not arithmetic. Reported per op (total / 200).
"""

from __future__ import annotations

from _timing import autojac, check, compare, np, optional, parse_args, table, torch

N_OPS = 200
SIZE = 10


def chain(x, sin, tanh, exp):
    """200 elementwise ops: products/sums with the input and scalars, sin, tanh, exp (values stay bounded)."""
    y = x
    steps = (
        lambda y: y * x,
        lambda y: y + 0.5,
        sin,
        lambda y: y * 0.9,
        tanh,
        exp,
        lambda y: y - x,
        lambda y: y * y,
    )
    for i in range(N_OPS):
        y = steps[i % len(steps)](y)
    return y


def tensor_step(ns, x):
    """Forward + backward with a PyTorch-style namespace; ``x.grad`` is reset every call."""
    x.grad = None
    chain(x, ns.sin, ns.tanh, ns.exp).sum().backward()
    return x.grad


def main() -> None:
    args = parse_args(__doc__)
    x0 = np.random.default_rng(0).uniform(-1, 1, SIZE).astype(np.float32)
    xa = autojac.tensor(x0, requires_grad=True)
    xt = torch.tensor(x0, requires_grad=True)
    check("overhead grad", tensor_step(autojac, xa), tensor_step(torch, xt), rtol=1e-4, atol=1e-5)

    fns = {"autojac": lambda: tensor_step(autojac, xa), "PyTorch": lambda: tensor_step(torch, xt), **_others(x0)}
    res = compare(fns, args.repeats, args.target)
    row = {k: v / N_OPS for k, v in res.items()}
    row["workload"] = f"{N_OPS} elementwise ops on {SIZE} floats, fwd+bwd, per op"
    table("Per-op overhead", [row], note="PyTorch 2.13 reference in DESIGN.md: 6.9 us/op, HIPS autograd 10.6 us/op")


def _others(x0: np.ndarray) -> dict:
    """HIPS autograd and JAX (jit) callables, only for the packages that are importable."""
    out = {}
    hips = optional("autograd")
    if hips is not None:
        anp = optional("autograd.numpy")
        g = hips.grad(lambda x: anp.sum(chain(x, anp.sin, anp.tanh, anp.exp)))
        out["HIPS"] = lambda: g(x0)
    jax = optional("jax")
    if jax is not None:
        jnp = jax.numpy
        gj = jax.jit(jax.grad(lambda x: jnp.sum(chain(x, jnp.sin, jnp.tanh, jnp.exp))))
        xj = jnp.asarray(x0)
        out["JAX jit"] = lambda: gj(xj).block_until_ready()
    return out


if __name__ == "__main__":
    main()
