"""``autojac jacobian ... --sparse``: the pattern, the coloring and the passes, the values of the dense
Jacobian (torch's), JSON with the pattern and colors, a spy plot, and the one-input rule."""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import torch

from ._run import autojac, autojac_in_process

TRIDIAGONAL = "x[:-2] - 2*x[1:-1] + x[2:] + 0.1*sin(x[1:-1])*x[1:-1]"


def _torch_jacobian(x: np.ndarray) -> np.ndarray:
    def f(x):
        return x[:-2] - 2 * x[1:-1] + x[2:] + 0.1 * torch.sin(x[1:-1]) * x[1:-1]
    return torch.func.jacrev(f)(torch.tensor(x, dtype=torch.float64)).numpy()


def test_sparse_prints_pattern_three_colors_and_torchs_values() -> None:
    r = autojac("jacobian", TRIDIAGONAL, "--at", "x=arange(8.)", "--dtype", "float64", "--sparse")
    assert r.returncode == 0, r.stderr
    assert "column coloring (forward mode): 3 colors, 3 passes" in r.stdout
    assert "0 1 2 0 1 2 0 1   <- column colors" in r.stdout
    pattern = [line.split() for line in r.stdout.splitlines() if line.startswith("  x") or line.startswith("  .")]
    want = _torch_jacobian(np.arange(8.0)) != 0
    assert np.array_equal(np.array(pattern) == "x", want)


def test_sparse_json_round_trips_values_and_pattern() -> None:
    r = autojac_in_process("jacobian", TRIDIAGONAL, "--at", "x=[0., 0.25, 0.5, 0.75, 1., 1.25, 1.5]",
                           "--dtype", "float64", "--sparse", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    J = np.array(doc["results"][0]["values"]).reshape(doc["results"][0]["shape"])
    want = _torch_jacobian(np.arange(7) * 0.25)
    np.testing.assert_allclose(J, want, rtol=1e-12, atol=1e-12)
    sp = doc["sparsity"]
    assert sp["n_colors"] == 3 and sp["mode"] == "fwd" and len(sp["colors"]) == 7
    dense = np.zeros(sp["shape"], dtype=bool)
    dense[sp["rows"], sp["cols"]] = True
    assert np.array_equal(dense, want != 0)


def test_sparse_plot_is_a_spy_plot_file(tmp_path) -> None:
    out = tmp_path / "pattern.png"
    r = autojac_in_process("jacobian", "stack([x.sum(), x[0]*x[1]])", "--at", "x=arange(5.)", "--sparse",
                           "--plot", str(out))
    assert r.returncode == 0, r.stderr
    assert "row coloring (reverse mode): 2 colors, 2 passes" in r.stdout
    assert mpimg.imread(out).ndim == 3


def test_sparse_takes_one_input() -> None:
    r = autojac_in_process("jacobian", "x*y.sum()", "--at", "x=ones(3)", "--at", "y=ones(2)", "--wrt", "x,y",
                           "--sparse")
    assert r.returncode == 2 and "--sparse: one input at a time" in r.stderr
