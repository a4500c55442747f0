"""Sparse Jacobians and Hessians: patterns found from the graph, coloring, compressed evaluation.

- ``jacobian_sparsity(func, x)`` / ``hessian_sparsity(func, x)``: the structural patterns (SciPy
  boolean CSR arrays), by propagating each primitive's pattern rule through the recorded graph;
- ``jacobian(func, x, sparsity="auto", mode="auto")`` / ``hessian(func, x)``: exact values as a
  ``scipy.sparse.csr_array``, from one batched pass over the colors of the pattern;
- ``jacobian_plan`` / ``hessian_plan``: detect and color once, then call at new points.

>>> import autojac, numpy as np
>>> from autojac import sparse
>>> f = lambda x: x[1:] * x[:-1]
>>> sparse.jacobian(f, np.array([1., 2., 3.])).toarray()
array([[2., 1., 0.],
       [0., 3., 2.]])
"""

from __future__ import annotations

from . import coloring
from ._detect import hessian_sparsity, jacobian_sparsity
from ._evaluate import HessianPlan, JacobianPlan, hessian, hessian_plan, jacobian, jacobian_plan

__all__ = ["jacobian_sparsity", "hessian_sparsity", "jacobian", "hessian", "jacobian_plan", "hessian_plan",
           "JacobianPlan", "HessianPlan", "coloring"]
