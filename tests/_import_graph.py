"""The import graph of src/autojac, read from the source (AST), module level and function level apart.

An edge ``a -> b`` means module ``a`` imports module ``b`` (``from .b import x`` and ``from . import b``
both count; the parent packages Python initializes on the way do not). Imports under
``if TYPE_CHECKING:`` never run and are left out. Run as a script to print the cycles and the
function-level imports::

    python tests/_import_graph.py
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "autojac"


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``line``, inside ``function`` (or None)."""

    source: str
    target: str
    line: int
    function: str | None  # the enclosing function's qualified name; None at module level


def modules(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    out = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The modules of the package one import statement loads (outside ones are dropped)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE and a.name in known]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        where = ".".join(base + ([node.module] if node.module else []))
    else:
        where = node.module or ""
    if where.split(".")[0] != PACKAGE:
        return []
    out = []
    for alias in node.names:
        sub = f"{where}.{alias.name}"
        out.append(sub if sub in known else where)
    return list(dict.fromkeys(t for t in out if t in known))


def imports(src: Path = SRC) -> list[Import]:
    """Every import edge inside the package, with where it stands."""
    mods = modules(src)
    known = set(mods)
    edges: list[Import] = []
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        _visit(tree, name, path.name == "__init__.py", known, None, "", edges)
    return edges


def _visit(node: ast.AST, module: str, is_package: bool, known: set[str], function: str | None, scope: str,
           edges: list[Import]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                _visit(sub, module, is_package, known, function, scope, edges)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _targets(child, module, is_package, known):
                if target != module:
                    edges.append(Import(module, target, child.lineno, function))
            continue
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            qual = f"{scope}.{getattr(child, 'name', '<lambda>')}".lstrip(".")
            _visit(child, module, is_package, known, qual, qual, edges)
        elif isinstance(child, ast.ClassDef):
            _visit(child, module, is_package, known, function, f"{scope}.{child.name}".lstrip("."), edges)
        else:
            _visit(child, module, is_package, known, function, scope, edges)


def module_level_graph(edges: list[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.function is None:
            graph.setdefault(e.source, set()).add(e.target)
    return graph


def with_parent_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """``graph`` plus the packages each import runs first: importing ``a.b.c`` runs ``a.b``'s ``__init__``.

    The root package is left out (every import inside it starts there), as are the importer's own
    packages (already running when it is imported).
    """
    out = {k: set(v) for k, v in graph.items()}
    for source, targets in graph.items():
        for target in targets:
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if not (source == parent or source.startswith(parent + ".")):
                    out[source].add(parent)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    nodes = set(graph) | {t for ts in graph.values() for t in ts}
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def short(module: str) -> str:
    return module[len(PACKAGE) + 1:] if module.startswith(PACKAGE + ".") else module


if __name__ == "__main__":
    all_edges = imports()
    for comp in cycles(with_parent_packages(module_level_graph(all_edges))):
        print(f"module-level cycle of {len(comp)}: {', '.join(short(m) for m in comp)}")
    inner = [e for e in all_edges if e.function is not None]
    print(f"{len(inner)} function-level imports:")
    for e in inner:
        print(f"  {short(e.source)}:{e.line} {e.function} -> {short(e.target)}")
