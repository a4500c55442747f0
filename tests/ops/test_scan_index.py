"""Scans, gather/scatter, sorting, einsum and shape ops beyond their op-table rows (``table_scan_index.py``,
run by ``test_table.py``): the forward mode of a chain, ties, NaN order, zeros and infinities, integer
dtypes, in-place forms, PyTorch's errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from ._oracle import (
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
    second,
    to_np,
    torch,
    vjp,
)
from .table_scan_index import I2, J2, F, ix, pairwise


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
