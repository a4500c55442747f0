"""The rest of ``autojac.linalg`` beyond its op-table rows (``table_linalg_more.py``, run by ``test_table.py``):
forward-over-reverse Hessians, zeros, ties and repeated eigen/singular values, raw factors against torch's,
modes, drivers and aliases, return types, PyTorch's errors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ._oracle import (
    assert_all_close,
    assert_close,
    autojac,
    func_jvp,
    lib_tensors,
    orthogonal,
    rng_for,
    sample,
    to_np,
    torch,
)
from .table_linalg_more import INF, sq, sym

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


HESSIANS = {
    "cholesky_logdet": (lambda T, A: T.log(T.diagonal(T.linalg.cholesky(sym(A)), 0, -2, -1)).sum(), "P", (3, 3)),
    "eigh_top": (lambda T, A: T.linalg.eigvalsh(sym(A))[-1] + sq(T.linalg.eigh(sym(A))[1]).sum(-1)[0], "H", (3, 3)),
    "qr": (lambda T, A: (T.linalg.qr(A).R ** 3).sum() + T.linalg.qr(A).Q[0, 1], "G", (3, 2)),
    "svd": (lambda T, A: (T.linalg.svdvals(A) ** 3).sum() + (lambda r: (r.U @ r.Vh)[0, 1])(T.linalg.svd(A, False)),
            "G", (2, 3)),
    "nuclear": (lambda T, A: T.linalg.matrix_norm(A, "nuc"), "G", (3, 2)),
    "pinv": (lambda T, A: T.linalg.pinv(A).sum(), "G", (3, 2)),
    "lstsq": (lambda T, A: sq(T.linalg.lstsq(A, T.ones(3, 1, dtype=A.dtype), driver="gelsd")[1]).sum(), "G", (3, 2)),
    "matrix_exp": (lambda T, A: T.linalg.matrix_exp(A).sum(), "M", (2, 2)),
    "vector_norm": (lambda T, x: T.linalg.vector_norm(x, 3), "Z", (4,)),
}


@pytest.mark.parametrize("name", list(HESSIANS))
def test_forward_over_reverse_hessian(name: str) -> None:
    """``func.hessian`` (jacfwd of jacrev: JVP rules of the VJP rules) against jacrev of jacrev
    in autojac and against torch's reverse-over-reverse Hessian."""
    fn, kind, shape = HESSIANS[name]
    x = sample(rng_for("hess" + name), shape, kind)
    (xa,) = lib_tensors(autojac, [x], "float64", requires_grad=False)
    (xt,) = lib_tensors(torch, [x], "float64", requires_grad=False)
    h_fwd = to_np(autojac.func.hessian(lambda a: fn(autojac, a))(xa))
    h_rev = to_np(autojac.func.jacrev(autojac.func.jacrev(lambda a: fn(autojac, a)))(xa))
    want = to_np(torch.func.jacrev(torch.func.jacrev(lambda a: fn(torch, a)))(xt))
    assert_close(h_rev, want, "jacrev(jacrev) vs torch", 1e-8, 1e-9)
    assert_close(h_fwd, want, "hessian (forward over reverse) vs torch", 1e-8, 1e-9)


# --------------------------------------------------------------------------- edges
def _grad_of(T, fn: Callable, a: np.ndarray, dtype: str = "float64"):
    (A,) = lib_tensors(T, [a], dtype)
    (g,) = T.autograd.grad(fn(T, A), A, allow_unused=True)
    return None if g is None else to_np(g)


def test_vector_norm_ord_0() -> None:
    """The count of non-zeros: a value with a grad_fn, no gradient (x unused, as in torch), zero JVP."""
    x = np.array([[1.5, 0.0, -2.0], [0.0, 0.0, 3.0]])
    fn = lambda T, x: T.linalg.vector_norm(x, 0, dim=1)  # noqa: E731
    for T in (autojac, torch):
        (xt,) = lib_tensors(T, [x], "float64")
        y = fn(T, xt)
        assert y.grad_fn is not None and y.tolist() == [2.0, 1.0]
        assert T.autograd.grad(y.sum(), xt, allow_unused=True) == (None,)
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            T.autograd.grad(fn(T, xt).sum(), xt)
    ts = [np.ones_like(x)]
    got = func_jvp(autojac, fn, [x], ts)
    assert_all_close(got, func_jvp(torch, fn, [x], ts), "zero JVP", 0, 0)
    assert not got[0].any()


@pytest.mark.parametrize("p", [2, 3, 1.5, 1, INF, -INF, 0.5])
def test_vector_norm_gradient_at_zero(p: float) -> None:
    """At x = 0 (a whole row zero) the gradient is torch's: 0 for p >= 1 (the subgradient 0 of the
    2-norm, as torch defines it), whatever torch gives for p < 1."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    fn = lambda T, x: (T.linalg.vector_norm(x, p, dim=1) * T.tensor([1.0, 2.0], dtype=x.dtype)).sum()  # noqa: E731
    got, want = _grad_of(autojac, fn, x), _grad_of(torch, fn, x)
    assert_close(got, want, f"ord {p} gradient with a zero row", 1e-12, 1e-12)
    if p >= 1:
        assert not got[0].any(), "zero gradient at the zero vector"
    ts = [np.ones_like(x)]
    fn = lambda T, x: T.linalg.vector_norm(x, p, dim=1)  # noqa: E731
    assert_all_close(func_jvp(autojac, fn, [x], ts), func_jvp(torch, fn, [x], ts), "JVP with a zero row", 1e-12,
                     1e-12)


def test_vector_norm_inf_ties_share_the_gradient() -> None:
    x = np.array([3.0, -3.0, 1.0, 3.0])
    for p in (INF, -INF):
        y = np.array([1.0, -1.0, 1.0, 1.0]) if p < 0 else x
        fn = lambda T, x, p=p: T.linalg.vector_norm(x, p)  # noqa: E731
        got = _grad_of(autojac, fn, y)
        assert_close(got, _grad_of(torch, fn, y), f"ord {p} with ties", 0, 1e-12)
    assert_close(_grad_of(autojac, lambda T, x: T.linalg.vector_norm(x, INF), x), np.array([1, -1, 0, 1]) / 3,
                 "split three ways", 0, 1e-12)


def test_eigh_repeated_eigenvalues() -> None:
    """Eigenvalues alone stay differentiable at repeated eigenvalues (as torch: no 1/(l_j - l_i)
    term is formed); eigenvectors there are not (inf/nan in both)."""
    a = np.diag([1.0, 1.0, 2.0]) + 0.0
    fn = lambda T, A: (T.linalg.eigvalsh(A) * T.tensor([1.0, 2.0, 3.0], dtype=A.dtype)).sum()  # noqa: E731
    got = _grad_of(autojac, fn, a)
    assert np.isfinite(got).all()
    assert_close(got, _grad_of(torch, fn, a), "eigvalsh grad at a repeated eigenvalue", 1e-12, 1e-12)
    vec = lambda T, A: sq(T.linalg.eigh(A).eigenvectors)[0].sum() + T.linalg.eigh(A).eigenvalues.sum()  # noqa: E731
    assert not np.isfinite(_grad_of(autojac, vec, a)).all()
    assert not np.isfinite(_grad_of(torch, vec, a)).all()


def test_svdvals_repeated_singular_values() -> None:
    """The nuclear norm and svdvals of an orthogonal matrix (all singular values 1): finite, as torch."""
    q = orthogonal(rng_for("orth"), (), 3)
    # (a single singular value there has no derivative: which U, V LAPACK returns is arbitrary)
    for fn in (lambda T, A: T.linalg.matrix_norm(A, "nuc"), lambda T, A: T.linalg.svdvals(A).sum() * 2.0,
               lambda T, A: T.linalg.svd(A).S.sum()):
        got = _grad_of(autojac, fn, q)
        assert np.isfinite(got).all()
        assert_close(got, _grad_of(torch, fn, q), "gradient at repeated singular values", 1e-12, 1e-12)
    assert_close(_grad_of(autojac, lambda T, A: T.linalg.matrix_norm(A, "nuc"), q), q, "d nuc / dA = U V^T", 1e-12,
                 1e-12)


def test_eigh_and_svd_values_against_torch() -> None:
    """The raw factors agree with torch's (same LAPACK conventions) up to each vector's sign."""
    a = sample(rng_for("raw"), (2, 4, 4), "H")
    g = sample(rng_for("raw2"), (2, 5, 3), "G")

    def fix(v: np.ndarray, axis: int) -> np.ndarray:  # make each vector's largest entry positive
        idx = np.expand_dims(np.argmax(np.abs(v), axis=axis), axis)
        return v * np.sign(np.take_along_axis(v, idx, axis=axis))

    for T in (autojac,):
        L, V = T.linalg.eigh(T.tensor(a))
        tL, tV = torch.linalg.eigh(torch.tensor(a))
        assert_close(to_np(L), to_np(tL), "eigenvalues", 1e-12, 1e-12)
        assert_close(fix(to_np(V), -2), fix(to_np(tV), -2), "eigenvectors", 1e-10, 1e-12)
        U, S, Vh = T.linalg.svd(T.tensor(g))
        tU, tS, tVh = torch.linalg.svd(torch.tensor(g))
        assert tuple(U.shape) == (2, 5, 5) and tuple(Vh.shape) == (2, 3, 3)
        assert_close(to_np(S), to_np(tS), "singular values", 1e-12, 1e-12)
        assert_close(fix(to_np(U)[..., :3], -2), fix(to_np(tU)[..., :3], -2), "U", 1e-10, 1e-12)
        assert_close(fix(to_np(Vh), -1), fix(to_np(tVh), -1), "Vh", 1e-10, 1e-12)
        recon = (to_np(U)[..., :3] * to_np(S)[..., None, :]) @ to_np(Vh)
        assert_close(recon, g, "U diag(S) Vh", 1e-12, 1e-12)


def test_qr_mode_r_and_complete_tall() -> None:
    a = sample(rng_for("qr_r"), (2, 4, 3), "G")
    for T in (autojac, torch):
        (A,) = lib_tensors(T, [a], "float64")
        Q, R = T.linalg.qr(A, mode="r")
        assert tuple(Q.shape) == (0,) and Q.requires_grad and tuple(R.shape) == (2, 3, 3)
        with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
            R.sum().backward()
        Q, R = T.linalg.qr(A, mode="complete")
        assert tuple(Q.shape) == (2, 4, 4)
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
            T.autograd.grad(R.sum(), A)
    assert_close(to_np(autojac.linalg.qr(autojac.tensor(a), mode="r").R), to_np(torch.linalg.qr(torch.tensor(a)).R),
                 "R of mode r", 1e-12, 1e-12)


def test_cholesky_reads_one_triangle() -> None:
    a = sample(rng_for("tri"), (3, 3), "P")
    low, up = a.copy(), a.copy()
    low[0, 2] = 100.0  # junk above the diagonal: ignored by the lower factorization
    up[2, 0] = 100.0  # junk below: ignored by upper=True
    for T in (autojac, torch):
        L = to_np(T.linalg.cholesky(T.tensor(low)))
        U = to_np(T.linalg.cholesky(T.tensor(up), upper=True))
        assert_close(L, np.linalg.cholesky(a), "lower", 1e-12, 1e-12)
        assert_close(U, np.linalg.cholesky(a).T, "upper", 1e-12, 1e-12)
    for uplo, m in (("L", low), ("U", up)):
        assert_close(to_np(autojac.linalg.eigvalsh(autojac.tensor(m), UPLO=uplo)), np.linalg.eigvalsh(a),
                     f"eigvalsh UPLO={uplo}", 1e-12, 1e-12)


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 2)), ((2, 5, 3), (2, 5)), ((3, 5), (3, 2)), ((2, 4, 2), (1, 4, 3))],
                         ids=["tall", "batch_vec", "wide", "bcast"])
def test_lstsq_fields(driver, shapes) -> None:
    a = sample(rng_for("ls" + str(shapes)), shapes[0], "G")
    b = rng_for("lsb" + str(shapes)).standard_normal(shapes[1])
    got = autojac.linalg.lstsq(autojac.tensor(a), autojac.tensor(b), driver=driver)
    want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    assert got._fields == ("solution", "residuals", "rank", "singular_values")
    for f in got._fields:
        g, w = getattr(got, f), getattr(want, f)
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], f
        assert_close(to_np(g), to_np(w), f, 1e-10, 1e-12)


def test_lstsq_rank_deficient() -> None:
    """Rank 2 of 3: rank and the minimum-norm solution as torch's SVD drivers give them."""
    rng = rng_for("lsrank")
    a = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 3))
    b = rng.standard_normal((5, 2))
    for driver in ("gelsd", "gelss", "gelsy"):
        got = autojac.linalg.lstsq(autojac.tensor(a), autojac.tensor(b), driver=driver)
        want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        assert got.rank.item() == want.rank.item() == 2
        assert_close(to_np(got.solution), to_np(want.solution), driver, 1e-9, 1e-10)
        assert tuple(got.residuals.shape) == tuple(want.residuals.shape) == (0,)


def test_pinv_rank_deficient_and_tolerances() -> None:
    rng = rng_for("pinvrank")
    a = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3))
    cases = [lambda T, A: T.linalg.pinv(A), lambda T, A: T.linalg.pinv(A, atol=0.5),
             lambda T, A: T.linalg.pinv(A, rtol=0.3), lambda T, A: T.pinverse(A, rcond=1e-2),
             lambda T, A: T.linalg.pinv(A @ A.mT, hermitian=True)]
    for fn in cases:
        got, want = fn(autojac, autojac.tensor(a)), fn(torch, torch.tensor(a))
        assert_close(to_np(got), to_np(want), "pinv", 1e-10, 1e-12)
    # the gradient at fixed rank (here: rank 2) matches torch's formula
    fn = lambda T, A: (T.linalg.pinv(A) * T.tensor(np.arange(12.0).reshape(3, 4))).sum()  # noqa: E731
    assert_close(_grad_of(autojac, fn, a), _grad_of(torch, fn, a), "pinv grad at rank 2", 1e-9, 1e-10)


def test_matrix_exp_known_values() -> None:
    t = 0.7
    rot = autojac.linalg.matrix_exp(autojac.tensor([[0.0, -t], [t, 0.0]], dtype=autojac.float64))
    assert_close(to_np(rot), np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]), "rotation", 1e-12, 1e-12)
    nil = autojac.linalg.matrix_exp(autojac.tensor([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]]))
    assert_close(to_np(nil), np.array([[1.0, 1.0, 3.5], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]), "nilpotent", 0, 1e-6)
    big = sample(rng_for("bigexp"), (2, 4, 4), "M3") * 2
    assert_close(to_np(autojac.linalg.matrix_exp(autojac.tensor(big))), to_np(torch.linalg.matrix_exp(
        torch.tensor(big))), "large norms", 1e-9, 1e-9)
    z = autojac.linalg.matrix_exp(autojac.zeros(2, 0, 0))
    assert tuple(z.shape) == (2, 0, 0)


def test_torch_cross_default_dim() -> None:
    a = rng_for("cross1").standard_normal((4, 3, 3))
    b = rng_for("cross2").standard_normal((4, 3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        got = autojac.cross(autojac.tensor(a), autojac.tensor(b))
    want = torch.cross(torch.tensor(a), torch.tensor(b))
    assert_close(to_np(got), to_np(want), "first dim of size 3", 1e-12, 1e-12)
    assert_close(to_np(got), np.cross(a, b, axis=1), "dim 1", 1e-12, 1e-12)
    got = autojac.linalg.cross(autojac.tensor(a), autojac.tensor(b))
    assert_close(to_np(got), np.cross(a, b, axis=-1), "linalg.cross: dim -1", 1e-12, 1e-12)
    ints = autojac.linalg.cross(autojac.tensor([1, 0, 0]), autojac.tensor([0, 1, 0]))
    assert ints.dtype == autojac.int64 and ints.tolist() == [0, 0, 1]


def test_torch_svd_and_qr_aliases() -> None:
    a = sample(rng_for("alias"), (2, 4, 3), "G")
    for T in (autojac, torch):
        U, S, V = T.svd(T.tensor(a), compute_uv=False)
        assert tuple(U.shape) == (2, 4, 4) and tuple(V.shape) == (2, 3, 3) and not U.any() and not V.any()
        U, S, V = T.svd(T.tensor(a), some=False)
        assert tuple(U.shape) == (2, 4, 4) and tuple(V.shape) == (2, 3, 3)
        assert_close(to_np(U[..., :3] * S.unsqueeze(-2) @ V.mT), a, "U S V^T", 1e-12, 1e-12)
        Q, R = T.qr(T.tensor(a), some=False)
        assert tuple(Q.shape) == (2, 4, 4) and tuple(R.shape) == (2, 4, 3)
    r = autojac.qr(autojac.tensor(a))
    assert type(r).__name__ == "_Return_qr" and r._fields == ("Q", "R")
    assert type(autojac.svd(autojac.tensor(a))).__name__ == "_Return_svd"


def test_return_types_and_namespace() -> None:
    A = autojac.tensor(sample(rng_for("ns"), (3, 3), "P"))
    expected = {"eigh": ("eigenvalues", "eigenvectors"), "svd": ("U", "S", "Vh"), "qr": ("Q", "R")}
    for name, fields in expected.items():
        r = getattr(autojac.linalg, name)(A)
        assert r._fields == fields
        want = getattr(torch.linalg, name)(torch.tensor(A.numpy()))
        assert all(hasattr(want, f) for f in fields) and len(want) == len(fields)
        assert repr(r).startswith(f"autojac.return_types.linalg_{name}(\n{fields[0]}=tensor(")
    for name in ["cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "vector_norm", "matrix_norm", "norm", "pinv",
                 "lstsq", "matrix_exp", "cross"]:
        assert callable(getattr(autojac.linalg, name)) and hasattr(torch.linalg, name), name
    for name in ["cholesky", "qr", "svd", "pinverse", "matrix_exp", "cross"]:  # torch's top-level aliases
        assert callable(getattr(autojac, name)) and hasattr(torch, name), name
        assert callable(getattr(autojac.Tensor, name)) and hasattr(torch.Tensor, name), name


def test_grad_fn_names_of_aliases() -> None:
    A = sample(rng_for("names"), (3, 3), "P")
    fns = {"torch.cholesky": lambda T, A: T.cholesky(A), "torch.svd V": lambda T, A: T.svd(A).V,
           "torch.qr": lambda T, A: T.qr(A).R, "linalg.pinv hermitian": lambda T, A: T.linalg.pinv(A, hermitian=True),
           "matrix_norm -2": lambda T, A: T.linalg.matrix_norm(A, -2), "norm 1": lambda T, A: T.linalg.norm(A, 1)}
    for what, fn in fns.items():
        got = fn(autojac, lib_tensors(autojac, [A], "float64")[0]).grad_fn.name()
        assert got == type(fn(torch, lib_tensors(torch, [A], "float64")[0]).grad_fn).__name__, what


# --------------------------------------------------------------------------- errors
def _pd_batch(T):
    return T.stack([T.eye(3), -T.eye(3), T.eye(3)])


ERRORS = {
    "cholesky_not_pd": lambda T: T.linalg.cholesky(T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "cholesky_not_pd_batch": lambda T: T.linalg.cholesky(_pd_batch(T)),
    "cholesky_not_pd_upper": lambda T: T.linalg.cholesky(T.tensor([[1.0, 2.0], [0.0, 1.0]]), upper=True),
    "cholesky_order3": lambda T: T.linalg.cholesky(T.tensor([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, -1.0]])),
    "cholesky_not_square": lambda T: T.linalg.cholesky(T.ones(2, 3)),
    "cholesky_1d": lambda T: T.linalg.cholesky(T.ones(3)),
    "cholesky_long": lambda T: T.linalg.cholesky(T.ones(3, 3, dtype=T.long)),
    "cholesky_half": lambda T: T.linalg.cholesky(T.ones(3, 3, dtype=T.half)),
    "cholesky_list": lambda T: T.linalg.cholesky([[1.0]]),
    "torch.cholesky_not_pd": lambda T: T.cholesky(T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "torch.cholesky_not_square": lambda T: T.cholesky(T.ones(2, 3)),
    "qr_mode": lambda T: T.linalg.qr(T.ones(3, 3), mode="foo"),
    "qr_1d": lambda T: T.linalg.qr(T.ones(3)),
    "qr_long": lambda T: T.linalg.qr(T.ones(3, 3, dtype=T.long)),
    "qr_half": lambda T: T.linalg.qr(T.ones(3, 3, dtype=T.half)),
    "eigh_not_square": lambda T: T.linalg.eigh(T.ones(2, 3)),
    "eigh_uplo": lambda T: T.linalg.eigh(T.eye(3), UPLO="X"),
    "eigh_long": lambda T: T.linalg.eigh(T.ones(3, 3, dtype=T.long)),
    "eigh_half": lambda T: T.linalg.eigh(T.ones(3, 3, dtype=T.half)),
    "eigh_1d": lambda T: T.linalg.eigh(T.ones(3)),
    "eigvalsh_not_square": lambda T: T.linalg.eigvalsh(T.ones(2, 3)),
    "svd_1d": lambda T: T.linalg.svd(T.ones(3)),
    "svd_long": lambda T: T.linalg.svd(T.ones(3, 3, dtype=T.long)),
    "svd_half": lambda T: T.linalg.svd(T.ones(3, 3, dtype=T.half)),
    "svd_driver": lambda T: T.linalg.svd(T.ones(3, 3), driver="gesvd"),
    "svdvals_1d": lambda T: T.linalg.svdvals(T.ones(3)),
    "torch.svd_1d": lambda T: T.svd(T.ones(3)),
    "vector_norm_long": lambda T: T.linalg.vector_norm(T.ones(3, dtype=T.long)),
    "vector_norm_str": lambda T: T.linalg.vector_norm(T.ones(3), "fro"),
    "vector_norm_dim": lambda T: T.linalg.vector_norm(T.ones(3), dim=2),
    "vector_norm_dup_dim": lambda T: T.linalg.vector_norm(T.ones(3, 3), dim=(0, 0)),
    "vector_norm_inf_empty": lambda T: T.linalg.vector_norm(T.ones(0), INF),
    "vector_norm_neg_empty": lambda T: T.linalg.vector_norm(T.ones(0, 3), -1.5),
    "vector_norm_inf_empty_dim": lambda T: T.linalg.vector_norm(T.ones(0, 3), -INF, dim=(1, 0)),
    "vector_norm_dtype": lambda T: T.linalg.vector_norm(T.ones(3), dtype=T.long),
    "vector_norm_narrowing": lambda T: T.linalg.vector_norm(T.ones(3, dtype=T.float64), dtype=T.float32),
    "matrix_norm_ord": lambda T: T.linalg.matrix_norm(T.ones(3, 3), 3),
    "matrix_norm_ord_str": lambda T: T.linalg.matrix_norm(T.ones(3, 3), "foo"),
    "matrix_norm_1d": lambda T: T.linalg.matrix_norm(T.ones(3)),
    "matrix_norm_dim": lambda T: T.linalg.matrix_norm(T.ones(3, 3), dim=(0,)),
    "matrix_norm_same_dims": lambda T: T.linalg.matrix_norm(T.ones(3, 3), dim=(0, -2)),
    "matrix_norm_long": lambda T: T.linalg.matrix_norm(T.ones(3, 3, dtype=T.long)),
    "norm_3d_ord": lambda T: T.linalg.norm(T.ones(3, 3, 3), 2),
    "norm_str_1d": lambda T: T.linalg.norm(T.ones(3), "fro"),
    "norm_str_dim": lambda T: T.linalg.norm(T.ones(3, 3), "fro", dim=0),
    "norm_three_dims": lambda T: T.linalg.norm(T.ones(3, 3, 3), dim=(0, 1, 2)),
    "norm_long": lambda T: T.linalg.norm(T.ones(3, dtype=T.long)),
    "norm_3d_nuc": lambda T: T.linalg.norm(T.ones(3, 3, 3), "nuc"),
    "pinv_1d": lambda T: T.linalg.pinv(T.ones(3)),
    "pinv_long": lambda T: T.linalg.pinv(T.ones(3, 3, dtype=T.long)),
    "pinv_hermitian_not_square": lambda T: T.linalg.pinv(T.ones(2, 3), hermitian=True),
    "lstsq_rows": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(4, 1)),
    "lstsq_dims": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(2, 3, 1, 1)),
    "lstsq_vector_batch": lambda T: T.linalg.lstsq(T.ones(2, 4, 3), T.ones(4, 2)),
    "lstsq_1d": lambda T: T.linalg.lstsq(T.ones(3), T.ones(3)),
    "lstsq_driver": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(3, 1), driver="foo"),
    "lstsq_dtype": lambda T: T.linalg.lstsq(T.ones(3, 2), T.ones(3, 1, dtype=T.float64)),
    "lstsq_long": lambda T: T.linalg.lstsq(T.ones(3, 2, dtype=T.long), T.ones(3, 1, dtype=T.long)),
    "matrix_exp_not_square": lambda T: T.linalg.matrix_exp(T.ones(2, 3)),
    "matrix_exp_1d": lambda T: T.linalg.matrix_exp(T.ones(3)),
    "matrix_exp_long": lambda T: T.linalg.matrix_exp(T.ones(3, 3, dtype=T.long)),
    "cross_size": lambda T: T.linalg.cross(T.ones(4), T.ones(4)),
    "cross_broadcast": lambda T: T.linalg.cross(T.ones(2, 3), T.ones(4, 3)),
    "cross_ndim": lambda T: T.linalg.cross(T.ones(2, 3), T.ones(3)),
    "cross_dim": lambda T: T.linalg.cross(T.ones(3, 2), T.ones(3, 2)),
    "cross_dim_range": lambda T: T.linalg.cross(T.ones(3), T.ones(3), dim=1),
    "cross_dtypes": lambda T: T.linalg.cross(T.ones(3, dtype=T.float64), T.ones(3)),
    "torch.cross_no_size_3": lambda T: T.cross(T.ones(4, 2), T.ones(4, 2)),
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
    if isinstance(want.value, torch.linalg.LinAlgError):
        assert isinstance(got.value, autojac.linalg.LinAlgError)
