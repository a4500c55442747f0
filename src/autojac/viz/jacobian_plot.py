"""A Jacobian as a picture: a heatmap centred at zero, or a spy plot (with its coloring) for sparse ones.

matplotlib is imported only here, when a plot is drawn; with ``path=`` the figure is drawn on
matplotlib's Agg canvas (no display needed) and written to the file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._tensor import Tensor

MAX_TICKS = 24  # more labels than this would overlap: the axes then show indices only
MAX_ANNOTATED = 12  # matrices up to this many rows and columns get their numbers written in the cells
MAX_IMAGE = 4_000_000  # sparse patterns up to this many cells are drawn as an image, larger ones as markers


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("jacobian_plot needs matplotlib: pip install 'autojac[viz]'") from None
    from matplotlib.figure import Figure

    return Figure


def _as_matrix(J: Any, input_ndim: int) -> np.ndarray:
    a = J.detach().numpy() if isinstance(J, Tensor) else np.asarray(J)
    if a.dtype.kind == "c":
        raise TypeError("jacobian_plot: J must be real; plot J.real and J.imag separately")
    a = a.astype(np.float64)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    if a.ndim > 2:
        n_in = math.prod(a.shape[a.ndim - input_ndim:])
        return a.reshape(-1, n_in)
    return a


def _label_axes(ax, n_rows: int, n_cols: int, input_names: Sequence[str] | None,
                output_names: Sequence[str] | None) -> None:
    ax.set_xlabel("inputs (columns)")
    ax.set_ylabel("outputs (rows)")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    for names, n, axis, setter in ((input_names, n_cols, "inputs", ax.set_xticks),
                                   (output_names, n_rows, "outputs", ax.set_yticks)):
        if names is not None and len(names) != n:
            raise ValueError(f"jacobian_plot: {len(names)} {axis[:-1]} names for {n} {axis}")
        if n <= MAX_TICKS:
            labels = list(names) if names is not None else [str(i) for i in range(n)]
            crowded = axis == "inputs" and n * max(map(len, labels)) > 48
            setter(range(n), labels, rotation=90 if crowded else 0)


def jacobian_plot(J: Any, ax: Any = None, input_names: Sequence[str] | None = None,
                  output_names: Sequence[str] | None = None, *, title: str | None = None, cmap: str = "RdBu_r",
                  colors: Sequence[int] | None = None, annotate: bool | None = None, input_ndim: int = 1,
                  path: str | Path | None = None, precision: int = 3, color_rows: bool = False) -> Any:
    """Draw the Jacobian ``J`` (outputs as rows, inputs as columns) and return the axes.

    A dense ``J`` (Tensor or array) is a heatmap whose diverging colour map is centred at zero
    (symmetric limits), with a colorbar and labelled axes; small matrices get their numbers in the
    cells. A ``scipy.sparse`` ``J`` is a spy plot of its nonzeros, coloured by ``colors`` (one color
    group per column, as a column coloring for compressed Jacobians gives; per row with
    ``color_rows=True``, as a reverse-mode row coloring gives) when given. ``J`` with
    more than two dimensions is read as ``outputs + inputs`` with ``input_ndim`` input dimensions.
    ``path`` writes the figure (.png, .svg, .pdf) and draws off screen.

    >>> import autojac, tempfile, os
    >>> J = autojac.tensor([[4., 0.], [3., 2.], [0., 6.]])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     ax = jacobian_plot(J, input_names=["x0", "x1"], path=os.path.join(d, "J.png"))
    ...     os.path.getsize(os.path.join(d, "J.png")) > 0
    True
    """
    Figure = _matplotlib()
    fig = None
    if ax is None:
        shape = tuple(J.shape) if hasattr(J, "shape") else np.shape(J)
        rows, cols = (shape[0] if shape else 1), (math.prod(shape[1:]) if len(shape) > 1 else 1)
        size = (min(9.0, 3.0 + 0.8 * cols), min(7.0, 2.2 + 0.8 * rows))  # small matrices get small figures
        if path is not None:
            fig = Figure(figsize=size, layout="constrained")
            ax = fig.add_subplot()
        else:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=size, layout="constrained")
    else:
        fig = ax.figure
    try:
        import scipy.sparse as sp

        sparse = sp.issparse(J)
    except ImportError:  # scipy is a runtime dependency; keep plotting dense matrices without it
        sparse = False
    if sparse:
        _spy(ax, J, colors, color_rows)
        n_rows, n_cols = J.shape
    else:
        if colors is not None:
            raise ValueError("jacobian_plot: colors= colours the nonzeros of a sparse (scipy.sparse) Jacobian")
        m = _as_matrix(J, input_ndim)
        n_rows, n_cols = m.shape
        finite = m[np.isfinite(m)]
        lim = float(np.max(np.abs(finite))) if finite.size else 1.0
        lim = lim or 1.0  # an all-zero Jacobian still gets a colour scale
        im = ax.imshow(m, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto" if max(n_rows, n_cols) > 30 else "equal",
                       interpolation="nearest")
        fig.colorbar(im, ax=ax, shrink=0.8, label="partial derivative")
        if annotate if annotate is not None else max(n_rows, n_cols) <= MAX_ANNOTATED:
            for (i, j), v in np.ndenumerate(m):
                text = f"{v + 0.0:.{precision}g}"  # + 0.0: no "-0" for a negative zero
                ax.text(j, i, text, ha="center", va="center", fontsize=9,
                        color="white" if abs(v) > 0.6 * lim else "black")
    _label_axes(ax, n_rows, n_cols, input_names, output_names)
    if title:
        ax.set_title(title)
    if path is not None:
        fig.savefig(path, dpi=110)
    return ax


def _spy(ax: Any, J: Any, colors: Sequence[int] | None, color_rows: bool = False) -> None:
    """Nonzeros as filled cells (an image, exact for any size up to MAX_IMAGE cells), else as small markers."""
    coo = J.tocoo()
    n_rows, n_cols = J.shape
    groups = None
    if colors is not None:
        groups = np.asarray(colors)
        n, what = (n_rows, "row") if color_rows else (n_cols, "column")
        if groups.shape != (n,):
            raise ValueError(f"jacobian_plot: colors must give one color group per {what} ({n}), "
                             f"got shape {groups.shape}")
    n_groups = int(groups.max()) + 1 if groups is not None and groups.size else 1
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if groups is None:
        cmap, values = ListedColormap(["#1f4e9c"]), np.zeros(coo.nnz)
    else:
        cmap = colormaps["tab10" if n_groups <= 10 else "tab20"].resampled(max(n_groups, 2))
        values = groups[coo.row if color_rows else coo.col].astype(float)
    if n_rows * n_cols <= MAX_IMAGE:
        image = np.full((n_rows, n_cols), np.nan)
        image[coo.row, coo.col] = values
        mappable = ax.imshow(np.ma.masked_invalid(image), cmap=cmap, vmin=-0.5, vmax=max(n_groups, 2) - 0.5,
                             interpolation="nearest", aspect="equal" if max(n_rows, n_cols) <= 200 else "auto")
    else:
        mappable = ax.scatter(coo.col, coo.row, c=values, cmap=cmap, vmin=-0.5, vmax=max(n_groups, 2) - 0.5,
                              s=1, marker="s", linewidths=0)
        ax.set_xlim(-0.5, n_cols - 0.5)
        ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_facecolor("white")
    if groups is not None:
        ax.figure.colorbar(mappable, ax=ax, shrink=0.8, label="color group",
                           ticks=range(n_groups) if n_groups <= 20 else None)
        ax.set_title(f"{coo.nnz} nonzeros, {n_groups} colors", fontsize=9)
    else:
        ax.set_title(f"{coo.nnz} nonzeros", fontsize=9)
