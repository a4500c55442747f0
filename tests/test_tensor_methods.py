"""Tensor's methods come from one place, src/autojac/_tensor_methods.py, whatever the import order."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import autojac
from autojac._tensor import Tensor
from autojac.ops import aliases

SRC = Path(autojac.__file__).parent


def _assigns_tensor_attribute(tree: ast.AST) -> list[int]:
    """Lines that set an attribute of Tensor: ``Tensor.x = ...`` or ``setattr(Tensor, ...)``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "Tensor":
                    lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
              and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "Tensor"):
            lines.append(node.lineno)
    return lines


def test_only_the_method_table_assigns_tensor_methods():
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        lines = _assigns_tensor_attribute(ast.parse(path.read_text()))
        if lines:
            found[str(path.relative_to(SRC))] = lines
    assert set(found) == {"_tensor_methods.py"}, f"Tensor methods assigned outside _tensor_methods.py: {found}"


def test_each_method_is_assigned_once():
    tree = ast.parse((SRC / "_tensor_methods.py").read_text())
    names = [t.attr for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
             if isinstance(t, ast.Attribute)]
    assert len(names) > 350
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_numpy_keywords_and_inplace_forms_reach_the_methods():
    for name in aliases.DIM_FUNCTIONS:
        meth = Tensor.__dict__.get(name)
        if meth is not None:
            assert getattr(meth, "_numpy_keywords", False), f"Tensor.{name} does not take axis=/keepdims="
    for name in aliases.INPLACE_FUNCTIONS:
        if callable(getattr(autojac, name[:-1], None)):
            assert name in Tensor.__dict__, f"Tensor.{name} is missing"
            assert getattr(autojac, name) is Tensor.__dict__[name]


def test_mod_is_the_differentiable_remainder():
    """``%`` was once set twice, by two op modules; the one imported last won."""
    x = autojac.tensor([5.5, -3.25], dtype=autojac.float64, requires_grad=True)
    y = x % 2.0
    np.testing.assert_allclose(y.detach().numpy(), np.mod([5.5, -3.25], 2.0), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0], rtol=1e-12)
    assert type(y.grad_fn).__name__ == "RemainderBackward0"



def test_every_name_the_table_uses_exists():
    """The table's lambdas look their functions up when called: a name gone from its module fails here."""
    import types

    import autojac._tensor_methods as table

    tree = ast.parse(Path(table.__file__).read_text())
    missing = [f"{n.value.id}.{n.attr} (line {n.lineno})" for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
               and isinstance(getattr(table, n.value.id, None), types.ModuleType)
               and not hasattr(getattr(table, n.value.id), n.attr)]
    assert not missing, missing
