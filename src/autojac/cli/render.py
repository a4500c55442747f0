"""How calculator results are written: an aligned labelled matrix, a LaTeX ``bmatrix``, JSON, .npy/.npz.

>>> import numpy as np
>>> print(latex_matrix(np.array([[4., 0.], [3., 2.]]), 4))
\\begin{bmatrix}
4 & 0\\\\
3 & 2
\\end{bmatrix}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .compute import Block, Display, Result
from .errors import InputError

MAX_ROWS, MAX_COLS = 40, 16  # larger matrices show their first and last rows/columns around '...'


def number_formatter(values: np.ndarray, precision: int) -> Callable[[Any], str]:
    """One style for a whole matrix: integers as integers, else fixed, else scientific for extremes."""
    finite = values[np.isfinite(values)] if values.dtype.kind in "fc" else values
    if values.dtype.kind == "c":
        real = number_formatter(np.concatenate([values.real.ravel(), values.imag.ravel()]), precision)
        return lambda z: f"{real(z.real)}{'+' if z.imag >= 0 or np.isnan(z.imag) else '-'}{real(abs(z.imag))}j"
    if values.dtype.kind in "biu" or (finite.size and np.all(finite == np.round(finite))
                                      and np.max(np.abs(finite)) < 1e8):
        return lambda x: _special(x) or f"{int(x)}"
    mags = np.abs(finite[finite != 0]) if finite.size else finite
    if mags.size and (mags.max() >= 1e8 or mags.min() < 10.0 ** -precision):
        return lambda x: _special(x) or f"{x:.{precision}e}"
    return lambda x: _special(x) or f"{x:.{precision}f}"


def _special(x: Any) -> str:
    if isinstance(x, (float, np.floating)) and not np.isfinite(x):
        return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    return ""


def _elide(n: int, limit: int) -> list[int | None]:
    """Indices to show out of ``n``: all, or the first and last few with ``None`` for the gap."""
    if n <= limit:
        return list(range(n))
    half = limit // 2
    return [*range(half), None, *range(n - half, n)]


def table(d: Display, precision: int) -> str:
    """The matrix right-aligned under its column labels, row labels on the left."""
    fmt = number_formatter(d.matrix, precision)
    rows, cols = _elide(d.matrix.shape[0], MAX_ROWS), _elide(d.matrix.shape[1], MAX_COLS)
    header = [""] + [d.col_labels[j] if j is not None else "..." for j in cols]
    body = []
    for i in rows:
        if i is None:
            body.append(["..."] + ["..." for _ in cols])
            continue
        body.append([d.row_labels[i]] + [fmt(d.matrix[i, j].item()) if j is not None else "..." for j in cols])
    grid = [header] + body if any(header[1:]) else body
    widths = [max(len(r[k]) for r in grid) for k in range(len(header))]
    lines = []
    for r in grid:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def terminal(result: Result, expression: str, inputs: dict[str, Any], precision: int,
             setup: str = "") -> str:
    """What ``autojac jacobian ...`` prints by default (``setup``: the statements before f's expression)."""
    lines = [f"f = {expression.strip()}" + (f"   where {setup}" if setup else "")]
    at = ", ".join(f"{n} {tuple(t.shape)} {str(t.dtype).rsplit('.', 1)[-1]}" for n, t in inputs.items())
    if at:
        lines.append(f"at {at}")
    lines.append(f"f has shape {tuple(result.value.shape)}")
    for d in result.displays:
        lines.append("")
        if d.matrix.size == 1 and d.col_labels == [""]:
            lines.append(f"{d.title} = {number_formatter(d.matrix, precision)(d.matrix.item())}")
            continue
        head = d.title + (f"   shape {d.matrix.shape[0]} x {d.matrix.shape[1]}" if d.matrix.shape[0] > 1 else "")
        lines.append(head + (f"; {d.note}" if d.note else ""))
        lines.append(table(d, precision))
    return "\n".join(lines)


def latex_matrix(matrix: np.ndarray, precision: int) -> str:
    """A ``bmatrix`` as the seeds write them: ``4 & 0\\\\`` rows, trailing zeros dropped."""
    fmt = number_formatter(matrix, precision)

    def cell(x: Any) -> str:
        s = fmt(x)
        if "." in s and "e" not in s and "j" not in s:
            s = s.rstrip("0").rstrip(".")
        s = {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{NaN}"}.get(s, s)
        return "0" if s == "-0" else s

    rows = [" & ".join(cell(x.item()) for x in row) for row in matrix]
    return "\\begin{bmatrix}\n" + "\\\\\n".join(rows) + "\n\\end{bmatrix}"


def latex(result: Result, precision: int) -> str:
    """One ``bmatrix`` per display; a 1-D result is written as a column vector, as in the seeds' maths."""
    out = []
    for d in result.displays:
        matrix = d.matrix.T if d.matrix.shape[0] == 1 and d.matrix.shape[1] > 1 else d.matrix
        out.append(f"% {d.title}\n{latex_matrix(matrix, precision)}")
    return "\n".join(out)


def _array_json(a: np.ndarray) -> dict[str, Any]:
    if a.dtype.kind == "c":
        values: Any = {"real": a.real.tolist(), "imag": a.imag.tolist()}
    else:
        values = a.tolist()
    return {"shape": list(a.shape), "dtype": str(a.dtype), "values": values}


def to_json(result: Result, expression: str, inputs: dict[str, Any]) -> str:
    """Everything needed to rebuild the arrays: ``np.array(values, dtype).reshape(shape)`` per block."""
    doc = {
        "command": result.command,
        "expression": expression,
        "inputs": {n: _array_json(t.detach().numpy()) for n, t in inputs.items()},
        "value": _array_json(result.value.detach().numpy()),
        "results": [{"name": b.name, "wrt": list(b.wrt), **_array_json(b.array)} for b in result.blocks],
    }
    if result.sparsity is not None:
        rows, cols = result.sparsity.pattern.nonzero()
        doc["sparsity"] = {"shape": list(result.sparsity.pattern.shape), "rows": rows.tolist(), "cols": cols.tolist(),
                           "mode": result.sparsity.mode, "n_colors": result.sparsity.n_colors,
                           "colors": np.asarray(result.sparsity.colors).tolist()}
    return json.dumps(doc)


def from_json(text: str) -> list[np.ndarray]:
    """The result arrays back from ``--json`` output (the inverse of ``to_json`` for the results).

    >>> import numpy as np
    >>> from autojac.cli.compute import Result
    >>> import autojac
    >>> r = Result("grad", autojac.tensor(1.), [Block("df/dx", np.array([1.5, 2.], np.float32), ("x",))])
    >>> from_json(to_json(r, "x", {}))[0]
    array([1.5, 2. ], dtype=float32)
    """
    out = []
    for r in json.loads(text)["results"]:
        v = r["values"]
        a = np.array(v["real"]) + 1j * np.array(v["imag"]) if isinstance(v, dict) else np.array(v)
        out.append(a.astype(r["dtype"]).reshape(r["shape"]))
    return out


def save_arrays(result: Result, path: str) -> None:
    """``--npy FILE``: one result as .npy; several (one per --wrt name) need a .npz name."""
    blocks: list[Block] = result.blocks
    try:
        if path.lower().endswith(".npz"):
            np.savez(path, **{_key(b): b.array for b in blocks})
        elif len(blocks) == 1:
            np.save(path, blocks[0].array)
        else:
            raise InputError(f"--npy: {len(blocks)} results ({', '.join(b.name for b in blocks)}); "
                             "give a file name ending in .npz to save them all", path, 0, len(path))
    except OSError as e:
        raise InputError(f"--npy: cannot write {path}: {e.strerror or e}", path, 0, len(path)) from None
    if not Path(path).exists() and not Path(path + ".npy").exists():
        raise InputError(f"--npy: {path} was not written", path)


def _key(b: Block) -> str:
    return "_".join(b.wrt) if b.wrt else b.name


MAX_PATTERN = 60  # rows and columns drawn by ``sparsity_report``; larger patterns get a summary line only


def sparsity_report(sp) -> str:
    """The pattern (``x`` a structural nonzero), the color of each column (forward) or row (reverse).

    >>> import numpy as np, scipy.sparse as s
    >>> from autojac.cli.compute import Sparsity
    >>> print(sparsity_report(Sparsity(s.csr_array(np.eye(2, 3, dtype=bool)), np.array([0, 1, 0]), 2, "fwd")))
    sparsity: 2 of 6 entries structurally nonzero; column coloring (forward mode): 2 colors, 2 passes
      x . .
      . x .
      0 1 0   <- column colors
    """
    pattern = sp.pattern.toarray().astype(bool)
    m, n = pattern.shape
    by = "column coloring (forward mode)" if sp.mode == "fwd" else "row coloring (reverse mode)"
    lines = [f"sparsity: {int(pattern.sum())} of {m * n} entries structurally nonzero; {by}: "
             f"{sp.n_colors} colors, {sp.n_colors} passes"]
    if m > MAX_PATTERN or n > MAX_PATTERN:
        return lines[0] + f" (pattern {m}x{n} not drawn; --plot draws it)"
    width = max(len(str(int(c))) for c in sp.colors) if len(sp.colors) else 1
    for i, row in enumerate(pattern):
        cells = " ".join(("x" if v else ".").rjust(width) for v in row)
        lines.append(f"  {cells}   | {int(sp.colors[i])}" if sp.mode == "rev" else f"  {cells}")
    if sp.mode == "fwd":
        lines.append("  " + " ".join(str(int(c)).rjust(width) for c in sp.colors) + "   <- column colors")
    else:
        lines.append(" " * (len(lines[-1]) - 1) + "^ row colors")
    return "\n".join(lines)
