"""Hunt for bugs by hand: many random programs, every failure collected and minimized.

    cd tests && ../.venv/bin/python -m fuzz.hunt --n 2000 --seed 0

Prints the outcome counts and, per kind of finding, the smallest failing program.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from .check import STATS, TORCH_WRONG, Finding, check_program
from .programs import Program, RngChooser, Step, generate


def kind_of(prog: Program) -> str | None:
    try:
        check_program(prog)
    except Finding as f:
        return f.kind
    except Exception as e:  # noqa: BLE001 - a crash of the checker itself
        return f"crash {type(e).__name__}"
    return None


def without_step(prog: Program, k: int) -> Program | None:
    """``prog`` with step ``k`` removed; its readers read its first operand instead."""
    n = len(prog.shapes)
    st = prog.steps[k]
    if not st.args:
        return None
    reg, repl = n + k, st.args[0]

    def remap(i: int) -> int:
        return repl if i == reg else i - 1 if i > reg else i

    steps = [Step(s.op, tuple(remap(a) for a in s.args), s.params) for j, s in enumerate(prog.steps) if j != k]
    outs = tuple(dict.fromkeys(remap(o) for o in prog.outputs))
    return Program(prog.shapes, prog.dtypes, prog.requires_grad, prog.ties, prog.seed, steps, outs)


def minimize(prog: Program, kind: str) -> Program:
    """Greedy: drop steps and outputs while the same kind of finding remains."""
    changed = True
    while changed:
        changed = False
        for k in range(len(prog.steps) - 1, -1, -1):
            cand = without_step(prog, k) if k < len(prog.steps) else None
            if cand is not None and kind_of(cand) == kind:
                prog, changed = cand, True
        for o in prog.outputs:
            if len(prog.outputs) > 1:
                cand = Program(prog.shapes, prog.dtypes, prog.requires_grad, prog.ties, prog.seed, prog.steps,
                               tuple(x for x in prog.outputs if x != o))
                if kind_of(cand) == kind:
                    prog, changed = cand, True
                    break
    return prog


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-min", action="store_true")
    ap.add_argument("--watch", default="", help="print the programs that count into stats matching this")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    found: dict[str, list] = {}
    t0 = time.time()
    for i in range(args.n):
        prog = generate(RngChooser(np.random.default_rng([args.seed, i])))
        before = sum(v for k, v in STATS.items() if args.watch and args.watch in k)
        kind = kind_of(prog)
        if args.watch and sum(v for k, v in STATS.items() if args.watch in k) > before:
            print(f"--- watched #{i}\n{prog.source()}")
        if kind is not None:
            found.setdefault(kind, []).append((i, prog))
    dt = time.time() - t0
    print(f"{args.n} programs in {dt:.1f}s; stats:")
    for k, v in sorted(STATS.items()):
        print(f"  {k}: {v}")
    if TORCH_WRONG:
        print("  ops in the programs where torch was wrong:", dict(TORCH_WRONG.most_common(8)))
    for kind, progs in sorted(found.items()):
        i, prog = min(progs, key=lambda p: len(p[1].steps))
        print(f"\n=== {kind}: {len(progs)} programs, e.g. #{i}")
        if not args.no_min:
            prog = minimize(prog, kind)
        print(prog.source())
        try:
            check_program(prog)
        except Exception as e:  # noqa: BLE001
            print(str(e)[:700])


if __name__ == "__main__":
    main()
