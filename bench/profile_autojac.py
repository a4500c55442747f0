"""cProfile autojac on a benchmark workload and print the hot spots.

    python bench/profile_autojac.py overhead      # 200-op elementwise chain, fwd+bwd
    python bench/profile_autojac.py mlp           # MLP gradient
    python bench/profile_autojac.py jacobian      # Jacobian of tanh(A@x)*x, n=1000
    python bench/profile_autojac.py train         # 10 Adam steps of bench_train's MLP
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

import bench_jacobian
import bench_mlp
import bench_overhead
import bench_train
from _timing import autojac, np


def workloads() -> dict:
    x = autojac.tensor(np.random.default_rng(0).uniform(-1, 1, bench_overhead.SIZE).astype(np.float32),
                       requires_grad=True)
    params, xm, onehot = bench_mlp.make_data()
    pa = [autojac.tensor(p, requires_grad=True) for p in params]
    xa, ya = autojac.tensor(xm), autojac.tensor(onehot)
    mlp = bench_train.mlp_problem()
    a, xj = bench_jacobian.problem(1000)
    f, tx = bench_jacobian.jac_f(autojac, autojac.tensor(a)), autojac.tensor(xj)
    return {
        "overhead": (lambda: bench_overhead.tensor_step(autojac, x), 500),
        "mlp": (lambda: bench_mlp.tensor_grad(autojac, pa, xa, ya), 1000),
        "jacobian": (lambda: autojac.autograd.functional.jacobian(f, tx), 20),
        "train": (lambda: bench_train.train(autojac, bench_train.mlp_forward, mlp, 10), 20),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=("overhead", "mlp", "jacobian", "train"))
    p.add_argument("--calls", type=int, default=None, help="how many calls to profile")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)")
    args = p.parse_args()
    fn, calls = workloads()[args.workload]
    fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.calls or calls):
        fn()
    prof.disable()
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
