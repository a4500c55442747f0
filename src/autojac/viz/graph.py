"""Pictures of the recorded graph: Graphviz DOT, SVG/PNG through ``dot``, a text drawing otherwise.

Data flows left to right, as the seeds draw ``x --> y --> u --> z``; gradients flow back along the
same edges. Ops are named as their ``grad_fn`` (``MulBackward0``) with the output's shape and
dtype and the tensors they saved for backward; leaves that require grad (``AccumulateGrad``) are
blue, constants grey, outputs green. A constant that was cut from the graph by ``detach()`` is
drawn with a dashed red ``detach()`` edge from the tensor it came from: no gradient crosses it.

>>> import autojac as torch
>>> x = torch.arange(4., requires_grad=True)
>>> y = x * x
>>> u = y.detach()
>>> z = u * x
>>> print(graph(z).text())
z (4,) float32
`-- MulBackward0 (4,) float32  saved: u
    |-- u (4,) float32  constant: u = y.detach(), no gradient flows back through it
    |   `-. detach() of y
    |       `-- y = MulBackward0 (4,) float32  saved: x, x
    |           |-- x (4,) float32  leaf, requires grad (AccumulateGrad)
    |           `-- x (see above)
    `-- x (see above)
"""

from __future__ import annotations

import html
import inspect
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .._core.node import Node
from .._tensor import Tensor

_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#fff2cc", color="#b08800"',
    "leaf": 'shape=box, style=filled, fillcolor="#cfe2ff", color="#1f4e9c"',
    "const": 'shape=box, style="filled,dashed", fillcolor="#eeeeee", color="#777777"',
    "output": 'shape=box, style=filled, fillcolor="#d1f0d1", color="#2e7d32"',
}


@dataclass
class _Vertex:
    key: int
    kind: str  # "op", "leaf", "const", "output"
    lines: list[str]
    inputs: list[tuple[int, str]] = field(default_factory=list)  # (vertex key, edge kind: "data"/"detach")
    text: str = ""  # one line for the text drawing


def _shape_dtype(t: Tensor) -> str:
    return f"{tuple(t.shape)} {str(t.dtype).rsplit('.', 1)[-1]}"


def _caller_names(depth: int = 2) -> dict[str, Tensor]:
    """The caller's local tensors by name, so ``graph(z)`` can call ``x`` and ``y`` what the code calls them."""
    frame = inspect.currentframe()
    try:
        for _ in range(depth):
            frame = frame.f_back if frame is not None else None
        if frame is None:
            return {}
        return {k: v for k, v in frame.f_locals.items() if isinstance(v, Tensor) and not k.startswith("_")}
    finally:
        del frame


class _Builder:
    def __init__(self, names: Mapping[str, Tensor], roots: list[Tensor]) -> None:
        self.known = [(n, t) for n, t in names.items() if isinstance(t, Tensor)] + [("", t) for t in roots]
        self.name_of = {id(t): n for n, t in reversed(self.known) if n}  # first name wins
        # an op is titled with its output's name (y = MulBackward0), except an output's: that gets its own box
        outputs = {id(t.grad_fn) for t in roots}
        self.by_fn = {id(t.grad_fn): n for n, t in reversed(self.known)
                      if n and t.grad_fn is not None and id(t.grad_fn) not in outputs}
        self.vertices: dict[int, _Vertex] = {}
        self.order: list[int] = []

    def add(self, key: int, vertex: _Vertex) -> _Vertex:
        self.vertices[key] = vertex
        self.order.append(key)
        return vertex

    def tensor_name(self, t: Tensor) -> str | None:
        return self.name_of.get(id(t))

    # ---------------------------------------------------------------- vertices
    def leaf(self, t: Tensor) -> int:
        key = id(t)
        if key not in self.vertices:
            name = self.tensor_name(t) or "leaf"
            self.add(key, _Vertex(key, "leaf", [name, _shape_dtype(t), "AccumulateGrad"],
                                  text=f"{name} {_shape_dtype(t)}  leaf, requires grad (AccumulateGrad)"))
        return key

    def constant(self, t: Tensor) -> int:
        key = id(t)
        if key in self.vertices:
            return key
        name = self.tensor_name(t) or "constant"
        source = self.detached_from(t)
        lines = [name, _shape_dtype(t)]
        if source is not None:
            src_name = self.tensor_name(source) or "a tensor"
            lines.append(f"detached: {name} = {src_name}.detach()")
            text = (f"{name} {_shape_dtype(t)}  constant: {name} = {src_name}.detach(), "
                    "no gradient flows back through it")
        else:
            lines.append("constant (no grad)")
            text = f"{name} {_shape_dtype(t)}  constant (requires_grad=False)"
        v = self.add(key, _Vertex(key, "const", lines, text=text))
        if source is not None:
            v.inputs.append((self.tensor(source), "detach"))
        return key

    def detached_from(self, t: Tensor) -> Tensor | None:
        """The known tensor ``t`` was detached from: it shares ``t``'s storage and version counter."""
        for _, s in self.known:
            if s is not t and s._vc is t._vc and s._requires_grad and s._data is t._data:
                return s
        return None

    def op(self, fn: Node) -> int:
        key = id(fn)
        if key in self.vertices:
            return key
        name = self.by_fn.get(key)
        out = self.output_tensor(fn)
        ans = fn.ans
        shape = tuple(ans[0].shape) if isinstance(ans, tuple) and ans and hasattr(ans[0], "shape") else (
            tuple(ans.shape) if hasattr(ans, "shape") else tuple(ans) if isinstance(ans, tuple) else None)
        desc = _shape_dtype(out) if out is not None else (str(shape) if shape is not None else "")
        saved = self.saved(fn)
        title = f"{name} = {fn.name()}" if name else fn.name()
        lines = [title] + ([desc] if desc else []) + ([f"saved: {saved}"] if saved else [])
        v = self.add(key, _Vertex(key, "op", lines,
                                  text=f"{title} {desc}".rstrip() + (f"  saved: {saved}" if saved else "")))
        inputs = fn.inputs
        for i, edge in enumerate(fn.next):
            x = inputs[i] if inputs is not None else None
            if edge is None:
                if type(x) is Tensor:
                    v.inputs.append((self.constant(x), "data"))
            elif type(edge) is Tensor:
                v.inputs.append((self.leaf(edge), "data"))
            else:
                v.inputs.append((self.op(edge), "data"))
        if inputs is None:
            v.lines.append("(saved tensors freed by backward)")
            v.text += "  (saved tensors freed by backward)"
        return key

    def output_tensor(self, fn: Node) -> Tensor | None:
        for _, t in self.known:
            if t.grad_fn is fn:
                return t
        return None

    def saved(self, fn: Node) -> str:
        """What ``fn`` keeps for its backward rules: its inputs (by name) and/or its result."""
        parts = []
        if fn.versions is not None and fn.inputs is not None:
            for x, ver in zip(fn.inputs, fn.versions):
                if ver is not None and type(x) is Tensor:
                    parts.append(self.tensor_name(x) or _shape_dtype(x).split(" ")[0])
        if fn.op.saves_ans and fn.ans is not None:
            parts.append("result")
        return ", ".join(parts)

    def tensor(self, t: Tensor) -> int:
        if t.grad_fn is not None:
            return self.op(t.grad_fn)
        if t._requires_grad:
            return self.leaf(t)
        return self.constant(t)

    def root(self, t: Tensor, index: int) -> None:
        inner = self.tensor(t)
        if t.grad_fn is None:
            return  # a leaf or constant is its own picture
        name = self.tensor_name(t) or (f"output {index}" if index else "output")
        key = -(index + 1)  # outputs get their own vertex even when two roots share a grad_fn
        self.add(key, _Vertex(key, "output", [name, _shape_dtype(t)], [(inner, "data")],
                              text=f"{name} {_shape_dtype(t)}"))


class GraphPicture:
    """A drawn graph: ``.source`` (DOT), ``.render(path)`` (.dot/.svg/.png/.pdf), ``.text()``, Jupyter display."""

    def __init__(self, vertices: dict[int, _Vertex], order: list[int], roots: list[int], rankdir: str) -> None:
        self._vertices = vertices
        self._order = order
        self._roots = roots
        self.rankdir = rankdir

    @property
    def source(self) -> str:
        """The graph in Graphviz's DOT language."""
        ids = {k: f"n{i}" for i, k in enumerate(self._order)}
        legend = "data flows along the arrows, gradients flow back"
        if any(kind == "detach" for v in self._vertices.values() for _, kind in v.inputs):
            legend += "; the dashed red detach() edge passes no gradient"
        out = ["digraph autojac {",
               f'  graph [rankdir={self.rankdir}, fontname="Helvetica", fontsize=10, labelloc=b, label="{legend}"];',
               '  node [fontname="Helvetica", fontsize=11];',
               '  edge [color="#555555"];']
        for k in self._order:
            v = self._vertices[k]
            label = "<" + "<br/>".join(
                (f"<b>{html.escape(line)}</b>" if i == 0 else f'<font point-size="9">{html.escape(line)}</font>')
                for i, line in enumerate(v.lines)) + ">"
            out.append(f"  {ids[k]} [label={label}, {_STYLE[v.kind]}];")
        for k in self._order:
            for src, kind in self._vertices[k].inputs:
                if kind == "detach":
                    out.append(f'  {ids[src]} -> {ids[k]} [style=dashed, color="#c62828", fontcolor="#c62828", '
                               'label="detach()", fontsize=9, arrowhead=tee];')
                else:
                    out.append(f"  {ids[src]} -> {ids[k]};")
        out.append("}")
        return "\n".join(out) + "\n"

    def text(self) -> str:
        """A text drawing from the outputs back to the leaves (no Graphviz needed)."""
        lines: list[str] = []
        seen: set[int] = set()

        def walk(key: int, prefix: str, last: bool, first: bool, via: str) -> None:
            v = self._vertices[key]
            branch = "" if first else ("`-" if last else "|-") + ("." if via == "detach" else "-") + " "
            if via == "detach":
                lines.append(f"{prefix}{branch}detach() of {v.lines[0].split(' = ')[0]}")
                prefix += "" if first else ("    " if last else "|   ")
                branch = "`-- "
                last = True
            if key in seen:
                lines.append(f"{prefix}{branch}{v.lines[0].split(' = ')[0]} (see above)")
                return
            seen.add(key)
            lines.append(f"{prefix}{branch}{v.text}")
            child_prefix = prefix + ("" if first else ("    " if last else "|   "))
            for i, (src, kind) in enumerate(v.inputs):
                walk(src, child_prefix, i == len(v.inputs) - 1, False, kind)

        for r in self._roots:
            walk(r, "", True, True, "data")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (f"<autojac graph: {len(self._vertices)} nodes; .source (DOT), .render(path), .text()>")

    # ---------------------------------------------------------------- files and notebooks
    def pipe(self, format: str) -> bytes:
        """The graph drawn by Graphviz's ``dot`` in ``format`` ('svg', 'png', 'pdf')."""
        try:
            import graphviz
        except ImportError:
            raise ImportError("drawing graphs as SVG/PNG needs the graphviz package: "
                              "pip install 'autojac[viz]' (and Graphviz's dot program)") from None
        if shutil.which("dot") is None:
            raise RuntimeError("Graphviz's `dot` program is not installed (apt install graphviz, brew install "
                               "graphviz, choco install graphviz); save a .dot file or use .text() instead")
        return graphviz.Source(self.source).pipe(format=format)

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture; the format follows the suffix (.dot/.gv writes DOT and needs nothing else)."""
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "svg").lower()
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.pipe(fmt))
        return path

    save = render

    def _repr_svg_(self) -> str | None:
        try:
            return self.pipe("svg").decode("utf-8")
        except (ImportError, RuntimeError):
            return None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        svg = self._repr_svg_()
        bundle = {"text/plain": self.text()}
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def graph(tensor_or_tensors: Tensor | Iterable[Tensor], params: Mapping[str, Tensor] | None = None,
          rankdir: str = "LR") -> GraphPicture:
    """The recorded graph behind ``tensor_or_tensors`` as a picture.

    ``params`` names tensors (``dict(model.named_parameters())`` or ``{"x": x}``); without it, the
    caller's local variables name them. Build the picture before ``backward()`` frees saved tensors.
    """
    roots = [tensor_or_tensors] if isinstance(tensor_or_tensors, Tensor) else list(tensor_or_tensors)
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"graph(): expected a Tensor or a sequence of Tensors, got {type(r).__name__} "
                            f"at position {i}")
    names = dict(params) if params is not None else _caller_names()
    builder = _Builder(names, roots)
    keys = []
    for i, r in enumerate(roots):
        builder.root(r, i)
        keys.append(-(i + 1) if r.grad_fn is not None else builder.tensor(r))
    return GraphPicture(builder.vertices, builder.order, keys, rankdir)
