"""Draw the README's pictures with the calculator itself: seed 004's detach() graph and a Jacobian heatmap.

    python docs/make_pictures.py            # writes docs/img/graph_seed004.svg and docs/img/jacobian_Q.png
    python docs/make_pictures.py OUT_DIR    # somewhere else

Each picture is one ``autojac`` command (shown in the README next to it); needs ``autojac[viz]`` and dot.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autojac.cli import main

IMG = Path(__file__).resolve().parent / "img"

PICTURES = {
    # seed 004 In[45]: u = y.detach(); z = u*x
    "graph_seed004.svg": ["graph", "y = x*x; u = y.detach(); z = u*x", "--at", "x=arange(4.)", "-o"],
    # seed 004 In[28]: Q = 3*a**3 - b**2, the Jacobian J_Q the seed writes out
    "jacobian_Q.png": ["jacobian", "3*a**3 - b**2", "--at", "a=[1., 2.]", "--at", "b=[2., 3.]", "--plot"],
}


def make(out_dir: Path = IMG) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, argv in PICTURES.items():
        path = out_dir / name
        if main([*argv, str(path)]) != 0:
            raise SystemExit(f"could not draw {name}")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in make(Path(sys.argv[1]) if len(sys.argv) > 1 else IMG):
        print(f"{p}: {p.stat().st_size} bytes")
