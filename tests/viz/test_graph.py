"""``autojac.viz.graph``: the DOT of seed 004's detach example, SVG/PNG written by dot and read back, text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autojac as torch
from autojac import viz


def _seed_004_detach():
    x = torch.arange(4., requires_grad=True)
    y = x*x
    u = y.detach()
    z = u*x
    return x, y, u, z


def _nodes_and_edges(dot: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """{node id: its label's first (bold) line}, [(from, to, attributes)]."""
    nodes = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(n\d+) \[label=<<b>(.*?)</b>", dot, flags=re.M)}
    edges = [(a, b, attrs or "") for a, b, attrs in re.findall(r"^\s+(n\d+) -> (n\d+)(?: \[(.*)\])?;", dot, re.M)]
    return nodes, edges


def test_dot_of_seed_004_has_the_nodes_and_the_detached_edge() -> None:
    x, y, u, z = _seed_004_detach()
    g = viz.graph(z)  # names from the caller's variables
    nodes, edges = _nodes_and_edges(g.source)
    by_label = {label: k for k, label in nodes.items()}
    assert set(by_label) == {"x", "y = MulBackward0", "u", "MulBackward0", "z"}
    assert "AccumulateGrad" in g.source and "detached: u = y.detach()" in g.source
    plain = {(a, b) for a, b, attrs in edges if not attrs}
    assert (by_label["x"], by_label["y = MulBackward0"]) in plain  # x --> y
    assert (by_label["u"], by_label["MulBackward0"]) in plain  # u --> z's op
    assert (by_label["x"], by_label["MulBackward0"]) in plain  # x --> z's op
    assert (by_label["MulBackward0"], by_label["z"]) in plain
    [detached] = [(a, b, attrs) for a, b, attrs in edges if attrs]
    assert detached[:2] == (by_label["y = MulBackward0"], by_label["u"])  # y -.-> u, the cut
    assert "style=dashed" in detached[2] and 'label="detach()"' in detached[2]
    # shapes, dtypes and saved tensors are marked; z's op saved u (read by x's rule) only, as PyTorch does
    assert "(4,) float32" in g.source
    assert "saved: u<" in g.source and "saved: x, x<" in g.source


def test_text_drawing_without_graphviz() -> None:
    x, y, u, z = _seed_004_detach()
    text = str(viz.graph(z, params={"x": x, "y": y, "u": u, "z": z}))
    assert text.splitlines() == [
        "z (4,) float32",
        "`-- MulBackward0 (4,) float32  saved: u",
        "    |-- u (4,) float32  constant: u = y.detach(), no gradient flows back through it",
        "    |   `-. detach() of y",
        "    |       `-- y = MulBackward0 (4,) float32  saved: x, x",
        "    |           |-- x (4,) float32  leaf, requires grad (AccumulateGrad)",
        "    |           `-- x (see above)",
        "    `-- x (see above)",
    ]


def test_svg_and_png_written_by_dot_and_read_back(tmp_path: Path) -> None:
    x, y, u, z = _seed_004_detach()
    g = viz.graph(z)
    svg = g.render(tmp_path / "g.svg")
    png = g.save(tmp_path / "g.png")
    dot = g.render(tmp_path / "g.dot")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")}
    assert {"MulBackward0", "y = MulBackward0", "u", "x", "z", "detach()"} <= texts
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    import matplotlib.image

    assert matplotlib.image.imread(png).shape[0] > 50
    assert dot.read_text() == g.source


def test_jupyter_display_and_fallbacks(monkeypatch) -> None:
    _, _, _, z = _seed_004_detach()
    g = viz.graph(z)
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"] == g.text()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "<svg" in bundle["image/svg+xml"]
    monkeypatch.setattr("shutil.which", lambda name: None)  # no dot program
    assert g._repr_svg_() is None
    assert set(g._repr_mimebundle_()) == {"text/plain"}
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program is not installed"):
        g.pipe("svg")


def test_missing_graphviz_package_names_the_extra(monkeypatch) -> None:
    _, _, _, z = _seed_004_detach()
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'autojac\[viz\]'"):
        viz.graph(z).pipe("png")


def test_several_roots_constants_freed_graphs_and_bad_input() -> None:
    w = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    c = torch.ones(2)
    h = torch.tanh(w @ c)
    loss = h.sum()
    g = viz.graph([h, loss], params={"w": w, "c": c, "h": h, "loss": loss})
    nodes, _ = _nodes_and_edges(g.source)
    labels = set(nodes.values())
    assert {"w", "c", "h", "loss", "TanhBackward0", "SumBackward0"} <= labels
    assert "constant (no grad)" in g.source  # c
    assert "saved: result" in g.source  # tanh keeps its output
    loss.backward()
    assert "(saved tensors freed by backward)" in viz.graph(loss, params={"w": w}).source
    assert "leaf" in viz.graph(w).text()
    with pytest.raises(TypeError, match="expected a Tensor or a sequence of Tensors, got int at position 1"):
        viz.graph([h, 3])


def test_cli_graph_writes_svg_and_prints_text(tmp_path: Path) -> None:
    from tests.cli._run import autojac

    out = tmp_path / "g.svg"
    p = autojac("graph", "y = x*x; u = y.detach(); z = u*x", "--at", "x=arange(4.)", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"wrote {out}\n"
    assert ET.parse(out).getroot().tag.endswith("svg")
    from tests.cli._run import autojac_in_process

    p = autojac_in_process("graph", "y = x*x; u = y.detach(); z = u*x", "--at", "x=arange(4.)")
    assert p.stdout.splitlines()[0] == "z (4,) float32"
    assert "detach() of y" in p.stdout
    p = autojac_in_process("graph", "x*2", "--at", "x=[1.]", "-o", str(tmp_path / "g.unknownformat"))
    assert p.returncode == 2 and p.stderr.startswith("autojac: error: -o: cannot write")


def test_importing_autojac_imports_neither_matplotlib_nor_graphviz() -> None:
    from tests.cli._run import SRC

    code = ("import sys, autojac; g = autojac.viz.graph(autojac.ones(2, requires_grad=True) * 2); g.source; g.text(); "
            "print('matplotlib' in sys.modules, 'graphviz' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(SRC)})
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["False", "False"]
