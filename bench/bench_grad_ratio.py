"""Cost of a gradient relative to the function: grad of sum(tanh(X @ W1) @ W2), 1024x1024 float64.

One gradient call is the forward pass plus the backward pass for W1 and W2; the
forward alone runs under ``no_grad``. Reverse mode should cost a small constant times
the forward (here 5 matmuls against 2). Both libraries do the matmuls in one BLAS
thread, so the ratio measures the graph machinery and the backward's extra work.
"""

from __future__ import annotations

from _timing import autojac, check, compare, np, parse_args, table, torch

N = 1024


def f(x, w1, w2, tanh):
    return (tanh(x @ w1) @ w2).sum()


def main() -> None:
    args = parse_args(__doc__)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((N, N)) / np.sqrt(N) for _ in range(3)]
    libs = {}
    for name, ns in (("autojac", autojac), ("PyTorch", torch)):
        x = ns.tensor(arrays[0])
        w1, w2 = (ns.tensor(a, requires_grad=True) for a in arrays[1:])

        def grad(ns=ns, x=x, w1=w1, w2=w2):
            return ns.autograd.grad(f(x, w1, w2, ns.tanh), (w1, w2))

        def forward(ns=ns, x=x, w1=w1, w2=w2):
            with ns.no_grad():
                return f(x, w1, w2, ns.tanh)

        libs[name] = forward, grad
    for i, (ga, gt) in enumerate(zip(libs["autojac"][1](), libs["PyTorch"][1]())):
        check(f"grad {i}", ga, gt, rtol=1e-10, atol=1e-10)
    check("forward", libs["autojac"][0](), libs["PyTorch"][0](), rtol=1e-10, atol=1e-10)

    fw = compare({name: fns[0] for name, fns in libs.items()}, args.repeats, args.target)
    gr = compare({name: fns[1] for name, fns in libs.items()}, args.repeats, args.target)
    table("Gradient cost", [{"workload": f"forward sum(tanh(X@W1)@W2), {N}^2 f64 (no_grad)", **fw},
                            {"workload": "gradient w.r.t. W1, W2 (incl. forward)", **gr}])
    for name in libs:
        print(f"{name:8s} time(grad) / time(forward) = {gr[name] / fw[name]:.2f}")
    print("PyTorch 2.13 reference in DESIGN.md: 2.31")


if __name__ == "__main__":
    main()
