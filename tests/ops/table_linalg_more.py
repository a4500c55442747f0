"""The linear-algebra op table, part two: cholesky, qr, eigh, eigvalsh, svd, svdvals, vector_norm,
matrix_norm, norm, pinv, lstsq, matrix_exp and cross (with torch's top-level aliases and Tensor methods).

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them. Eigenvectors and
singular vectors are defined up to sign, so their rows return sign-invariant functions of them (squared
entries, ``V f(L) V^T``, ``U Vh``), on matrices with well-separated eigenvalues / singular values (domains
``H``, ``G``: see ``_oracle.sample``). ``cholesky``, ``eigh`` and hermitian ``pinv`` read one triangle of
their input while their gradients (as torch's) are symmetric, so finite differences run on symmetrized
inputs (``A + A^T``) there. Factorizations carry more roundings than one op: looser tolerances.
"""

from __future__ import annotations

from ._case import Rows

ROWS = Rows("linalg_more", vtol=1e-9, rtol=1e-8, gatol=1e-10, f32=(1e-4, 2e-5), g32=(2e-3, 2e-4),
            btol=(1e-10, 1e-11), fdtol=1e-6)
op = ROWS.op
INF = float("inf")


def eye_like(T, X):
    return T.eye(X.shape[-1], dtype=X.dtype)


def sym(X):
    return X + X.mT


def sq(x):
    return x * x


# cholesky: only the lower triangle is read, the gradient is symmetric: FD through A + A^T or X X^T
# (and the symmetrized VJP is not the transpose of the JVP there: no adjoint identity)
ONE_TRIANGLE = dict(fd=False, adjoint=False)
op("cholesky", lambda T, A: T.linalg.cholesky(A), ((3, 3),), ((2, 4, 4),), ((1, 1),), domain="P", **ONE_TRIANGLE)
op("cholesky_upper", lambda T, A: T.linalg.cholesky(A, upper=True), ((3, 3),), ((2, 3, 3),), domain="P",
   **ONE_TRIANGLE)
op("cholesky_sym", lambda T, A: T.linalg.cholesky(sym(A)), ((3, 3),), ((2, 4, 4),), domain="P")
op("cholesky_upper_sym", lambda T, A: T.linalg.cholesky(sym(A), upper=True), ((3, 3),), domain="P")
op("cholesky_gram", lambda T, X: T.linalg.cholesky(X @ X.mT + eye_like(T, X)), ((3, 3),), ((2, 3, 3),))
# torch has no forward-mode rule for torch.cholesky: its JVP is checked by finite differences only
op("torch.cholesky", lambda T, A: T.cholesky(sym(A)), ((3, 3),), domain="P", torch_fwd=False)
op("cholesky_method", lambda T, A: sym(A).cholesky(upper=True), ((3, 3),), domain="P", torch_fwd=False)
op("gaussian_nll", lambda T, X, x: (sq(T.linalg.solve(T.linalg.cholesky(X @ X.mT + eye_like(T, X)), x)).sum()
                                     + 2 * T.log(T.diagonal(T.linalg.cholesky(X @ X.mT + eye_like(T, X)), 0, -2, -1))
                                     .sum()), ((4, 4), (4,)))
# qr: Householder signs are LAPACK's in both libraries, so Q and R compare directly
op("qr", lambda T, A: tuple(T.linalg.qr(A)), ((4, 3),), ((3, 3),), ((3, 5),), ((2, 5, 3),), ((2, 1, 2, 4),), domain="G")
op("qr_complete", lambda T, A: tuple(T.linalg.qr(A, mode="complete")), ((3, 5),), ((2, 3, 3),), domain="G")
op("qr_R", lambda T, A: T.linalg.qr(A).R, ((4, 3),), ((3, 4),), domain="G")
op("qr_Q", lambda T, A: T.linalg.qr(A).Q * 2.0, ((4, 3),), ((3, 4),), domain="G")
op("torch.qr", lambda T, A: tuple(T.qr(A)), ((4, 3),), domain="G")
op("qr_method", lambda T, A: tuple(A.qr(some=False)), ((3, 4),), domain="G")
# eigh: eigenvalues, squared eigenvector entries (sign-invariant) and spectral functions
op("eigh", lambda T, A: (lambda r: (r.eigenvalues, sq(r.eigenvectors)))(T.linalg.eigh(A)),
   ((3, 3),), ((2, 4, 4),), ((1, 1),), domain="H", **ONE_TRIANGLE)
op("eigh_U", lambda T, A: (lambda r: (r.eigenvalues, sq(r.eigenvectors)))(T.linalg.eigh(A, UPLO="U")),
   ((3, 3),), domain="H", **ONE_TRIANGLE)
op("eigh_sym", lambda T, A: (lambda r: (r[0], sq(r[1])))(T.linalg.eigh(sym(A))), ((3, 3),), ((2, 4, 4),), domain="H")
op("eigh_U_sym", lambda T, A: sq(T.linalg.eigh(sym(A), UPLO="U")[1]), ((3, 3),), domain="H")
op("eigh_spectral", lambda T, A: (lambda r: (r[1] * T.exp(r[0] * 0.3).unsqueeze(-2)) @ r[1].mT)(T.linalg.eigh(sym(A))),
   ((4, 4),), ((2, 3, 3),), domain="H")
op("eigh_vectors_only", lambda T, A: sq(T.linalg.eigh(sym(A)).eigenvectors).sum(-2) @ T.arange(
    1.0, A.shape[-1] + 1, dtype=A.dtype), ((3, 3),), domain="H")
op("eigvalsh", lambda T, A: T.linalg.eigvalsh(A), ((3, 3),), ((2, 4, 4),), domain="H", fd=False)
op("eigvalsh_sym", lambda T, A: T.linalg.eigvalsh(sym(A), UPLO="U"), ((3, 3),), ((2, 4, 4),), domain="H")
# svd: gauge-invariant functions of U and Vh
op("svd", lambda T, A: (lambda r: (sq(r.U), r.S, sq(r.Vh)))(T.linalg.svd(A, full_matrices=False)),
   ((4, 3),), ((3, 4),), ((3, 3),), ((2, 5, 3),), domain="G")
op("svd_sqrt_recon", lambda T, A: (lambda r: (r.U * r.S.sqrt().unsqueeze(-2)) @ r.Vh)(T.linalg.svd(A, False)),
   ((4, 3),), ((2, 3, 4),), domain="G")
op("svd_polar", lambda T, A: (lambda r: r.U @ r.Vh)(T.linalg.svd(A, full_matrices=False)), ((4, 3),), ((3, 5),),
   ((3, 3),), domain="G")
op("svd_U_only", lambda T, A: sq(T.linalg.svd(A, full_matrices=False).U) * 1.5, ((4, 3),), ((3, 4),), domain="G")
op("svd_Vh_only", lambda T, A: sq(T.linalg.svd(A, full_matrices=False).Vh) * 1.5, ((4, 3),), ((3, 4),), domain="G")
op("svd_full", lambda T, A: (lambda r, k: (sq(r.U[..., :k]), r.S, sq(r.Vh[..., :k, :])))(
    T.linalg.svd(A), min(A.shape[-2:])), ((4, 3),), ((3, 5),), ((2, 3, 3),), domain="G")
op("svd_full_extra", lambda T, A: (lambda r, k: (sq(r.U[..., k:]), sq(r.Vh[..., k:, :])))(
    T.linalg.svd(A), min(A.shape[-2:])), ((4, 3),), ((3, 4),), domain="G", fd=False)  # no gradient, as in torch
op("svdvals", lambda T, A: T.linalg.svdvals(A), ((4, 3),), ((2, 3, 5),), ((3, 3),), domain="G")
op("torch.svd", lambda T, A: (lambda r: (sq(r.U), r.S, sq(r.V)))(T.svd(A)), ((4, 3),), ((3, 4),), domain="G")
op("torch.svd_full", lambda T, A: (lambda r: (r.S, (r.U[..., :3] * r.S.unsqueeze(-2)) @ r.V[..., :3].mT))(
    T.svd(A, some=False)), ((5, 3),), domain="G")
op("torch.svd_no_uv", lambda T, A: T.svd(A, compute_uv=False)[1], ((4, 3),), domain="G")
op("svd_method", lambda T, A: A.svd()[1], ((2, 3, 4),), domain="G")
# vector norms (|x| distinct and away from 0: no ties, no kinks)
for p in [2, 1, INF, -INF, 3, 0.5, -1, 1.5, 2.5]:  # ord 0 has no gradient: see test_vector_norm_0
    op(f"vector_norm_{p}", lambda T, x, p=p: T.linalg.vector_norm(x, p), ((5,),), ((2, 3),), domain="Z")
op("vector_norm_dims", lambda T, x: T.linalg.vector_norm(x, 3, dim=(0, 2), keepdim=True), ((2, 3, 4),), domain="Z")
op("vector_norm_dim", lambda T, x: T.linalg.vector_norm(x, INF, dim=-1), ((2, 3, 4),), domain="Z")
op("vector_norm_dim_1", lambda T, x: T.linalg.vector_norm(x, 1, dim=1), ((3, 4),), domain="Z")
op("vector_norm_dtype", lambda T, x: T.linalg.vector_norm(x, 2, dtype=T.float64), ((3, 2),), domain="Z")
op("vector_norm_0d", lambda T, x: T.linalg.vector_norm(x, 3), ((),), domain="Z")
# matrix norms (G: distinct singular values; Z: no ties in the 1/inf norms)
for p in ["fro", "nuc", 2, -2]:
    op(f"matrix_norm_{p}", lambda T, A, p=p: T.linalg.matrix_norm(A, p), ((3, 4),), ((2, 3, 3),), domain="G")
    op(f"matrix_norm_{p}_dims", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(2, 0), keepdim=True),
       ((3, 2, 4),), domain="real")
for p in [1, -1, INF, -INF]:
    op(f"matrix_norm_{p}", lambda T, A, p=p: T.linalg.matrix_norm(A, p), ((3, 4),), ((2, 3, 3),), domain="Z")
    op(f"matrix_norm_{p}_dims", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(2, 0)), ((3, 2, 4),), domain="Z")
    op(f"matrix_norm_{p}_keep", lambda T, A, p=p: T.linalg.matrix_norm(A, p, dim=(0, 2), keepdim=True),
       ((3, 2, 4),), domain="Z")
op("norm", lambda T, A: T.linalg.norm(A), ((3, 4),), ((2, 3, 2),))
op("norm_vec_ord", lambda T, x: T.linalg.norm(x, 3), ((4,),), domain="Z")
op("norm_mat_ord", lambda T, A: T.linalg.norm(A, -INF), ((3, 4),), domain="Z")
op("norm_nuc", lambda T, A: T.linalg.norm(A, "nuc"), ((3, 4),), domain="G")
op("norm_dim", lambda T, A: T.linalg.norm(A, dim=1, keepdim=True), ((2, 3, 4),))
op("norm_dim_pair", lambda T, A: T.linalg.norm(A, 2, dim=(1, 0)), ((3, 4),), domain="G")
# pinv (full rank: the pseudo-inverse is smooth there)
op("pinv", lambda T, A: T.linalg.pinv(A), ((4, 3),), ((3, 4),), ((2, 3, 3),), ((1, 2),), domain="G")
op("pinv_hermitian", lambda T, A: T.linalg.pinv(sym(A), hermitian=True), ((3, 3),), ((2, 3, 3),), domain="H")
op("pinv_tolerances", lambda T, A: T.linalg.pinv(A, atol=1e-3, rtol=1e-4), ((3, 4),), domain="G")
op("pinv_rcond", lambda T, A: T.linalg.pinv(A, 1e-6), ((4, 3),), domain="G")
op("pinverse", lambda T, A: T.pinverse(A), ((4, 3),), domain="G")
op("pinverse_method", lambda T, A: A.pinverse() * 2.0, ((3, 4),), domain="G")
# lstsq: the solution (default driver gelsy) and, with gelsd, the residuals
op("lstsq", lambda T, A, B: T.linalg.lstsq(A, B).solution, ((5, 3), (5, 2)), ((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)),
   ((2, 5, 3), (1, 5, 2)), ((3, 5), (3, 2)), ((2, 4, 3), (2, 4)), domain=("G", "real"))
op("lstsq_gelsd", lambda T, A, B: tuple(T.linalg.lstsq(A, B, driver="gelsd")[:2]), ((5, 3), (5, 2)),
   ((2, 5, 3), (2, 5)), ((3, 5), (3, 2)), domain=("G", "real"))
op("lstsq_residuals", lambda T, A, B: T.linalg.lstsq(A, B, driver="gels").residuals, ((5, 3), (5, 2)),
   domain=("G", "real"))
op("lstsq_batch_broadcast", lambda T, A, B: T.linalg.lstsq(A, B, driver="gelss")[0], ((1, 5, 3), (2, 5, 2)),
   domain=("G", "real"))
# matrix_exp
op("matrix_exp", lambda T, A: T.linalg.matrix_exp(A), ((3, 3),), ((2, 4, 4),), ((1, 1),), domain="M")
op("matrix_exp_large", lambda T, A: T.linalg.matrix_exp(A), ((3, 3),), domain="M3")
op("torch.matrix_exp", lambda T, A: T.matrix_exp(A), ((2, 2),), domain="M")
op("matrix_exp_method", lambda T, A: A.matrix_exp().sum(-1), ((3, 3),), domain="M")
# cross
op("cross", lambda T, a, b: T.linalg.cross(a, b), ((3,), (3,)), ((2, 3), (1, 3)), ((4, 1, 3), (1, 2, 3)))
op("cross_dim", lambda T, a, b: T.linalg.cross(a, b, dim=1), ((4, 3, 2), (1, 3, 2)), ((2, 3), (2, 3)))
op("cross_same", lambda T, a: T.linalg.cross(a, a * a), ((2, 3),))
op("torch.cross", lambda T, a, b: T.cross(a, b), ((2, 3), (2, 3)), ((3, 4), (3, 4)))
op("cross_method", lambda T, a, b: a.cross(b, dim=-1), ((2, 3), (2, 3)))
