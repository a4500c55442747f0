"""Sparse Jacobians and Hessians: patterns found from the graph, coloring, compressed evaluation.

>>> import autojac
>>> from autojac import sparse
>>> f = lambda x: x[1:] * x[:-1]
>>> sparse.jacobian(f, autojac.tensor([1., 2., 3.])).toarray()
array([[2., 1., 0.],
       [0., 3., 2.]])
"""

from __future__ import annotations

from ._detect import hessian_sparsity, jacobian_sparsity

__all__ = ["jacobian_sparsity", "hessian_sparsity"]
