"""SciPy's solvers fed with autojac's exact derivatives (SciPy is imported when a solver runs).

``minimize``, ``least_squares``, ``root`` (``scipy.optimize``) and ``solve_ivp``
(``scipy.integrate``) take autojac functions (tensors in, tensors out), NumPy starting points,
and return SciPy's own result objects; gradients, Hessians (or Hessian-vector products) and
Jacobians are exact, and sparse (colored plans from ``autojac.sparse``) where that pays.
``NonlinearConstraint`` builds SciPy's constraint with exact Jacobian and Hessian.

>>> import numpy as np
>>> from autojac.scipy import minimize
>>> rosen = lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
>>> res = minimize(rosen, np.zeros(5), method="trust-krylov")
>>> np.round(res.x, 6).tolist()
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from ._integrate import solve_ivp
from ._optimize import NonlinearConstraint, least_squares, minimize, root

__all__ = ["minimize", "least_squares", "root", "solve_ivp", "NonlinearConstraint"]
