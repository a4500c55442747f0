"""Safe evaluation of calculator expressions: an AST whitelist, never ``eval``.

An expression is one or more statements separated by ``;`` or newlines: assignments to plain
names (``y = x*x; u = y.detach()``) and a final expression (or assignment) whose value is the
result. Allowed: names bound by ``--at`` or earlier assignments, autojac's public functions
(``exp``, ``stack``, ``ones``, ``linalg.det``...), dtypes (``float64``), the constants ``pi e
inf nan``, a whitelist of Tensor methods and properties, arithmetic and comparison operators,
subscripts and slices, number/string literals, list and tuple displays and keyword arguments.

Everything is checked before anything runs (dunder names, lambdas, comprehensions, imports,
unknown attributes); sizes are checked before each allocation runs (constructors, ``repeat``,
broadcasting, integer powers), so ``ones(10**10)`` and ``2**10**10`` are refused instantly.

>>> import autojac
>>> Program("exp(x).sum(1)", ["x"]).run({"x": autojac.zeros(2, 3)})
tensor([3., 3.])
>>> Program("__import__('os')")
Traceback (most recent call last):
    ...
autojac.cli.errors.InputError: names starting with '_' are not allowed: '__import__'
"""

from __future__ import annotations

import ast
import math
import operator
import types
from typing import Any

import numpy as np

import autojac

from .._core.node import Op
from .errors import InputError, char_column

MAX_ELEMENTS = 10_000_000  # the largest tensor an expression may ask for (40 MB in float32)
MAX_SOURCE = 10_000  # characters
MAX_INT_BITS = 4096  # Python integers beyond this are refused before ** computes them

# functions that change global state or hand out raw arrays / graph internals are not offered
_DENIED_FUNCTIONS = {
    "set_default_dtype", "manual_seed", "seed", "set_rng_state", "get_rng_state", "initial_seed",
    "set_printoptions", "from_numpy", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "is_grad_enabled", "is_inference_mode_enabled", "promote_types", "result_type",
}
_DENIED_METHODS = {
    "backward", "data", "grad", "grad_fn", "numpy", "tolist", "register_hook", "retain_grad", "retains_grad",
    "type", "output_nr", "storage_offset", "is_leaf", "device", "cpu", "element_size", "is_cuda",
}


# only array functions are offered: ops, and the few tensor predicates autojac defines itself. A function
# added to autojac elsewhere later (file I/O, say) is not reachable from an expression until listed here.
_ARRAY_MODULES = ("autojac.ops.", "autojac.linalg", "autojac._core.node", "autojac._tensor")


def _is_array_function(name: str, obj: Any) -> bool:
    if name.startswith("_") or name in _DENIED_FUNCTIONS or isinstance(obj, type):
        return False
    if isinstance(obj, Op):
        return True
    module = getattr(obj, "__module__", "") or ""
    return isinstance(obj, types.FunctionType) and (module.startswith(_ARRAY_MODULES) or module == "autojac")


FUNCTIONS: dict[str, Any] = {n: getattr(autojac, n) for n in dir(autojac) if _is_array_function(n, getattr(autojac, n))}
DTYPES: dict[str, Any] = {n: getattr(autojac, n) for n in dir(autojac)
                          if isinstance(getattr(autojac, n), autojac.dtype)}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
MODULES: dict[str, dict[str, Any]] = {
    "linalg": {n: getattr(autojac.linalg, n) for n in dir(autojac.linalg)
               if _is_array_function(n, getattr(autojac.linalg, n))},
}
# in-place methods (``add_``) would mutate the --at values behind autograd's back
METHODS: frozenset[str] = frozenset(
    n for n in dir(autojac.Tensor) if not n.startswith("_") and not n.endswith("_") and n not in _DENIED_METHODS)
RESERVED = set(FUNCTIONS) | set(DTYPES) | set(CONSTANTS) | set(MODULES)

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.MatMult: operator.matmul}
_UNARYOPS = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_CMPOPS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne}
_NUMBER = (bool, int, float, complex)

# what each refused construct is called in the error message
_REFUSED = {
    ast.Lambda: "lambdas are not allowed", ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed", ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed", ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed", ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed", ast.YieldFrom: "yield is not allowed",
    ast.NamedExpr: "':=' is not allowed; use 'name = value;'", ast.Starred: "'*' unpacking is not allowed",
    ast.JoinedStr: "f-strings are not allowed", ast.Dict: "dict displays are not allowed",
    ast.Set: "set displays are not allowed", ast.IfExp: "conditional expressions are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed; use logical_and / logical_or",
    ast.FunctionDef: "function definitions are not allowed", ast.ClassDef: "class definitions are not allowed",
    ast.For: "loops are not allowed", ast.While: "loops are not allowed", ast.With: "'with' is not allowed",
    ast.Delete: "'del' is not allowed", ast.Global: "'global' is not allowed", ast.Try: "'try' is not allowed",
    ast.AugAssign: "augmented assignment is not allowed; write 'y = y + 1'",
}


class Program:
    """A parsed and checked expression; ``run(env)`` evaluates it with names bound by ``env``."""

    def __init__(self, source: str, names: tuple[str, ...] | list[str] = (), what: str = "expression") -> None:
        self.source = source
        self.what = what
        if len(source) > MAX_SOURCE:
            raise InputError(f"{what} is longer than {MAX_SOURCE} characters", source[:80] + "...")
        if not source.strip():
            raise InputError(f"empty {what}", source)
        try:
            tree = ast.parse(source, mode="exec")
        except SyntaxError as e:
            line = e.lineno or 1
            start = (e.offset or 1) - 1
            end = (e.end_offset - 1) if e.end_offset and (e.end_lineno in (None, line)) else None
            raise InputError(f"invalid syntax in {what}: {e.msg}", source, start, end, line) from None
        except (ValueError, MemoryError, RecursionError) as e:  # huge int literals, deep nesting
            raise InputError(f"cannot parse {what}: {e}", source) from None
        self.body = tree.body
        if not self.body:
            raise InputError(f"empty {what}", source)
        self.assigned: list[str] = []
        bound = set(names)
        try:
            for stmt in self.body:
                self._check_statement(stmt, bound)
        except RecursionError:
            raise InputError(f"{what} is nested too deeply", source) from None

    def parts(self) -> tuple[str, str]:
        """(the statements before the last, the last value's source): ``y = x*x; y + 1`` -> ``y = x*x``, ``y + 1``."""
        seg = [ast.get_source_segment(self.source, s) or "" for s in self.body]
        last = ast.get_source_segment(self.source, self.body[-1].value) or seg[-1]
        return "; ".join(seg[:-1]), last

    # ------------------------------------------------------------------ static checks
    def error(self, message: str, node: ast.AST | None) -> InputError:
        if node is None or not hasattr(node, "col_offset"):
            return InputError(message, self.source)
        line = node.lineno
        text = self.source.splitlines()[line - 1] if self.source.splitlines() else ""
        start = char_column(text, node.col_offset)
        end = char_column(text, node.end_col_offset) if node.end_lineno == line else len(text)
        return InputError(message, self.source, start, end, line)

    def _check_statement(self, stmt: ast.stmt, bound: set[str]) -> None:
        if isinstance(stmt, ast.Expr):
            self._check(stmt.value, bound)
        elif isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise self.error("only assignments to one plain name are allowed ('y = x*x')", stmt)
            self._check(stmt.value, bound)
            name = stmt.targets[0].id
            self._check_name_spelling(name, stmt.targets[0])
            if name in RESERVED:
                raise self.error(f"cannot assign to '{name}': it names an autojac function or constant",
                                 stmt.targets[0])
            bound.add(name)
            self.assigned.append(name)
        else:
            raise self.error(_REFUSED.get(type(stmt), f"{type(stmt).__name__} statements are not allowed"), stmt)

    def _check_name_spelling(self, name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            raise self.error(f"names starting with '_' are not allowed: '{name}'", node)

    def _check(self, node: ast.AST, bound: set[str]) -> None:
        if type(node) in _REFUSED:
            raise self.error(_REFUSED[type(node)], node)
        if isinstance(node, ast.Name):
            self._check_name_spelling(node.id, node)
            if not isinstance(node.ctx, ast.Load):
                raise self.error("assignment is only allowed as a statement ('y = x*x')", node)
            if node.id not in bound and node.id not in RESERVED:
                raise self.error(f"unknown name '{node.id}' (bind it with --at {node.id}=VALUE)", node)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, (*_NUMBER, str, type(None), type(Ellipsis))):
                raise self.error(f"{type(node.value).__name__} literals are not allowed", node)
        elif isinstance(node, ast.Attribute):
            attr = node.attr
            if attr.startswith("_"):
                raise self.error(f"attributes starting with '_' are not allowed: '.{attr}'", node)
            if isinstance(node.value, ast.Name) and node.value.id in MODULES:
                if attr not in MODULES[node.value.id]:
                    raise self.error(f"'{node.value.id}.{attr}' is not an autojac function", node)
                return
            self._check(node.value, bound)  # left to right: `__import__('os').system` is refused for its name
            if attr not in METHODS:
                raise self.error(f"'.{attr}' is not an allowed tensor method or property", node)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, (ast.Name, ast.Attribute)):
                self._check(node.func, bound)  # a lambda or comprehension gets its own message first
                raise self.error("only autojac functions and tensor methods can be called", node.func)
            if isinstance(node.func, ast.Name) and node.func.id not in FUNCTIONS:
                self._check_name_spelling(node.func.id, node.func)
                raise self.error(f"unknown function '{node.func.id}' (only autojac's functions can be called: "
                                 "exp, sin, stack, ones, ...)", node.func)
            if isinstance(node.func, ast.Attribute):
                self._check(node.func, bound)
            for a in node.args:
                self._check(a, bound)
            for k in node.keywords:
                if k.arg is None:
                    raise self.error("'**' unpacking is not allowed", k.value)
                if k.arg.startswith("_"):
                    raise self.error(f"keywords starting with '_' are not allowed: '{k.arg}'", k.value)
                self._check(k.value, bound)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise self.error(f"operator {type(node.op).__name__} is not allowed", node)
            self._check(node.left, bound)
            self._check(node.right, bound)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARYOPS:
                raise self.error(f"operator {type(node.op).__name__} is not allowed", node)
            self._check(node.operand, bound)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _CMPOPS:
                    raise self.error(f"comparison {type(op).__name__} is not allowed", node)
            self._check(node.left, bound)
            for c in node.comparators:
                self._check(c, bound)
        elif isinstance(node, ast.Subscript):
            self._check(node.value, bound)
            self._check(node.slice, bound)
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper, node.step):
                if part is not None:
                    self._check(part, bound)
        elif isinstance(node, (ast.Tuple, ast.List)):
            if not isinstance(node.ctx, ast.Load):
                raise self.error("only assignments to one plain name are allowed ('y = x*x')", node)
            for elt in node.elts:
                self._check(elt, bound)
        else:
            raise self.error(_REFUSED.get(type(node), f"{type(node).__name__} is not allowed"), node)

    # ------------------------------------------------------------------ evaluation
    def run(self, env: dict[str, Any]) -> Any:
        """Evaluate with ``env`` (names to values); assignments land in ``env``. Returns the last value."""
        value = None
        try:
            for stmt in self.body:
                value = self._eval(stmt.value, env)
                if isinstance(stmt, ast.Assign):
                    env[stmt.targets[0].id] = value
        except RecursionError:
            raise InputError(f"{self.what} is nested too deeply", self.source) from None
        return value

    def _eval(self, node: ast.AST, env: dict[str, Any]) -> Any:
        try:
            value = self._eval_node(node, env)
            if isinstance(value, autojac.Tensor):
                # a view can be huge without allocating (expand, broadcast_tensors): stop before an op copies it
                self._check_size(node, value.numel(), "the result")
            return value
        except InputError:
            raise
        except RecursionError:
            raise
        except MemoryError:
            raise self.error("out of memory", node) from None
        except Exception as e:  # an error of autojac or NumPy: one line, pointing at this node
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise self.error(f"{type(e).__name__}: {first}" if first else type(e).__name__, node) from None

    def _eval_node(self, node: ast.AST, env: dict[str, Any]) -> Any:
        t = type(node)
        if t is ast.Constant:
            return node.value
        if t is ast.Name:
            name = node.id
            if name in env:
                return env[name]
            for table in (FUNCTIONS, DTYPES, CONSTANTS):
                if name in table:
                    return table[name]
            raise self.error(f"unknown name '{name}' (bind it with --at {name}=VALUE)", node)
        if t is ast.BinOp:
            left = self._eval(node.left, env)
            right = self._eval(node.right, env)
            self._check_operands(node, left, right)
            return _BINOPS[type(node.op)](left, right)
        if t is ast.UnaryOp:
            operand = self._eval(node.operand, env)
            self._check_operands(node, operand)
            return _UNARYOPS[type(node.op)](operand)
        if t is ast.Compare:
            left = self._eval(node.left, env)
            result = None
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, env)
                self._check_operands(node, left, right)
                r = _CMPOPS[type(op)](left, right)
                result = r if result is None else autojac.logical_and(result, r)
                left = right
            return result
        if t is ast.Attribute:
            base = self._eval(node.value, env)
            if not isinstance(base, autojac.Tensor):
                raise self.error(f"'.{node.attr}' needs a tensor, got {type(base).__name__}", node)
            return getattr(base, node.attr)
        if t is ast.Call:
            return self._call(node, env)
        if t is ast.Subscript:
            base = self._eval(node.value, env)
            if not isinstance(base, (autojac.Tensor, tuple, list)):
                raise self.error(f"cannot index a {type(base).__name__}", node)
            return base[self._eval(node.slice, env)]
        if t is ast.Slice:
            return slice(*(None if p is None else self._eval(p, env) for p in (node.lower, node.upper, node.step)))
        if t is ast.Tuple:
            return tuple(self._eval(e, env) for e in node.elts)
        if t is ast.List:
            return [self._eval(e, env) for e in node.elts]
        raise self.error(f"{t.__name__} is not allowed", node)  # unreachable after the static check

    def _check_operands(self, node: ast.AST, *values: Any) -> None:
        for v in values:
            if not isinstance(v, (autojac.Tensor, *_NUMBER)):
                raise self.error(f"operators work on tensors and numbers, not {type(v).__name__}", node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            base, exp = values
            if isinstance(base, int) and isinstance(exp, int) and abs(base) > 1 and exp > 0:
                if exp * math.log2(abs(base)) > MAX_INT_BITS:
                    raise self.error(f"integer power too large: {_short(base)}**{_short(exp)} "
                                     f"(more than {MAX_INT_BITS} bits)", node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            if all(isinstance(v, int) for v in values) and sum(abs(v).bit_length() for v in values) > MAX_INT_BITS:
                raise self.error(f"integer product too large (more than {MAX_INT_BITS} bits)", node)
        shapes = [tuple(v.shape) for v in values if isinstance(v, autojac.Tensor)]
        if len(shapes) > 1 and not isinstance(getattr(node, "op", None), ast.MatMult):
            self._check_size(node, _broadcast_numel(shapes), "the result")

    def _check_size(self, node: ast.AST, n: int | None, what: str) -> None:
        if n is not None and n > MAX_ELEMENTS:
            raise self.error(f"{what} would have {n:,} elements (the limit is {MAX_ELEMENTS:,})", node)

    def _call(self, node: ast.Call, env: dict[str, Any]) -> Any:
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in MODULES:
            fn, name, self_arg = MODULES[f.value.id][f.attr], f.attr, None
        elif isinstance(f, ast.Attribute):
            self_arg = self._eval(f.value, env)
            if not isinstance(self_arg, autojac.Tensor):
                raise self.error(f"'.{f.attr}()' needs a tensor, got {type(self_arg).__name__}", f)
            fn, name = getattr(self_arg, f.attr), f.attr
        else:
            fn, name, self_arg = FUNCTIONS[f.id], f.id, None
        args = [self._eval(a, env) for a in node.args]
        kwargs = {k.arg: self._eval(k.value, env) for k in node.keywords}
        self._check_size(node, _requested_elements(name, self_arg, args, kwargs), f"'{name}(...)'")
        return fn(*args, **kwargs)


def _short(n: int) -> str:
    s = str(n) if n.bit_length() < 200 else f"<{n.bit_length()}-bit integer>"
    return s if len(s) <= 24 else s[:10] + "..." + s[-6:]


def _broadcast_numel(shapes: list[tuple]) -> int | None:
    try:
        return math.prod(np.broadcast_shapes(*shapes))
    except ValueError:
        return None  # they do not broadcast: the op itself says so


def _ints(values: Any) -> list[int]:
    """The integers in a size argument: ``3``, ``(2, 3)``, ``[2, 3]``, ``Size([2, 3])``."""
    if isinstance(values, bool):
        return []
    if isinstance(values, int):
        return [values]
    if isinstance(values, (tuple, list)):
        return [i for v in values for i in _ints(v)]
    return []


def _numel(x: Any) -> int:
    return x.numel() if isinstance(x, autojac.Tensor) else 1


_SIZE_ARGS = {"ones", "zeros", "empty", "rand", "randn", "new_ones", "new_zeros", "new_empty", "randperm"}
_TIMES_SELF = {"repeat", "tile", "repeat_interleave"}
_PRODUCTS = {"outer", "ger", "kron", "cdist", "cartesian_prod"}


def _requested_elements(name: str, self_arg: Any, args: list, kwargs: dict) -> int | None:
    """How many elements a call will allocate, computed from its arguments before it runs (an upper bound)."""
    try:
        if name in _SIZE_ARGS:
            return math.prod(_ints(args or kwargs.get("size", ())))
        if name == "normal" and "size" in kwargs:
            return math.prod(_ints(kwargs["size"]))
        if name.startswith("conv_transpose"):  # the output grows with stride and dilation
            stride = _ints(kwargs.get("stride", args[3] if len(args) > 3 else 1))
            dilation = _ints(kwargs.get("dilation", args[7] if len(args) > 7 else 1))
            return (_numel(args[0]) * _numel(args[1]) * math.prod(abs(i) for i in stride)
                    * math.prod(abs(i) for i in dilation))
        if name in ("full", "new_full", "randint"):
            size = kwargs.get("size", args[-1] if name == "randint" and args else args[0] if args else ())
            return math.prod(_ints(size))
        if name == "eye":
            n = args[0] if args else kwargs.get("n", 1)
            m = args[1] if len(args) > 1 else kwargs.get("m", n)
            return int(n) * int(m)
        if name == "arange":
            nums = [float(a) for a in args]
            start, end, step = (0.0, nums[0], 1.0) if len(nums) == 1 else (nums + [1.0])[:3]
            step = float(kwargs.get("step", step))
            end = float(kwargs.get("end", end))
            return max(0, math.ceil((end - start) / step)) if step else None
        if name in ("linspace", "logspace"):
            return int(args[2] if len(args) > 2 else kwargs.get("steps", 0))
        if name in ("expand", "broadcast_to"):
            return math.prod(abs(i) for i in _ints(args or kwargs.get("size", ())))
        if name in _TIMES_SELF:
            return _numel(self_arg if self_arg is not None else args[0]) * math.prod(_ints(args or
                                                                                      list(kwargs.values())))
        if name in _PRODUCTS:
            return math.prod(_numel(a) for a in [self_arg, *args] if isinstance(a, autojac.Tensor))
        tensors = [a for a in [self_arg, *args, *kwargs.values()] if isinstance(a, autojac.Tensor)]
        if len(tensors) > 1:
            return _broadcast_numel([tuple(t.shape) for t in tensors])
    except (TypeError, ValueError, OverflowError, IndexError):
        return None  # malformed arguments: the function reports them in its own words
    return None
