"""The calculator's derivatives: grad, jacobian, hessian, jvp, vjp and jacdet of an expression.

Each command gives ``Block``s (one array per input, in its natural shape: what ``--json`` and
``--npy`` write) and ``Display``s (the 2-D matrices the terminal, ``--latex`` and ``--plot`` show,
several inputs side by side as the seeds write ``J_Q``).

>>> import autojac
>>> from autojac.cli.expr import Program
>>> r = differentiate("jacobian", Program("x**2", ["x"]), {"x": autojac.tensor([2., 3.])}, ["x"])
>>> r.displays[0].matrix
array([[4., 0.],
       [0., 6.]], dtype=float32)
>>> r.displays[0].row_labels, r.displays[0].col_labels
(['f[0]', 'f[1]'], ['x[0]', 'x[1]'])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autojac
from autojac import sparse
from autojac.autograd import functional

from .errors import InputError
from .expr import MAX_ELEMENTS, Program

COMMANDS = ("grad", "jacobian", "hessian", "jvp", "vjp", "jacdet")
OUTPUT = "f"  # what the rows of a Jacobian are called: f = EXPR


@dataclass
class Block:
    """One computed array: ``name`` (``df/dx``), its natural shape, and what it is taken with respect to."""

    name: str
    array: np.ndarray
    wrt: tuple[str, ...]


@dataclass
class Display:
    """A 2-D view with row and column labels, for the terminal, LaTeX and plots."""

    title: str
    matrix: np.ndarray
    row_labels: list[str]
    col_labels: list[str]
    note: str = ""


@dataclass
class Sparsity:
    """A sparse Jacobian's structure: its pattern, the coloring, and how many passes it took."""

    pattern: Any  # scipy.sparse boolean (outputs x inputs)
    colors: np.ndarray
    n_colors: int
    mode: str  # "fwd": columns grouped (forward mode); "rev": rows grouped (reverse mode)


@dataclass
class Result:
    command: str
    value: autojac.Tensor
    blocks: list[Block] = field(default_factory=list)
    displays: list[Display] = field(default_factory=list)
    sparsity: Sparsity | None = None


def index_labels(name: str, shape: tuple) -> list[str]:
    """``x[0]``, ``x[1]``... for every element of an array of ``shape`` in row-major order."""
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def _vector_display(title: str, array: np.ndarray, name: str, row: str) -> Display:
    """A gradient-like array shown in its own shape: rows index the leading dims, columns the last."""
    if array.ndim == 0:
        return Display(title, array.reshape(1, 1), [row], [name])
    if array.ndim == 1:
        return Display(title, array.reshape(1, -1), [row], index_labels(name, array.shape))
    rows = math.prod(array.shape[:-1])
    return Display(title, array.reshape(rows, array.shape[-1]), index_labels(name, array.shape[:-1]),
                   [f"[{j}]" for j in range(array.shape[-1])])


def _numpy(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy() if isinstance(t, autojac.Tensor) else t)


def make_function(program: Program, env: dict[str, Any], wrt: list[str]) -> Callable:
    """``f(*inputs)``: the expression with the ``wrt`` names bound to the arguments, other names fixed."""

    def f(*xs):
        scope = dict(env)
        scope.update(zip(wrt, xs))
        out = program.run(scope)
        if isinstance(out, (bool, int, float, complex)):
            return autojac.tensor(out)
        if not isinstance(out, autojac.Tensor):
            raise InputError(f"the expression must give a tensor, it gives a {type(out).__name__}",
                             program.source, 0, len(program.source.splitlines()[-1]))
        return out

    return f


def _whole(program: Program, message: str) -> InputError:
    lines = program.source.splitlines() or [""]
    return InputError(message, program.source, 0, len(lines[-1]), line=len(lines))


def differentiate(command: str, program: Program, env: dict[str, Any], wrt: list[str],
                  v: list[autojac.Tensor] | None = None) -> Result:
    """Run one calculator command; errors of the maths (shapes, non-scalar outputs) become ``InputError``."""
    f = make_function(program, env, wrt)
    xs = tuple(env[n] for n in wrt)
    with autojac.no_grad():
        value = f(*xs)
    try:
        return _COMMANDS[command](program, f, xs, wrt, value, v or [])
    except InputError:
        raise
    except (RuntimeError, ValueError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise _whole(program, f"{command}: {first}") from None


def _check_scalar(program: Program, command: str, value: autojac.Tensor, hint: str) -> None:
    if value.numel() != 1:
        raise _whole(program, f"{command} needs an expression with one element; f has shape "
                              f"{tuple(value.shape)} ({hint})")


def _check_size(program: Program, n: int, what: str) -> None:
    if n > MAX_ELEMENTS:
        raise _whole(program, f"the {what} would have {n:,} elements (the limit is {MAX_ELEMENTS:,})")


def _grad(program, f, xs, wrt, value, v) -> Result:
    _check_scalar(program, "grad", value, "use jacobian, or vjp with --v")
    _, grads = functional.vjp(f, xs)
    r = Result("grad", value)
    for name, g in zip(wrt, grads):
        title = f"d{OUTPUT}/d{name}"
        r.blocks.append(Block(title, _numpy(g), (name,)))
        r.displays.append(_vector_display(title, _numpy(g), name, title))
    return r


def _vjp(program, f, xs, wrt, value, v) -> Result:
    if len(v) > 1:
        raise _whole(program, f"vjp takes one --v (a cotangent shaped like f, {tuple(value.shape)}), got {len(v)}")
    if not v:
        _check_scalar(program, "vjp without --v", value, f"give --v shaped {tuple(value.shape)}")
    _, grads = functional.vjp(f, xs, v[0] if v else None)
    r = Result("vjp", value)
    for name, g in zip(wrt, grads):
        title = f"v^T df/d{name}"
        r.blocks.append(Block(title, _numpy(g), (name,)))
        r.displays.append(_vector_display(title, _numpy(g), name, "vjp"))
    return r


def _jvp(program, f, xs, wrt, value, v) -> Result:
    if v and len(v) != len(xs):
        raise _whole(program, f"jvp takes one --v per input ({', '.join(wrt)}), got {len(v)}")
    if not v and sum(x.numel() for x in xs) != 1:
        raise _whole(program, "jvp needs --v (a tangent shaped like each input: "
                              + ", ".join(f"{n} {tuple(x.shape)}" for n, x in zip(wrt, xs)) + ")")
    _, out = functional.jvp(f, xs, tuple(v) if v else None)
    title = f"df/d({','.join(wrt)}) v"
    r = Result("jvp", value, [Block(title, _numpy(out), tuple(wrt))])
    r.displays.append(_vector_display(title, _numpy(out), OUTPUT, "jvp"))
    return r


def _jacobian(program, f, xs, wrt, value, v) -> Result:
    _check_size(program, value.numel() * sum(x.numel() for x in xs), "Jacobian")
    jac = functional.jacobian(f, xs)
    r = Result("jacobian", value)
    cols, labels = [], []
    for name, x, j in zip(wrt, xs, jac):
        arr = _numpy(j)
        r.blocks.append(Block(f"d{OUTPUT}/d{name}", arr, (name,)))
        cols.append(arr.reshape(value.numel(), x.numel()))
        labels += index_labels(name, tuple(x.shape))
    title = f"jacobian d{OUTPUT}/d({', '.join(wrt)})" if len(wrt) > 1 else f"jacobian d{OUTPUT}/d{wrt[0]}"
    shape = " + ".join(f"{n} {tuple(x.shape)}" for n, x in zip(wrt, xs))
    note = f"rows: {OUTPUT} {tuple(value.shape)}, columns: {shape}"
    r.displays.append(Display(title, np.concatenate(cols, axis=1), index_labels(OUTPUT, tuple(value.shape)),
                              labels, note))
    return r


def _hessian(program, f, xs, wrt, value, v) -> Result:
    _check_scalar(program, "hessian", value, "the Hessian is of a scalar function")
    n = sum(x.numel() for x in xs)
    _check_size(program, n * n, "Hessian")
    hes = functional.hessian(f, xs)
    r = Result("hessian", value)
    rows = []
    for a, xa, row in zip(wrt, xs, hes):
        blocks = []
        for b, xb, h in zip(wrt, xs, row):
            arr = _numpy(h)
            r.blocks.append(Block(f"d2{OUTPUT}/d{a}d{b}", arr, (a, b)))
            blocks.append(arr.reshape(xa.numel(), xb.numel()))
        rows.append(np.concatenate(blocks, axis=1))
    labels = [lab for name, x in zip(wrt, xs) for lab in index_labels(name, tuple(x.shape))]
    title = f"hessian d2{OUTPUT}/d({', '.join(wrt)})^2" if len(wrt) > 1 else f"hessian d2{OUTPUT}/d{wrt[0]}^2"
    r.displays.append(Display(title, np.concatenate(rows, axis=0), labels, labels,
                              f"rows and columns: {', '.join(f'{n} {tuple(x.shape)}' for n, x in zip(wrt, xs))}"))
    return r


def _jacdet(program, f, xs, wrt, value, v) -> Result:
    if len(xs) != 1:
        raise _whole(program, f"jacdet takes one input (--wrt NAME), got {len(xs)}: {', '.join(wrt)}")
    det = autojac.func.jacdet(f)(xs[0])
    title = f"det(d{OUTPUT}/d{wrt[0]})"
    arr = _numpy(det)
    r = Result("jacdet", value, [Block(title, arr, tuple(wrt))])
    r.displays.append(Display(title, arr.reshape(1, 1), [title], [""]))
    return r


def sparse_jacobian(program: Program, env: dict[str, Any], wrt: list[str]) -> Result:
    """The Jacobian by ``autojac.sparse``: pattern detected, colored, one pass per color."""
    if len(wrt) != 1:
        raise InputError("--sparse: one input at a time (--wrt NAME)", ",".join(wrt))
    f = make_function(program, env, wrt)
    x = env[wrt[0]]
    with autojac.no_grad():
        value = f(x)
    _check_size(program, value.numel() * x.numel(), "Jacobian")
    try:
        plan = sparse.jacobian_plan(f, x)
        jac = plan(x)
    except (RuntimeError, ValueError, TypeError) as e:
        raise _whole(program, f"jacobian --sparse: {str(e).strip().splitlines()[0]}") from None
    dense = jac.toarray().astype(x.detach().numpy().dtype, copy=False)
    r = Result("jacobian", value, sparsity=Sparsity(plan.sparsity, np.asarray(plan.colors), int(plan.n_colors),
                                                    plan.mode))
    r.blocks.append(Block(f"d{OUTPUT}/d{wrt[0]}", dense.reshape(tuple(value.shape) + tuple(x.shape)), (wrt[0],)))
    r.displays.append(Display(f"jacobian d{OUTPUT}/d{wrt[0]} (sparse)", dense,
                              index_labels(OUTPUT, tuple(value.shape)), index_labels(wrt[0], tuple(x.shape)),
                              f"rows: {OUTPUT} {tuple(value.shape)}, columns: {wrt[0]} {tuple(x.shape)}"))
    return r


_COMMANDS = {"grad": _grad, "jacobian": _jacobian, "hessian": _hessian, "jvp": _jvp, "vjp": _vjp,
             "jacdet": _jacdet}
