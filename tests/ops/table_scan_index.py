"""The scans, gather/scatter, sorting, einsum and shape-op table: gather/take/scatter/index_add,
flip/roll/repeat/rot90/pad, cumsum/cumprod/logcumsumexp/cummax/diff, sort/topk/kthvalue,
einsum/tensordot/kron/cdist.

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them. ``at`` lines
fix inputs with ties or zeros and compare with torch only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._case import Rows
from ._oracle import autojac, torch

ROWS = Rows("scan_index", f32=(2e-5, 1e-5), g32=(2e-4, 2e-5), fdtol=1e-6)
op, at = ROWS.op, ROWS.at


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
           ((3, 4), (2, 4)), torch_fwd=_red != "prod")  # torch's forward mode gives "prod" a zero tangent
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
# (torch's forward mode underflows here, e.g. a tangent 1e-179 where 300 t is due: finite differences judge)
op("logcumsumexp_big", lambda T, x: T.logcumsumexp(x * 300.0, 1), ((3, 4),), atol2=1e-7, torch_fwd=False)
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
E = dict(names=False)  # torch decomposes einsum into other ops: other grad_fn names
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
    """cdist written out (torch has no double backward and no forward mode for cdist): the oracle for those."""
    return lambda T, a, b: (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p=p, dim=-1)


op("cdist", lambda T, a, b: T.cdist(a, b), ((3, 2), (4, 2)), ((2, 3, 4), (2, 5, 4)), ((2, 1, 3, 2), (4, 2, 2)),
   oracle=pairwise(2))
op("cdist_mm", lambda T, a, b: T.cdist(a, b), ((26, 2), (3, 2)), oracle=pairwise(2))  # > 25 rows: matmul form
op("cdist_mm_mode", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"), ((2, 3, 2), (4, 2)),
   oracle=pairwise(2))
op("cdist_p1", lambda T, a, b: T.cdist(a, b, p=1), ((3, 2), (4, 2)), oracle=pairwise(1))
op("cdist_inf", lambda T, a, b: T.cdist(a, b, p=float("inf")), ((3, 2), (4, 2)), oracle=pairwise(float("inf")))
op("cdist_p3", lambda T, a, b: T.cdist(a, b, p=3), ((3, 2), (4, 2)), oracle=pairwise(3))

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
   [3.0, 0.0], [0.0, 2.0, 4.0, 1.5], torch_fwd=False)
# a zero distance is a cone point: no second derivative there (see test_cdist_second_derivative_at_zero), and
# no forward-mode oracle (torch's cdist has none, the written-out distance none at 0)
at("zero:cdist_same_point", lambda T, a, b: T.cdist(a, b), [[0.0, 1.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 1.0]],
   d2=False, torch_fwd=False)
at("zero:cdist_same_point_mm", lambda T, a, b: T.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
   [[0.0, 1.0], [2.0, 2.0]], [[0.0, 1.0], [1.0, 1.0]], d2=False, torch_fwd=False)
