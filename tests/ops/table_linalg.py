"""The linear-algebra op table, part one: det, slogdet, logdet, inv, solve (``autojac.linalg``).

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them. Matrices are
well-conditioned (domain ``A``, ``-A`` for a negative determinant: see ``_oracle.sample``); right-hand
sides are normal.
"""

from __future__ import annotations

from ._case import Rows

ROWS = Rows("linalg", domain="A", f32=(2e-5, 1e-5), g32=(2e-4, 2e-5), fdtol=1e-6)
op = ROWS.op
AB = ("A", "real")  # a matrix and a right-hand side

SQ = [((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 1, 2, 2),)]
op("det", lambda T, A: T.linalg.det(A), *SQ)
op("det_neg", lambda T, A: T.linalg.det(A), ((3, 3),), ((2, 3, 3),), domain="-A")
op("torch.det", lambda T, A: T.det(A), ((3, 3),))
op("det_method", lambda T, A: A.det() * 2.0, ((2, 3, 3),))
op("slogdet", lambda T, A: tuple(T.linalg.slogdet(A)), *SQ)
op("slogdet_neg", lambda T, A: tuple(T.linalg.slogdet(A)), ((2, 3, 3),), domain="-A")
op("slogdet_logabsdet", lambda T, A: T.linalg.slogdet(A).logabsdet, ((4, 4),))
op("torch.slogdet", lambda T, A: tuple(T.slogdet(A)), ((3, 3),))
op("slogdet_method", lambda T, A: A.slogdet()[1], ((2, 3, 3),))
op("logdet", lambda T, A: T.logdet(A), ((3, 3),), ((2, 4, 4),))
op("logdet_method", lambda T, A: A.logdet(), ((3, 3),))
op("logdet_neg", lambda T, A: T.logdet(A), ((3, 3),), domain="-A", fd=False)  # nan value, zero gradient
op("inv", lambda T, A: T.linalg.inv(A), *SQ)
op("torch.inverse", lambda T, A: T.inverse(A), ((3, 3),))
op("inverse_method", lambda T, A: A.inverse(), ((2, 3, 3),))
op("inv_inv", lambda T, A: T.linalg.inv(T.linalg.inv(A) * 2.0), ((3, 3),))
op("solve", lambda T, A, Bm: T.linalg.solve(A, Bm),
   ((3, 3), (3,)),  # a vector
   ((3, 3), (3, 2)),  # a matrix
   ((2, 4, 4), (4,)),  # one vector for a batch of matrices
   ((2, 4, 4), (2, 4)),  # a batch of vectors: B.shape == A.shape[:-1]
   ((2, 3, 3), (3, 2)),  # one matrix for a batch
   ((3, 3), (2, 3, 2)),  # a batch of right-hand sides for one matrix
   ((2, 1, 3, 3), (4, 3, 1)),  # batch dims broadcast both ways
   ((1, 1), (1, 3)), domain=AB)
op("solve_right", lambda T, A, Bm: T.linalg.solve(A, Bm, left=False),
   ((3, 3), (2, 3)), ((2, 3, 3), (4, 1, 2, 3)), ((3, 3), (2, 1, 3)), domain=AB)
op("solve_of_A_only", lambda T, A: T.linalg.solve(A, T.ones(3, 2, dtype=A.dtype)), ((3, 3),))
op("solve_same_A", lambda T, A: T.linalg.solve(A, A * 1.5 + 1.0), ((2, 3, 3),))  # A on both sides
op("det_of_product", lambda T, A, M: T.linalg.det(A @ A.mT + M * 0.1), ((3, 3), (3, 3)), domain=AB)
op("slogdet_of_inv", lambda T, A: T.linalg.slogdet(T.linalg.inv(A)).logabsdet, ((3, 3),))
op("quadratic_form", lambda T, A, x: (x * T.linalg.solve(A @ A.mT, x)).sum(), ((4, 4), (4,)), domain=AB)
