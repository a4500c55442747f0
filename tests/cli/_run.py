"""Run the ``autojac`` command as a real subprocess (``python -m autojac``) on this checkout's sources."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
_FLOAT = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$")


def autojac(*args: str, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
               PYTHONIOENCODING="utf-8")
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "autojac", *args], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=cwd, timeout=300)


def autojac_in_process(*args: str) -> subprocess.CompletedProcess:
    """The same command run by ``autojac.cli.main`` in this process (no interpreter start-up): for the many
    examples whose subprocess twin would only repeat the start-up the subprocess tests already cover."""
    from autojac.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as e:  # argparse's usage errors
            rc = e.code
    return subprocess.CompletedProcess(list(args), rc, out.getvalue(), err.getvalue())


def autojac_many(calls: list[tuple[str, ...]], cwd: str | Path | None = None) -> list[subprocess.CompletedProcess]:
    """Several runs side by side (each is a fresh interpreter; most of the time is its start-up)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda a: autojac(*a, cwd=cwd), calls))


def table_numbers(stdout: str) -> list[list[float]]:
    """The numbers of each printed matrix, row by row, blocks in order: [[row values...], ...] per block."""
    blocks: list[list[float]] = []
    current: list[float] | None = None
    for line in stdout.splitlines():
        tokens = line.split()
        if line.startswith("  ") and len(tokens) > 1 and all(_FLOAT.match(t) for t in tokens[1:]):
            if current is None:
                current = []
                blocks.append(current)
            current.extend(float(t) for t in tokens[1:])
        elif " = " in line and line.startswith("det("):
            blocks.append([float(line.rsplit(" = ", 1)[1])])
        else:
            current = None
    return blocks
