"""``scipy.optimize`` fed with exact derivatives: minimize, least_squares, root, NonlinearConstraint."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _derivatives as d

_NO_DERIVATIVES = {"nelder-mead", "powell", "cobyla", "cobyqa"}
_HESSP = {"newton-cg", "trust-ncg", "trust-krylov"}
_DENSE_HESS = {"dogleg", "trust-exact"}


def minimize(fun: Callable, x0, args: tuple = (), method: str | None = None, *, sparse="auto", **kw):
    """``scipy.optimize.minimize`` with the exact gradient and, where the method uses them, the exact
    Hessian (``dogleg``, ``trust-exact``: dense; ``trust-constr``: a sparse plan when large and sparse)
    or Hessian-vector products (``Newton-CG``, ``trust-ncg``, ``trust-krylov``: forward-over-reverse).

    ``fun(x, *args)`` receives a float64 tensor and returns a one-element tensor. Dict constraints
    get their exact ``jac``. Anything passed in ``kw`` (``jac``, ``hess``, ``bounds``, ...) is honoured.
    ``sparse``: ``"auto"`` (a sparse Hessian plan when ``n >= 100`` and at most 10% of the pattern is
    nonzero), ``True`` or ``False``. Returns SciPy's ``OptimizeResult``.

    >>> import numpy as np
    >>> from autojac.scipy import minimize
    >>> res = minimize(lambda x: ((x - 3) ** 2).sum(), np.zeros(2), method="trust-ncg")
    >>> bool(res.success), np.round(res.x, 6).tolist()
    (True, [3.0, 3.0])
    """
    import scipy.optimize

    x0 = np.asarray(x0, dtype=np.float64)
    f = d.bind(fun, args)
    name = (method if isinstance(method, str) else "").lower()
    if name in _NO_DERIVATIVES or callable(method):
        return scipy.optimize.minimize(d.values(f), x0, method=method, **_constraints(kw, x0, name))
    if "jac" not in kw:
        kw["jac"] = True
        f_np = d.scalar_and_grad(f)
    else:
        f_np = d.values(lambda t: d._scalar(f(t)))
    if "hess" not in kw and "hessp" not in kw:
        if name in _HESSP:
            kw["hessp"] = d.hessp(f)
        elif name in _DENSE_HESS:
            kw["hess"] = d.hessian(f, x0, sparse=False)
        elif name == "trust-constr":
            kw["hess"] = d.hessian(f, x0, sparse=sparse)
    return scipy.optimize.minimize(f_np, x0, method=method, **_constraints(kw, x0, name))


def _constraints(kw: dict, x0: np.ndarray, method: str) -> dict:
    """Dict constraints: their ``fun`` on NumPy, with the exact ``jac`` (autojac functions in, as in
    ``minimize``)."""
    cons = kw.get("constraints")
    if cons is None or cons == ():
        return kw
    single = isinstance(cons, dict)
    out = []
    for c in [cons] if single else list(cons):
        if isinstance(c, dict):
            c = dict(c)
            g = d.bind(c["fun"], tuple(c.get("args", ())))
            c["fun"] = d.values(g)
            if "jac" not in c and method not in _NO_DERIVATIVES:
                c["jac"] = d.jacobian(g, x0, sparse=False)
            c.pop("args", None)
        out.append(c)
    kw = dict(kw)
    kw["constraints"] = out[0] if single else out
    return kw


def NonlinearConstraint(fun: Callable, lb, ub, x0=None, *, sparse="auto", **kw):  # noqa: N802
    """``scipy.optimize.NonlinearConstraint`` of an autojac function with its exact Jacobian and
    Hessian (``v``-weighted sum of the constraints' Hessians), for ``trust-constr``.

    ``x0`` (a point shaped like the variables) lets the Jacobian be a sparse plan when it pays;
    without it, the Jacobian is dense.

    >>> import numpy as np
    >>> from autojac.scipy import NonlinearConstraint
    >>> con = NonlinearConstraint(lambda x: (x ** 2).sum(), 0, 1)
    >>> con.jac(np.array([1., 2.])).tolist()
    [[2.0, 4.0]]
    """
    import scipy.optimize

    state: dict = {}

    def lazy(kind: str) -> Callable:
        def call(x, *v):
            key = (kind, np.size(x))
            if key not in state:
                point = np.asarray(x0 if x0 is not None else x, dtype=np.float64)
                state[key] = (d.jacobian(fun, point, sparse=sparse if x0 is not None else False) if kind == "jac"
                              else d.vector_hessian(fun, point))
            return state[key](x, *v)
        return call

    return scipy.optimize.NonlinearConstraint(d.values(fun), lb, ub, jac=kw.pop("jac", lazy("jac")),
                                              hess=kw.pop("hess", lazy("hess")), **kw)


def least_squares(residuals: Callable, x0, args: tuple = (), *, jac_sparsity=None, sparse="auto", **kw):
    """``scipy.optimize.least_squares`` with the exact Jacobian of ``residuals(x, *args)``.

    When the Jacobian is large and sparse (``sparse="auto"``: ``n >= 100`` and at most 10% nonzero;
    or ``sparse=True``, or ``jac_sparsity`` given) it is a colored plan returning a ``csr_array``
    (SciPy then solves with LSMR); otherwise dense. ``method="lm"`` gets a
    dense array either way. Returns SciPy's ``OptimizeResult``.

    >>> import numpy as np
    >>> from autojac.scipy import least_squares
    >>> res = least_squares(lambda x: x ** 2 - 4, np.ones(3))
    >>> np.round(res.x, 8).tolist()
    [2.0, 2.0, 2.0]
    """
    import scipy.optimize

    x0 = np.asarray(x0, dtype=np.float64)
    r = d.bind(residuals, args)
    if "jac" not in kw:
        dense = kw.get("method") == "lm"
        kw["jac"] = d.jacobian(r, x0, sparse=sparse, sparsity=jac_sparsity, dense_output=dense)
    elif jac_sparsity is not None:
        kw["jac_sparsity"] = jac_sparsity
    return scipy.optimize.least_squares(d.values(r), x0, **kw)


_ROOT_JAC = {"hybr", "lm"}


def root(fun: Callable, x0, args: tuple = (), method: str = "hybr", *, sparse="auto", **kw):
    """``scipy.optimize.root`` with the exact (dense) Jacobian for ``hybr`` and ``lm``; the
    Jacobian-free methods (``krylov``, ``broyden1``, ``anderson``, ``df-sane``...) get the function.

    >>> import numpy as np
    >>> from autojac.scipy import root
    >>> res = root(lambda x: x ** 3 - 8, np.ones(2))
    >>> np.round(res.x, 8).tolist()
    [2.0, 2.0]
    """
    import scipy.optimize

    x0 = np.asarray(x0, dtype=np.float64)
    f = d.bind(fun, args)
    if method in _ROOT_JAC and "jac" not in kw:
        kw["jac"] = d.jacobian(f, x0, sparse=sparse, dense_output=True)
    return scipy.optimize.root(d.values(f), x0, method=method, **kw)
