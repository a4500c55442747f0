"""Malicious and malformed expressions and values are refused: one line, the text, a caret; exit 2; nothing runs.

The issue's cases run as real subprocesses in an empty directory, each trying to create a file there;
the longer list of cases goes through ``main()`` in this process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autojac.cli.expr import MAX_ELEMENTS

from ._run import autojac_in_process, autojac_many

# (expression, the error's message (a prefix), the column the caret starts under)
ISSUE_CASES = [
    ("__import__('os').system('touch PWNED')", "names starting with '_' are not allowed: '__import__'", 0),
    ("x.__class__.__subclasses__()", "attributes starting with '_' are not allowed: '.__subclasses__'", 0),
    ("x.exp().__reduce_ex__(2)", "attributes starting with '_' are not allowed: '.__reduce_ex__'", 0),
    ("(lambda: open('PWNED', 'w'))()", "lambdas are not allowed", 1),
    ("sum([open('PWNED', 'w') for t in x])", "comprehensions are not allowed", 4),
    ("ones(10**10)", f"'ones(...)' would have 10,000,000,000 elements (the limit is {MAX_ELEMENTS:,})", 0),
    ("x * 2**10**10", "integer power too large: 2**10000000000", 4),
    ("exp(x", "invalid syntax in expression: '(' was never closed", 3),
    ("x[0]] + 1", "invalid syntax in expression: unmatched ']'", 4),
    ("stack([x, x)", "invalid syntax in expression: closing parenthesis ')' does not match opening "
                     "parenthesis '['", 11),
]


def _check_refusal(p, expr: str, message: str, column: int) -> None:
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    lines = p.stderr.rstrip("\n").split("\n")
    assert len(lines) == 3, p.stderr
    assert lines[0].startswith("autojac: error: " + message), lines[0]
    assert lines[1] == "  " + expr
    caret = lines[2][2:]
    assert caret.lstrip(" ").startswith("^") and set(caret.strip()) == {"^"}, lines[2]
    assert len(caret) - len(caret.lstrip(" ")) == column, p.stderr


def test_the_issues_cases_are_refused_by_the_command_and_nothing_runs(tmp_path: Path) -> None:
    calls = [("grad", expr, "--at", "x=[1., 2., 3.]") for expr, _, _ in ISSUE_CASES]
    procs = autojac_many(calls, cwd=tmp_path)
    for (expr, message, column), p in zip(ISSUE_CASES, procs):
        _check_refusal(p, expr, message, column)
    assert os.listdir(tmp_path) == []  # no PWNED file: nothing ran


MORE_CASES = [
    ("import os", "imports are not allowed", 0),
    ("os.system('ls')", "unknown name 'os'", 0),
    ("open('PWNED', 'w')", "unknown function 'open'", 0),
    ("getattr(x, 'numpy')()", "unknown function 'getattr'", 0),
    ("eval('1')", "unknown function 'eval'", 0),
    ("x.numpy()", "'.numpy' is not an allowed tensor method or property", 0),
    ("x.grad_fn", "'.grad_fn' is not an allowed tensor method or property", 0),
    ("x.register_hook(print)", "'.register_hook' is not an allowed tensor method or property", 0),
    ("x.add_(1).sum()", "'.add_' is not an allowed tensor method or property", 0),
    ("x.sum().__class__", "attributes starting with '_' are not allowed: '.__class__'", 0),
    ("__builtins__", "names starting with '_' are not allowed: '__builtins__'", 0),
    ("_x = x; _x.sum()", "names starting with '_' are not allowed: '_x'", 0),
    ("exp = x; exp.sum()", "cannot assign to 'exp'", 0),
    ("(y := x).sum()", "':=' is not allowed", 1),
    ("stack([*x])", "'*' unpacking is not allowed", 7),
    ("x.sum(**{'dim': 0})", "'**' unpacking is not allowed", 8),
    ("x.sum(_dim=0)", "keywords starting with '_' are not allowed", 11),
    ("f'{x}'", "f-strings are not allowed", 0),
    ("x if x.sum() else x", "conditional expressions are not allowed", 0),
    ("x.sum() and x", "'and'/'or' are not allowed", 0),
    ("{1: x}", "dict displays are not allowed", 0),
    ("x[0] = 1", "only assignments to one plain name are allowed", 0),
    ("x.sum(); del x", "'del' is not allowed", 9),
    ("def f(): pass", "function definitions are not allowed", 0),
    ("x << 2", "operator LShift is not allowed", 0),
    ("x is x", "comparison Is is not allowed", 0),
    ("b'data'", "bytes literals are not allowed", 0),
    ("'a' * 10**9", "operators work on tensors and numbers, not str", 0),
    ("(x.sum(),) * 10**9", "operators work on tensors and numbers, not tuple", 0),
    ("2**4000 * 2**4000", "integer product too large", 0),
    ("x.expand(10**5, 10**5).sum()", "'expand(...)' would have 10,000,000,000 elements", 0),
    ("x.repeat(10**8).sum()", "'repeat(...)' would have 300,000,000 elements", 0),
    ("(ones(10**4)[:, None] * ones(10**4)).sum()", "the result would have 100,000,000 elements", 1),
    ("eye(10**6).sum()", "'eye(...)' would have 1,000,000,000,000 elements", 0),
    ("arange(1e12).sum()", "'arange(...)' would have 1,000,000,000,000 elements", 0),
    ("linspace(0, 1, 10**9).sum()", "'linspace(...)' would have 1,000,000,000 elements", 0),
    ("full((10**5, 10**5), 1.).sum()", "'full(...)' would have 10,000,000,000 elements", 0),
    ("outer(ones(10**4), ones(10**4)).sum()", "'outer(...)' would have 100,000,000 elements", 0),
    ("broadcast_tensors(ones(10**4, 1), ones(10**4))[0].exp().sum()", "'broadcast_tensors(...)' would have", 0),
    ("ones(10**4)[:, None].expand(-1, 10**4).exp().sum()", "the result would have 100,000,000 elements", 0),
    ("randperm(10**10).sum()", "'randperm(...)' would have 10,000,000,000 elements", 0),
    ("normal(0., 1., size=(10**5, 10**5)).sum()", "'normal(...)' would have 10,000,000,000 elements", 0),
    ("conv_transpose1d(ones(1, 1, 10), ones(1, 1, 3), stride=10**7).sum()", "'conv_transpose1d(...)' would have", 0),
    ("0 " + "-" * 900 + "x.sum()", "expression is nested too deeply", None),
    ("x.sum(dim=5)", "IndexError: Dimension out of range", 0),
    ("x +* 2", "invalid syntax in expression", 3),
    ("", "empty expression", None),
    ("(" * 300 + "x" + ")" * 300, "invalid syntax in expression: too many nested parentheses", None),
]


@pytest.mark.parametrize("expr,message,column", MORE_CASES, ids=[c[0][:40] or "empty" for c in MORE_CASES])
def test_more_refusals(expr: str, message: str, column: int | None, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = autojac_in_process("grad", expr, "--at", "x=[1., 2., 3.]")
    if column is None:
        assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
        assert p.stderr.startswith("autojac: error: " + message), p.stderr
    else:
        _check_refusal(p, expr, message, column)
    assert os.listdir(tmp_path) == []


def test_a_refused_expression_is_refused_before_any_value_is_read(tmp_path: Path) -> None:
    p = autojac_in_process("grad", "__import__('os')", "--at", f"x={tmp_path / 'missing.npy'}")
    assert p.returncode == 2
    assert p.stderr.startswith("autojac: error: names starting with '_' are not allowed: '__import__'")


VALUE_CASES = [
    ("x=__import__('os')", "names starting with '_' are not allowed: '__import__'", 2),
    ("x=ones(10**10)", "'ones(...)' would have 10,000,000,000 elements", 2),
    ("x=[1., 2.", "invalid syntax in value: '[' was never closed", 2),
    ("x=(lambda: 1)()", "lambdas are not allowed", 3),
    ("x", "--at expects NAME=VALUE", 0),
    ("__x=1", "--at: '__x' is not a plain name", 0),
    ("exp=1", "--at: 'exp' names an autojac function or constant", 0),
    ("x=missing.npy", "no such file: missing.npy", 2),
    ("x='text'", "value is not a number or a (nested) list of numbers", 2),
]


@pytest.mark.parametrize("binding,message,column", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_bad_values_are_refused(binding: str, message: str, column: int, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = autojac_in_process("grad", "x.sum()", "--at", binding)
    assert p.returncode == 2 and p.stdout == "" and "Traceback" not in p.stderr
    lines = p.stderr.rstrip("\n").split("\n")
    assert lines[0].startswith("autojac: error: " + message), p.stderr
    assert lines[1] == "  " + binding
    assert len(lines[2]) - len(lines[2].lstrip(" ")) - 2 == column, p.stderr


def test_bad_wrt_and_v_are_refused() -> None:
    p = autojac_in_process("grad", "x.sum()", "--at", "x=[1.]", "--wrt", "x,y")
    assert p.returncode == 2 and p.stderr.splitlines()[0] == "autojac: error: --wrt: 'y' is not bound by --at"
    assert p.stderr.splitlines()[2] == "    ^"
    p = autojac_in_process("vjp", "x * 2", "--at", "x=[1., 2.]")
    assert p.returncode == 2 and "vjp without --v needs an expression with one element" in p.stderr
    p = autojac_in_process("vjp", "x * 2", "--at", "x=[1., 2.]", "--v", "ones(3)")
    assert p.returncode == 2 and p.stderr.startswith("autojac: error: vjp: ") and "Traceback" not in p.stderr
    p = autojac_in_process("grad", "x * 2", "--at", "x=[1., 2.]")
    assert p.returncode == 2 and "grad needs an expression with one element; f has shape (2,)" in p.stderr
    p = autojac_in_process("jacdet", "x[:2]", "--at", "x=[1., 2., 3.]")
    assert p.returncode == 2 and p.stderr.startswith("autojac: error: jacdet: ")
    p = autojac_in_process("jacobian", "x.sum()", "--at", "x=ones(5000)", "--at", "y=ones(5000)",
                           "--wrt", "x", "--plot", "/nonexistent-dir/J.png")
    assert p.returncode == 2 and p.stderr.startswith("autojac: error: --plot: cannot write /nonexistent-dir/J.png")
    p = autojac_in_process("hessian", "(x * x).sum()", "--at", "x=ones(5000)")
    assert p.returncode == 2 and "the Hessian would have 25,000,000 elements" in p.stderr


def test_only_array_functions_are_offered() -> None:
    from autojac.cli.expr import FUNCTIONS, METHODS, _is_array_function

    def save(obj, path):  # what a later autojac.save would look like: not an op, not offered
        raise AssertionError("never called")

    assert not _is_array_function("save", save)
    assert {"exp", "stack", "ones", "randn", "einsum", "linspace"} <= set(FUNCTIONS)
    assert not {"manual_seed", "set_default_dtype", "from_numpy", "set_printoptions"} & set(FUNCTIONS)
    assert not {n for n in METHODS if n.endswith("_")} and not {"numpy", "backward", "register_hook"} & METHODS
