"""The op-table checks of ``test_op_table.py`` as plain functions, for family tables (special, nn).

A family test file builds a list of ``Case`` lines with ``op``/``at`` and parametrizes its tests
over them, each calling one ``check_*`` below:

- value, dtype, shape, ``requires_grad`` and ``grad_fn`` name against torch (float64, float32);
- the VJP against ``torch.autograd.grad`` (float64, float32);
- the second derivative (double backward w.r.t. inputs and cotangent) against torch;
- a float64 central finite-difference VJP;
- DESIGN.md decision 3: batched cotangents (order 1 and 2) equal the loop, and a batched
  ``create_graph`` VJP differentiates like the loop;
- the JVP rules run forward op by op (adjoint identity, batched tangents, finite differences),
  and autojac's forward mode (``autojac.func.jvp``) against ``torch.func.jvp``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._oracle import (
    B,
    assert_all_close,
    assert_close,
    autojac,
    batched_then_differentiated,
    batched_vs_loop,
    fd_jvp,
    fd_vjp,
    jvp_rules,
    lib_tensors,
    out_arrays,
    outputs,
    rng_for,
    sample,
    second,
    to_np,
    torch,
    vjp,
)

# domains beyond _oracle.sample's
EXTRA_DOMAINS = {
    "prob": lambda rng, shape: rng.uniform(0.1, 0.9, shape),
    "gt1": lambda rng, shape: rng.uniform(1.2, 3.0, shape),
    # negative non-integers at least 0.2 from the poles of lgamma/digamma
    "negfrac": lambda rng, shape: -rng.integers(0, 4, shape) - rng.uniform(0.2, 0.8, shape),
    "small": lambda rng, shape: rng.uniform(-0.5, 0.5, shape),
}


def draw(rng: np.random.Generator, shape: tuple, domain: str) -> np.ndarray:
    if domain in EXTRA_DOMAINS:
        return np.asarray(EXTRA_DOMAINS[domain](rng, shape), dtype=np.float64)
    return sample(rng, shape, domain)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    shapes: tuple  # one shape per input
    domain: str | tuple = "real"  # one for all inputs, or one per input
    fd: bool = True  # finite differences apply (False at kinks, ties, discontinuities)
    d2: bool = True  # second derivatives compared with torch
    rtol: float = 1e-9  # float64 derivative tolerance against torch
    vtol: float = 1e-10  # float64 value tolerance against torch
    values: tuple | None = None  # fixed inputs instead of random ones
    names: bool = True  # compare grad_fn names with torch
    torch_fwd: bool = True  # torch.func.jvp supports the op (compare forward mode with it)
    f32: float = 2e-5  # float32 value tolerance (relative)

    @property
    def id(self) -> str:
        if self.values is not None:
            return self.name
        return f"{self.name}[{'_'.join('x'.join(map(str, s)) or 's' for s in self.shapes)}]"

    def inputs(self) -> list:
        if self.values is not None:
            return [np.array(v, dtype=np.float64) for v in self.values]
        rng = rng_for(self.id)
        doms = self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(self.shapes)
        return [draw(rng, s, d) for s, d in zip(self.shapes, doms)]


def op(cases: list, name: str, fn: Callable, *shape_sets: tuple, **kw) -> None:
    """Table lines: one op on each of ``shape_sets``."""
    for shapes in shape_sets:
        cases.append(Case(name, fn, shapes, **kw))


def at(cases: list, name: str, fn: Callable, *values, **kw) -> None:
    """A line with fixed inputs at a kink, tie or special point, checked against torch only."""
    kw.setdefault("fd", False)
    cases.append(Case(name, fn, tuple(np.shape(v) for v in values), values=values, **kw))


def ids(cases: list) -> list:
    out = [c.id for c in cases]
    assert len(set(out)) == len(out), "duplicate case ids"
    return out


def _cotangents(case: Case, rng, xs: list) -> list:
    return [rng.standard_normal(o.shape) for o in out_arrays(torch, case.fn, xs)]


def _name(t) -> str | None:
    if isinstance(t, torch.Tensor):
        return None if t.grad_fn is None else type(t.grad_fn).__name__
    return None if t.grad_fn is None else t.grad_fn.name()


# --------------------------------------------------------------------------- the checks
def check_value(case: Case, dtype: str) -> None:
    rtol, atol = (case.vtol, case.vtol / 100) if dtype == "float64" else (case.f32, case.f32 / 20)
    xs = case.inputs()
    got = outputs(case.fn(autojac, *lib_tensors(autojac, xs, dtype)))
    want = outputs(case.fn(torch, *lib_tensors(torch, xs, dtype)))
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], f"output {i} dtype"
        assert tuple(g.shape) == tuple(w.shape), f"output {i} shape"
        assert g.requires_grad == w.requires_grad, f"output {i} requires_grad"
        if case.names:
            assert _name(g) == _name(w), f"output {i} grad_fn"
        assert_close(to_np(g).astype(np.float64), to_np(w).astype(np.float64), f"output {i}", rtol, atol)


def check_grad(case: Case, dtype: str) -> None:
    rtol, atol = (max(1e-9, case.rtol), 1e-11) if dtype == "float64" else (max(1e-4, 5 * case.f32), 1e-5)
    xs = case.inputs()
    vs = _cotangents(case, rng_for("v" + case.id), xs)
    got = vjp(autojac, case.fn, xs, vs, dtype)
    want = vjp(torch, case.fn, xs, vs, dtype)
    assert [g.dtype for g in got] == [w.dtype for w in want], "gradient dtypes"
    assert_all_close(got, want, "vjp", rtol, atol)


def check_second(case: Case) -> None:
    xs = case.inputs()
    rng = rng_for("w" + case.id)
    vs = _cotangents(case, rng, xs)
    ws = [rng.standard_normal(x.shape) for x in xs]
    got = second(autojac, case.fn, xs, vs, ws)
    want = second(torch, case.fn, xs, vs, ws)
    assert_all_close(got, want, "d(grad.w)/d(inputs, cotangent)", case.rtol, case.rtol / 10)


def check_fd(case: Case) -> None:
    xs = case.inputs()
    vs = _cotangents(case, rng_for("fd" + case.id), xs)
    assert_all_close(vjp(autojac, case.fn, xs, vs), fd_vjp(case.fn, xs, vs), "vjp vs central differences",
                     1e-5, 1e-6)


def check_batched(case: Case, order: int) -> None:
    batched, stacked = batched_vs_loop(case.fn, case.inputs(), rng_for(f"b{order}" + case.id), order)
    assert_all_close(batched, stacked, f"is_grads_batched order {order}", 1e-11, 1e-12)


def check_batched_create_graph(case: Case) -> None:
    batched, loop = batched_then_differentiated(case.fn, case.inputs(), rng_for("bc" + case.id))
    assert_all_close(batched, loop, "d/dx of a batched create_graph VJP", max(case.rtol, 1e-10), 1e-9)


def check_jvp_rules(case: Case) -> None:
    xs = case.inputs()
    rng = rng_for("jvp" + case.id)
    ts = [rng.standard_normal(x.shape) for x in xs]
    vs = _cotangents(case, rng, xs)
    jt = jvp_rules(case.fn, xs, ts, 0)
    vj = vjp(autojac, case.fn, xs, vs)
    lhs = sum(float(np.sum(v * j)) for v, j in zip(vs, jt))
    rhs = sum(float(np.sum(g * t)) for g, t in zip(vj, ts))
    assert_close(np.array(lhs), np.array(rhs), "<v, J t> vs <J^T v, t>", max(case.rtol, 1e-10), 1e-10)
    big = [rng.standard_normal((B,) + x.shape) for x in xs]
    batched = jvp_rules(case.fn, xs, big, 1)
    loop = [jvp_rules(case.fn, xs, [t[b] for t in big], 0) for b in range(B)]
    assert_all_close(batched, [np.stack([lp[i] for lp in loop]) for i in range(len(batched))], "batched JVP",
                     1e-11, 1e-12)


def check_jvp_fd(case: Case) -> None:
    xs = case.inputs()
    ts = [rng_for("jfd" + case.id).standard_normal(x.shape) for x in xs]
    assert_all_close(jvp_rules(case.fn, xs, ts, 0), fd_jvp(case.fn, xs, ts), "JVP vs central differences",
                     1e-5, 1e-6)


def check_forward_mode(case: Case) -> None:
    """autojac.func.jvp (tangents pushed through every op's JVP rule) against torch.func.jvp."""
    xs = case.inputs()
    ts = [rng_for("fwd" + case.id).standard_normal(x.shape) for x in xs]

    def run(T, jvp_fn):
        prim = tuple(lib_tensors(T, xs, "float64", requires_grad=False))
        tang = tuple(lib_tensors(T, ts, "float64", requires_grad=False))
        _, jt = jvp_fn(lambda *a: case.fn(T, *a), prim, tang)
        return [to_np(j) for j in outputs(jt) if j.is_floating_point()]

    got = run(autojac, autojac.func.jvp)
    want = run(torch, torch.func.jvp)
    assert_all_close(got, want, "forward-mode JVP vs torch.func.jvp", max(case.rtol, 1e-9), 1e-11)
