"""Scans, gather/scatter, sorting, einsum and shape ops against PyTorch 2.13 and finite differences.

Each table line runs the op-table checks of ``test_op_table.py``: value (float64 and float32,
dtype, shape, ``grad_fn``), the VJP, the second derivative through a ``create_graph`` gradient,
a float64 central finite-difference VJP, batched cotangents (DESIGN.md decision 3) for the op
and for its gradient, a batched ``create_graph`` VJP differentiated (the Hessian path), and the
JVP rules (adjoint identity, batched tangents equal a loop, finite differences). ``at`` lines
fix inputs with ties or zeros and compare with torch only. Then edge cases and PyTorch's errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from ._oracle import (
    B,
    assert_all_close,
    assert_close,
    autojac,
    batched_then_differentiated,
    fd_jvp,
    fd_vjp,
    jvp_rules,
    lib_tensors,
    out_arrays,
    outputs,
    rng_for,
    sample,
    second,
    table_checks,
    to_np,
    torch,
    vjp,
)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    shapes: tuple
    domain: str = "real"
    fd: bool = True  # finite differences apply (False at ties and kinks)
    grad_fn: bool = True  # compare the grad_fn name (einsum's differs: torch decomposes it into other ops)
    values: tuple | None = None
    d2_oracle: Callable | None = None  # torch's side of the second derivative, where torch's op has none
    atol2: float = 1e-10  # absolute tolerance of the batched create_graph check
    d2: bool = True  # compare second derivatives with torch (not where the op has a cone point)

    @property
    def id(self) -> str:
        if self.values is not None:
            return self.name
        return f"{self.name}[{'_'.join('x'.join(map(str, s)) or 's' for s in self.shapes)}]"

    def inputs(self) -> list:
        if self.values is not None:
            return [np.array(v, dtype=np.float64) for v in self.values]
        rng = rng_for(self.id)
        return [sample(rng, s, self.domain) for s in self.shapes]


CASES: list[Case] = []


def op(name: str, fn: Callable, *shape_sets: tuple, domain: str = "real", grad_fn: bool = True,
       d2_oracle: Callable | None = None, atol2: float = 1e-10) -> None:
    for shapes in shape_sets:
        CASES.append(Case(name, fn, shapes, domain, grad_fn=grad_fn, d2_oracle=d2_oracle, atol2=atol2))


def at(name: str, fn: Callable, *values, d2_oracle: Callable | None = None, d2: bool = True) -> None:
    CASES.append(Case(name, fn, tuple(np.shape(v) for v in values), fd=False, values=values, d2_oracle=d2_oracle,
                      d2=d2))


def F(T):
    return T.nn.functional if T is torch else autojac.ops.shape


def ix(T, a) -> object:
    return T.tensor(np.asarray(a))


I2 = [[0, 1, 2, 0], [2, 2, 1, 0]]  # repeated indices: gradients add up
J2 = [[0, 1, 2, 0], [2, 0, 1, 1]]  # unique per column (scatter's winner is then well defined)
MASK = [True, False, True, True]

# --------------------------------------------------------------------------- gather / take / scatter
op("gather", lambda T, x: T.gather(x, 0, ix(T, I2)), ((3, 4),))
op("gather_dim1_small", lambda T, x: x.gather(1, ix(T, [[3, 0], [1, 1]])), ((3, 4),))
op("gather_3d", lambda T, x: T.gather(x, -1, ix(T, np.zeros((2, 2, 3), np.int64) + [2, 0, 3])), ((2, 3, 4),))
op("take_along_dim", lambda T, x: T.take_along_dim(x, ix(T, [[0], [3], [1]]), 1), ((3, 4),))
op("take_along_dim_bcast", lambda T, x: T.take_along_dim(x, ix(T, [[0, 3], [1, 1], [2, 0]]), dim=1), ((1, 4),))
op("take_along_dim_flat", lambda T, x: x.take_along_dim(ix(T, [11, 0, 5, 5])), ((3, 4),))
op("take", lambda T, x: T.take(x, ix(T, [[3, -1], [0, 0]])), ((3, 4),))
op("scatter", lambda T, x, s: x.scatter(0, ix(T, J2), s), ((3, 4), (2, 4)))
op("scatter_value", lambda T, x: T.scatter(x, 1, ix(T, [[1], [0], [3]]), 2.5), ((3, 4),))
op("scatter_add", lambda T, x, s: x.scatter_add(0, ix(T, I2), s), ((3, 4), (2, 4)))
op("scatter_add_dim1", lambda T, x, s: T.scatter_add(x, 1, ix(T, [[3, 3, 0]]), s), ((2, 4), (1, 3)))
for _red in ("sum", "mean", "amax", "amin", "prod"):
    for _inc in (True, False):
        op(f"scatter_reduce_{_red}_{'self' if _inc else 'noself'}",
           lambda T, x, s, r=_red, inc=_inc: x.scatter_reduce(0, ix(T, I2), s, r, include_self=inc),
           ((3, 4), (2, 4)))
op("index_add", lambda T, x, s: x.index_add(0, ix(T, [0, 2, 0]), s, alpha=2.0), ((3, 4), (3, 4)))
op("index_add_dim1", lambda T, x, s: T.index_add(x, 1, ix(T, [3, 1]), s), ((2, 4), (2, 2)))
op("index_copy", lambda T, x, s: x.index_copy(1, ix(T, [3, 0]), s), ((2, 4), (2, 2)))
op("index_fill", lambda T, x: x.index_fill(1, ix(T, [0, 2]), -1.5), ((3, 4),))
op("index_fill_tensor", lambda T, x, v: T.index_fill(x, 0, ix(T, [1]), v), ((3, 4), ()))
op("masked_scatter", lambda T, x, s: x.masked_scatter(ix(T, MASK), s), ((3, 4), (10,)), ((4,), (2, 2)))
op("scatter_inplace", lambda T, x, s: (x * 1.0).scatter_(0, ix(T, J2), s), ((3, 4), (2, 4)))
op("index_add_inplace", lambda T, x, s: (x * 1.0).index_add_(0, ix(T, [2, 2]), s), ((3, 4), (2, 4)))

# --------------------------------------------------------------------------- flip / roll / repeat / rot90 / pad
op("flip", lambda T, x: T.flip(x, (0,)), ((3, 4),))
op("flip_dims", lambda T, x: x.flip(-1, 0), ((2, 3, 4),))
op("fliplr", lambda T, x: T.fliplr(x), ((3, 4),))
op("flipud", lambda T, x: x.flipud(), ((3, 4),))
op("roll", lambda T, x: T.roll(x, 1, 0), ((3, 4),))
op("roll_dims", lambda T, x: x.roll((1, -2), (0, -1)), ((2, 3, 4),))
op("roll_flat", lambda T, x: T.roll(x, 5), ((3, 4),))
op("repeat", lambda T, x: x.repeat(2, 1), ((3, 4),))
op("repeat_lead", lambda T, x: x.repeat(2, 1, 3), ((3, 2),), ((2,),))
op("tile", lambda T, x: T.tile(x, (2,)), ((3, 2),))
op("repeat_interleave", lambda T, x: x.repeat_interleave(2), ((2, 3),))
op("repeat_interleave_dim", lambda T, x: T.repeat_interleave(x, 3, dim=1), ((2, 3),))
op("repeat_interleave_tensor", lambda T, x: x.repeat_interleave(ix(T, [2, 0, 1]), dim=0), ((3, 2),))
op("rot90", lambda T, x: T.rot90(x), ((3, 4),))
op("rot90_k2", lambda T, x: x.rot90(2, (1, 2)), ((2, 3, 4),))
op("rot90_neg", lambda T, x: T.rot90(x, -1, [-1, 0]), ((2, 3, 4),))
op("pad_constant", lambda T, x: F(T).pad(x, (1, 2)), ((2, 3),))
op("pad_constant_2d", lambda T, x: F(T).pad(x, (1, 0, 2, 1), value=1.5), ((2, 3, 4),))
op("pad_constant_crop", lambda T, x: F(T).pad(x, (-1, 2, 0, -1)), ((3, 4),))
op("pad_reflect", lambda T, x: F(T).pad(x, (2, 3), mode="reflect"), ((2, 5),), ((2, 3, 4),))
op("pad_reflect_2d", lambda T, x: F(T).pad(x, (1, 2, 2, 1), mode="reflect"), ((2, 3, 4),))
op("pad_replicate", lambda T, x: F(T).pad(x, (3, 1), mode="replicate"), ((2, 3, 4),))
op("pad_replicate_3d", lambda T, x: F(T).pad(x, (1, 1, 0, 2, 1, 0), mode="replicate"), ((1, 2, 2, 3),))
op("pad_circular", lambda T, x: F(T).pad(x, (2, 1), mode="circular"), ((2, 3, 4),))
op("pad_circular_2d", lambda T, x: F(T).pad(x, (-1, 2, 1, 1), mode="circular"), ((2, 3, 4),))

# --------------------------------------------------------------------------- scans
op("cumsum", lambda T, x: T.cumsum(x, 0), ((5,),), ((3, 4),))
op("cumsum_dim", lambda T, x: x.cumsum(dim=-1), ((2, 3, 4),))
op("cumsum_0d", lambda T, x: x.cumsum(0), ((),))
op("cumprod", lambda T, x: T.cumprod(x, 0), ((5,),), ((3, 4),))
op("cumprod_dim", lambda T, x: x.cumprod(dim=1), ((2, 3, 4),))
op("logcumsumexp", lambda T, x: T.logcumsumexp(x, 0), ((5,),), ((3, 4),))
op("logcumsumexp_dim", lambda T, x: x.logcumsumexp(-1), ((2, 3, 4),))
# second derivatives here are differences of terms ~300^2 times larger (PyTorch's signed log-domain
# rule, which autojac shares): the batched and looped passes agree to rounding at that scale
op("logcumsumexp_big", lambda T, x: T.logcumsumexp(x * 300.0, 1), ((3, 4),), atol2=1e-7)
op("cummax", lambda T, x: T.cummax(x, 0), ((5,),), ((3, 4),))
op("cummin", lambda T, x: x.cummin(-1), ((2, 3, 4),))
op("diff", lambda T, x: T.diff(x), ((5,),), ((3, 4),))
op("diff_n2_dim0", lambda T, x: x.diff(n=2, dim=0), ((4, 3),))
op("diff_prepend_append", lambda T, x, p, a: T.diff(x, dim=1, prepend=p, append=a), ((3, 4), (3, 1), (3, 2)))

# --------------------------------------------------------------------------- sorting
op("sort", lambda T, x: T.sort(x), ((5,),), ((3, 4),))
op("sort_dim0_desc", lambda T, x: x.sort(0, descending=True), ((3, 4),))
op("sort_stable", lambda T, x: T.sort(x, dim=1, stable=True), ((2, 3, 4),))
op("msort", lambda T, x: T.msort(x), ((4, 3),))
op("topk", lambda T, x: T.topk(x, 2), ((5,),), ((3, 4),))
op("topk_smallest_dim0", lambda T, x: x.topk(2, dim=0, largest=False), ((3, 4),))
op("kthvalue", lambda T, x: T.kthvalue(x, 2), ((5,),), ((3, 4),))
op("kthvalue_keepdim", lambda T, x: x.kthvalue(3, 0, keepdim=True), ((4, 3),))

# --------------------------------------------------------------------------- einsum / tensordot / kron / cdist
E = dict(grad_fn=False)
op("einsum_matmul", lambda T, a, b: T.einsum("ij,jk->ik", a, b), ((2, 3), (3, 4)), **E)
op("einsum_sum", lambda T, x: T.einsum("ij->j", x), ((3, 4),), **E)
op("einsum_transpose", lambda T, x: T.einsum("ijk->kji", x), ((2, 3, 4),), **E)
op("einsum_diag", lambda T, x: T.einsum("ii->i", x), ((3, 3),), **E)
op("einsum_trace", lambda T, x: T.einsum("ii", x), ((3, 3),), **E)
op("einsum_diag_extra", lambda T, x: T.einsum("iji->j", x), ((3, 2, 3),), **E)
op("einsum_bmm", lambda T, a, b: T.einsum("bij,bjk->bik", a, b), ((2, 3, 4), (2, 4, 2)), **E)
op("einsum_ellipsis", lambda T, a, b: T.einsum("...ij,...jk->...ik", a, b), ((2, 1, 3, 4), (5, 4, 2)), **E)
op("einsum_ellipsis_mid", lambda T, a: T.einsum("i...j->j...", a), ((2, 3, 4),), **E)
op("einsum_dot", lambda T, a, b: T.einsum("i,i->", a, b), ((4,), (4,)), **E)
op("einsum_outer", lambda T, a, b: T.einsum("i,j->ij", a, b), ((3,), (4,)), **E)
op("einsum_bcast1", lambda T, a, b: T.einsum("ij,ij->ij", a, b), ((2, 1), (2, 4)), **E)
op("einsum_only_one", lambda T, a, b: T.einsum("ij,k->i", a, b), ((2, 3), (4,)), **E)
op("einsum_three", lambda T, a, b, c: T.einsum("ij,jk,kl->il", a, b, c), ((2, 3), (3, 4), (4, 2)), **E)
op("einsum_implicit", lambda T, a, b: T.einsum("ij,jk", a, b), ((2, 3), (3, 4)), **E)
op("einsum_bilinear", lambda T, x, w, y: T.einsum("bn,anm,bm->ba", x, w, y), ((2, 3), (4, 3, 2), (2, 2)), **E)
op("einsum_shared_operand", lambda T, a: T.einsum("ij,ij->i", a, a), ((2, 3),), **E)
op("einsum_list", lambda T, a, b: T.einsum("ij,j->i", [a, b]), ((2, 3), (3,)), **E)
op("einsum_sublist", lambda T, a, b: T.einsum(a, [0, 1], b, [1, 2], [0, 2]), ((2, 3), (3, 4)), **E)
op("einsum_upper", lambda T, a, b: T.einsum("iJ,Jk->ki", a, b), ((2, 3), (3, 4)), **E)
op("tensordot", lambda T, a, b: T.tensordot(a, b, 1), ((2, 3), (3, 4)))
op("tensordot_2", lambda T, a, b: T.tensordot(a, b), ((2, 3, 4), (3, 4, 2)))
op("tensordot_lists", lambda T, a, b: T.tensordot(a, b, dims=([1, 0], [0, 2])), ((2, 3, 4), (3, 4, 2)))
op("tensordot_0", lambda T, a, b: T.tensordot(a, b, 0), ((2,), (3, 2)))
op("kron", lambda T, a, b: T.kron(a, b), ((2, 3), (2, 2)), ((2,), (3, 2)))
op("kron_method", lambda T, a, b: a.kron(b), ((2, 1, 2), (3,)))


def pairwise(p: float) -> Callable:
    """cdist written out (torch has no double backward for cdist): the second-derivative oracle."""
    return lambda T, a, b: (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p=p, dim=-1)


op("cdist", lambda T, a, b: T.cdist(a, b), ((3, 2), (4, 2)), ((2, 3, 4), (2, 5, 4)), ((2, 1, 3, 2), (4, 2, 2)),
   d2_oracle=pairwise(2))
op("cdist_mm", lambda T, a, b: T.cdist(a, b), ((26, 2), (3, 2)), d2_oracle=pairwise(2))  # > 25 rows: matmul form
op("cdist_mm_mode", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), ((2, 3, 2), (4, 2)),
   d2_oracle=pairwise(2))
op("cdist_p1", lambda T, a, b: T.cdist(a, b, p=1), ((3, 2), (4, 2)), d2_oracle=pairwise(1))
op("cdist_inf", lambda T, a, b: T.cdist(a, b, p=float("inf")), ((3, 2), (4, 2)), d2_oracle=pairwise(float("inf")))
op("cdist_p3", lambda T, a, b: T.cdist(a, b, p=3), ((3, 2), (4, 2)), d2_oracle=pairwise(3))

# --------------------------------------------------------------------------- ties and zeros, against torch only
ROW_TIES = [[1.0, 3.0, 3.0, 0.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]
at("ties:sort_stable", lambda T, x: T.sort(x, stable=True), ROW_TIES)
at("ties:sort_stable_desc", lambda T, x: x.sort(dim=1, descending=True, stable=True), ROW_TIES)
at("ties:msort", lambda T, x: x.msort(), [[1.0, 2.0], [1.0, 2.0], [0.0, 2.0]])
at("ties:cummax", lambda T, x: x.cummax(1), ROW_TIES)
at("ties:cummin", lambda T, x: T.cummin(x, 1), ROW_TIES)
at("ties:scatter_reduce_amax", lambda T, x, s: x.scatter_reduce(0, ix(T, [0, 0, 1, 1]), s, "amax"),
   [3.0, 1.0], [3.0, 2.0, 4.0, 4.0])
at("ties:scatter_reduce_amin_noself", lambda T, x, s: T.scatter_reduce(x, 0, ix(T, [0, 0, 1]), s, "amin",
                                                                      include_self=False),
   [3.0, 1.0, 5.0], [2.0, 2.0, 4.0])
at("zero:cumprod_one", lambda T, x: x.cumprod(0), [2.0, 0.0, 3.0, -1.5])
at("zero:cumprod_two", lambda T, x: T.cumprod(x, 0), [2.0, 0.0, 3.0, 0.0, 0.5])
at("zero:cumprod_first", lambda T, x: T.cumprod(x, 0), [0.0, 2.0, 3.0])
at("zero:cumprod_rows", lambda T, x: x.cumprod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
at("zero:scatter_reduce_prod", lambda T, x, s: x.scatter_reduce(0, ix(T, [0, 0, 1, 1]), s, "prod"),
   [3.0, 0.0], [0.0, 2.0, 4.0, 1.5])
# a zero distance is a cone point: no second derivative there (see test_cdist_second_derivative_at_zero)
at("zero:cdist_same_point", lambda T, a, b: T.cdist(a, b), [[0.0, 1.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 1.0]],
   d2=False)
at("zero:cdist_same_point_mm", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
   [[0.0, 1.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 1.0]], d2=False)

IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"
FD_CASES = [c for c in CASES if c.fd]
D2_CASES = [c for c in CASES if c.d2]


def _cotangents(case: Case, rng, xs) -> list:
    return [rng.standard_normal(o.shape) for o in out_arrays(torch, case.fn, xs)]


# --------------------------------------------------------------------------- the table checks
globals().update(table_checks(CASES))



@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_rules(case: Case) -> None:
    """Forward mode through the JVP rules: <v, J t> = <J^T v, t>, and batched tangents equal a loop."""
    xs = case.inputs()
    rng = rng_for("jvp" + case.id)
    ts = [rng.standard_normal(x.shape) for x in xs]
    vs = _cotangents(case, rng, xs)
    jt = jvp_rules(case.fn, xs, ts, 0)
    vj = vjp(autojac, case.fn, xs, vs)
    lhs = sum(float(np.sum(v * j)) for v, j in zip(vs, jt))
    rhs = sum(float(np.sum(g * t)) for g, t in zip(vj, ts))
    assert_close(np.array(lhs), np.array(rhs), "<v, J t> vs <J^T v, t>", 1e-10, 1e-11)
    big = [rng.standard_normal((B,) + x.shape) for x in xs]
    batched = jvp_rules(case.fn, xs, big, 1)
    loop = [jvp_rules(case.fn, xs, [t[b] for t in big], 0) for b in range(B)]
    assert_all_close(batched, [np.stack([lp[i] for lp in loop]) for i in range(len(batched))], "batched JVP",
                     1e-11, 1e-12)


@pytest.mark.parametrize("case", FD_CASES, ids=[c.id for c in FD_CASES])
def test_jvp_finite_differences(case: Case) -> None:
    xs = case.inputs()
    ts = [rng_for("jfd" + case.id).standard_normal(x.shape) for x in xs]
    assert_all_close(jvp_rules(case.fn, xs, ts, 0), fd_jvp(case.fn, xs, ts), "JVP vs central differences",
                     1e-6, 1e-7)


def test_forward_mode_against_torch() -> None:
    """forward_ad through a chain of these ops: the same tangent as torch's forward mode."""
    rng = rng_for("fwd")
    x, t = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def f(T, x):
        y = T.cumsum(x, 1).flip(0).roll(1, 1)
        y = T.gather(y, 1, T.tensor([[0, 2], [3, 3], [1, 0]]))
        return T.einsum("ij,ij->i", y, y.sort(1).values) + T.logcumsumexp(x, 0)[:, :2].sum(1)

    got = []
    for T in (autojac, torch):
        fa = T.autograd.forward_ad
        with fa.dual_level():
            dual = fa.make_dual(T.tensor(x), T.tensor(t))
            got.append(to_np(fa.unpack_dual(f(T, dual)).tangent))
    assert_close(got[0], got[1], "forward-mode tangent", 1e-10, 1e-12)


# --------------------------------------------------------------------------- ties: the index each op routes to
def _values_grad(T, fn, x: np.ndarray, v: np.ndarray) -> tuple:
    (xt,) = lib_tensors(T, [x], "float64")
    vals, idx = fn(T, xt)
    (g,) = T.autograd.grad(vals, xt, T.tensor(v))
    return to_np(vals), to_np(idx), to_np(g)


TIES = np.array([[1.0, 3.0, 3.0, 0.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])


@pytest.mark.parametrize("which", ["topk", "topk_smallest", "kthvalue"])
def test_selection_ties_route_to_first_index(which: str) -> None:
    """Among tied values autojac takes the first index (torch's choice follows std::nth_element);
    the values agree with torch and each tie group receives the same total gradient."""
    fn = {"topk": lambda T, x: T.topk(x, 2), "topk_smallest": lambda T, x: x.topk(3, largest=False),
          "kthvalue": lambda T, x: T.kthvalue(x, 2, keepdim=True)}[which]
    (shape,) = {tuple(o.shape) for o in outputs(fn(torch, torch.tensor(TIES)))[:1]}
    v = rng_for("ties" + which).standard_normal(shape)
    vals, idx, g = _values_grad(autojac, fn, TIES, v)
    tvals, tidx, tg = _values_grad(torch, fn, TIES, v)
    assert_close(vals, tvals, "values", 0, 0)
    assert_close(np.take_along_axis(TIES, idx, 1), vals, "values at the indices", 0, 0)
    stable = np.argsort(-TIES if which == "topk" else TIES, axis=1, kind="stable")
    k = idx.shape[1]
    want_idx = stable[:, :k] if which != "kthvalue" else stable[:, 1:2]
    assert (idx == want_idx).all(), "the first tied indices, in input order"
    for row in range(TIES.shape[0]):
        for value in np.unique(TIES[row]):
            group = TIES[row] == value
            assert_close(g[row][group].sum(), tg[row][group].sum(), f"gradient of the tie group {value}", 1e-12, 1e-12)


def test_sort_stable_many_ties_like_torch() -> None:
    """torch's default sort is not stable on long inputs; with stable=True it matches autojac's order."""
    x = np.repeat(rng_for("many").standard_normal(50).round(1), 10)
    got = autojac.sort(autojac.tensor(x), stable=True, descending=True)
    want = torch.sort(torch.tensor(x), stable=True, descending=True)
    assert (to_np(got.indices) == to_np(want.indices)).all()
    assert (to_np(autojac.argsort(autojac.tensor(x))) == to_np(torch.argsort(torch.tensor(x), stable=True))).all()


def test_nan_order_like_torch() -> None:
    x = [[1.0, np.nan, 3.0, np.nan, -1.0], [np.nan, 0.0, 0.0, 2.0, np.nan]]
    calls = [lambda T, t: T.sort(t, stable=True), lambda T, t: t.sort(descending=True, stable=True),
             lambda T, t: t.cummax(1), lambda T, t: t.cummin(1), lambda T, t: t.max(1), lambda T, t: t.min(1),
             lambda T, t: t.topk(3), lambda T, t: t.topk(2, largest=False), lambda T, t: t.kthvalue(5)]
    for i, fn in enumerate(calls):
        got, want = fn(autojac, autojac.tensor(x)), fn(torch, torch.tensor(x))
        assert_close(to_np(got[0]), to_np(want[0]), "values", 0, 0)
        if i < 6:  # topk/kthvalue pick among tied NaNs as std::nth_element does in torch
            assert (to_np(got[1]) == to_np(want[1])).all(), "indices"
    assert (to_np(autojac.tensor(x).argmax(1)) == to_np(torch.tensor(x).argmax(1))).all()


def test_argmax_argmin_max_ties_like_torch() -> None:
    """argmax/argmin and max/min(dim) return the first of tied extremes; keepdim shapes as torch."""
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [0.0, 0.0, 0.0]]
    calls = [lambda T, t: t.argmax(1), lambda T, t: t.argmin(0, keepdim=True), lambda T, t: T.argmax(t),
             lambda T, t: T.argmax(t, keepdim=True), lambda T, t: t.max(1).indices,
             lambda T, t: t.min(0, keepdim=True).indices, lambda T, t: t[0, 0].argmax(0, True)]
    for fn in calls:
        got, want = to_np(fn(autojac, autojac.tensor(x))), to_np(fn(torch, torch.tensor(x)))
        assert got.shape == want.shape and got.dtype == want.dtype and (got == want).all()


# --------------------------------------------------------------------------- zeros, infinities, integer dtypes
def test_logcumsumexp_minus_inf_is_finite() -> None:
    """Values as torch's; gradients equal torch's wherever torch's are finite, and finite (0) where
    torch's rule computes inf - inf (an all -inf prefix)."""
    x = np.array([-np.inf, 0.5, -np.inf, 2.0, -np.inf])
    v = np.array([1.0, -2.0, 3.0, 0.5, -1.0])
    fn = lambda T, x: T.logcumsumexp(x, 0)  # noqa: E731
    assert_close(out_arrays(autojac, fn, [x])[0], out_arrays(torch, fn, [x])[0], "values", 0, 0)
    got, want = vjp(autojac, fn, [x], [v])[0], vjp(torch, fn, [x], [v])[0]
    assert np.isfinite(got).all() and got[0] == 0
    fin = np.isfinite(want)
    assert_close(got[fin], want[fin], "grad where torch's is finite", 1e-12, 1e-12)
    w = rng_for("lcse-inf").standard_normal(5)
    d2 = second(autojac, fn, [x], [v], [w])
    assert all(np.isfinite(h).all() for h in d2)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_second_derivative_at_zero(mode: str) -> None:
    """Where a distance is 0 the gradient is 0 (as torch's) and the second derivative finite; elsewhere it
    matches torch's (through the written-out distance, as torch's cdist has no double backward)."""
    a, b = np.array([[0.0, 1.0], [2.0, 2.0]]), np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.5]])
    fn = lambda T, a, b: T.cdist(a, b, compute_mode=mode)  # noqa: E731
    rng = rng_for("cd0" + mode)
    v, w = [rng.standard_normal((2, 3))], [rng.standard_normal((2, 2)), rng.standard_normal((3, 2))]
    got, want = second(autojac, fn, [a, b], v, w), second(torch, pairwise(2), [a, b], v, w)
    assert all(np.isfinite(h).all() for h in got)
    assert_close(got[0][1], want[0][1], "row of x1 away from the zero distance", 1e-12, 1e-12)
    assert_close(got[1][1:], want[1][1:], "rows of x2 away from the zero distance", 1e-12, 1e-12)
    batched, loop = batched_then_differentiated(fn, [a, b], rng)
    assert_all_close(batched, loop, "batched create_graph at a zero distance", 1e-12, 1e-12)


def test_cumprod_zero_gradient_exact_and_fd() -> None:
    """cumprod's gradient with zeros equals the product rule exactly (no 0/0), and matches FD."""
    x = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0]])
    v = rng_for("cp0").standard_normal(x.shape)
    fn = lambda T, x: T.cumprod(x, 1)  # noqa: E731
    got = vjp(autojac, fn, [x], [v])[0]
    exact = np.zeros_like(x)
    for r in range(2):
        for j in range(4):
            for k in range(j, 4):
                exact[r, j] += v[r, k] * np.prod(np.delete(x[r, :k + 1], j))
    assert_close(got, exact, "vjp vs the product rule", 1e-12, 1e-12)
    assert_close(got, fd_vjp(fn, [x], [v])[0], "vjp vs central differences", 1e-7, 1e-8)
    jt = jvp_rules(fn, [x], [v], 0)[0]
    assert_close(jt, fd_jvp(fn, [x], [v])[0], "jvp vs central differences", 1e-7, 1e-8)


def test_scatter_src_larger_than_index() -> None:
    """Only src's leading index-shaped block is read; the rest gets a zero gradient
    (torch 2.13's own scatter/scatter_add backward fails on such shapes, so FD is the oracle)."""
    rng = rng_for("crop")
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    for fn in (lambda T, x, s: x.scatter(0, ix(T, J2), s), lambda T, x, s: x.scatter_add(0, ix(T, I2), s)):
        assert_all_close(out_arrays(autojac, fn, [x, s]), out_arrays(torch, fn, [x, s]), "values", 1e-12, 1e-12)
        v = [rng.standard_normal((3, 4))]
        got = vjp(autojac, fn, [x, s], v)
        assert_all_close(got, fd_vjp(fn, [x, s], v), "vjp vs central differences", 1e-7, 1e-8)
        assert (got[1][2:] == 0).all() and (got[1][:, 4:] == 0).all()


INT_CALLS = {
    "scatter_reduce": lambda T: [T.tensor([[1, -2, 3], [4, 5, -7]]).scatter_reduce(
        0, T.tensor([[0, 0, 1], [0, 1, 1]]), T.tensor([[7, -3, 2], [5, 1, -1]]), r, include_self=inc)
        for r in ("sum", "mean", "amax", "amin", "prod") for inc in (True, False)],
    "cumsum": lambda T: [T.tensor([[1, 2], [3, 4]], dtype=T.int32).cumsum(0), T.tensor([True, True]).cumsum(0),
                         T.tensor([[1, 2], [3, 4]]).cumsum(1, dtype=T.float64)],
    "cumprod": lambda T: [T.tensor([3, -2, 4]).cumprod(0), T.tensor([True, False]).cumprod(0)],
    "sort": lambda T: [*T.tensor([[3, -1, 2], [0, 9, 9]]).sort(descending=True, stable=True),
                       *T.tensor([True, False, True]).sort(stable=True), T.tensor([5, 1, 5]).argsort(stable=True)],
    "select": lambda T: [*T.tensor([[3, -1, 2]]).topk(2), *T.tensor([[3, -1, 2]]).kthvalue(2),
                         *T.tensor([3, 1, 4, 1]).cummax(0)],
    "shape": lambda T: [T.tensor([[1, 2], [3, 4]]).flip(0), T.roll(T.tensor([1, 2, 3]), 1),
                        T.tensor([[1, 2]]).repeat(2, 2), T.tensor([1, 2]).repeat_interleave(2),
                        T.repeat_interleave(T.tensor([2, 0, 1])), T.rot90(T.tensor([[1, 2], [3, 4]])),
                        T.diff(T.tensor([True, False, False])), T.diff(T.tensor([1, 4, 9]), n=2)],
    "pad": lambda T: [F(T).pad(T.tensor([[1, 2, 3]]), (1, 2)), F(T).pad(T.tensor([[1, 2, 3]]), (2, 1), mode="reflect"),
                      F(T).pad(T.tensor([[1., 2.]]), (1, 0), value=-1.0)],
    "contract": lambda T: [T.einsum("ij,kj->ik", T.tensor([[1, 2]]), T.tensor([[3, 4], [5, 6]])),
                           T.tensordot(T.tensor([[1, 2]]), T.tensor([3, 4]), dims=([1], [0])),
                           T.kron(T.tensor([[1, 2]]), T.tensor([1.5, 2.0]))],
    "index": lambda T: [T.gather(T.tensor([[1, 2], [3, 4]]), 1, T.tensor([[1], [0]])),
                        T.tensor([1, 2, 3]).index_fill(0, T.tensor([1]), 7),
                        T.tensor([1, 2, 3]).index_add(0, T.tensor([0, 0]), T.tensor([5, 6]), alpha=2),
                        T.tensor([1, 2, 3]).masked_scatter(T.tensor([True, False, True]), T.tensor([8, 9])),
                        T.take(T.tensor([[1, 2], [3, 4]]), T.tensor([3, -4]))],
}


@pytest.mark.parametrize("name", list(INT_CALLS))
def test_integer_and_bool_dtypes_like_torch(name: str) -> None:
    got, want = INT_CALLS[name](autojac), INT_CALLS[name](torch)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], f"{i}: dtype"
        assert g.tolist() == w.tolist(), f"{i}: values"


# --------------------------------------------------------------------------- in-place forms
INPLACE = {
    "scatter_": lambda T, y, s: y.scatter_(0, ix(T, J2), s),
    "scatter_value_": lambda T, y, s: y.scatter_(1, ix(T, [[0], [2], [1]]), 0.5),
    "scatter_add_": lambda T, y, s: y.scatter_add_(0, ix(T, I2), s),
    "scatter_reduce_": lambda T, y, s: y.scatter_reduce_(0, ix(T, I2), s, "amax", include_self=False),
    "index_add_": lambda T, y, s: y.index_add_(0, ix(T, [2, 0]), s, alpha=-1.0),
    "index_copy_": lambda T, y, s: y.index_copy_(0, ix(T, [2, 0]), s),
    "index_fill_": lambda T, y, s: y.index_fill_(1, ix(T, [3]), -2.0),
    "masked_scatter_": lambda T, y, s: y.masked_scatter_(ix(T, [True, False, True, False]), s),
    "cumsum_": lambda T, y, s: y.cumsum_(1),
    "cumprod_": lambda T, y, s: y.cumprod_(0),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms_like_torch(name: str) -> None:
    rng = rng_for("inplace" + name)
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))

    def fn(T, x, s):
        y = x * 1.0
        r = INPLACE[name](T, y, s)
        assert r is y
        return y

    v = [rng.standard_normal((3, 4))]
    assert_all_close(out_arrays(autojac, fn, [x, s]), out_arrays(torch, fn, [x, s]), "values", 1e-12, 1e-12)
    assert_all_close(vjp(autojac, fn, [x, s], v), vjp(torch, fn, [x, s], v), "vjp", 1e-12, 1e-12)


# --------------------------------------------------------------------------- namespace and errors
def test_namespace_and_methods() -> None:
    for name in ("gather", "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
                 "take", "take_along_dim", "masked_scatter", "flip", "fliplr", "flipud", "roll", "tile",
                 "repeat_interleave", "rot90", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "diff",
                 "sort", "argsort", "msort", "topk", "kthvalue", "einsum", "tensordot", "kron", "cdist"):
        assert callable(getattr(autojac, name)), name
        assert hasattr(torch.Tensor, name) == hasattr(autojac.Tensor, name), f"Tensor.{name}"
    assert hasattr(autojac.Tensor, "repeat") and hasattr(autojac.Tensor, "scatter_")
    r = autojac.sort(autojac.tensor([2.0, 1.0]))
    assert r._fields == ("values", "indices") and repr(r).startswith("autojac.return_types.sort(\nvalues=")
    assert "cummax(" in repr(autojac.cummax(autojac.tensor([1.0]), 0))
    assert "topk(" in repr(autojac.tensor([1.0]).topk(1)) and "kthvalue(" in repr(autojac.tensor([1.0]).kthvalue(1))


def _pad(T, *args, **kwargs):
    return F(T).pad(*args, **kwargs)


ERRORS = {
    "gather_bounds": lambda T: T.gather(T.ones(3, 4), 0, T.tensor([[3]])),
    "gather_negative": lambda T: T.gather(T.ones(3, 4), 0, T.tensor([[-1]])),
    "gather_ndim": lambda T: T.gather(T.ones(3, 4), 0, T.tensor([0])),
    "gather_float_index": lambda T: T.gather(T.ones(3, 4), 0, T.tensor([[0.0]])),
    "gather_size": lambda T: T.gather(T.ones(3, 4), 1, T.zeros(4, 1, dtype=T.long)),
    "gather_dim": lambda T: T.gather(T.ones(3, 4), 2, T.zeros(3, 1, dtype=T.long)),
    "scatter_bounds": lambda T: T.ones(3, 4).scatter(0, T.tensor([[3]]), 1.0),
    "scatter_size": lambda T: T.ones(3, 4).scatter(0, T.zeros(3, 5, dtype=T.long), T.zeros(3, 5)),
    "scatter_src_size": lambda T: T.ones(3, 4).scatter(0, T.zeros(2, 2, dtype=T.long), T.zeros(1, 5)),
    "scatter_dtype": lambda T: T.ones(3, 4).scatter(0, T.zeros(2, 2, dtype=T.long), T.zeros(2, 2, dtype=T.float64)),
    "scatter_add_size": lambda T: T.ones(3, 4).scatter_add(0, T.zeros(2, 2, dtype=T.long), T.zeros(1, 1)),
    "index_add_bounds": lambda T: T.ones(3, 4).index_add(0, T.tensor([0, 5]), T.zeros(2, 4)),
    "index_add_shape": lambda T: T.ones(3, 4).index_add(0, T.tensor([0, 1]), T.zeros(2, 3)),
    "index_add_2d_index": lambda T: T.ones(3, 4).index_add(0, T.tensor([[0, 1]]), T.zeros(2, 4)),
    "index_copy_count": lambda T: T.ones(3, 4).index_copy(0, T.tensor([0, 1]), T.zeros(3, 4)),
    "index_fill_bounds": lambda T: T.ones(3, 4).index_fill(0, T.tensor([0, 5]), 1.0),
    "index_fill_value_dim": lambda T: T.ones(3, 4).index_fill(0, T.tensor([0]), T.tensor([1.0, 2.0])),
    "take_bounds": lambda T: T.take(T.ones(3, 4), T.tensor([12])),
    "take_along_dim_ndim": lambda T: T.take_along_dim(T.ones(3, 4), T.tensor([0]), 0),
    "take_along_dim_int32": lambda T: T.take_along_dim(T.ones(3, 4), T.tensor([[0]], dtype=T.int32), 0),
    "masked_scatter_short": lambda T: T.ones(3, 4).masked_scatter(T.ones(3, 4) > 0, T.zeros(2)),
    "masked_scatter_float_mask": lambda T: T.ones(3, 4).masked_scatter(T.ones(3, 4), T.zeros(12)),
    "flip_repeated": lambda T: T.ones(2, 3).flip(0, 0),
    "fliplr_1d": lambda T: T.fliplr(T.ones(3)),
    "roll_align": lambda T: T.roll(T.ones(2, 3), (1, 2), 0),
    "roll_0d": lambda T: T.roll(T.tensor(1.0), 1, 0),
    "repeat_few": lambda T: T.ones(2, 3).repeat(2),
    "rot90_dims": lambda T: T.rot90(T.ones(2, 3), 1, (0, 1, 2)),
    "rot90_same": lambda T: T.rot90(T.ones(2, 3), 1, (1, 1)),
    "rot90_1d": lambda T: T.rot90(T.ones(3)),
    "repeat_interleave_size": lambda T: T.ones(3).repeat_interleave(T.tensor([1, 2])),
    "pad_odd": lambda T: _pad(T, T.ones(2, 3), (1,)),
    "pad_long": lambda T: _pad(T, T.ones(2, 3), (1, 1, 1, 1, 1, 1)),
    "pad_reflect_big": lambda T: _pad(T, T.ones(2, 3, 4), (4, 1), mode="reflect"),
    "pad_reflect_1d": lambda T: _pad(T, T.ones(4), (1, 1), mode="reflect"),
    "pad_circular_wrap": lambda T: _pad(T, T.ones(2, 3, 4), (5, 5), mode="circular"),
    "pad_mode": lambda T: _pad(T, T.ones(2, 3), (1, 1), mode="foo"),
    "pad_value_reflect": lambda T: _pad(T, T.ones(2, 3), (1, 1), mode="reflect", value=1.0),
    "diff_0d": lambda T: T.diff(T.tensor(1.0)),
    "diff_order": lambda T: T.diff(T.ones(3), n=-1),
    "diff_prepend_dim": lambda T: T.diff(T.ones(3), prepend=T.tensor(0.0)),
    "logcumsumexp_long": lambda T: T.logcumsumexp(T.tensor([1, 2]), 0),
    "cumsum_dim": lambda T: T.ones(2, 3).cumsum(2),
    "topk_k": lambda T: T.ones(2, 3).topk(4),
    "kthvalue_k": lambda T: T.ones(2, 3).kthvalue(0),
    "sort_dim": lambda T: T.ones(2, 3).sort(3),
    "einsum_fewer": lambda T: T.einsum("ij,jk->ik", T.ones(2, 3)),
    "einsum_more": lambda T: T.einsum("ij,jk->ik", T.ones(2, 3), T.ones(3, 4), T.ones(4)),
    "einsum_ndim": lambda T: T.einsum("ijk,jk->ik", T.ones(2, 3), T.ones(3, 4)),
    "einsum_dtype": lambda T: T.einsum("ij,jk->ik", T.ones(2, 3), T.ones(3, 4, dtype=T.float64)),
    "einsum_out_missing": lambda T: T.einsum("ij,jk->il", T.ones(2, 3), T.ones(3, 4)),
    "einsum_size": lambda T: T.einsum("ij,ik->ik", T.ones(2, 3), T.ones(3, 4)),
    "einsum_out_repeat": lambda T: T.einsum("ij,jk->iik", T.ones(2, 3), T.ones(3, 4)),
    "einsum_bad_char": lambda T: T.einsum("i1,jk->ik", T.ones(2, 3), T.ones(3, 4)),
    "einsum_repeat_size": lambda T: T.einsum("ii->i", T.ones(2, 3)),
    "tensordot_size": lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 4), 2),
    "tensordot_lists": lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 4), ([1], [0, 1])),
    "tensordot_negative": lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 4), -1),
    "tensordot_dtype": lambda T: T.tensordot(T.ones(2, 3), T.ones(3, 4, dtype=T.float64), 1),
    "cdist_1d": lambda T: T.cdist(T.ones(2, 3), T.ones(3)),
    "cdist_cols": lambda T: T.cdist(T.ones(2, 3), T.ones(3, 4)),
    "cdist_p": lambda T: T.cdist(T.ones(2, 3), T.ones(3, 3), p=-1),
    "cdist_long": lambda T: T.cdist(T.ones(2, 3, dtype=T.long), T.ones(3, 3, dtype=T.long)),
    "cdist_dtype": lambda T: T.cdist(T.ones(2, 3), T.ones(3, 3, dtype=T.float64)),
    "cdist_mode": lambda T: T.cdist(T.ones(2, 3), T.ones(3, 3), compute_mode="fast"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_like_torch(name: str) -> None:
    fn = ERRORS[name]
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(autojac)
    assert str(got.value) == str(want.value)
    for kind in (TypeError, IndexError, NotImplementedError, RuntimeError):
        assert isinstance(got.value, kind) == isinstance(want.value, kind), kind.__name__


def test_topk_partition_path_equals_full_sort() -> None:
    """topk's partition-based selection returns exactly the first k of the stable full sort."""
    from autojac.ops.sorting import order, select

    rng = rng_for("select")
    for trial in range(40):
        shape = (3, int(rng.integers(9, 60)))
        x = rng.integers(-3, 4, shape).astype(np.float64 if trial % 4 else np.int64)
        if trial % 4 and trial % 3 == 0:
            x[rng.random(shape) < 0.2] = np.nan
        for largest in (True, False):
            for k in (1, 2, shape[1] // 8):
                want = order(x, 1, largest)[:, :k]
                assert (select(x, k, 1, largest) == want).all(), (trial, largest, k)
                assert (select(x.T, k, 0, largest) == want.T).all(), (trial, largest, k)
    big = rng.standard_normal((4, 100))
    got = autojac.topk(autojac.tensor(big), 3, largest=False)
    want = torch.topk(torch.tensor(big), 3, largest=False)
    assert (to_np(got.indices) == to_np(want.indices)).all()


SMALL = {
    "gather_0d": lambda T: T.gather(T.tensor(5.0), 0, T.tensor(0)),
    "scatter_0d": lambda T: T.tensor(5.0).scatter(0, T.tensor(0), T.tensor(2.0)),
    "scatter_add_0d": lambda T: T.tensor(5.0).scatter_add(0, T.tensor(0), T.tensor(2.0)),
    "index_add_0d": lambda T: T.tensor(5.0).index_add(0, T.tensor([0]), T.tensor(2.0)),
    "index_copy_0d": lambda T: T.tensor(5.0).index_copy(0, T.tensor([0]), T.tensor(2.0)),
    "index_fill_0d": lambda T: T.tensor(5.0).index_fill(0, T.tensor([0]), 2.0),
    "take_0d": lambda T: T.tensor(5.0).take(T.tensor([0, 0])),
    "masked_scatter_0d": lambda T: T.tensor(5.0).masked_scatter(T.tensor(True), T.tensor([2.0])),
    "flip_0d": lambda T: T.tensor(5.0).flip(0),
    "repeat_0d": lambda T: T.tensor(5.0).repeat(2),
    "repeat_interleave_0d": lambda T: T.tensor(5.0).repeat_interleave(2),
    "cumprod_0d": lambda T: T.tensor(5.0).cumprod(0),
    "logcumsumexp_0d": lambda T: T.tensor(5.0).logcumsumexp(0),
    "cummax_0d": lambda T: T.tensor(5.0).cummax(0).values,
    "sort_0d": lambda T: T.tensor(5.0).sort().values,
    "einsum_0d": lambda T: T.einsum(",i->i", T.tensor(5.0), T.ones(2)),
    "kron_0d": lambda T: T.kron(T.tensor(5.0), T.ones(2)),
    "tensordot_0d": lambda T: T.tensordot(T.tensor(5.0), T.ones(2), 0),
    "cumsum_empty": lambda T: T.zeros(0, 3).cumsum(0),
    "sort_empty": lambda T: T.zeros(2, 0).sort(1).values,
    "topk_0": lambda T: T.zeros(2, 3).topk(0).values,
    "einsum_empty": lambda T: T.einsum("ij->", T.zeros(0, 3)),
}


@pytest.mark.parametrize("name", list(SMALL))
def test_zero_dim_and_empty_like_torch(name: str) -> None:
    got, want = SMALL[name](autojac), SMALL[name](torch)
    assert tuple(got.shape) == tuple(want.shape) and got.tolist() == want.tolist()
