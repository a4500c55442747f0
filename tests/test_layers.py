"""The import graph of src/autojac keeps the layers of docs/ARCHITECTURE.md.

The document is the source: its layer table says which module sits in which layer, and its table of
function-level imports is the allowlist (with the reason each one is there). These tests fail when
the code and the document part ways, so the document cannot go stale.
"""

from __future__ import annotations

import re
from pathlib import Path

from _import_graph import Import, cycles, imports, module_level_graph, modules, short, with_parent_packages

DOC = Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md"
CORE_LAYERS = 1  # layers 0 (base) and 1 (core) never import a higher layer, even inside a function


def _section(title: str) -> list[str]:
    text = DOC.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None].splitlines()


def _rows(title: str) -> list[list[str]]:
    rows = []
    for line in _section(title):
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # the header


def layers() -> dict[str, int]:
    """Module prefix (as in the document: ``ops``, ``_core.node``) -> layer number."""
    out = {}
    for cells in _rows("Layers"):
        level = int(re.match(r"\d+", cells[0]).group())
        for name in re.findall(r"`([\w.]+)`", cells[2]):
            out[name] = level
    return out


def layer_of(module: str, table: dict[str, int]) -> int:
    if module == "autojac":  # the package's __init__: the namespace over every layer
        return max(table.values())
    name = short(module)
    best = None
    for prefix, level in table.items():
        if name == prefix or name.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, level)
    assert best is not None, f"{name} is in no layer of docs/ARCHITECTURE.md"
    return best[1]


def allowlist() -> dict[tuple[str, str, str], str]:
    """(module, function, imported module) -> why the import stands inside the function."""
    out = {}
    for cells in _rows("Function-level imports"):
        module, function, target, reason = (c.strip("`") for c in cells[:4])
        assert reason, f"no reason given for {module}.{function} -> {target}"
        out[(module, function, target)] = reason
    return out


def _key(e: Import) -> tuple[str, str, str]:
    return short(e.source), e.function or "", short(e.target)


EDGES = imports()


def test_every_module_is_in_a_layer():
    table = layers()
    for module in modules():
        if module != "autojac":
            layer_of(module, table)


def test_no_module_level_cycle():
    """Not even through a package's ``__init__`` (which importing any of its modules runs first)."""
    found = cycles(with_parent_packages(module_level_graph(EDGES)))
    assert not found, "module-level import cycles: " + "; ".join(" <-> ".join(map(short, c)) for c in found)


def test_module_level_imports_point_down():
    table = layers()
    up = [f"{short(e.source)}:{e.line} imports {short(e.target)}" for e in EDGES
          if e.function is None and e.source != "autojac" and layer_of(e.target, table) > layer_of(e.source, table)]
    assert not up, "imports that point up a layer (see docs/ARCHITECTURE.md): " + "; ".join(up)


def test_core_imports_nothing_above_it():
    """Tensor, the graph, the engine: never ops, autograd, func or nn, not even inside a function."""
    table = layers()
    up = [f"{short(e.source)}:{e.line} imports {short(e.target)}" for e in EDGES
          if layer_of(e.source, table) <= CORE_LAYERS < layer_of(e.target, table)]
    assert not up, "the core imports a higher layer: " + "; ".join(up)


def test_function_level_imports_are_the_listed_ones():
    listed = allowlist()
    found = {_key(e): e for e in EDGES if e.function is not None}
    unlisted = [f"{short(e.source)}:{e.line} {e.function} -> {short(e.target)}" for k, e in found.items()
                if k not in listed]
    assert not unlisted, ("function-level imports not in docs/ARCHITECTURE.md's table (move each to module level, "
                          "or list it with the reason a cycle needs it): " + "; ".join(unlisted))
    gone = [" ".join(k) for k in listed if k not in found]
    assert not gone, "docs/ARCHITECTURE.md lists function-level imports that are gone: " + "; ".join(gone)
