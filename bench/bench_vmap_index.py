"""vmap over batched index tensors: per-example indexing, gather, scatter_add, sort and topk, vectorized.

Each row runs one per-example function over a batch with ``torch.func.vmap`` and autojac's ``vmap``
(vectorized through the index primitives' batching rules), and, as the reference point, autojac
as a Python loop over the batch (what ``vmap`` did before: its fallback). ``--plain`` instead times
the same ops outside vmap (forward + backward of one example), the per-op overhead that the
vmap path must not raise.
"""

from __future__ import annotations

import argparse
import warnings

from _timing import autojac, compare, np, table, torch

B = 256


def workloads(T, rng_seed: int = 0) -> dict:
    """name: (per-example function of ``T``, inputs (batch first), in_dims)."""
    rng = np.random.default_rng(rng_seed)
    x = T.tensor(rng.standard_normal((B, 100, 16)))
    i = T.tensor(rng.integers(0, 100, (B, 32)))
    w = T.tensor(rng.standard_normal((16, 10)))
    xs = T.tensor(rng.standard_normal((B, 16)))
    ys = T.tensor(rng.integers(0, 10, (B,)))
    v = T.tensor(rng.standard_normal((B, 64)))

    def nll(w, x, y):
        return -T.log_softmax(x @ w, -1).gather(0, y.unsqueeze(0)).sum()

    return {
        "x[i] (100x16 rows, 32 picks)": (lambda x, i: x[i], (x, i), (0, 0)),
        "gather dim 0": (lambda x, i: x.gather(0, i.unsqueeze(-1).expand(32, 16)), (x, i), (0, 0)),
        "index_select + sum, vmap(grad)": (T.func.grad(lambda x, i: x.index_select(0, i).sin().sum()), (x, i), (0, 0)),
        "scatter_add into 100": (lambda s, i: T.zeros(100, dtype=s.dtype).scatter_add(0, i, s),
                                 (x[:, :32, 0], i), (0, 0)),
        "sort().values (64)": (lambda v: v.sort().values, (v,), (0,)),
        "topk(3) (64)": (lambda v: v.topk(3).values, (v,), (0,)),
        "per-sample grad, gathered NLL": (T.func.grad(nll), (w, xs, ys), (None, 0, 0)),
    }


def loop(f, args, dims):
    """``f`` once per batch element, results stacked (vmap's fallback)."""
    n = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    return autojac.stack([f(*[a[b] if d is not None else a for a, d in zip(args, dims)]) for b in range(n)])


def run_vmap(repeats: int, target: float) -> None:
    ours, theirs = workloads(autojac), workloads(torch)
    rows = []
    for name in ours:
        fa, aa, da = ours[name]
        ft, at, dt = theirs[name]
        va, vt = autojac.func.vmap(fa, in_dims=da), torch.func.vmap(ft, in_dims=dt)
        np.testing.assert_allclose(va(*aa).numpy(), vt(*at).numpy(), rtol=1e-9, atol=1e-9)
        times = compare({"autojac": lambda va=va, aa=aa: va(*aa), "PyTorch": lambda vt=vt, at=at: vt(*at),
                         "loop": lambda fa=fa, aa=aa, da=da: loop(fa, aa, da)}, repeats, target)
        rows.append({"workload": f"{name}, batch {B}", "autojac": times["autojac"], "PyTorch": times["PyTorch"],
                     "autojac loop": times["loop"], "loop/vmap": f"{times['loop'] / times['autojac']:.1f}x"})
    table("vmap with batched indices (autojac vmap vs torch.func.vmap; 'autojac loop' = the old fallback)", rows)


def run_plain(repeats: int, target: float) -> None:
    """Outside vmap: one example's forward + backward per op (the constant-index path)."""
    def cases(T):
        rng = np.random.default_rng(1)
        x = T.tensor(rng.standard_normal((100, 16)), requires_grad=True)
        i = T.tensor(rng.integers(0, 100, (32,)))
        v = T.tensor(rng.standard_normal(64), requires_grad=True)
        return x, v, {
            "x[i]": lambda: x[i],
            "gather": lambda: x.gather(0, i.unsqueeze(-1).expand(32, 16)),
            "index_select": lambda: x.index_select(0, i),
            "scatter_add": lambda: T.zeros(100, 16, dtype=x.dtype).scatter_add(0, i.unsqueeze(-1).expand(32, 16),
                                                                             x[:32]),
            "sort": lambda: v.sort().values,
            "topk": lambda: v.topk(3).values,
            "argmax + gather": lambda: v.gather(0, v.argmax(0, keepdim=True)),
            "cummax": lambda: v.cummax(0).values,
        }
    xa, va, ca = cases(autojac)
    xt, vt, ct = cases(torch)
    rows = []
    for name in ca:
        def step(f, x, v):
            def go():
                x.grad = v.grad = None
                f().sum().backward()
            return go
        times = compare({"autojac": step(ca[name], xa, va), "PyTorch": step(ct[name], xt, vt)}, repeats, target)
        rows.append({"workload": f"{name}, fwd+bwd", **times})
    table("Index ops outside vmap (per call)", rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--target", type=float, default=0.2)
    p.add_argument("--plain", action="store_true", help="time the ops outside vmap instead")
    a = p.parse_args()
    warnings.filterwarnings("ignore", "There is a performance drop")  # torch's fallbacks, if any
    (run_plain if a.plain else run_vmap)(a.repeats, a.target)


if __name__ == "__main__":
    main()
