"""``autojac.linalg``: PyTorch's ``torch.linalg`` namespace.

det, slogdet, inv, solve; cholesky, qr, eigh, eigvalsh, svd, svdvals; vector_norm,
matrix_norm, norm; pinv, lstsq, matrix_exp, cross. The primitives and their derivative
rules live in ``autojac.ops.linalg``.
"""

from ..ops.linalg import (LinAlgError, cholesky, cross, det, eigh, eigvalsh, inv, lstsq, matrix_exp, matrix_norm,
                          norm, pinv, qr, slogdet, solve, svd, svdvals, vector_norm)

__all__ = ["det", "slogdet", "inv", "solve", "LinAlgError", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals",
           "vector_norm", "matrix_norm", "norm", "pinv", "lstsq", "matrix_exp", "cross"]
