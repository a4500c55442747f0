"""MLP 64-256-256-10 (tanh), batch 32, float32: one gradient of a cross-entropy loss w.r.t. all parameters.

The loss is ``-(log_softmax(logits) * onehot).sum() / batch``; one call is the forward
pass plus ``autograd.grad`` for the three weight matrices and three bias vectors.
"""

from __future__ import annotations

from _timing import autojac, check, compare, np, optional, parse_args, table, torch

SIZES = (64, 256, 256, 10)
BATCH = 32


def make_data(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Parameters ``[W1, b1, W2, b2, W3, b3]``, inputs and one-hot targets, as float32 arrays."""
    rng = np.random.default_rng(seed)
    params = []
    for m, n in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32))
        params.append((0.1 * rng.standard_normal(n)).astype(np.float32))
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    onehot = np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], BATCH)]
    return params, x, onehot


def loss_fn(params, x, onehot, tanh, log_softmax):
    """Cross-entropy of the MLP's logits; written once for every backend."""
    h = x
    for i in range(0, len(params) - 2, 2):
        h = tanh(h @ params[i] + params[i + 1])
    logits = h @ params[-2] + params[-1]
    return -(log_softmax(logits) * onehot).sum() / BATCH


def tensor_grad(ns, params, x, onehot):
    """One gradient with a PyTorch-style namespace (``autojac`` or ``torch``)."""
    loss = loss_fn(params, x, onehot, ns.tanh, lambda z: ns.log_softmax(z, dim=1))
    return ns.autograd.grad(loss, params)


def main() -> None:
    args = parse_args(__doc__)
    params, x, onehot = make_data()
    pa = [autojac.tensor(p, requires_grad=True) for p in params]
    pt = [torch.tensor(p, requires_grad=True) for p in params]
    xa, ya = autojac.tensor(x), autojac.tensor(onehot)
    xt, yt = torch.tensor(x), torch.tensor(onehot)
    for i, (ga, gt) in enumerate(zip(tensor_grad(autojac, pa, xa, ya), tensor_grad(torch, pt, xt, yt))):
        check(f"mlp grad {i}", ga, gt, rtol=1e-4, atol=1e-6)

    fns = {"autojac": lambda: tensor_grad(autojac, pa, xa, ya), "PyTorch": lambda: tensor_grad(torch, pt, xt, yt),
           **_others(params, x, onehot)}
    row = {"workload": "MLP 64-256-256-10 tanh, batch 32, one gradient", **compare(fns, args.repeats, args.target)}
    table("MLP gradient", [row], note="PyTorch 2.13 reference in DESIGN.md: 1.01 ms; JAX jit 0.73 ms")


def _others(params, x, onehot) -> dict:
    """HIPS autograd and JAX (jit) callables, only for the packages that are importable."""
    out = {}
    hips = optional("autograd")
    if hips is not None:
        anp, special = optional("autograd.numpy"), optional("autograd.scipy.special")
        lsm = lambda z: z - special.logsumexp(z, axis=1, keepdims=True)  # noqa: E731
        g = hips.grad(lambda p: loss_fn(p, x, onehot, anp.tanh, lsm))
        out["HIPS"] = lambda: g(params)
    jax = optional("jax")
    if jax is not None:
        jnp = jax.numpy
        gj = jax.jit(jax.grad(lambda p, x, y: loss_fn(p, x, y, jnp.tanh, lambda z: jax.nn.log_softmax(z, 1))))
        pj, xj, yj = [jnp.asarray(p) for p in params], jnp.asarray(x), jnp.asarray(onehot)
        out["JAX jit"] = lambda: jax.block_until_ready(gj(pj, xj, yj))
    return out


if __name__ == "__main__":
    main()
