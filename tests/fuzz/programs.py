"""Random differentiable programs: the op table, the generator, and the interpreter.

A ``Program`` is plain data: input shapes/dtypes/requires_grad, a seed for the input values,
a list of ``Step``s (an op name from ``OPS``, the registers it reads, its parameters) and the
registers returned. ``run(T, program)`` builds it with ``T`` = ``autojac`` or ``torch``: the
two libraries share their API, so each op is one ``fn(T, *tensors, **params)`` and one
description drives both sides of the comparison.

The generator draws its choices from a ``Chooser``: Hypothesis (CI: shrinkable, derandomized)
or a NumPy generator (``python -m fuzz.hunt``: fast, collects every failure). While it draws,
it runs each step in PyTorch (without grad) on the real data, so every op is drawn for the
actual shapes of its operands — including data-dependent ones (``x[x > 0]``). A step PyTorch
rejects ends the program: autojac must then raise at the same step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

MAX_NUMEL = 120  # per register: keeps Jacobians and Hessians cheap
SCALARS = (-2.0, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0, 2, -1)
TIES = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])  # values that tie and sit on kinks


# ----------------------------------------------------------------------------- choosers
class Chooser:
    """Where the generator's choices come from. ``int`` is inclusive; small values are 'simple'."""

    def int(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def pick(self, seq: Sequence) -> Any:
        return seq[self.int(0, len(seq) - 1)]

    def flag(self, p: float) -> bool:
        """True with probability ``p`` (shrinks towards False)."""
        return self.int(0, 999) >= round(1000 * (1 - p))


class RngChooser(Chooser):
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return int(self.rng.integers(lo, hi + 1))


class DrawChooser(Chooser):
    """Choices drawn by Hypothesis (``draw`` from a composite strategy)."""

    def __init__(self, draw: Callable) -> None:
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def int(self, lo: int, hi: int) -> int:
        return self.draw(self.st.integers(lo, hi))


# ----------------------------------------------------------------------------- programs
@dataclass
class Step:
    op: str
    args: tuple[int, ...]
    params: dict = field(default_factory=dict)


@dataclass
class Program:
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    requires_grad: tuple[bool, ...]
    ties: bool  # input values from TIES instead of a normal distribution
    seed: int
    steps: list[Step]
    outputs: tuple[int, ...]

    def has_float32(self) -> bool:
        """Whether float32 rounding enters anywhere (an input, or a cast)."""
        return "float32" in self.dtypes or any(st.params.get("dtype") == "float32" for st in self.steps)

    def arrays(self) -> list[np.ndarray]:
        """The input values (float64; each run casts them to its dtypes)."""
        rng = np.random.default_rng(self.seed)
        if self.ties:
            return [rng.choice(TIES, s) for s in self.shapes]
        return [rng.standard_normal(s) for s in self.shapes]

    def source(self) -> str:
        """The program as Python (``T`` is the library), for reports and regression tests."""
        lines = [f"# seed={self.seed} ties={self.ties}"]
        for i, (s, d, rg) in enumerate(zip(self.shapes, self.dtypes, self.requires_grad)):
            lines.append(f"r{i} = input({list(s)}, T.{d}, requires_grad={rg})")
        n = len(self.shapes)
        for k, st in enumerate(self.steps):
            args = ", ".join(f"r{a}" for a in st.args)
            params = "".join(f", {key}={val!r}" for key, val in st.params.items())
            lines.append(f"r{n + k} = {st.op}(T, {args}{params})")
        lines.append("return " + ", ".join(f"r{o}" for o in self.outputs))
        return "\n".join(lines)

    __str__ = source


# ----------------------------------------------------------------------------- interpreter
@dataclass
class Run:
    inputs: list
    outputs: list | None
    error: tuple[int, BaseException] | None  # (step, exception) of the first step that raised


def make_inputs(T, prog: Program, arrays: list[np.ndarray], float64: bool = False,
                requires_grad: Sequence[bool] | None = None) -> list:
    rg = prog.requires_grad if requires_grad is None else requires_grad
    return [T.tensor(a, dtype=T.float64 if float64 else getattr(T, d), requires_grad=r)
            for a, d, r in zip(arrays, prog.dtypes, rg)]


def execute(T, prog: Program, inputs: list, float64: bool = False) -> Run:
    """Run the steps on ``inputs``; stop at the first step that raises."""
    regs = list(inputs)
    for k, st in enumerate(prog.steps):
        params = st.params
        if float64 and "dtype" in params:  # the float64 replay keeps every value in float64
            params = {**params, "dtype": "float64"}
        try:
            regs.append(OPS[st.op].fn(T, *(regs[a] for a in st.args), **params))
        except Exception as e:  # noqa: BLE001 - any exception is a result to compare
            return Run(inputs, None, (k, e))
    return Run(inputs, [regs[o] for o in prog.outputs], None)


def run(T, prog: Program, float64: bool = False) -> Run:
    return execute(T, prog, make_inputs(T, prog, prog.arrays(), float64), float64)


# ----------------------------------------------------------------------------- the op table
@dataclass
class OpSpec:
    """``fn(T, *tensors, **params)`` runs the op; ``draw(c, gen, x)`` picks the other operands
    and the parameters for register ``x`` (``None``: the op does not apply)."""

    fn: Callable
    draw: Callable
    inplace: bool = False  # writes into its first operand (which it returns)
    weight: int = 1


OPS: dict[str, OpSpec] = {}


def op(name: str, draw: Callable | None = None, *, inplace: bool = False, weight: int = 1):
    def deco(fn: Callable) -> Callable:
        OPS[name] = OpSpec(fn, draw or (lambda c, g, x: ((x,), {})), inplace, weight)
        fn.__name__ = name
        return fn

    return deco


def unary(name: str, fn: Callable, weight: int = 1) -> None:
    op(name, weight=weight)(fn)


def _softplus(T, x):
    return torch.nn.functional.softplus(x) if T is torch else T.softplus(x)


# elementwise, on safe domains (inputs are standard normal, or small ties)
unary("neg", lambda T, x: -x)
unary("exp", lambda T, x: T.exp(-x * x))
unary("exp_tanh", lambda T, x: T.exp(T.tanh(x)))
unary("exp2", lambda T, x: T.exp2(T.tanh(x)))
unary("expm1", lambda T, x: T.expm1(T.tanh(x)))
unary("log", lambda T, x: T.log(x * x + 1))
unary("log_abs", lambda T, x: T.log(T.abs(x) + 0.5))
unary("log1p", lambda T, x: T.log1p(x * x))
unary("log2", lambda T, x: T.log2(x * x + 0.5))
unary("log10", lambda T, x: T.log10(x * x + 2))
unary("sqrt", lambda T, x: T.sqrt(x * x + 0.25))
unary("rsqrt", lambda T, x: T.rsqrt(x * x + 1))
unary("reciprocal", lambda T, x: T.reciprocal(x * x + 1))
unary("tanh", lambda T, x: T.tanh(x), 2)
unary("sigmoid", lambda T, x: T.sigmoid(x), 2)
unary("sin", lambda T, x: T.sin(x))
unary("cos", lambda T, x: T.cos(x))
unary("tan", lambda T, x: T.tan(T.tanh(x)))
unary("abs", lambda T, x: T.abs(x))
unary("relu", lambda T, x: T.relu(x))
unary("square", lambda T, x: T.square(x))
unary("softplus", _softplus)
unary("pow2", lambda T, x: x ** 2)
unary("pow3", lambda T, x: x ** 3)
unary("leaky", lambda T, x: T.where(x > 0, x, x * 0.1))
unary("frac", lambda T, x: x - T.floor(x))
unary("sign_mul", lambda T, x: T.sign(x) * x)
unary("clone", lambda T, x: x.clone())
unary("contiguous", lambda T, x: x.contiguous())
unary("detach", lambda T, x: x.detach(), 2)


@op("pow_frac", lambda c, g, x: ((x,), {"p": c.pick((0.5, -0.5, 1.5, -1.0, 2.5))}))
def _pow_frac(T, x, p):
    return (x * x + 1) ** p


@op("rpow", lambda c, g, x: ((x,), {"base": c.pick((2.0, 0.5, 3))}))
def _rpow(T, x, base):
    return base ** T.tanh(x)


def _draw_clamp(c, g, x):
    lo, hi = sorted((c.pick(SCALARS), c.pick(SCALARS)))
    kind = c.int(0, 2)
    return (x,), {"lo": lo if kind != 2 else None, "hi": hi if kind != 1 else None}


@op("clamp", _draw_clamp)
def _clamp(T, x, lo, hi):
    return T.clamp(x, min=lo, max=hi)


_SCALAR_OPS = {
    "add": lambda x, s: x + s, "radd": lambda x, s: s + x, "sub": lambda x, s: x - s,
    "rsub": lambda x, s: s - x, "mul": lambda x, s: x * s, "div": lambda x, s: x / s,
    "rdiv": lambda x, s: s / (x * x + 1),
}


@op("scalar", lambda c, g, x: ((x,), {"how": c.pick(tuple(_SCALAR_OPS)), "s": c.pick(SCALARS)}), weight=3)
def _scalar(T, x, how, s):
    return _SCALAR_OPS[how](x, s)


def _draw_to(c, g, x):
    dtype = c.pick(("float32", "float64"))
    return (x,), {"dtype": dtype, "same": str(g.regs[x].dtype) == "torch." + dtype}


@op("to", _draw_to)
def _to(T, x, dtype, same):
    y = x.to(getattr(T, dtype))
    # the float64 replay turns every cast into a no-op; a cast still copies (no new aliasing)
    return y.clone() if y is x and not same else y


# binary, broadcasting
def _draw_partner(c, g, x, ok: Callable[[torch.Tensor, torch.Tensor], bool]):
    """Another register that fits with ``x`` (rarely one that does not: errors must match)."""
    if c.flag(0.03):
        return c.int(0, len(g.regs) - 1)
    cands = [i for i, r in enumerate(g.regs) if ok(g.regs[x], r)]
    if not cands:
        return None
    return cands[-1] if c.flag(0.4) else c.pick(cands)


def _broadcasts(a: torch.Tensor, b: torch.Tensor) -> bool:
    try:
        torch.broadcast_shapes(a.shape, b.shape)
        return True
    except RuntimeError:
        return False


def _draw_binary(c, g, x):
    y = _draw_partner(c, g, x, _broadcasts)
    return None if y is None else ((x, y) if c.flag(0.7) else (y, x)), {}


_BINARY = {
    "add": lambda T, a, b: a + b,
    "sub": lambda T, a, b: a - b,
    "mul": lambda T, a, b: a * b,
    "div": lambda T, a, b: a / (b * b + 1),
    "add_alpha": lambda T, a, b: T.add(a, b, alpha=-0.5),
    "maximum": lambda T, a, b: T.maximum(a, b),
    "minimum": lambda T, a, b: T.minimum(a, b),
    "where": lambda T, a, b: T.where(a > b, a, b * 2),
    "pow": lambda T, a, b: (a * a + 1) ** T.tanh(b),
    "hypot": lambda T, a, b: T.sqrt(a * a + b * b + 0.1),
}
_BINARY.update({
    "atan2": lambda T, a, b: T.atan2(a, b * b + 0.5),
    "logaddexp": lambda T, a, b: T.logaddexp(a, b),
})
for _name, _fn in _BINARY.items():
    op("b_" + _name, _draw_binary, weight=3 if _name in ("add", "mul", "sub") else 1)(_fn)


# reductions
def _draw_dims(c, nd: int, allow_none: bool = True, allow_tuple: bool = True):
    """None (all dims), one dim (maybe negative), or a tuple of distinct dims."""
    if nd == 0:
        return c.pick((None, 0, -1)) if allow_none else c.pick((0, -1))
    kind = c.int(0, 2)
    if kind == 0 and allow_none:
        return None
    if kind == 2 and allow_tuple:
        dims = sorted({c.int(0, nd - 1) for _ in range(c.int(1, nd))})
        return tuple(d - nd if c.flag(0.3) else d for d in dims)
    d = c.int(0, nd - 1)
    return d - nd if c.flag(0.3) else d


def _reduction(name: str, fn: Callable, none: bool = True, tuples: bool = True, keep: bool = True,
               extra: Callable | None = None, weight: int = 1) -> None:
    def draw(c, g, x):
        p = {"dim": _draw_dims(c, g.regs[x].ndim, none, tuples)}
        if keep:
            p["keepdim"] = c.flag(0.3)
        if extra:
            p.update(extra(c))
        return (x,), p

    op(name, draw, weight=weight)(fn)


def _sum(T, x, dim, keepdim):
    return x.sum() if dim is None else x.sum(dim, keepdim=keepdim)


def _mean(T, x, dim, keepdim):
    return x.mean() if dim is None else T.mean(x, dim, keepdim=keepdim)


_reduction("sum", _sum, weight=3)
_reduction("mean", _mean)
_reduction("amax", lambda T, x, dim, keepdim: T.amax(x, dim=() if dim is None else dim, keepdim=keepdim))
_reduction("amin", lambda T, x, dim, keepdim: T.amin(x, dim=() if dim is None else dim, keepdim=keepdim))
_reduction("logsumexp", lambda T, x, dim, keepdim: T.logsumexp(x, dim, keepdim=keepdim), none=False)
_reduction("softmax", lambda T, x, dim: T.softmax(x, dim), none=False, tuples=False, keep=False)
_reduction("log_softmax", lambda T, x, dim: T.log_softmax(x, dim), none=False, tuples=False, keep=False)
_reduction("max_dim", lambda T, x, dim, keepdim: T.max(x, dim, keepdim=keepdim)[0], none=False, tuples=False)
_reduction("min_dim", lambda T, x, dim, keepdim: T.min(x, dim, keepdim=keepdim)[0], none=False, tuples=False)
_reduction("var", lambda T, x, dim, keepdim, correction: T.var(x, dim, keepdim=keepdim, correction=correction),
           extra=lambda c: {"correction": c.int(0, 1)})
_reduction("std", lambda T, x, dim, keepdim: T.std(x * x + 1, dim, keepdim=keepdim, correction=0))
_reduction("norm", lambda T, x, dim, keepdim: x.norm(dim=dim, keepdim=keepdim))


def _prod(T, x, dim, keepdim):
    return x.prod() if dim is None else x.prod(dim, keepdim=keepdim)


_reduction("prod", _prod, tuples=False)


# more of the op table (special functions, activations, scans, sorting): issue 4's ops
def _F(T):
    return torch.nn.functional if T is torch else T.nn.functional


unary("erf", lambda T, x: T.erf(x))
unary("sinh", lambda T, x: T.sinh(T.tanh(x) * 2))
unary("cosh", lambda T, x: T.cosh(T.tanh(x) * 2))
unary("asin", lambda T, x: T.asin(T.tanh(x) * 0.9))
unary("atan", lambda T, x: T.atan(x))
unary("gelu", lambda T, x: _F(T).gelu(x))
unary("silu", lambda T, x: _F(T).silu(x))
unary("elu", lambda T, x: _F(T).elu(x))
unary("leaky_relu", lambda T, x: _F(T).leaky_relu(x, 0.2))
unary("hardtanh", lambda T, x: _F(T).hardtanh(x))
unary("mish", lambda T, x: _F(T).mish(x))
unary("logsigmoid", lambda T, x: _F(T).logsigmoid(x))
unary("flip", lambda T, x: x.flip(tuple(range(x.ndim))))


def _scan_draw(c, g, x):
    nd = g.regs[x].ndim
    return (x,), {"dim": c.int(-max(nd, 1), max(nd, 1) - 1)}


op("cumsum", _scan_draw)(lambda T, x, dim: T.cumsum(x, dim))
op("cumprod", _scan_draw)(lambda T, x, dim: T.cumprod(x, dim))
op("logcumsumexp", _scan_draw)(lambda T, x, dim: T.logcumsumexp(x, dim))
op("cummax", _scan_draw)(lambda T, x, dim: T.cummax(x, dim)[0])
op("sort", _scan_draw)(lambda T, x, dim: T.sort(x, dim=dim, stable=True)[0])
op("roll", _scan_draw)(lambda T, x, dim: T.roll(x, 1, dim) if x.ndim else T.roll(x, 1))
op("diff", lambda c, g, x: _scan_draw(c, g, x) if g.regs[x].ndim else None)(lambda T, x, dim: T.diff(x, dim=dim))


def _draw_normalize(c, g, x):
    nd = g.regs[x].ndim
    return None if nd == 0 else ((x,), {"dim": c.int(-nd, nd - 1)})


op("normalize", _draw_normalize)(lambda T, x, dim: _F(T).normalize(x, dim=dim))
op("layer_norm", lambda c, g, x: ((x,), {}) if g.regs[x].ndim else None)(
    lambda T, x: _F(T).layer_norm(x, x.shape[-1:]))


# shapes
def _factor_shape(c, n: int, shape: tuple) -> tuple:
    """A random shape with ``n`` elements (maybe with a -1)."""
    if n == 0:
        dims = [c.int(1, 3) for _ in range(c.int(0, 2))]
        dims.insert(c.int(0, len(dims)), 0)
        return tuple(dims)
    primes, m, p = [], n, 2
    while m > 1:
        while m % p == 0:
            primes.append(p)
            m //= p
        p += 1
    nd = c.int(max(1, min(len(primes), 1)) if primes else 0, 4)
    dims = [1] * nd
    for q in primes:
        dims[c.int(0, nd - 1)] *= q
    if nd and c.flag(0.3):
        dims[c.int(0, nd - 1)] = -1
    return tuple(dims)


@op("reshape", lambda c, g, x: ((x,), {"shape": _factor_shape(c, g.regs[x].numel(), g.regs[x].shape)}), weight=2)
def _reshape(T, x, shape):
    return x.reshape(shape)


def _draw_flatten(c, g, x):
    nd = g.regs[x].ndim
    if nd == 0:
        return (x,), {"start": 0, "end": -1}
    s = c.int(0, nd - 1)
    return (x,), {"start": s, "end": c.int(s, nd - 1)}


@op("flatten", _draw_flatten)
def _flatten(T, x, start, end):
    return x.flatten(start, end)


def _draw_two_dims(c, g, x):
    nd = g.regs[x].ndim
    if nd == 0:
        return None
    return (x,), {"d0": c.int(-nd, nd - 1), "d1": c.int(-nd, nd - 1)}


@op("transpose", _draw_two_dims, weight=2)
def _transpose(T, x, d0, d1):
    return x.transpose(d0, d1)


@op("movedim", _draw_two_dims)
def _movedim(T, x, d0, d1):
    return T.movedim(x, d0, d1)


def _draw_permute(c, g, x):
    perm = list(range(g.regs[x].ndim))
    for i in range(len(perm) - 1, 0, -1):
        j = c.int(0, i)
        perm[i], perm[j] = perm[j], perm[i]
    return (x,), {"dims": tuple(perm)}


@op("permute", _draw_permute)
def _permute(T, x, dims):
    return x.permute(*dims)


@op("t", lambda c, g, x: ((x,), {}) if g.regs[x].ndim <= 2 else None)
def _t(T, x):
    return x.t()


@op("unsqueeze", lambda c, g, x: ((x,), {"d": c.int(-g.regs[x].ndim - 1, g.regs[x].ndim)}), weight=2)
def _unsqueeze(T, x, d):
    return x.unsqueeze(d)


def _draw_squeeze(c, g, x):
    nd = g.regs[x].ndim
    return (x,), {"d": None if nd == 0 or c.flag(0.4) else c.int(-nd, nd - 1)}


@op("squeeze", _draw_squeeze)
def _squeeze(T, x, d):
    return x.squeeze() if d is None else x.squeeze(d)


def _draw_expand(c, g, x):
    shape = g.regs[x].shape
    new = [c.pick((0, 1, 2, 3, 2)) if s == 1 and c.flag(0.7) else (-1 if c.flag(0.2) else s) for s in shape]
    lead = [c.int(0, 3) for _ in range(c.int(0, 2 if len(shape) < 4 else 0))]
    return (x,), {"shape": tuple(lead + new)}


@op("expand", _draw_expand, weight=2)
def _expand(T, x, shape):
    return x.expand(*shape)


def _draw_dim_nonempty(c, g, x):
    shape = g.regs[x].shape
    dims = [d for d, s in enumerate(shape) if s > 0]
    return None if not dims else c.pick(dims)


def _draw_narrow(c, g, x):
    shape = g.regs[x].shape
    if not shape:
        return None
    d = c.int(0, len(shape) - 1)
    start = c.int(0, shape[d])
    return (x,), {"dim": d, "start": start, "length": c.int(0, shape[d] - start)}


@op("narrow", _draw_narrow)
def _narrow(T, x, dim, start, length):
    return x.narrow(dim, start, length)


def _draw_split(c, g, x):
    d = _draw_dim_nonempty(c, g, x)
    if d is None:
        return None
    n = g.regs[x].shape[d]
    size = c.int(1, n)
    return (x,), {"size": size, "dim": d, "k": c.int(0, -(-n // size) - 1)}


@op("split", _draw_split)
def _split(T, x, size, dim, k):
    return x.split(size, dim)[k]


def _draw_unbind(c, g, x):
    d = _draw_dim_nonempty(c, g, x)
    return None if d is None else ((x,), {"dim": d, "k": c.int(0, g.regs[x].shape[d] - 1)})


@op("unbind", _draw_unbind)
def _unbind(T, x, dim, k):
    return x.unbind(dim)[k]


# indexing
def _draw_index_item(c, n: int):
    if n > 0 and c.flag(0.4):
        return c.int(-n, n - 1)
    a, b = c.int(-n - 1, n + 1), c.int(-n - 1, n + 1)
    return slice(c.pick((None, a)), c.pick((None, b)), c.pick((None, 1, 2, 3)))


def _draw_basic_index(c, shape: tuple):
    """A basic index: ints and slices (with steps) over leading dims (trailing ones after an
    Ellipsis), maybe a None."""
    ellipsis = c.flag(0.2)
    k = c.int(0, len(shape))
    dims = shape[len(shape) - k:] if ellipsis else shape[:k]
    items = [_draw_index_item(c, n) for n in dims]
    if c.flag(0.2):
        items.insert(c.int(0, len(items)), None)
    if ellipsis:
        items.insert(0, Ellipsis)
    if len(items) == 1 and c.flag(0.5):
        return items[0]
    return tuple(items)


def _valid_index(t: torch.Tensor, idx) -> bool:
    try:
        t[idx]
        return True
    except (IndexError, RuntimeError, TypeError, ValueError):
        return False


def _draw_getitem(c, g, x):
    t = g.regs[x]
    idx = _draw_basic_index(c, t.shape)
    return (x,), {"idx": idx} if c.flag(0.05) or _valid_index(t, idx) else None


@op("getitem", _draw_getitem, weight=3)
def _getitem(T, x, idx):
    return x[idx]


def _draw_take(c, g, x):
    """Advanced indexing along a dim: a list of ints (repeats allowed) or a list of bools."""
    t = g.regs[x]
    d = _draw_dim_nonempty(c, g, x)
    if d is None:
        return None
    n = t.shape[d]
    if c.flag(0.5):
        sel = [c.int(-n, n - 1) for _ in range(c.int(0, 4))]
    else:
        sel = [c.flag(0.5) for _ in range(n)]
    return (x,), {"dim": d, "sel": sel}


def _take_index(T, x, dim, sel):
    index = T.tensor(sel) if sel or not isinstance(sel, list) else T.tensor(sel, dtype=T.long)
    return (slice(None),) * dim + (index,)


@op("take", _draw_take, weight=2)
def _take(T, x, dim, sel):
    return x[_take_index(T, x, dim, sel)]


@op("mask_select", lambda c, g, x: ((x,), {"t": c.pick((0.0, 0.5, -0.5))}))
def _mask_select(T, x, t):
    return x[x > t]


def _draw_index_select(c, g, x):
    t = g.regs[x]
    if t.ndim == 0:
        return None
    d = c.int(0, t.ndim - 1)
    n = t.shape[d]
    return (x,), {"dim": d, "index": [c.int(0, n - 1) for _ in range(c.int(0, 3))] if n else []}


@op("index_select", _draw_index_select)
def _index_select(T, x, dim, index):
    return T.index_select(x, dim, T.tensor(index, dtype=T.long))


@op("masked_fill", lambda c, g, x: ((x,), {"v": c.pick(SCALARS)}))
def _masked_fill(T, x, v):
    return x.masked_fill(x < 0, v)


# combining
def _draw_cat(c, g, x):
    a = g.regs[x]
    if a.ndim == 0:
        return None
    d = c.int(0, a.ndim - 1)

    def ok(a, b):
        return b.ndim == a.ndim and all(s == t for i, (s, t) in enumerate(zip(a.shape, b.shape)) if i != d)

    y = _draw_partner(c, g, x, ok)
    if y is None:
        return None
    args = (x, y, x) if c.flag(0.2) else (x, y) if c.flag(0.7) else (y, x)
    return args, {"dim": d - a.ndim if c.flag(0.3) else d}


@op("cat", _draw_cat, weight=2)
def _cat(T, *xs, dim):
    return T.cat(xs, dim)


def _draw_stack(c, g, x):
    y = _draw_partner(c, g, x, lambda a, b: a.shape == b.shape)
    nd = g.regs[x].ndim
    return None if y is None else ((x, y), {"dim": c.int(-nd - 1, nd)})


@op("stack", _draw_stack)
def _stack(T, a, b, dim):
    return T.stack([a, b], dim)


def _matmul_ok(a, b) -> bool:
    if a.ndim == 0 or b.ndim == 0:
        return False
    try:
        torch.matmul(torch.empty(a.shape, device="meta"), torch.empty(b.shape, device="meta"))
        return True
    except RuntimeError:
        return False


def _draw_matmul(c, g, x):
    y = _draw_partner(c, g, x, _matmul_ok)
    return None if y is None else ((x, y), {})


@op("matmul", _draw_matmul, weight=2)
def _matmul(T, a, b):
    return a @ b


@op("gram", lambda c, g, x: ((x,), {"left": c.flag(0.5)}) if g.regs[x].ndim >= 1 else None)
def _gram(T, x, left):
    if x.ndim == 1:
        return x @ x
    xt = x.transpose(-1, -2)
    return x @ xt if left else xt @ x


@op("diagonal", lambda c, g, x: ((x,), {"offset": c.int(-1, 1)}) if g.regs[x].ndim >= 2 else None)
def _diagonal(T, x, offset):
    return x.diagonal(offset, -2, -1)


@op("tril", lambda c, g, x: ((x,), {"k": c.int(-1, 1)}) if g.regs[x].ndim >= 2 else None)
def _tril(T, x, k):
    return x.tril(k)


# in place (on intermediates, views and detached tensors)
def _target_ok(g, x: int) -> bool:
    """Whether an in-place write to register ``x`` is legal (not a leaf that requires grad or a
    view of one, not an expanded tensor); drawn targets are rarely illegal, on purpose."""
    t = g.regs[x]
    roots = [g.regs[i] for i in range(g.n_inputs) if g.requires_grad[i]]
    if any(t is r for r in roots) or (t._is_view() and any(t._base is r for r in roots)):
        return False
    return not any(st == 0 and s > 1 for st, s in zip(t.stride(), t.shape))


def _draw_target(c, g):
    cands = [i for i in range(len(g.regs)) if _target_ok(g, i)]
    if c.flag(0.03) or not cands:
        return c.int(0, len(g.regs) - 1)
    return cands[-1] if c.flag(0.5) else c.pick(cands)


def _fits_into(a, b) -> bool:
    """``b`` broadcasts to ``a``'s shape (an in-place operand)."""
    try:
        return tuple(torch.broadcast_shapes(a.shape, b.shape)) == tuple(a.shape)
    except RuntimeError:
        return False


_INPLACE_UNARY = {
    "tanh_": lambda x: x.tanh_(), "sigmoid_": lambda x: x.sigmoid_(), "sin_": lambda x: x.sin_(),
    "neg_": lambda x: x.neg_(), "relu_": lambda x: x.relu_(), "zero_": lambda x: x.zero_(),
    "fill_": lambda x: x.fill_(0.5), "pow_": lambda x: x.pow_(2), "clamp_": lambda x: x.clamp_(min=-0.5),
    "mul_s": lambda x: x.mul_(1.5), "add_s": lambda x: x.add_(-1), "div_s": lambda x: x.div_(2.0),
    "masked_fill_": lambda x: x.masked_fill_(x > 0.5, -1.0),
}
_INPLACE_BINARY = {
    "mul_": lambda x, y: x.mul_(y), "add_": lambda x, y: x.add_(y, alpha=2), "sub_": lambda x, y: x.sub_(y),
    "div_": lambda x, y: x.div_(y * y + 1), "copy_": lambda x, y: x.copy_(y),
}


def _partial_overlap(a: torch.Tensor, b: torch.Tensor) -> bool:
    """``b`` reads memory ``a`` writes, without being ``a`` itself: PyTorch's result then depends on
    its iteration order (undefined), NumPy's does not."""
    same = (a.data_ptr(), a.shape, a.stride()) == (b.data_ptr(), b.shape, b.stride())
    return not same and a.numel() > 0 and a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def _draw_inplace(c, g, x):
    x = _draw_target(c, g)
    if c.flag(0.5):
        return (x,), {"how": c.pick(tuple(_INPLACE_UNARY))}
    y = _draw_partner(c, g, x, lambda a, b: _fits_into(a, b) and not _partial_overlap(a, b))
    return None if y is None else ((x, y), {"how": c.pick(tuple(_INPLACE_BINARY))})


@op("inplace", _draw_inplace, inplace=True, weight=4)
def _inplace(T, x, y=None, *, how):
    return _INPLACE_UNARY[how](x) if y is None else _INPLACE_BINARY[how](x, y)


def _draw_view_inplace(c, g, x):
    """An in-place op through a fresh view: ``x[idx].mul_(2)``, ``x.t().add_(1)``..."""
    x = _draw_target(c, g)
    t = g.regs[x]
    kind = c.int(0, 3)
    if kind == 0:
        idx = _draw_basic_index(c, t.shape)
        if not _valid_index(t, idx):
            return None
        view = {"idx": idx}
    elif kind == 1 and t.ndim >= 2:
        view = {"transpose": True}
    elif kind == 2 and t.ndim >= 1 and t.shape[0] > 0:
        view = {"idx": c.int(0, t.shape[0] - 1)}
    else:
        view = {"unsqueeze": True}
    return (x,), {**view, "how": c.pick(tuple(_INPLACE_UNARY))}


@op("view_inplace", _draw_view_inplace, inplace=True, weight=3)
def _view_inplace(T, x, how, idx=None, transpose=False, unsqueeze=False):
    v = x[idx] if idx is not None else x.transpose(-1, -2) if transpose else x.unsqueeze(0)
    _INPLACE_UNARY[how](v)
    return x


def _draw_setitem(c, g, x):
    """``x[idx] = value``: a basic or advanced (no repeats) index, a scalar or a register."""
    x = _draw_target(c, g)
    t = g.regs[x]
    if c.flag(0.6) or t.ndim == 0:
        idx = _draw_basic_index(c, t.shape)
        if not _valid_index(t, idx):
            return None
    else:
        d = c.int(0, t.ndim - 1)
        n = t.shape[d]
        if c.flag(0.5):
            sel = sorted({c.int(0, n - 1) for _ in range(c.int(0, 3))}) if n else []
        else:
            sel = [c.flag(0.5) for _ in range(n)]
        idx = ("take", d, sel)
    region = t[_take_index(torch, t, idx[1], idx[2]) if isinstance(idx, tuple) and idx[:1] == ("take",) else idx]
    if c.flag(0.4):
        return (x,), {"idx": idx, "value": c.pick(SCALARS)}
    y = _draw_partner(c, g, x, lambda a, b: _fits_into(region, b))
    return None if y is None else ((x, y), {"idx": idx})


@op("setitem", _draw_setitem, inplace=True, weight=3)
def _setitem(T, x, y=None, *, idx, value=None):
    if isinstance(idx, tuple) and idx[:1] == ("take",):
        idx = _take_index(T, x, idx[1], idx[2])
    x[idx] = value if y is None else y
    return x


# ----------------------------------------------------------------------------- the generator
class _Gen:
    """Generator state: the PyTorch shadow registers (run without grad, for shapes and data)."""

    def __init__(self, prog: Program) -> None:
        self.n_inputs = len(prog.shapes)
        self.requires_grad = prog.requires_grad
        self.regs: list[torch.Tensor] = make_inputs(torch, prog, prog.arrays())


_NAMES = tuple(OPS)
_WEIGHTED = tuple(n for n in _NAMES for _ in range(OPS[n].weight))


def _draw_shapes(c: Chooser, n: int) -> tuple:
    """``n`` shapes that broadcast together: suffixes of one base shape, some dims set to 1."""
    base = [c.pick((2, 3, 1, 0, 4, 2)) for _ in range(c.int(0, 3))]
    shapes = []
    for _ in range(n):
        k = c.int(0, len(base))
        shapes.append(tuple(1 if c.flag(0.25) else s for s in base[len(base) - k:]))
    return tuple(shapes)


def _draw_steps(c: Chooser, g: _Gen, prog: Program, max_steps: int) -> None:
    for _ in range(c.int(0, max_steps)):
        name = c.pick(_WEIGHTED)
        x = len(g.regs) - 1 if c.flag(0.5) else c.int(0, len(g.regs) - 1)
        drawn = OPS[name].draw(c, g, x)
        if drawn is None:
            continue
        args, params = drawn
        try:
            out = OPS[name].fn(torch, *(g.regs[a] for a in args), **params)
        except Exception:  # noqa: BLE001 - the program ends on a step that raises
            prog.steps.append(Step(name, args, params))
            return
        if out.numel() > MAX_NUMEL and not OPS[name].inplace:
            continue
        prog.steps.append(Step(name, args, params))
        g.regs.append(out)


def generate(c: Chooser, max_steps: int = 20) -> Program:
    n = c.int(1, 3)
    shapes = _draw_shapes(c, n)
    dtypes = tuple("float32" if c.flag(0.5) else "float64" for _ in range(n))
    rg = [not c.flag(0.25) for _ in range(n)]
    if not any(rg):
        rg[0] = True
    prog = Program(shapes, dtypes, tuple(rg), c.flag(0.2), c.int(0, 2**31), [], ())
    g = _Gen(prog)
    with torch.no_grad():  # the shadow records nothing (and its draws index it freely)
        _draw_steps(c, g, prog, max_steps)
    k = len(g.regs)
    n_out = min(c.int(1, 3), k)
    outs = [k - 1] if c.flag(0.7) else [c.int(0, k - 1)]
    for _ in range(n_out - 1):
        outs.append(c.int(0, k - 1))
    prog.outputs = tuple(dict.fromkeys(outs))
    return prog


def numel(shape: Sequence[int]) -> int:
    return math.prod(shape)
