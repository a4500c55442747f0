"""``autojac``: a derivative calculator, a tour of the seeds' examples, and graph pictures.

    autojac jacobian "stack([x[0]**2, x[0]*x[1], x[1]**2])" --at x=[2.,3.]
    autojac grad "(x**3).sum()" --at x="arange(4.)" --latex
    autojac hessian "(x*x*arange(4.))[3]" --at x="ones(4)"
    autojac vjp "a @ b" --at a="randn(2,3)" --at b="randn(3,2)" --v "ones(2,2)" --seed 0
    autojac graph "y = x*x; u = y.detach(); z = u*x" --at x="arange(4.)" -o graph.svg
    autojac tour --lang zh
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import autojac

from ..viz import graph, jacobian_plot
from .compute import COMMANDS, differentiate, sparse_jacobian
from .errors import InputError
from .expr import Program
from .render import latex, save_arrays, sparsity_report, terminal, to_json
from .tour import run_tour
from .values import binding_name, parse_binding, parse_value

_DTYPES = {"float32": autojac.float32, "float64": autojac.float64}
_EXPR_HELP = ("an expression in autojac's functions of the --at names, e.g. \"exp(x).sum(1)\"; several statements "
              "may be separated by ';' (\"y = x*x; u = y.detach(); u*x\"), the last one is f; an expression "
              "starting with '-' goes last, after '--': autojac grad --at x=[1.] -- \"-x.sum()\"")


# ---------------------------------------------------------------------- the argument parser
def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", metavar="EXPR", help=_EXPR_HELP)
    p.add_argument("--at", metavar="NAME=VALUE", action="append", default=[],
                   help="bind a name: a literal [[1,2],[3,4]], a constructor ones(4) / arange(3.) / randn(2,3) / "
                        "linspace(0,1,5), or a .npy/.npz/.csv file (repeat for several names)")
    p.add_argument("--seed", type=int, default=None, help="seed the random constructors (randn, rand, randint)")
    p.add_argument("--dtype", choices=sorted(_DTYPES), default="float32",
                   help="floating-point dtype of the inputs (default float32, as PyTorch)")


def _add_wrt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wrt", metavar="NAME[,NAME]", action="append", default=[],
                   help="differentiate with respect to these names (default: every floating-point --at name)")


def _add_output(p: argparse.ArgumentParser) -> None:
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print LaTeX bmatrix blocks")
    fmt.add_argument("--json", action="store_true", help="print JSON (values, shape, dtype of every result)")
    p.add_argument("--npy", metavar="FILE", help="also save the result (.npy; .npz for several --wrt names)")
    p.add_argument("--precision", type=int, default=4, metavar="N", help="digits after the point (default 4)")


def _add_v(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--v", metavar="VALUE", action="append", default=[], help=help)


def _add_plot(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plot", metavar="FILE", help="also draw the matrix as a heatmap (.png, .svg, .pdf; matplotlib)")


def _add_sparse(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sparse", action="store_true",
                   help="detect the sparsity pattern, color it and evaluate one pass per color; prints the pattern "
                        "and the colors (one --wrt input)")


# Options each derivative command takes beyond inputs, --wrt and the output formats. One list per
# command: a new option (the sparse Jacobian's --sparse, say) is one ``_add_*`` function and one entry here.
_COMMAND_OPTIONS: dict[str, list[Callable[[argparse.ArgumentParser], None]]] = {
    "grad": [],
    "jacobian": [_add_plot, _add_sparse],
    "hessian": [_add_plot],
    "jvp": [lambda p: _add_v(p, "the tangent, shaped like the input (one per --wrt name, in order)")],
    "vjp": [lambda p: _add_v(p, "the cotangent, shaped like f (may be left out when f has one element)")],
    "jacdet": [],
}
_COMMAND_HELP = {
    "grad": "gradient of a one-element expression",
    "jacobian": "Jacobian matrix: rows are f's elements, columns the inputs' elements",
    "hessian": "Hessian matrix of a one-element expression",
    "jvp": "Jacobian-vector product J v (forward mode)",
    "vjp": "vector-Jacobian product v^T J (reverse mode)",
    "jacdet": "determinant of a square Jacobian",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autojac", description=__doc__.split("\n")[0].split(": ", 1)[1],
                                     epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        p = sub.add_parser(name, help=_COMMAND_HELP[name], description=_COMMAND_HELP[name])
        _add_inputs(p)
        _add_wrt(p)
        _add_output(p)
        for add in _COMMAND_OPTIONS[name]:
            add(p)
        p.set_defaults(run=_run_derivative)
    p = sub.add_parser("graph", help="draw the recorded graph of an expression",
                       description="draw the recorded graph of an expression (text, or a file with -o)")
    _add_inputs(p)
    _add_wrt(p)
    p.add_argument("-o", "--output", metavar="FILE", help="write .svg, .png, .pdf (Graphviz's dot) or .dot; "
                                                           "without it the graph is drawn as text")
    p.set_defaults(run=_run_graph)
    p = sub.add_parser("tour", help="walk through the seed tutorials' examples",
                       description="the seed tutorials' examples: code, result, and the formula each one checks")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    p.add_argument("--no-color", action="store_true", help="plain text, no terminal colours")
    p.set_defaults(run=_run_tour)
    return parser


# ---------------------------------------------------------------------- inputs
def _bind(args: argparse.Namespace) -> tuple[Program, dict[str, Any], list[str]]:
    """Check the expression, evaluate the --at values, pick the --wrt names; nothing runs before the check."""
    names = [binding_name(b) for b in args.at]
    program = Program(args.expr, names)
    if args.seed is not None:
        autojac.manual_seed(args.seed)
    dtype = _DTYPES[args.dtype]
    env: dict[str, Any] = {}
    for text in args.at:
        name, value = parse_binding(text, env)
        env[name] = value.to(dtype) if value.is_floating_point() else value
    wrt_text = ",".join(args.wrt)
    wrt = [w.strip() for w in wrt_text.split(",") if w.strip()]
    for w in wrt:
        if w not in env:
            col = wrt_text.find(w)
            raise InputError(f"--wrt: '{w}' is not bound by --at", wrt_text, col, col + len(w))
    if not wrt:
        floating = [n for n, t in env.items() if t.is_floating_point() or t.is_complex()]
        wrt = floating or list(env)
    if not wrt:
        raise InputError("nothing to differentiate: bind at least one name with --at NAME=VALUE", args.expr)
    for w in wrt:
        if not (env[w].is_floating_point() or env[w].is_complex()):
            env[w] = env[w].to(dtype)  # integer inputs ([1, 2]) are differentiated as floats
    return program, env, wrt


def _vectors(args: argparse.Namespace, env: dict[str, Any]) -> list[autojac.Tensor]:
    out = []
    for text in getattr(args, "v", []):
        v = parse_value(text, env, "v")
        out.append(v.to(_DTYPES[args.dtype]) if not v.is_complex() else v)
    return out


# ---------------------------------------------------------------------- commands
def _run_derivative(args: argparse.Namespace) -> int:
    if not 0 <= args.precision <= 17:
        raise InputError(f"--precision must be between 0 and 17, got {args.precision}")
    program, env, wrt = _bind(args)
    if getattr(args, "sparse", False):
        result = sparse_jacobian(program, env, wrt)
    else:
        result = differentiate(args.command, program, env, wrt, _vectors(args, env))
    _emit(args, program, result, dict(env))
    return 0


def _emit(args: argparse.Namespace, program: Program, result, inputs: dict[str, Any]) -> None:
    """Print the result in the format asked for, then write the files asked for (one branch per option)."""
    if args.json:
        print(to_json(result, args.expr, inputs))
    elif args.latex:
        print(latex(result, args.precision))
    else:
        setup, last = program.parts()
        print(terminal(result, last, inputs, args.precision, setup))
    if result.sparsity is not None and not args.json:
        print(sparsity_report(result.sparsity))
    if args.npy:
        save_arrays(result, args.npy)
    if getattr(args, "plot", None):
        _plot(result, args.plot, program.parts()[1])


def _plot(result, path: str, expression: str) -> None:
    d = result.displays[0]
    matrix, colors = d.matrix, None
    if result.sparsity is not None:  # a spy plot, nonzeros coloured by their group
        import scipy.sparse as sp  # noqa: PLC0415

        matrix, colors = sp.csr_array(result.sparsity.pattern, dtype=float), result.sparsity.colors
    try:
        jacobian_plot(matrix, colors=colors, color_rows=result.sparsity is not None and result.sparsity.mode == "rev",
                      input_names=d.col_labels, output_names=d.row_labels,
                      title=f"{d.title} of f = {expression.strip()}", path=path)
    except (OSError, ValueError, ImportError) as e:  # an unwritable path, an unknown suffix, no matplotlib
        raise InputError(f"--plot: cannot write {path}: {e}", path, 0, len(path)) from None


def _run_graph(args: argparse.Namespace) -> int:
    program, env, wrt = _bind(args)
    for w in wrt:
        env[w] = env[w].detach().requires_grad_()
    scope = dict(env)
    with autojac.enable_grad():
        out = program.run(scope)
    if not isinstance(out, autojac.Tensor):
        raise InputError(f"the expression must give a tensor, it gives a {type(out).__name__}", args.expr)
    names = {n: t for n, t in scope.items() if isinstance(t, autojac.Tensor)}
    if not any(t is out for t in names.values()):
        names["f"] = out  # the unnamed last expression is f, as in the calculator
    picture = graph(out, params=names)
    if not args.output:
        print(picture.text())
        return 0
    try:
        picture.render(args.output)
    except (ImportError, RuntimeError, OSError) as e:
        raise InputError(f"-o: cannot write {args.output}: {e}", args.output, 0, len(args.output)) from None
    except Exception as e:  # graphviz's errors for unknown formats
        raise InputError(f"-o: cannot write {args.output}: {str(e).splitlines()[0]}", args.output, 0,
                         len(args.output)) from None
    print(f"wrote {args.output}")
    return 0


def _run_tour(args: argparse.Namespace) -> int:
    run_tour(lang=args.lang, color=not args.no_color)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``autojac`` console command; returns the exit code (2 for a bad expression or value)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as e:
        print(e.format(), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `autojac tour | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
