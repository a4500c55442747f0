"""The core op table: arithmetic, unary math, clamp/where, reductions, shapes, indexing, setitem,
in-place ops, cat/stack/split, products and matrix structure, compositions and mixed dtypes.

Rows only (``_case.Rows``); ``test_table.py`` runs every check of ``_checks.py`` on them. Kinks and
ties (``at`` lines) are checked against torch only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._case import Rows
from ._oracle import torch

ROWS = Rows("core")
op, at = ROWS.op, ROWS.at
# lines that compute in float32 inside (float64 inputs and gradients): float32's tolerances, no finite differences
F32_INSIDE = dict(fd=False, rtol=1e-5, btol=(1e-5, 1e-5))


def F(T):
    """``torch.nn.functional`` on the torch side; autojac's top level has the same functions."""
    return T.nn.functional if T is torch else T


def ix(T, idx):
    """An index with NumPy arrays turned into tensors of library ``T``."""
    conv = lambda i: T.tensor(i) if isinstance(i, np.ndarray) else i
    return tuple(conv(i) for i in idx) if isinstance(idx, tuple) else conv(idx)


def setitem(idx, view: bool = False) -> Callable:
    """``y = x.clone(); y[idx] = v`` (through a view of ``y`` when ``view``)."""
    def fn(T, x, v):
        y = x.clone()
        (y[0] if view else y)[ix(T, idx)] = v
        return y
    return fn


U = [((),), ((5,),), ((2, 3),)]  # unary shapes, 0-d included
BIN = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ()), ((), ())]
M = [((3, 4),)]
M3 = [((2, 3, 4),)]
IDX = np.array([0, 2, 0, 1])  # duplicates: gradients must add up
IDX2 = np.array([[1, 0], [2, 2]])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
ROW_MASK = np.array([True, False, True])
COND = np.array([[True, False, True], [False, False, True]])

# --------------------------------------------------------------------------- arithmetic
op("add", lambda T, a, b: a + b, *BIN)
op("sub", lambda T, a, b: a - b, *BIN)
op("mul", lambda T, a, b: a * b, *BIN)
op("div", lambda T, a, b: a / b, *BIN, domain=("real", "nz"))
op("pow", lambda T, a, b: a ** b, *BIN, domain=("pos", "real"))
op("add_alpha", lambda T, a, b: T.add(a, b, alpha=2.5), ((2, 3), (3,)))
op("sub_alpha", lambda T, a, b: T.sub(a, b, alpha=0.5), ((2, 3), (3,)))
op("add_scalar", lambda T, x: x + 2.0, *U)
op("radd_scalar", lambda T, x: 2 + x, *U)
op("sub_scalar", lambda T, x: x - 3, *U)
op("rsub_scalar", lambda T, x: 3.0 - x, *U)
op("mul_scalar", lambda T, x: x * 1.5, *U)
op("rmul_scalar", lambda T, x: -2 * x, *U)
op("div_scalar", lambda T, x: x / 4.0, *U)
op("rdiv_scalar", lambda T, x: 2.0 / x, *U, domain="nz")
op("pow_2", lambda T, x: x ** 2, *U)
op("pow_3", lambda T, x: x ** 3, *U)
op("pow_0", lambda T, x: x ** 0, *U)
op("pow_1", lambda T, x: x ** 1.0, *U)
op("pow_half", lambda T, x: x ** 0.5, *U, domain="pos")
op("pow_neg", lambda T, x: x ** -1.5, *U, domain="pos")
op("pow_negint", lambda T, x: x ** -2, *U, domain="nz")
op("rpow", lambda T, x: 2.0 ** x, *U)
op("rpow_frac", lambda T, x: 0.5 ** x, *U)
op("torch.pow", lambda T, a, b: T.pow(a, b), ((2, 3), (3,)), domain=("pos", "real"))
op("neg", lambda T, x: -x, *U)

# --------------------------------------------------------------------------- unary math
op("abs", lambda T, x: x.abs(), *U, domain="away")
op("exp", lambda T, x: x.exp(), *U)
op("log", lambda T, x: x.log(), *U, domain="pos")
op("log1p", lambda T, x: T.log1p(x), *U, domain="pos")
op("expm1", lambda T, x: T.expm1(x), *U)
op("log2", lambda T, x: T.log2(x), ((5,),), domain="pos")
op("log10", lambda T, x: T.log10(x), ((5,),), domain="pos")
op("exp2", lambda T, x: T.exp2(x), ((5,),))
op("sqrt", lambda T, x: x.sqrt(), *U, domain="pos")
op("rsqrt", lambda T, x: T.rsqrt(x), *U, domain="pos")
op("reciprocal", lambda T, x: x.reciprocal(), ((5,),), domain="nz")
op("square", lambda T, x: T.square(x), ((5,),))
op("sin", lambda T, x: x.sin(), *U)
op("cos", lambda T, x: T.cos(x), *U)
op("tan", lambda T, x: T.tan(x), *U, domain="unit")
op("tanh", lambda T, x: x.tanh(), *U)
op("sigmoid", lambda T, x: T.sigmoid(x), *U)
op("relu", lambda T, x: T.relu(x), *U, domain="away")
op("softplus", lambda T, x: F(T).softplus(x), *U)
op("softplus_beta", lambda T, x: F(T).softplus(x, beta=2.0, threshold=1.0), ((2, 3),), domain="away")
op("softplus_big", lambda T, x: F(T).softplus(x * 30.0), ((2, 3),), domain="away")

# --------------------------------------------------------------------------- clamp / maximum / where
op("clamp", lambda T, x: x.clamp(-0.5, 0.5), *U, domain="away")
op("clamp_min", lambda T, x: T.clamp(x, min=-0.5), ((2, 3),), domain="away")
op("clamp_max", lambda T, x: T.clamp(x, max=0.5), ((2, 3),), domain="away")
op("clamp_tensor", lambda T, x, lo, hi: T.clamp(x, min=lo, max=hi), ((2, 3), (3,), (2, 1)),
   domain=("real", "neg", "pos"))
op("maximum", lambda T, a, b: T.maximum(a, b), *BIN)
op("minimum", lambda T, a, b: T.minimum(a, b), *BIN)
op("where", lambda T, a, b: T.where(T.tensor(COND), a, b), ((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 3)))
op("where_scalar", lambda T, x: T.where(x > 0, x, 0.0), ((2, 3),), domain="away")

# --------------------------------------------------------------------------- reductions
op("sum", lambda T, x: x.sum(), *U, ((2, 3, 4),))
op("sum_dim", lambda T, x: x.sum(1), *M, *M3)
op("sum_neg_dim", lambda T, x: x.sum(dim=-1), *M3)
op("sum_dims_keep", lambda T, x: x.sum(dim=(0, 2), keepdim=True), *M3)
op("sum_keep", lambda T, x: T.sum(x, 0, keepdim=True), *M)
op("mean", lambda T, x: x.mean(), *U, ((2, 3, 4),))
op("mean_dim", lambda T, x: x.mean(1), *M, *M3)
op("mean_dims_keep", lambda T, x: x.mean(dim=(0, -1), keepdim=True), *M3)
op("prod", lambda T, x: x.prod(), *U, *M)
op("prod_dim", lambda T, x: x.prod(1), *M, *M3)
op("prod_dim_keep", lambda T, x: T.prod(x, -1, keepdim=True), *M3)
op("max", lambda T, x: x.max(), *U, *M)
op("min", lambda T, x: T.min(x), *U, *M)
op("max_dim", lambda T, x: x.max(dim=1), *M, *M3)
op("max_dim_keep", lambda T, x: x.max(-1, keepdim=True), *M3)
op("min_dim", lambda T, x: T.min(x, dim=0), *M)
op("min_dim_keep", lambda T, x: x.min(1, True), *M3)
op("amax", lambda T, x: x.amax(), *M)
op("amax_dim", lambda T, x: T.amax(x, dim=1), *M, *M3)
op("amax_dims_keep", lambda T, x: x.amax(dim=(0, 2), keepdim=True), *M3)
op("amin_dim", lambda T, x: T.amin(x, dim=-1), *M3)
op("amin_dims", lambda T, x: x.amin(dim=(0, 1)), *M3)
op("var", lambda T, x: x.var(), ((5,),), *M)
op("var_dim", lambda T, x: x.var(1), *M, *M3)
op("var_biased", lambda T, x: x.var(dim=1, unbiased=False), *M)
op("var_correction", lambda T, x: T.var(x, dim=(0, 2), correction=2, keepdim=True), *M3)
op("std", lambda T, x: x.std(), ((5,),), *M)
op("std_dim", lambda T, x: x.std(dim=0), *M)
op("std_biased_keep", lambda T, x: T.std(x, -1, unbiased=False, keepdim=True), *M3)
op("std_correction", lambda T, x: x.std(dim=1, correction=0), *M)
op("norm", lambda T, x: x.norm(), *U, *M)
op("norm_dim", lambda T, x: x.norm(dim=1), *M, *M3)
op("norm_dims_keep", lambda T, x: T.norm(x, p=2, dim=(0, 2), keepdim=True), *M3)
op("norm_p1", lambda T, x: x.norm(p=1), *M, domain="away")
op("norm_p1_dim", lambda T, x: x.norm(p=1, dim=0), *M, domain="away")
op("norm_inf", lambda T, x: x.norm(p=float("inf")), *M)
op("norm_inf_dim", lambda T, x: x.norm(p=float("inf"), dim=1), *M)
op("norm_p3", lambda T, x: x.norm(p=3, dim=1), *M, domain="nz")
op("logsumexp", lambda T, x: x.logsumexp(1), *M, *M3)
op("logsumexp_keep", lambda T, x: T.logsumexp(x, dim=(0, 2), keepdim=True), *M3)
op("logsumexp_big", lambda T, x: T.logsumexp(x * 300.0, dim=-1), *M)
op("softmax", lambda T, x: x.softmax(1), *M, *M3)
op("softmax_dim0", lambda T, x: T.softmax(x, dim=0), ((5,),), *M)
op("softmax_big", lambda T, x: T.softmax(x * 300.0, dim=-1), *M)
op("log_softmax", lambda T, x: x.log_softmax(-1), ((5,),), *M, *M3)
op("log_softmax_dim1", lambda T, x: F(T).log_softmax(x, dim=1), *M3)

# --------------------------------------------------------------------------- shapes
op("reshape", lambda T, x: x.reshape(4, 3), *M)
op("reshape_flat", lambda T, x: x.reshape(-1), *M, ((),))
op("reshape_3d", lambda T, x: T.reshape(x, (2, -1, 2)), *M)
op("view", lambda T, x: x.view(2, 6), *M)
op("view_tuple", lambda T, x: x.view((6, 2)).view(-1, 4), *M)
op("flatten", lambda T, x: x.flatten(), *M3, ((),))
op("flatten_1", lambda T, x: T.flatten(x, 1), *M3)
op("flatten_0_1", lambda T, x: x.flatten(0, 1), *M3)
op("squeeze", lambda T, x: x.squeeze(), ((1, 3, 1, 2),))
op("squeeze_dim", lambda T, x: x.squeeze(0), ((1, 3, 1, 2),))
op("squeeze_neg", lambda T, x: T.squeeze(x, -2), ((1, 3, 1, 2),))
op("unsqueeze", lambda T, x: x.unsqueeze(0), *M, ((),))
op("unsqueeze_neg", lambda T, x: T.unsqueeze(x, -1), *M)
op("unsqueeze_mid", lambda T, x: x.unsqueeze(1), *M3)
op("transpose", lambda T, x: x.transpose(0, 1), *M)
op("transpose_3d", lambda T, x: T.transpose(x, -1, 0), *M3)
op("t", lambda T, x: x.t(), *M)
op("mT", lambda T, x: x.mT, *M3)
op("permute", lambda T, x: x.permute(2, 0, 1), *M3)
op("permute_tuple", lambda T, x: T.permute(x, (1, 2, 0)), *M3)
op("expand", lambda T, x: x.expand(2, 3, 4), ((3, 1),))
op("expand_keep", lambda T, x: x.expand(-1, 4), ((3, 1),))
op("expand_0d", lambda T, x: x.expand(3, 2), ((),))
op("broadcast_to", lambda T, x: T.broadcast_to(x, (2, 3, 4)), ((4,),), ((3, 1),))

# --------------------------------------------------------------------------- indexing
op("index_int", lambda T, x: x[1], *M, *M3)
op("index_neg_int", lambda T, x: x[-1], *M)
op("index_slice", lambda T, x: x[1:3], *M)
op("index_slice_2d", lambda T, x: x[:, 1:], *M)
op("index_step", lambda T, x: x[::2, 1::2], *M)
op("index_int_slice", lambda T, x: x[1, :2], *M3)
op("index_none", lambda T, x: x[None], *M)
op("index_none_mid", lambda T, x: x[:, None, 1:], *M)
op("index_ellipsis", lambda T, x: x[..., 1], *M3)
op("index_ellipsis_none", lambda T, x: x[1, ..., None], *M3)
op("index_0d", lambda T, x: x[...], ((),))
op("index_tensor_dup", lambda T, x: x[ix(T, IDX)], ((3,),), *M)
op("index_tensor_dim1", lambda T, x: x[:, ix(T, IDX)], *M)
op("index_tensor_2d", lambda T, x: x[ix(T, IDX2)], *M)
op("index_tensor_pair", lambda T, x: x[ix(T, (IDX, np.array([1, 1, 3, 0])))], *M)
op("index_tensor_slice", lambda T, x: x[ix(T, IDX), 1:], ((3, 2, 4),))
op("index_list", lambda T, x: x[[0, 2, 2]], *M)
op("index_mask", lambda T, x: x[ix(T, MASK)], *M)
op("index_mask_rows", lambda T, x: x[ix(T, ROW_MASK)], *M)
op("index_mask_computed", lambda T, x: x[x > 0], *M, domain="away")

# --------------------------------------------------------------------------- setitem (differentiable in x and v)
op("setitem_slice", setitem(slice(1, 3)), ((4, 3), (2, 3)), ((4, 3), (3,)), ((4, 3), ()))
op("setitem_int", setitem(1), ((4, 3), (3,)))
op("setitem_int_pair", setitem((2, 1)), ((4, 3), ()))
op("setitem_ellipsis", setitem((Ellipsis, 0)), ((4, 3), (4,)))
op("setitem_index", setitem(np.array([0, 3])), ((4, 3), (2, 3)), ((4, 3), (3,)))
op("setitem_mask", setitem(np.array([True, False, True, False])), ((4, 3), (2, 3)), ((4, 3), ()))
op("setitem_view", setitem(slice(1, 3), view=True), ((2, 4), (2,)))

# --------------------------------------------------------------------------- in-place arithmetic on non-leaves
def inplace(body: Callable) -> Callable:
    """``y = x.clone()`` (and ``w = v.clone()``), then ``body(y, w)`` mutates ``y`` in place; returns ``y``."""
    def fn(T, x, v=None):
        y = x.clone()
        body(y, v)
        return y
    return fn


op("inplace_mul", inplace(lambda y, v: y.mul_(v)), ((2, 3), (3,)))
op("inplace_chain", inplace(lambda y, v: y.add_(v).mul_(v).sub_(1.5)), ((2, 3), (2, 3)))
op("inplace_iops", inplace(lambda y, v: [y.__iadd__(v), y.__imul__(v), y.__itruediv__(2.0)]), ((2, 3), ()))
op("inplace_unary", inplace(lambda y, v: y.sin_().mul_(v).exp_()), ((2, 3), (2, 3)))
op("inplace_view", inplace(lambda y, v: y[0].mul_(v)), ((2, 3), (3,)))
op("inplace_view_then_base", inplace(lambda y, v: [y[:, 1].add_(v).mul_(v), y.sin_()]), ((2, 3), (2,)))
op("inplace_view_exp", inplace(lambda y, v: y[:, 1:].mul_(v).exp_()), ((2, 3), (2, 2)))
op("inplace_clamp", inplace(lambda y, v: y.mul_(v).clamp_(-0.5, 0.5)), ((2, 3), (2, 3)), domain="away", fd=False)

# --------------------------------------------------------------------------- cat / stack / split
op("cat", lambda T, a, b: T.cat([a, b]), ((2, 3), (4, 3)))
op("cat_dim1", lambda T, a, b: T.cat((a, b), dim=1), ((2, 3), (2, 1)))
op("cat_neg3", lambda T, a, b, c: T.cat([a, b, c], -1), ((2, 2, 1), (2, 2, 3), (2, 2, 2)))
op("stack", lambda T, a, b: T.stack([a, b]), ((2, 3), (2, 3)), ((), ()))
op("stack_last", lambda T, a, b, c: T.stack([a, b, c], dim=-1), ((2, 3), (2, 3), (2, 3)))
op("stack_mid", lambda T, a, b: T.stack([a, b], 1), ((2, 3), (2, 3)))
op("split", lambda T, x: x.split(2), ((5, 2),))
op("split_dim", lambda T, x: T.split(x, 3, dim=1), *M)
op("split_sizes", lambda T, x: x.split([1, 3], dim=1), *M)
op("split_used_one", lambda T, x: x.split(2)[1], ((5, 2),))
op("chunk", lambda T, x: x.chunk(3), *M)
op("chunk_dim", lambda T, x: T.chunk(x, 2, dim=-1), *M3)
op("unbind", lambda T, x: x.unbind(1), *M)

# --------------------------------------------------------------------------- products and matrix structure
MATMUL = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)), ((2, 3, 4), (2, 4, 5)),
          ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)),
          ((2, 3, 4), (4,))]
op("matmul", lambda T, a, b: a @ b, *MATMUL)
op("torch.matmul", lambda T, a, b: T.matmul(a, b), ((2, 3, 4), (4, 5)))
op("mm", lambda T, a, b: T.mm(a, b), ((3, 4), (4, 2)))
op("mm_method", lambda T, a, b: a.mm(b), ((1, 4), (4, 1)))
op("bmm", lambda T, a, b: T.bmm(a, b), ((2, 3, 4), (2, 4, 5)))
op("mv", lambda T, a, b: T.mv(a, b), ((3, 4), (4,)))
op("dot", lambda T, a, b: T.dot(a, b), ((4,), (4,)))
op("outer", lambda T, a, b: T.outer(a, b), ((3,), (4,)))
op("diag_vec", lambda T, x: T.diag(x), ((3,),))
op("diag_vec_up", lambda T, x: T.diag(x, 1), ((3,),))
op("diag_vec_down", lambda T, x: x.diag(-2), ((3,),))
op("diag_mat", lambda T, x: T.diag(x), *M, ((3, 3),))
op("diag_mat_up", lambda T, x: T.diag(x, 1), *M)
op("diag_mat_down", lambda T, x: x.diag(-1), *M)
op("diagonal", lambda T, x: T.diagonal(x, 1, 0, 2), *M3)
op("trace", lambda T, x: T.trace(x), *M, ((3, 3),))
op("tril", lambda T, x: T.tril(x), *M)
op("tril_neg", lambda T, x: x.tril(-1), *M)
op("triu", lambda T, x: x.triu(1), *M, *M3)
op("triu_neg", lambda T, x: T.triu(x, -1), *M)

# --------------------------------------------------------------------------- 0-d and size-1 corners
op("sum_0d_dim", lambda T, x: x.sum(0), ((),))
op("mean_0d_keep", lambda T, x: x.mean(-1, keepdim=True), ((),))
op("max_0d_dim", lambda T, x: x.max(0), ((),))
op("amax_0d", lambda T, x: x.amax(), ((),))
op("softmax_0d", lambda T, x: x.softmax(0), ((),))
op("logsumexp_0d", lambda T, x: x.logsumexp(0), ((),))
op("sum_size1", lambda T, x: x.sum(1), ((3, 1),))
op("var_size1_keep", lambda T, x: x.var(0, keepdim=True), ((4, 1),))
op("squeeze_0d", lambda T, x: x.squeeze(), ((),))
op("t_small", lambda T, x: x.t(), ((),), ((4,),))
op("reshape_0d", lambda T, x: x.reshape(1, 1), ((),))
op("index_neg_tensor", lambda T, x: x[ix(T, np.array([-1, 0, -1]))], *M)
op("index_select", lambda T, x: T.index_select(x, 1, T.tensor([3, 0, 3])), *M)
op("masked_fill", lambda T, x: x.masked_fill(T.tensor(MASK), 0.5), *M)
op("masked_fill_tensor", lambda T, x, v: x.masked_fill(T.tensor(MASK), v), ((3, 4), ()))

# --------------------------------------------------------------------------- more of the namespace
op("hstack", lambda T, a, b: T.hstack([a, b]), ((2, 3), (2, 1)), ((3,), (2,)))
op("vstack", lambda T, a, b: T.vstack([a, b]), ((2, 3), (3,)))
op("narrow", lambda T, x: x.narrow(1, 1, 2), *M)
op("movedim", lambda T, x: T.movedim(x, 0, -1), *M3)
op("unflatten", lambda T, x: x.unflatten(1, (2, -1)), *M)
op("ravel", lambda T, x: x.ravel(), *M3)
op("expand_as", lambda T, a, b: a.expand_as(b), ((3, 1), (2, 3, 4)))
op("broadcast_tensors", lambda T, a, b: T.broadcast_tensors(a, b), ((3, 1), (4,)))
op("clone", lambda T, x: x.clone(), *M)
op("to_float32", lambda T, x: x.to(T.float32) * 2, *M, **F32_INSIDE)
op("masked_select", lambda T, x: T.masked_select(x, T.tensor(ROW_MASK[:, None])), *M)
op("var_mean", lambda T, x: T.var_mean(x, 1), *M)
op("std_mean", lambda T, x: T.std_mean(x, dim=0, keepdim=True), *M)
op("aminmax", lambda T, x: tuple(T.aminmax(x, dim=1)), *M)
op("index_put", lambda T, x, v: x.index_put((T.tensor([2, 0]),), v), ((3, 4), (4,)))
op("sign", lambda T, x: x.sign() * x, ((5,),), domain="nz")
op("fmax", lambda T, a, b: T.fmax(a, b), ((2, 3), (3,)))
op("square_method", lambda T, x: x.square(), ((),))
op("swapaxes", lambda T, x: x.swapaxes(0, 2), *M3)
op("stack_0d_dim", lambda T, a, b: T.stack((a, b), -1), ((), ()))

# --------------------------------------------------------------------------- compositions (shared inputs, fan-out)
op("x*x*x", lambda T, x: x * x * x, ((2, 3),))
op("x/x+x", lambda T, x: x / x + x, ((2, 3),), domain="nz")
op("rows_sum", lambda T, x: x[0] * x[1] + x[:, 1:].sum(), ((2, 3),))
op("mlp", lambda T, x, w, b: (x @ w + b).tanh().sum(1), ((4, 3), (3, 5), (5,)))
op("attention", lambda T, q, k: (q @ k.mT / 2.0).softmax(-1) @ k, ((2, 3, 4), (2, 5, 4)))
op("normalize", lambda T, x: (x - x.mean(1, keepdim=True)) / x.std(1, keepdim=True), *M)
op("logistic_loss", lambda T, x, y: F(T).softplus(-x * y).mean(), ((6,), (6,)), domain=("real", "nz"))

# --------------------------------------------------------------------------- mixed dtypes (no FD: float32 inside)
op("mixed_mul", lambda T, a, b: a.float() * b, ((2, 3), (2, 3)), ((2, 3), ()), ((), (3,)), **F32_INSIDE)
op("mixed_add", lambda T, a, b: a.float() + b.double(), ((2, 3), (3,)), **F32_INSIDE)
op("mixed_int_tensor", lambda T, x: x * T.tensor([1, 2, 3]) + T.tensor(2), ((2, 3),))
op("mixed_matmul", lambda T, a, b: a.float() @ b.float(), ((2, 3), (3,)), **F32_INSIDE)
op("mixed_where", lambda T, a, b: T.where(T.tensor(COND), a.float(), b), ((2, 3), ()), **F32_INSIDE)
op("mixed_cat", lambda T, a, b: T.cat([a.float(), b]), ((2, 3), (1, 3)), **F32_INSIDE)

# --------------------------------------------------------------------------- kinks and ties, against torch only
T3 = [[1.0, 3.0, 3.0], [0.0, 3.0, -1.0]]
at("ties:max", lambda T, x: x.max(), T3)
at("ties:min", lambda T, x: x.min(), [[1.0, -1.0, 3.0], [-1.0, 3.0, -1.0]])
at("ties:amax_dim", lambda T, x: x.amax(1), T3)
at("ties:amax_all", lambda T, x: x.amax(dim=(0, 1)), T3)
at("ties:amin_dim0", lambda T, x: T.amin(x, 0), [[1.0, 3.0, 0.0], [1.0, 2.0, 0.0]])
at("ties:max_dim", lambda T, x: x.max(dim=1), T3)
at("ties:min_dim", lambda T, x: x.min(dim=0, keepdim=True), [[1.0, 3.0, 0.0], [1.0, 2.0, 0.0]])
at("ties:maximum", lambda T, a, b: T.maximum(a, b), [1.0, 2.0, 3.0, -1.0], [1.0, 0.0, 3.0, 5.0])
at("ties:minimum", lambda T, a, b: T.minimum(a, b), [1.0, 2.0, 3.0, -1.0], [1.0, 0.0, 3.0, 5.0])
at("ties:maximum_bcast", lambda T, a, b: T.maximum(a, b), [[0.0, 1.0], [2.0, 1.0]], [1.0])
at("ties:norm_inf", lambda T, x: x.norm(p=float("inf")), [3.0, -3.0, 1.0])
at("ties:norm_inf_dim", lambda T, x: x.norm(p=float("inf"), dim=1), [[3.0, -3.0], [1.0, 2.0]])
at("kink:clamp_bounds", lambda T, x: x.clamp(-0.5, 0.5), [-0.5, 0.5, 0.0, 1.0, -1.0])
at("kink:clamp_min_bound", lambda T, x: x.clamp(min=0.0), [0.0, 1.0, -1.0])
at("kink:relu0", lambda T, x: T.relu(x), [0.0, 1.0, -1.0])
at("kink:abs0", lambda T, x: x.abs(), [0.0, 1.0, -1.0])
at("kink:norm_p1_0", lambda T, x: x.norm(p=1), [0.0, 1.0, -2.0])
at("kink:where_eq", lambda T, x: T.where(x > 0, x, 0.0), [0.0, 1.0, -1.0])
at("zero:norm", lambda T, x: x.norm(), [0.0, 0.0, 0.0])
at("zero:norm_dim", lambda T, x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]])
at("zero:prod_one", lambda T, x: x.prod(), [2.0, 0.0, 3.0, -1.5])
at("zero:prod_two", lambda T, x: x.prod(), [2.0, 0.0, 3.0, 0.0])
at("zero:prod_dim", lambda T, x: x.prod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
at("zero:pow_2", lambda T, x: x ** 2, [0.0, 1.5])
at("zero:pow_0", lambda T, x: x ** 0, [0.0, 1.5])
at("zero:pow_1", lambda T, x: x ** 1.0, [0.0, 1.5])
at("zero:pow_tensor", lambda T, a, b: a ** b, [0.0, 2.0, 0.0, 1.5], [2.0, 3.0, 1.0, 0.0])
# 0 ** 0: torch's double backward multiplies a masked 0 by log(0) = -inf, giving nan; ours gives 0
at("zero:pow_tensor_00", lambda T, a, b: a ** b, [0.0, 0.0, 2.0], [0.0, 2.0, 0.0], d2=False)
at("zero:rpow_0", lambda T, x: 0.0 ** x, [1.0, 2.0])
at("ties:max_0d", lambda T, x: x.max(), 2.0)
at("ties:softmax_equal", lambda T, x: x.softmax(0), [1.0, 1.0, 1.0])
