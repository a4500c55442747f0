"""``autojac.viz.jacobian_plot``: heatmaps centred at zero with labelled axes, spy plots with colorings, files."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pytest
import scipy.sparse as sp

import autojac
from autojac.autograd.functional import jacobian
from autojac.viz import jacobian_plot

matplotlib.use("Agg")


def test_heatmap_png_is_written_and_read_back(tmp_path: Path) -> None:
    a, b = autojac.tensor([1., 2.]), autojac.tensor([2., 3.])
    J = autojac.cat(jacobian(lambda a, b: 3 * a ** 3 - b ** 2, (a, b)), dim=1)  # seed 004's J_Q
    out = tmp_path / "J.png"
    ax = jacobian_plot(J, input_names=["a[0]", "a[1]", "b[0]", "b[1]"], output_names=["Q[0]", "Q[1]"],
                       title="J_Q", path=out)
    img = matplotlib.image.imread(out)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    [im] = ax.images
    np.testing.assert_array_equal(im.get_array(), [[9, 0, -4, 0], [0, 36, 0, -6]])
    assert im.norm.vmin == -36 and im.norm.vmax == 36  # centred at zero
    assert im.get_cmap().name == "RdBu_r"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a[0]", "a[1]", "b[0]", "b[1]"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Q[0]", "Q[1]"]
    assert ax.get_xlabel() == "inputs (columns)" and ax.get_ylabel() == "outputs (rows)"
    assert len(ax.figure.axes) == 2  # the colorbar
    assert sorted(t.get_text() for t in ax.texts) == sorted(["9", "0", "-4", "0", "0", "36", "0", "-6"])


def test_heatmap_on_given_axes_and_higher_dimensional_jacobians() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    J = jacobian(lambda x: x.exp().sum(dim=1), autojac.zeros(2, 3))  # shape (2, 2, 3)
    assert jacobian_plot(J, ax=ax, input_ndim=2) is ax
    assert ax.images[0].get_array().shape == (2, 6)
    zero = Figure().add_subplot()
    jacobian_plot(np.zeros((3, 3)), ax=zero)
    assert zero.images[0].norm.vmax == 1.0  # an all-zero Jacobian still gets a scale


def test_sparse_spy_plot_coloured_by_groups(tmp_path: Path) -> None:
    n = 30
    J = sp.diags([np.ones(n - 1), -2 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csr")
    colors = np.arange(n) % 3  # the column coloring of a tridiagonal matrix
    out = tmp_path / "spy.png"
    ax = jacobian_plot(J, colors=colors, path=out)
    assert matplotlib.image.imread(out).shape[0] > 200
    [im] = ax.images
    cells = im.get_array()
    assert cells.count() == J.nnz  # one coloured cell per nonzero, the rest blank
    rows, cols = J.nonzero()
    np.testing.assert_array_equal(cells[rows, cols], colors[cols])
    assert "88 nonzeros, 3 colors" == ax.get_title()
    assert len(ax.figure.axes) == 2  # the colour-group bar
    plain = jacobian_plot(J, path=tmp_path / "spy2.png")
    assert plain.get_xlabel() == "inputs (columns)" and plain.get_title() == "88 nonzeros"


def test_bad_arguments_name_what_was_expected() -> None:
    with pytest.raises(ValueError, match="colors= colours the nonzeros of a sparse"):
        jacobian_plot(np.eye(2), colors=[0, 1])
    with pytest.raises(ValueError, match="3 input names for 2 inputs"):
        jacobian_plot(np.eye(2), input_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"one color group per column \(4\)"):
        jacobian_plot(sp.eye(4, format="csr"), colors=[0, 1])


def test_missing_matplotlib_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'autojac\[viz\]'"):
        jacobian_plot(np.eye(2))
