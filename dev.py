#!/usr/bin/env python3
"""Set up and run autojac's jobs with nothing but python3 (3.10+).

    python3 dev.py walk    # make .venv, install autojac, run `autojac tour` and two calculator examples
    python3 dev.py test    # make .venv, install autojac[test], run ruff and the whole test suite
    python3 dev.py bench   # the benchmarks against PyTorch (by hand; prints ratios)

Extra arguments after ``test`` go to pytest; after ``walk``, to the ``autojac`` command instead of the
default walk (``python3 dev.py walk tour --lang zh``).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
# what `walk` runs: the seeds' tour, then the calculator on one of its Jacobians and its detach() graph
WALK = (
    ("tour",),
    ("jacobian", "stack([x[0]**2, x[0]*x[1], x[1]**2])", "--at", "x=[2., 3.]"),
    ("graph", "y = x*x; u = y.detach(); z = u*x", "--at", "x=arange(4.)"),
)


def _run(*cmd: str) -> None:
    print("+", shlex.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def ensure_env(extra: str) -> None:
    """Create .venv and install the package (with ``extra``) unless already current."""
    if sys.version_info < (3, 10):
        sys.exit(f"autojac needs Python 3.10+, this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extra}]" if extra else "."
    _run(str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", target)
    stamp.write_text(digest)


def ensure_dot() -> None:
    """Graphviz's ``dot`` program, needed by the graph-picture tests: install it with apt when missing."""
    if shutil.which("dot"):
        return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        _run(apt, "update", "-qq")
        _run(apt, "install", "-y", "-qq", "graphviz")
    if not shutil.which("dot"):
        sys.exit("the tests need Graphviz's `dot` program: install the `graphviz` system package (apt, brew, choco)")


def main(argv: list[str]) -> int:
    job = argv[0] if argv else "walk"
    rest = argv[1:]
    if job == "walk":
        ensure_env("")
        for args in ([rest] if rest else WALK):
            _run(str(PY), "-m", "autojac", *args)
    elif job == "test":
        ensure_env("test")
        ensure_dot()
        # fail loudly, never skip: the oracle and every optional extra must be importable
        _run(str(PY), "-c", "import torch, hypothesis, pytest, xdist, scipy, distributed, cloudpickle, tqdm, "
             "matplotlib, graphviz; "
             "assert torch.__version__.startswith('2.13.0'), torch.__version__")
        _run(str(PY), "-m", "ruff", "check", "src", "tests", "bench", "examples")
        # one worker per core, up to 4 (each holds torch, the oracle): the suite takes minutes, not tens
        workers = [] if any(a == "-n" or a.startswith("-n") for a in rest) else ["-n", str(min(os.cpu_count() or 1, 4))]
        _run(str(PY), "-m", "pytest", *workers, *rest)
    elif job == "bench":
        ensure_env("test")
        for script in sorted((ROOT / "bench").glob("bench_*.py")):
            _run(str(PY), str(script.relative_to(ROOT)), *rest)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode or 1)
