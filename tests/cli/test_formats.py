"""The calculator's outputs: the aligned table, --latex (parsed back), --json (round trip), --npy, --plot, files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from autojac.cli.render import from_json

from ._run import autojac, autojac_in_process, table_numbers

STACK = "stack([x[0]**2, x[0]*x[1], x[1]**2])"


def parse_bmatrices(text: str) -> list[np.ndarray]:
    """Every ``bmatrix`` in ``text`` as an array; asserts it is well formed (rows of equal length, numbers)."""
    assert text.count(r"\begin{bmatrix}") == text.count(r"\end{bmatrix}")
    out = []
    for body in re.findall(r"\\begin\{bmatrix\}\n(.*?)\n\\end\{bmatrix\}", text, flags=re.S):
        rows = [r.strip() for r in body.split("\\\\")]
        cells = [[float(c.strip()) for c in row.split("&")] for row in rows]
        assert len({len(r) for r in cells}) == 1, body
        out.append(np.array(cells))
    return out


def test_table_has_the_shape_header_and_the_input_output_names() -> None:
    p = autojac("jacobian", STACK, "--at", "x=[2., 3.]")
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    assert lines[:3] == [f"f = {STACK}", "at x (2,) float32", "f has shape (3,)"]
    assert lines[4] == "jacobian df/dx   shape 3 x 2; rows: f (3,), columns: x (2,)"
    assert lines[5].split() == ["x[0]", "x[1]"]
    assert [ln.split()[0] for ln in lines[6:9]] == ["f[0]", "f[1]", "f[2]"]
    # right-aligned columns: every number ends where its column label ends
    ends = {len(ln) for ln in lines[5:9]}
    assert len(ends) == 1
    assert table_numbers(p.stdout) == [[4, 0, 3, 2, 0, 6]]


def test_precision_and_scientific_style() -> None:
    p = autojac_in_process("grad", "(x.exp()).sum()", "--at", "x=[0.5, 1.0]", "--precision", "2")
    assert "1.65  2.72" in p.stdout
    p = autojac_in_process("grad", "(x * 1e-9).sum() + (x * 0).sum()", "--at", "x=[0.5, 1.0]", "--precision", "3")
    assert "1.000e-09" in p.stdout


def test_latex_is_a_well_formed_bmatrix_with_the_numbers() -> None:
    p = autojac("jacobian", STACK, "--at", "x=[2., 3.]", "--latex")
    assert p.returncode == 0
    assert p.stdout == "% jacobian df/dx\n\\begin{bmatrix}\n4 & 0\\\\\n3 & 2\\\\\n0 & 6\n\\end{bmatrix}\n"
    [m] = parse_bmatrices(p.stdout)
    np.testing.assert_array_equal(m, [[4, 0], [3, 2], [0, 6]])


def test_latex_of_several_inputs_and_of_fractions() -> None:
    p = autojac_in_process("vjp", "a @ b", "--at", "a=[[1., 2.], [3., 4.]]", "--at", "b=[[0.5, -1.25], [2., 0.]]",
                           "--v", "ones(2, 2)", "--latex")
    ma, mb = parse_bmatrices(p.stdout)
    a, b = torch.tensor([[1., 2.], [3., 4.]]), torch.tensor([[0.5, -1.25], [2., 0.]])
    np.testing.assert_allclose(ma, torch.ones(2, 2) @ b.T, rtol=1e-6)
    np.testing.assert_allclose(mb, a.T @ torch.ones(2, 2), rtol=1e-6)
    assert "-0.75" in p.stdout and "0.75000" not in p.stdout  # trailing zeros dropped, as the seeds write
    # a gradient (1-D) is written as a column vector, as in the seeds' maths
    p = autojac_in_process("grad", "(x**3).sum()", "--at", "x=[1., 2.]", "--latex")
    [g] = parse_bmatrices(p.stdout)
    np.testing.assert_array_equal(g, [[3], [12]])


def test_json_round_trips_and_matches_npy_and_torch(tmp_path: Path) -> None:
    npz = tmp_path / "out.npz"
    p = autojac("jacobian", "3*a**3 - b**2", "--at", "a=[1., 2.]", "--at", "b=randn(2)", "--seed", "0",
                "--dtype", "float64", "--json", "--npy", str(npz))
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["command"] == "jacobian" and doc["expression"] == "3*a**3 - b**2"
    assert [r["name"] for r in doc["results"]] == ["df/da", "df/db"]
    ja, jb = from_json(p.stdout)
    assert ja.dtype == np.float64 and ja.shape == (2, 2) and jb.shape == (2, 2)
    saved = np.load(npz)
    np.testing.assert_array_equal(saved["a"], ja)  # the same numbers, serialized two ways
    np.testing.assert_array_equal(saved["b"], jb)
    torch.manual_seed(0)
    b = torch.randn(2, dtype=torch.float32).double()
    np.testing.assert_allclose(doc["inputs"]["b"]["values"], b.numpy(), rtol=0, atol=0)  # PyTorch's stream
    want = torch.autograd.functional.jacobian(lambda a, b: 3 * a ** 3 - b ** 2,
                                              (torch.tensor([1., 2.], dtype=torch.float64), b))
    np.testing.assert_allclose(ja, want[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(jb, want[1].numpy(), rtol=1e-12)
    # JSON's values rebuild each array exactly, float32 included
    p = autojac_in_process("grad", "(x.sin() * 0.1).sum()", "--at", "x=[0.3, 1.7, -2.2]", "--json")
    [g] = from_json(p.stdout)
    x = torch.tensor([0.3, 1.7, -2.2])
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, (0.1 * x.cos()).numpy(), rtol=1e-6)
    assert json.loads(p.stdout)["value"]["shape"] == []


def test_npy_single_result_and_refusal_for_several(tmp_path: Path) -> None:
    out = tmp_path / "H.npy"
    p = autojac_in_process("hessian", "(x**3).sum()", "--at", "x=[1., 2.]", "--npy", str(out))
    assert p.returncode == 0
    np.testing.assert_array_equal(np.load(out), [[6, 0], [0, 12]])
    p = autojac_in_process("grad", "(a*b).sum()", "--at", "a=[1.]", "--at", "b=[2.]", "--npy", str(tmp_path / "g.npy"))
    assert p.returncode == 2 and "give a file name ending in .npz" in p.stderr


def test_inputs_from_npy_npz_and_csv_files(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([1.0, 2.0, 3.0]))
    np.savez(tmp_path / "xs.npz", x=np.array([4.0, 5.0]), other=np.zeros(3))
    (tmp_path / "m.csv").write_text("1,2\n3,4\n")
    p = autojac_in_process("grad", "(x**2).sum()", "--at", f"x={tmp_path / 'x.npy'}")
    assert table_numbers(p.stdout) == [[2, 4, 6]]
    p = autojac_in_process("grad", "(x**2).sum()", "--at", f"x={tmp_path / 'xs.npz'}")
    assert table_numbers(p.stdout) == [[8, 10]]
    p = autojac_in_process("grad", "(m**2).sum()", "--at", f"m={tmp_path / 'm.csv'}")
    assert table_numbers(p.stdout) == [[2, 4, 6, 8]]
    assert "at m (2, 2) float32" in p.stdout
    p = autojac_in_process("grad", "(y**2).sum()", "--at", f"y={tmp_path / 'xs.npz'}")
    assert p.returncode == 2 and "holds 2 arrays (x, other) and none is named 'y'" in p.stderr


def test_jvp_and_jacdet_and_int_inputs() -> None:
    p = autojac_in_process("jvp", "x**2", "--at", "x=[1, 2, 3]", "--v", "[1, 0, 1]")  # ints become floats
    assert p.returncode == 0, p.stderr
    assert table_numbers(p.stdout) == [[2, 0, 6]]
    p = autojac_in_process("jacdet", "x**2", "--at", "x=[1., 2., 3.]")
    assert "det(df/dx) = 48" in p.stdout
    assert table_numbers(p.stdout) == [[48]]


@pytest.mark.parametrize("command", ["jacobian", "hessian"])
def test_plot_writes_a_png(command: str, tmp_path: Path) -> None:
    import matplotlib.image

    out = tmp_path / "J.png"
    expr = STACK if command == "jacobian" else "(x**3).sum() + x[0]*x[1]"
    p = autojac_in_process(command, expr, "--at", "x=[2., 3.]", "--plot", str(out))
    assert p.returncode == 0, p.stderr
    img = matplotlib.image.imread(out)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100 and img.shape[2] in (3, 4)


def test_large_matrices_show_their_corners() -> None:
    p = autojac_in_process("jacobian", "x * 2", "--at", "x=ones(50)")
    lines = p.stdout.splitlines()
    assert "shape 50 x 50" in lines[4]
    header = lines[5].split()
    assert header[:8] == [f"x[{i}]" for i in range(8)] and header[8] == "..." and header[-1] == "x[49]"
    rows = lines[6:]
    assert len(rows) == 41 and rows[20].split()[0] == "..." and rows[-1].split()[0] == "f[49]"
    assert rows[0].split()[1:3] == ["2", "0"] and rows[-1].split()[-1] == "2"
