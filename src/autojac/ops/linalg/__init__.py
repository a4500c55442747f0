"""Linear algebra (``torch.linalg``'s names and semantics): det, slogdet/logdet, inv, solve; cholesky,
qr, eigh/eigvalsh, svd/svdvals, vector_norm/matrix_norm/norm, pinv, lstsq, matrix_exp, cross; and
torch's top-level ``cholesky``, ``qr``, ``svd``, ``pinverse``, ``matrix_exp``, ``cross``.

Forwards run in NumPy (LAPACK) over leading batch dimensions. Rules are written in autojac
ops, so they are differentiable again; cotangents and tangents may carry extra leading batch
dimensions (DESIGN.md decision 3), which ``@`` and right-aligned broadcasting pass through.

- ``det``: ``d det = <cof(A), dA>`` with the cofactor matrix ``cof(A) = det(A) A^{-T}``. Where
  ``|det A| < 100 eps`` (PyTorch's threshold) the cofactor comes from the SVD instead, as in
  PyTorch's ``linalg_det_backward``, so a rank n-1 matrix gets its true, non-zero gradient.
  PyTorch itself returns zeros there when the LU factorization hits an exact zero pivot and no
  graph is built (``create_graph=False``); with ``create_graph=True`` it returns the cofactor, as
  we always do. Second derivatives at singular matrices are exact (a closed form through the
  SVD); third and higher derivatives there raise ``NotImplementedError``.
- ``slogdet``: ``d logabsdet = tr(A^{-1} dA)``; ``sign`` has no derivative (real inputs). At an
  exactly singular matrix the gradient of ``logabsdet`` is NaN (PyTorch's holds infs and
  LAPACK leftovers there).
- ``inv``: ``d inv = -inv dA inv``. ``solve``: ``dX = A^{-1}(dB - dA X)`` (``left=False``:
  ``(dB - X dA) A^{-1}``).
- ``cholesky``, ``eigh``: the input's one triangle is read, the gradient is symmetric (torch's
  formulas); their JVPs take the whole tangent, as torch's. ``eigh``/``svd``: vector gradients
  divide by eigenvalue (squared singular value) gaps; eigenvalues/singular values alone do not
  (a zero cotangent is skipped, as torch skips an undefined one). ``qr``: not differentiable for
  ``mode="r"`` or a complete QR of a tall matrix (torch's errors). Norms: zero gradient at 0.
  ``pinv``/``lstsq``: the constant-rank pseudo-inverse derivative. ``matrix_exp``: the Frechet
  derivative as a block of ``exp([[A, E], [0, A]])``.

Gradients of complex matrices are not supported (the rules would need conjugates); complex
forwards work.
"""

from ._base import LinAlgError
from ._det import det, slogdet, logdet, inv, inverse, solve, _slogdet_top, SlogdetResult
from ._factor import (
    cholesky, qr, eigh, eigvalsh, svd, svdvals, _cholesky_top, _qr_top, _svd_top, QRResult, EighResult, SVDResult,
)
from ._norms import vector_norm, matrix_norm, norm
from ._lstsq import pinv, pinverse, lstsq, LstsqResult
from ._exp_cross import matrix_exp, cross, _cross_top

__all__ = ["det", "slogdet", "logdet", "inv", "inverse", "solve", "LinAlgError", "cholesky", "qr", "eigh", "eigvalsh",
           "svd", "svdvals", "vector_norm", "matrix_norm", "norm", "pinv", "pinverse", "lstsq", "matrix_exp", "cross"]
