"""Write ``_tensor.pyi``: the type stub of ``autojac._tensor`` with every public ``Tensor`` method.

Tensor's op-backed methods are assigned after the class body (in ``_tensor_methods``), so editors
and type checkers reading ``_tensor.py`` alone see almost none of them. The stub
lists them all with their signatures, read by ``inspect`` from the live class; the few that
``inspect`` cannot read (wrappers taking ``*args, **kwargs``) are written by hand in ``HAND``.

Regenerate after adding or changing a Tensor method (``tests/test_stub.py`` fails until you do)::

    PYTHONPATH=src python -m autojac._stubgen

>>> from autojac._stubgen import render
>>> "    def sin(self) -> Tensor: ..." in render()
True
"""

from __future__ import annotations

import ast
import builtins
import inspect
import sys
from pathlib import Path
from types import ModuleType

import autojac  # noqa: F401  (the package assigns Tensor's methods: the stub reads them from the live class)
from autojac import _tensor

STUB_PATH = Path(__file__).with_name("_tensor.pyi")
COMMAND = "PYTHONPATH=src python -m autojac._stubgen"
MODULE = "autojac._tensor"

# dunders every class has or that say nothing to a type checker
_SKIP = {"__dict__", "__doc__", "__module__", "__slots__", "__weakref__", "__annotations__", "__firstlineno__",
         "__static_attributes__", "__qualname__"}

# Signatures ``inspect`` cannot give (``*args, **kwargs`` wrappers, comparisons declared with ``nondiff``),
# written by hand from the function each wraps. ``self`` comes first; names resolve in the stub.
_BINARY = "(self, other) -> Tensor"
_UNARY = "(self) -> Tensor"
HAND = {
    **{name: _BINARY for name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
                                  "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor")},
    **{name: _UNARY for name in ("logical_not", "isnan", "isinf", "isfinite")},
    **{name: _BINARY for name in ("__iadd__", "__isub__", "__imul__", "__itruediv__")},
    "__ipow__": "(self, exponent) -> Tensor",
    "__new__": "(cls, *args: Any, **kwargs: Any) -> Tensor",
    "celu_": "(self, alpha: builtins.float = 1.0) -> Tensor",
    "selu_": _UNARY,
    "threshold_": "(self, threshold: builtins.float, value: builtins.float) -> Tensor",
}

# Return types of methods that do not annotate theirs (an unannotated op-backed method returns a Tensor).
_PAIR = "_ValuesIndices"
RETURNS = {
    "item": "builtins.float", "tolist": "Any", "get_device": "builtins.int", "size": "Size | builtins.int",
    "stride": "tuple[builtins.int, ...] | builtins.int", "register_hook": "_RemovableHandle",
    "sort": _PAIR, "topk": _PAIR, "kthvalue": _PAIR, "cummax": _PAIR, "cummin": _PAIR,
    "aminmax": "_MinMax", "max": f"Tensor | {_PAIR}", "min": f"Tensor | {_PAIR}",
    "nonzero": "Tensor | tuple[Tensor, ...]", "type": "str | Tensor",
    "split": "tuple[Tensor, ...]", "chunk": "tuple[Tensor, ...]", "unbind": "tuple[Tensor, ...]",
    "__eq__": "Tensor  # type: ignore[override]", "__ne__": "Tensor  # type: ignore[override]",
    "device": "_device", "real": "Tensor", "imag": "Tensor", "T": "Tensor", "mT": "Tensor", "H": "Tensor",
    "mH": "Tensor", "__new__": "Tensor", "grad_fn": "Node | None",
}
# names the stub defines or imports itself, whatever the source modules call them
_STUB_NAMES = {"Any": ("typing", "Any"), "Iterator": ("collections.abc", "Iterator"),
               "NamedTuple": ("typing", "NamedTuple"), "np": ("numpy", None), "builtins": ("builtins", None),
               "_device": ("autojac._device", "device"), "Node": ("autojac._core.node", "Node")}
_SIMPLE_DEFAULTS = (type(None), bool, int, float, str)


class _Imports:
    """The names the stub's annotations use, each resolved to where it is imported from."""

    def __init__(self) -> None:
        self.names: dict[str, tuple[str, str | None]] = {}

    def add(self, name: str, module: str, attr: str | None) -> None:
        old = self.names.setdefault(name, (module, attr))
        if old != (module, attr):
            raise ValueError(f"the stub needs {name!r} from both {old} and {(module, attr)}: annotate one by hand")

    def lines(self) -> list[str]:
        groups: dict[int, list[str]] = {0: [], 1: [], 2: []}
        froms: dict[str, list[str]] = {}
        for name, (module, attr) in self.names.items():
            if module == MODULE:
                continue
            if attr is None and module.startswith("autojac."):  # a submodule: from its package
                parent, _, attr = module.rpartition(".")
                froms.setdefault(parent, []).append(attr if attr == name else f"{attr} as {name}")
            elif attr is None:
                groups[_group(module)].append(f"import {module}" if name == module else f"import {module} as {name}")
            else:
                froms.setdefault(module, []).append(attr if attr == name else f"{attr} as {name}")
        for module, names in froms.items():
            groups[_group(module)].append(f"from {_relative(module)} import {', '.join(sorted(names, key=_isort_key))}")
        out: list[str] = []
        for g in (0, 1, 2):
            if groups[g]:
                out += sorted(groups[g], key=_line_key) + [""]
        return out


def _relative(module: str) -> str:
    """``autojac.ops.linalg`` as the stub (a module of the ``autojac`` package) imports it: ``.ops.linalg``."""
    if module == "autojac":
        return "."
    return "." + module[len("autojac."):] if module.startswith("autojac.") else module


def _group(module: str) -> int:
    if module.startswith("autojac"):
        return 2
    return 0 if module.split(".")[0] in sys.stdlib_module_names else 1


def _isort_key(name: str) -> tuple:
    # isort's order inside one from-import: CONSTANTS, Classes, functions (ruff's force-sort-within-types)
    base = name.split(" as ")[0]
    kind = 0 if base.isupper() else 1 if base[:1].isupper() else 2
    return (kind, base.lower())


def _line_key(line: str) -> tuple:
    # ruff's isort: plain ``import x`` lines before ``from x import`` lines within a section, each by module;
    # relative modules deepest first is not needed here (all are one dot)
    parts = line.split()
    return (parts[0] == "from", parts[1].lower())


class _Renderer:
    def __init__(self, cls_members: dict[str, object]) -> None:
        self.members = cls_members
        self.imports = _Imports()
        self.named_tuples: dict[str, tuple[str, ...]] = {"_ValuesIndices": ("values", "indices"),
                                                          "_MinMax": ("min", "max")}
        self._note_stub_name("NamedTuple")

    # ---------------------------------------------------------------- annotations
    def annotation(self, text: str, fn_globals: dict) -> str:
        """``text`` (an annotation as written in the source) with its names resolved for the stub."""
        tree = ast.parse(text, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                node.id = self._resolve(node.id, fn_globals)
        return ast.unparse(tree)

    def stub_annotation(self, text: str) -> str:
        """An annotation written for the stub itself (``HAND``, ``RETURNS``): names from ``_STUB_NAMES``."""
        comment = ""
        if "#" in text:
            text, comment = text.split("#", 1)
            comment = "  #" + comment
        tree = ast.parse(text.strip(), mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                self._note_stub_name(node.id)
        return ast.unparse(tree) + comment

    def _note_stub_name(self, name: str) -> None:
        if name in _STUB_NAMES:
            module, attr = _STUB_NAMES[name]
            self.imports.add(name, module, attr)

    def _resolve(self, name: str, fn_globals: dict) -> str:
        if name == "None":
            return name
        if name in fn_globals:
            obj = fn_globals[name]
        elif hasattr(builtins, name):
            obj = getattr(builtins, name)
        else:
            raise ValueError(f"cannot resolve annotation name {name!r}: add the method to autojac._stubgen.HAND")
        if isinstance(obj, ModuleType):
            self.imports.add(name, obj.__name__, None)
            return name
        module, attr = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
        if module is None or attr is None:
            raise ValueError(f"cannot resolve annotation name {name!r} ({obj!r})")
        if module == "builtins":
            if name in self.members:  # a Tensor method named bool/int/float/type shadows the builtin in the class
                self.imports.add("builtins", "builtins", None)
                return f"builtins.{name}"
            return name
        if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields"):
            # a result named tuple made by a factory (type checkers cannot read those): declared in the stub
            self.named_tuples[f"_{name}"] = obj._fields
            self._note_stub_name("NamedTuple")
            return f"_{name}"
        if module == "collections.abc" or module.startswith("_collections_abc"):
            module = "collections.abc"
        alias = f"_{name}" if name in self.members else name
        self.imports.add(alias, module, attr)
        return alias

    # ---------------------------------------------------------------- signatures
    def signature(self, name: str, fn, *, method: bool = True) -> str:
        """``(self, a: int = 0) -> Tensor`` for ``fn`` bound as method ``name``."""
        if name in HAND:
            return self._hand(HAND[name])
        fn_globals = getattr(inspect.unwrap(fn), "__globals__", {})
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        if method and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            params = params[1:]
        elif method:
            raise ValueError(f"Tensor.{name}{sig} takes no self: add it to autojac._stubgen.HAND")
        if method and [(p.kind, p.name) for p in params] == _HIDDEN and sig.return_annotation is sig.empty:
            base = self.members.get(name[:-1]) if name.endswith("_") else None
            if callable(base):  # an in-place wrapper x_(self, *args, **kwargs): x's arguments, returning self
                return self.signature(name[:-1], base).rsplit(" -> ", 1)[0] + " -> Tensor"
            raise ValueError(f"Tensor.{name}{sig} hides its signature: add it to autojac._stubgen.HAND")
        parts = ["self"] if method else []
        star_done = False
        for i, p in enumerate(params):
            if p.kind is p.KEYWORD_ONLY and not star_done:
                parts.append("*")
                star_done = True
            if p.kind is p.VAR_POSITIONAL:
                star_done = True
            text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
            if p.annotation is not p.empty:
                text += ": " + self.annotation(_text(p.annotation), fn_globals)
            if p.default is not p.empty:
                text += (" = " if p.annotation is not p.empty else "=") + _default(p.default)
            parts.append(text)
            if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
                parts.append("/")
        return f"({', '.join(parts)}) -> {self.returns(name, fn, sig, fn_globals)}"

    def returns(self, name: str, fn, sig, fn_globals: dict) -> str:
        if name in RETURNS:
            return self.stub_annotation(RETURNS[name])
        if sig is not None and sig.return_annotation is not sig.empty:
            return self.annotation(_text(sig.return_annotation), fn_globals)
        if not getattr(fn, "__module__", "").startswith(("autojac.ops", "autojac._core", "autojac._tensor_methods")):
            raise ValueError(f"Tensor.{name} has no return annotation: annotate it or add it to "
                             "autojac._stubgen.RETURNS")
        return "Tensor"

    def _hand(self, text: str) -> str:
        params, ret = text.rsplit(" -> ", 1)
        tree = ast.parse(f"def f{params}: ...")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                self._note_stub_name(node.id)
        return f"{params} -> {self.stub_annotation(ret)}"


_HIDDEN = [(inspect.Parameter.VAR_POSITIONAL, "args"), (inspect.Parameter.VAR_KEYWORD, "kwargs")]


def _text(annotation) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _default(value) -> str:
    if isinstance(value, _SIMPLE_DEFAULTS) or (isinstance(value, tuple) and all(
            isinstance(v, _SIMPLE_DEFAULTS) for v in value)):
        return repr(value)
    return "..."


def public_members(cls) -> dict[str, object]:
    """The attributes ``cls`` defines that a user may touch: public names and the dunders it implements."""
    out = {}
    for name, value in cls.__dict__.items():
        if name in _SKIP or (name.startswith("_") and not (name.startswith("__") and name.endswith("__"))):
            continue
        out[name] = value
    return dict(sorted(out.items(), key=lambda kv: (not kv[0].startswith("__"), kv[0])))


def _def(name: str, sig: str, indent: str, decorator: str = "") -> list[str]:
    ret_comment = ""
    if "  # " in sig:
        sig, ret_comment = sig.split("  # ", 1)
        ret_comment = "  # " + ret_comment
    line = f"{indent}def {name}{sig}: ...{ret_comment}"
    out = [f"{indent}{decorator}"] if decorator else []
    if len(line) <= 120:
        return out + [line]
    params, ret = sig.rsplit(" -> ", 1)
    inner = _split_params(params[1:-1])
    return out + [f"{indent}def {name}("] + [f"{indent}    {p}," for p in inner] + [
        f"{indent}) -> {ret}: ...{ret_comment}"]


def _split_params(text: str) -> list[str]:
    """Split a parameter list at its top-level commas."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _render_class(r: _Renderer, cls, members: dict[str, object]) -> list[str]:
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    lines = [f"class {cls.__name__}{'(' + ', '.join(bases) + ')' if bases else ''}:"]
    for name, value in members.items():
        lines += _render_member(r, cls, name, value)
    if len(lines) == 1:
        lines.append("    ...")
    return lines


def _render_member(r: _Renderer, cls, name: str, value) -> list[str]:
    ind = "    "
    if isinstance(value, property):
        fget = value.fget
        sig = inspect.signature(fget)
        ret = r.returns(name, fget, sig, getattr(fget, "__globals__", {}))
        out = _def(name, f"(self) -> {ret}", ind, "@property")
        if value.fset is not None:
            fset_sig = inspect.signature(value.fset)
            p = list(fset_sig.parameters.values())[1]
            ann = ret.split("  #")[0]
            if p.annotation is not p.empty:
                ann = r.annotation(_text(p.annotation), value.fset.__globals__)
            out += _def(name, f"(self, {p.name}: {ann}) -> None", ind, f"@{name}.setter")
        if value.fdel is not None:
            out += _def(name, "(self) -> None", ind, f"@{name}.deleter")
        return out
    if isinstance(value, staticmethod) or name == "__new__":
        return _def(name, r.signature(name, getattr(cls, name), method=False) if name not in HAND
                    else r._hand(HAND[name]), ind)
    if callable(value):
        return _def(name, r.signature(name, value), ind)
    return [f"{ind}{name}: {type(value).__name__}"]


def render() -> str:
    """The stub's text, from the live ``autojac._tensor`` (with every method the package assigns)."""
    tensor_members = public_members(_tensor.Tensor)
    r = _Renderer(tensor_members)
    body: list[str] = []
    for obj in vars(_tensor).values():
        if getattr(obj, "__module__", None) != MODULE:
            continue
        if inspect.isclass(obj):
            members = tensor_members if obj is _tensor.Tensor else public_members(obj)
            body += ["", ""] + _render_class(r, obj, members)
        elif inspect.isfunction(obj):
            body += ["", ""] + _def(obj.__name__, r.signature(obj.__name__, obj, method=False), "")
    for name, fields in sorted(r.named_tuples.items()):
        # stub only: the named tuples results come in (made by factories at run time)
        body += ["", "", f"class {name}(NamedTuple):"] + [f"    {f}: Tensor" for f in fields]
    head = [f'"""Type stub of autojac._tensor, generated by ``{COMMAND}``: do not edit."""', ""]
    return "\n".join(head + r.imports.lines()[:-1] + body[1:]) + "\n"  # stubs: one blank line after imports


def main() -> None:
    STUB_PATH.write_text(render())
    print(f"wrote {STUB_PATH}")


if __name__ == "__main__":
    main()
