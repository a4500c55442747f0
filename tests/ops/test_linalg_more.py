"""The rest of ``autojac.linalg`` against PyTorch 2.13 and float64 finite differences.

cholesky, qr, eigh, eigvalsh, svd, svdvals, vector_norm, matrix_norm, norm, pinv, lstsq,
matrix_exp and cross (with torch's top-level aliases and Tensor methods) run the op-table
checks of ``test_op_table.py``: value (float64 and float32, dtype, ``grad_fn``), VJP, second
derivative, central finite differences, batched cotangents (order 1 and 2), batched
``create_graph``; and forward mode: JVPs against ``torch.func.jvp``, batched tangents
(``func.jacfwd``) against ``torch.func.jacfwd``, JVPs against finite differences.

Eigenvectors and singular vectors are defined up to sign, so their cases return
sign-invariant functions of them (squared entries, ``V f(L) V^T``, ``U Vh``), on matrices with
well-separated eigenvalues / singular values. ``cholesky``, ``eigh`` and hermitian ``pinv`` read
one triangle of their input while their gradients (as torch's) are symmetric, so finite
differences run on symmetrized inputs (``A + A^T``) there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from ._oracle import (
    assert_all_close,
    assert_close,
    autojac,
    fd_jvp,
    lib_tensors,
    out_arrays,
    rng_for,
    table_checks,
    to_np,
    torch,
    vjp,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")

INF = float("inf")


# --------------------------------------------------------------------------- inputs
def _orthogonal(rng: np.random.Generator, batch: tuple, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal(batch + (n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _spread(rng: np.random.Generator, batch: tuple, k: int, low: float) -> np.ndarray:
    """``k`` values at least 0.4 apart, the smallest about ``low``, in descending order."""
    return (low + np.arange(k)[::-1] + rng.uniform(-0.3, 0.3, batch + (k,)))


def draw(rng: np.random.Generator, shape: tuple, kind: str) -> np.ndarray:
    """``N`` normal; ``P`` symmetric positive-definite; ``H`` symmetric with eigenvalues at least
    0.4 apart; ``G`` any shape with singular values >= 0.7 and at least 0.4 apart; ``M`` normal
    scaled by 0.7 (``M3``: by 3, so matrix_exp squares); ``Z`` |x| in [0.5, 2] with distinct |x|."""
    batch, n = shape[:-2], (shape[-1] if shape else 1)
    if kind == "N":
        return rng.standard_normal(shape)
    if kind == "P":
        x = rng.standard_normal(shape)
        return x @ np.swapaxes(x, -1, -2) / n + np.eye(n)
    if kind == "H":
        q = _orthogonal(rng, batch, n)
        lam = _spread(rng, batch, n, -n / 2)
        return (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    if kind == "G":
        m = shape[-2]
        k = min(m, n)
        u = _orthogonal(rng, batch, m)[..., :k]
        v = _orthogonal(rng, batch, n)[..., :k]
        s = _spread(rng, batch, k, 1.0)
        return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)
    if kind in ("M", "M3"):
        return rng.standard_normal(shape) * (0.7 if kind == "M" else 3.0)
    if kind == "Z":
        size = int(np.prod(shape))
        mags = 0.5 + 1.5 * (rng.permutation(size) + rng.uniform(0.1, 0.9, size)) / size
        return (mags * rng.choice([-1.0, 1.0], size)).reshape(shape)
    raise ValueError(kind)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    shapes: tuple
    kinds: tuple
    fd: bool = True  # finite differences apply (a function of all input entries, smooth there)
    fwd: bool = True  # torch's forward mode is the oracle for the JVP checks

    @property
    def id(self) -> str:
        return f"{self.name}[{'_'.join('x'.join(map(str, s)) for s in self.shapes)}]"

    def inputs(self) -> list:
        rng = rng_for(self.id)
        return [draw(rng, s, k) for s, k in zip(self.shapes, self.kinds)]


CASES: list[Case] = []


def op(name: str, fn: Callable, *shape_sets: tuple, kinds: str | tuple = "N", fd: bool = True,
       fwd: bool = True) -> None:
    for shapes in shape_sets:
        ks = (kinds,) * len(shapes) if isinstance(kinds, str) else kinds
        CASES.append(Case(name, fn, shapes, ks, fd, fwd))


def eye_like(T, X):
    return T.eye(X.shape[-1], dtype=X.dtype)


def sym(X):
    return X + X.mT


def sq(x):
    return x * x


# cholesky: only the lower triangle is read, the gradient is symmetric: FD through A + A^T or X X^T
op("cholesky", lambda T, A: T.linalg.cholesky(A), ((3, 3),), ((2, 4, 4),), ((1, 1),), kinds="P", fd=False)
op("cholesky_upper", lambda T, A: T.linalg.cholesky(A, upper=True), ((3, 3),), ((2, 3, 3),), kinds="P", fd=False)
op("cholesky_sym", lambda T, A: T.linalg.cholesky(sym(A)), ((3, 3),), ((2, 4, 4),), kinds="P")
op("cholesky_upper_sym", lambda T, A: T.linalg.cholesky(sym(A), upper=True), ((3, 3),), kinds="P")
op("cholesky_gram", lambda T, X: T.linalg.cholesky(X @ X.mT + eye_like(T, X)), ((3, 3),), ((2, 3, 3),))
# torch has no forward-mode rule for torch.cholesky: its JVP is checked by finite differences only
op("torch.cholesky", lambda T, A: T.cholesky(sym(A)), ((3, 3),), kinds="P", fwd=False)
op("cholesky_method", lambda T, A: sym(A).cholesky(upper=True), ((3, 3),), kinds="P", fwd=False)
op("gaussian_nll", lambda T, X, x: (sq(T.linalg.solve(T.linalg.cholesky(X @ X.mT + eye_like(T, X)), x)).sum()
                                     + 2 * T.log(T.diagonal(T.linalg.cholesky(X @ X.mT + eye_like(T, X)), 0, -2, -1))
                                     .sum()), ((4, 4), (4,)))
# qr: Householder signs are LAPACK's in both libraries, so Q and R compare directly
op("qr", lambda T, A: tuple(T.linalg.qr(A)), ((4, 3),), ((3, 3),), ((3, 5),), ((2, 5, 3),), ((2, 1, 2, 4),), kinds="G")
op("qr_complete", lambda T, A: tuple(T.linalg.qr(A, mode="complete")), ((3, 5),), ((2, 3, 3),), kinds="G")
op("qr_R", lambda T, A: T.linalg.qr(A).R, ((4, 3),), ((3, 4),), kinds="G")
op("qr_Q", lambda T, A: T.linalg.qr(A).Q * 2.0, ((4, 3),), ((3, 4),), kinds="G")
op("torch.qr", lambda T, A: tuple(T.qr(A)), ((4, 3),), kinds="G")
op("qr_method", lambda T, A: tuple(A.qr(some=False)), ((3, 4),), kinds="G")
# eigh: eigenvalues, squared eigenvector entries (sign-invariant) and spectral functions
op("eigh", lambda T, A: (lambda r: (r.eigenvalues, sq(r.eigenvectors)))(T.linalg.eigh(A)),
   ((3, 3),), ((2, 4, 4),), ((1, 1),), kinds="H", fd=False)
op("eigh_U", lambda T, A: (lambda r: (r.eigenvalues, sq(r.eigenvectors)))(T.linalg.eigh(A, UPLO="U")),
   ((3, 3),), kinds="H", fd=False)
op("eigh_sym", lambda T, A: (lambda r: (r[0], sq(r[1])))(T.linalg.eigh(sym(A))), ((3, 3),), ((2, 4, 4),), kinds="H")
op("eigh_U_sym", lambda T, A: sq(T.linalg.eigh(sym(A), UPLO="U")[1]), ((3, 3),), kinds="H")
op("eigh_spectral", lambda T, A: (lambda r: (r[1] * T.exp(r[0] * 0.3).unsqueeze(-2)) @ r[1].mT)(T.linalg.eigh(sym(A))),
   ((4, 4),), ((2, 3, 3),), kinds="H")
op("eigh_vectors_only", lambda T, A: sq(T.linalg.eigh(sym(A)).eigenvectors).sum(-2) @ T.arange(
    1.0, A.shape[-1] + 1, dtype=A.dtype), ((3, 3),), kinds="H")
op("eigvalsh", lambda T, A: T.linalg.eigvalsh(A), ((3, 3),), ((2, 4, 4),), kinds="H", fd=False)
op("eigvalsh_sym", lambda T, A: T.linalg.eigvalsh(sym(A), UPLO="U"), ((3, 3),), ((2, 4, 4),), kinds="H")
# svd: gauge-invariant functions of U and Vh
op("svd", lambda T, A: (lambda r: (sq(r.U), r.S, sq(r.Vh)))(T.linalg.svd(A, full_matrices=False)),
   ((4, 3),), ((3, 4),), ((3, 3),), ((2, 5, 3),), kinds="G")
op("svd_sqrt_recon", lambda T, A: (lambda r: (r.U * r.S.sqrt().unsqueeze(-2)) @ r.Vh)(T.linalg.svd(A, False)),
   ((4, 3),), ((2, 3, 4),), kinds="G")
op("svd_polar", lambda T, A: (lambda r: r.U @ r.Vh)(T.linalg.svd(A, full_matrices=False)), ((4, 3),), ((3, 5),),
   ((3, 3),), kinds="G")
op("svd_U_only", lambda T, A: sq(T.linalg.svd(A, full_matrices=False).U) * 1.5, ((4, 3),), ((3, 4),), kinds="G")
op("svd_Vh_only", lambda T, A: sq(T.linalg.svd(A, full_matrices=False).Vh) * 1.5, ((4, 3),), ((3, 4),), kinds="G")
op("svd_full", lambda T, A: (lambda r, k: (sq(r.U[..., :k]), r.S, sq(r.Vh[..., :k, :])))(
    T.linalg.svd(A), min(A.shape[-2:])), ((4, 3),), ((3, 5),), ((2, 3, 3),), kinds="G")
op("svd_full_extra", lambda T, A: (lambda r, k: (sq(r.U[..., k:]), sq(r.Vh[..., k:, :])))(
    T.linalg.svd(A), min(A.shape[-2:])), ((4, 3),), ((3, 4),), kinds="G", fd=False)  # no gradient, as in torch
op("svdvals", lambda T, A: T.linalg.svdvals(A), ((4, 3),), ((2, 3, 5),), ((3, 3),), kinds="G")
op("torch.svd", lambda T, A: (lambda r: (sq(r.U), r.S, sq(r.V)))(T.svd(A)), ((4, 3),), ((3, 4),), kinds="G")
op("torch.svd_full", lambda T, A: (lambda r: (r.S, (r.U[..., :3] * r.S.unsqueeze(-2)) @ r.V[..., :3].mT))(
    T.svd(A, some=False)), ((5, 3),), kinds="G")
op("torch.svd_no_uv", lambda T, A: T.svd(A, compute_uv=False)[1], ((4, 3),), kinds="G")
op("svd_method", lambda T, A: A.svd()[1], ((2, 3, 4),), kinds="G")
# vector norms (|x| distinct and away from 0: no ties, no kinks)
for p in [2, 1, INF, -INF, 3, 0.5, -1, 1.5, 2.5]:  # ord 0 has no gradient: see test_vector_norm_0
    op(f"vector_norm_{p}", lambda T, x, p=p: T.linalg.vector_norm(x, p), ((5,),), ((2, 3),), kinds="Z")
op("vector_norm_dims", lambda T, x: T.linalg.vector_norm(x, 3, dim=(0, 2), keepdim=True), ((2, 3, 4),), kinds="Z")
op("vector_norm_dim", lambda T, x: T.linalg.vector_norm(x, INF, dim=-1), ((2, 3, 4),), kinds="Z")
op("vector_norm_dim_1", lambda T, x: T.linalg.vector_norm(x, 1, dim=1), ((3, 4),), kinds="Z")
op("vector_norm_dtype", lambda T, x: T.linalg.vector_norm(x, 2, dtype=T.float64), ((3, 2),), kinds="Z")
op("vector_norm_0d", lambda T, x: T.linalg.vector_norm(x, 3), ((),), kinds="Z")
# matrix norms (G: distinct singular values; Z: no ties in the 1/inf norms)
for p in ["fro", "nuc", 2, -2]:
    op(f"matrix_norm_{p}", lambda T, A, p=p: T.linalg.matrix_norm(A, p), ((3, 4),), ((2, 3, 3),), kinds="G")
    op(f"matrix_norm_{p}_dims", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(2, 0), keepdim=True),
       ((3, 2, 4),), kinds="N")
for p in [1, -1, INF, -INF]:
    op(f"matrix_norm_{p}", lambda T, A, p=p: T.linalg.matrix_norm(A, p), ((3, 4),), ((2, 3, 3),), kinds="Z")
    op(f"matrix_norm_{p}_dims", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(2, 0)), ((3, 2, 4),), kinds="Z")
    op(f"matrix_norm_{p}_keep", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(0, 2), keepdim=True),
       ((3, 2, 4),), kinds="Z")
op("norm", lambda T, A: T.linalg.norm(A), ((3, 4),), ((2, 3, 2),))
op("norm_vec_ord", lambda T, x: T.linalg.norm(x, 3), ((4,),), kinds="Z")
op("norm_mat_ord", lambda T, A: T.linalg.norm(A, -INF), ((3, 4),), kinds="Z")
op("norm_nuc", lambda T, A: T.linalg.norm(A, "nuc"), ((3, 4),), kinds="G")
op("norm_dim", lambda T, A: T.linalg.norm(A, dim=1, keepdim=True), ((2, 3, 4),))
op("norm_dim_pair", lambda T, A: T.linalg.norm(A, 2, dim=(1, 0)), ((3, 4),), kinds="G")
# pinv (full rank: the pseudo-inverse is smooth there)
op("pinv", lambda T, A: T.linalg.pinv(A), ((4, 3),), ((3, 4),), ((2, 3, 3),), ((1, 2),), kinds="G")
op("pinv_hermitian", lambda T, A: T.linalg.pinv(sym(A), hermitian=True), ((3, 3),), ((2, 3, 3),), kinds="H")
op("pinv_tolerances", lambda T, A: T.linalg.pinv(A, atol=1e-3, rtol=1e-4), ((3, 4),), kinds="G")
op("pinv_rcond", lambda T, A: T.linalg.pinv(A, 1e-6), ((4, 3),), kinds="G")
op("pinverse", lambda T, A: T.pinverse(A), ((4, 3),), kinds="G")
op("pinverse_method", lambda T, A: A.pinverse() * 2.0, ((3, 4),), kinds="G")
# lstsq: the solution (default driver gelsy) and, with gelsd, the residuals
op("lstsq", lambda T, A, B: T.linalg.lstsq(A, B).solution, ((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)),
   ((2, 5, 3), (1, 5, 2)), ((3, 5), (3, 2)), ((2, 4, 3), (2, 4)), kinds=("G", "N"))
op("lstsq_gelsd", lambda T, A, B: tuple(T.linalg.lstsq(A, B, driver="gelsd")[:2]), ((5, 3), (5, 2)),
   ((2, 5, 3), (2, 5)), ((3, 5), (3, 2)), kinds=("G", "N"))
op("lstsq_residuals", lambda T, A, B: T.linalg.lstsq(A, B, driver="gels").residuals, ((5, 3), (5, 2)),
   kinds=("G", "N"))
op("lstsq_batch_broadcast", lambda T, A, B: T.linalg.lstsq(A, B, driver="gelss")[0], ((1, 5, 3), (2, 5, 2)),
   kinds=("G", "N"))
# matrix_exp
op("matrix_exp", lambda T, A: T.linalg.matrix_exp(A), ((3, 3),), ((2, 4, 4),), ((1, 1),), kinds="M")
op("matrix_exp_large", lambda T, A: T.linalg.matrix_exp(A), ((3, 3),), kinds="M3")
op("torch.matrix_exp", lambda T, A: T.matrix_exp(A), ((2, 2),), kinds="M")
op("matrix_exp_method", lambda T, A: A.matrix_exp().sum(-1), ((3, 3),), kinds="M")
# cross
op("cross", lambda T, a, b: T.linalg.cross(a, b), ((3,), (3,)), ((2, 3), (1, 3)), ((4, 1, 3), (1, 2, 3)))
op("cross_dim", lambda T, a, b: T.linalg.cross(a, b, dim=1), ((4, 3, 2), (1, 3, 2)), ((2, 3), (2, 3)))
op("cross_same", lambda T, a: T.linalg.cross(a, a * a), ((2, 3),))
op("torch.cross", lambda T, a, b: T.cross(a, b), ((2, 3), (2, 3)), ((3, 4), (3, 4)))
op("cross_method", lambda T, a, b: a.cross(b, dim=-1), ((2, 3), (2, 3)))

IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"
FD_CASES = [c for c in CASES if c.fd]
FWD_CASES = [c for c in CASES if c.fwd]


def _cotangents(case: Case, rng, xs) -> list:
    return [rng.standard_normal(o.shape) for o in out_arrays(torch, case.fn, xs)]


# --------------------------------------------------------------------------- the table checks
globals().update(table_checks(
    CASES, value_tol=((1e-9, 1e-11), (1e-4, 2e-5)), grad_tol=((1e-8, 1e-10), (2e-3, 2e-4)), second_tol=(1e-8, 1e-9),
    batched_tol=(1e-10, 1e-11), batched_cg_tol=(1e-9, 1e-10), require_batched=True))



# --------------------------------------------------------------------------- forward mode
def _flat(tree) -> list:
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in _flat(t)]
    return [to_np(tree)]


def fwd(T, case: Case, xs: list, ts: list) -> list:
    """The output tangents of ``func.jvp`` (float64), in either library."""
    primals = tuple(lib_tensors(T, xs, "float64", requires_grad=False))
    tangents = tuple(lib_tensors(T, ts, "float64", requires_grad=False))
    _, tout = T.func.jvp(lambda *a: case.fn(T, *a), primals, tangents)
    return _flat(tout)


def jac_fwd(T, case: Case, xs: list) -> list:
    """The whole Jacobian by ``func.jacfwd``: one batched forward pass over a basis."""
    primals = lib_tensors(T, xs, "float64", requires_grad=False)
    return _flat(T.func.jacfwd(lambda *a: case.fn(T, *a), argnums=tuple(range(len(xs))))(*primals))


@pytest.mark.parametrize("case", FWD_CASES, ids=[c.id for c in FWD_CASES])
def test_jvp(case: Case) -> None:
    xs = case.inputs()
    rng = rng_for("jvp" + case.id)
    ts = [rng.standard_normal(x.shape) for x in xs]
    assert_all_close(fwd(autojac, case, xs, ts), fwd(torch, case, xs, ts), "jvp vs torch.func.jvp", 1e-8, 1e-10)


@pytest.mark.parametrize("case", FWD_CASES, ids=[c.id for c in FWD_CASES])
def test_jacfwd_batched_tangents(case: Case) -> None:
    xs = case.inputs()
    assert_all_close(jac_fwd(autojac, case, xs), jac_fwd(torch, case, xs), "jacfwd vs torch.func.jacfwd", 1e-8, 1e-10)


@pytest.mark.parametrize("case", FD_CASES, ids=[c.id for c in FD_CASES])
def test_jvp_finite_differences(case: Case) -> None:
    xs = case.inputs()
    ts = [rng_for("jfd" + case.id).standard_normal(x.shape) for x in xs]
    assert_all_close(fwd(autojac, case, xs, ts), fd_jvp(case.fn, xs, ts), "JVP vs central differences", 1e-6, 1e-7)


@pytest.mark.parametrize("case", FD_CASES, ids=[c.id for c in FD_CASES])
def test_jvp_vjp_adjoint(case: Case) -> None:
    """<v, J t> = <J^T v, t>: the JVP and VJP rules describe the same derivative."""
    xs = case.inputs()
    rng = rng_for("adj" + case.id)
    ts = [rng.standard_normal(x.shape) for x in xs]
    vs = _cotangents(case, rng, xs)
    lhs = sum(float(np.sum(v * j)) for v, j in zip(vs, fwd(autojac, case, xs, ts)))
    rhs = sum(float(np.sum(g * t)) for g, t in zip(vjp(autojac, case.fn, xs, vs), ts))
    assert_close(np.array(lhs), np.array(rhs), "<v, J t> vs <J^T v, t>", 1e-9, 1e-10)


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
    x = draw(rng_for("hess" + name), shape, kind)
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
    case, ts = Case("ord0", fn, (x.shape,), ("N",)), [np.ones_like(x)]
    got = fwd(autojac, case, [x], ts)
    assert_all_close(got, fwd(torch, case, [x], ts), "zero JVP", 0, 0)
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
    case = Case("z", lambda T, x: T.linalg.vector_norm(x, p, dim=1), (x.shape,), ("N",))
    assert_all_close(fwd(autojac, case, [x], ts), fwd(torch, case, [x], ts), "JVP with a zero row", 1e-12, 1e-12)


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
    q = _orthogonal(rng_for("orth"), (), 3)
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
    a = draw(rng_for("raw"), (2, 4, 4), "H")
    g = draw(rng_for("raw2"), (2, 5, 3), "G")

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
    a = draw(rng_for("qr_r"), (2, 4, 3), "G")
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
    a = draw(rng_for("tri"), (3, 3), "P")
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
    a = draw(rng_for("ls" + str(shapes)), shapes[0], "G")
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
    big = draw(rng_for("bigexp"), (2, 4, 4), "M3") * 2
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
    a = draw(rng_for("alias"), (2, 4, 3), "G")
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
    A = autojac.tensor(draw(rng_for("ns"), (3, 3), "P"))
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
    A = draw(rng_for("names"), (3, 3), "P")
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
