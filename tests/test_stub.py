"""The generated type stub of autojac._tensor: up to date, and declaring every public Tensor attribute."""

from __future__ import annotations

import ast
import inspect

import autojac
from autojac import _stubgen


def _stub_tree() -> ast.Module:
    return ast.parse(_stubgen.STUB_PATH.read_text(), filename=str(_stubgen.STUB_PATH))


def _class_names(tree: ast.Module, name: str) -> set[str]:
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    out = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
    return out


def test_stub_is_fresh():
    assert _stubgen.render() == _stubgen.STUB_PATH.read_text(), (
        f"the Tensor stub is stale: run `{_stubgen.COMMAND}` and commit src/autojac/_tensor.pyi")


def test_stub_declares_every_public_tensor_attribute():
    public = set(_stubgen.public_members(autojac.Tensor))
    assert len(public) > 380  # the ops' methods are there, not just the class body's
    missing = public - _class_names(_stub_tree(), "Tensor")
    assert not missing, f"Tensor attributes missing from the stub: {sorted(missing)}"
    # the names other modules import from autojac._tensor are declared too
    stub_top = {n.name for n in _stub_tree().body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert {"Size", "Tensor", "_wrap", "_wrap_dim", "is_tensor", "storage_root"} <= stub_top


def test_stub_signatures_match_the_methods():
    """Each stubbed method takes the parameters the method takes (by name)."""
    tree = _stub_tree()
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    checked = 0
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef) or node.name in _stubgen.HAND or node.decorator_list:
            continue
        method = getattr(autojac.Tensor, node.name)
        try:
            params = list(inspect.signature(method).parameters.values())[1:]
        except ValueError:
            continue
        if [p.name for p in params] == ["args", "kwargs"]:  # an in-place wrapper, stubbed from its base
            continue
        stub_names = ([a.arg for a in node.args.posonlyargs + node.args.args][1:]
                      + ([node.args.vararg.arg] if node.args.vararg else [])
                      + [a.arg for a in node.args.kwonlyargs]
                      + ([node.args.kwarg.arg] if node.args.kwarg else []))
        assert sorted(stub_names) == sorted(p.name for p in params), node.name
        checked += 1
    assert checked > 250


def test_stub_annotations_name_real_things():
    """The stub is valid Python whose imports resolve (what a type checker needs first)."""
    tree = _stub_tree()
    compile(tree, str(_stubgen.STUB_PATH), "exec")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = __import__(f"autojac.{node.module}" if node.level else node.module, fromlist=["_"]) \
                if node.module else autojac
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module}.{alias.name}"


def test_py_typed_marker_ships():
    assert (_stubgen.STUB_PATH.parent / "py.typed").is_file()


def test_stub_types_a_method_chain():
    """What a type checker reads for ``x.sin().sum().backward()`` (mypy/pyright are not installed here):
    each call's return annotation in the stub names the class the next call is looked up on."""
    tree = _stub_tree()
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    returns = {n.name: ast.unparse(n.returns) for n in cls.body if isinstance(n, ast.FunctionDef) and n.returns}
    kind = "Tensor"
    for name, expected in (("sin", "Tensor"), ("sum", "Tensor"), ("__add__", "Tensor"), ("backward", "None")):
        assert kind == "Tensor"
        kind = returns[name]
        assert kind == expected, (name, kind)
    assert returns["__getitem__"] == "Tensor" and returns["size"] == "Size | builtins.int"
