"""autojac.scipy: SciPy's solvers with exact derivatives reach finite differences' answers in fewer calls."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.sparse as sp

import autojac
from autojac import scipy as ajs


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosen_np(x):
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


X0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # scipy's example start (away from the local minimum near -1)


@pytest.mark.parametrize("method", ["trust-ncg", "trust-krylov", "trust-exact", "dogleg", "Newton-CG", "BFGS",
                                    "L-BFGS-B", "trust-constr"])
def test_minimize_rosenbrock(method):
    x0 = np.array([1.2, 1.1, 0.9, 1.05, 0.95]) if method == "dogleg" else X0  # dogleg needs a convex start
    res = ajs.minimize(rosen, x0, method=method, tol=1e-10,
                       options={"maxiter": 3000} if method == "trust-constr" else None)
    assert isinstance(res, scipy.optimize.OptimizeResult) and res.success
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-5)
    assert res.x.dtype == np.float64


def test_minimize_fewer_calls_than_finite_differences():
    ours = ajs.minimize(rosen, X0, method="BFGS")
    fd = scipy.optimize.minimize(rosen_np, X0, method="BFGS")
    np.testing.assert_allclose(ours.x, fd.x, atol=1e-4)
    assert ours.nfev < fd.nfev  # finite differences spend n + 1 calls per gradient
    assert ours.njev == ours.nfev  # jac=True: value and gradient come from one call


def test_minimize_args_bounds_and_derivative_free():
    res = ajs.minimize(lambda x, c: ((x - c) ** 2).sum(), np.zeros(3), args=(2.0,), method="L-BFGS-B",
                       bounds=[(0, 1), (0, 3), (None, None)])
    np.testing.assert_allclose(res.x, [1, 2, 2], atol=1e-6)
    res = ajs.minimize(lambda x: ((x - 1) ** 2).sum(), np.zeros(2), method="Nelder-Mead")
    np.testing.assert_allclose(res.x, [1, 1], atol=1e-3)
    with pytest.raises(ValueError, match="single element"):
        ajs.minimize(lambda x: x * 2, np.zeros(2), method="BFGS")


def test_trust_constr_with_nonlinear_constraint():
    x0 = np.array([0.1, 0.1])
    disc = ajs.NonlinearConstraint(lambda x: (x ** 2).sum().reshape(1), -np.inf, 1.0)
    ours = ajs.minimize(rosen, x0, method="trust-constr", constraints=[disc])
    fd = scipy.optimize.minimize(rosen_np, x0, method="trust-constr", jac="2-point", hess=scipy.optimize.BFGS(),
                                 constraints=[scipy.optimize.NonlinearConstraint(lambda x: [np.sum(x ** 2)],
                                                                                 -np.inf, 1.0)])
    assert ours.success
    np.testing.assert_allclose(ours.x, [0.7864, 0.6177], atol=1e-3)
    np.testing.assert_allclose(ours.x, fd.x, atol=1e-4)
    assert ours.nfev < fd.nfev
    # the constraint's derivatives are exact
    np.testing.assert_allclose(disc.jac(np.array([1.0, 2.0])), [[2.0, 4.0]])
    np.testing.assert_allclose(disc.hess(np.array([1.0, 2.0]), np.array([3.0])), 6 * np.eye(2))


def test_slsqp_with_dict_constraints():
    cons = [{"type": "eq", "fun": lambda x: x[0] + x[1] - 1},
            {"type": "ineq", "fun": lambda x, a: (a - x[2] ** 2).reshape(1), "args": (0.25,)}]
    obj = lambda x: ((x - autojac.tensor([2.0, 0.0, 1.0], dtype=autojac.float64)) ** 2).sum()  # noqa: E731
    ours = ajs.minimize(obj, np.zeros(3), method="SLSQP", constraints=cons, tol=1e-12)
    fd_cons = [{"type": "eq", "fun": lambda x: x[0] + x[1] - 1},
               {"type": "ineq", "fun": lambda x: 0.25 - x[2] ** 2}]
    fd = scipy.optimize.minimize(lambda x: np.sum((x - [2, 0, 1]) ** 2), np.zeros(3), method="SLSQP",
                                 constraints=fd_cons, tol=1e-12)
    assert ours.success
    np.testing.assert_allclose(ours.x, [1.5, -0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(ours.x, fd.x, atol=1e-5)
    assert ours.nfev <= fd.nfev


def broyden_tridiagonal(x):
    xp = autojac.nn.functional.pad(x, (1, 1))
    return (3 - 2 * x) * x - xp[:-2] - 2 * xp[2:] + 1


def broyden_tridiagonal_np(x):
    xp = np.pad(x, 1)
    return (3 - 2 * x) * x - xp[:-2] - 2 * xp[2:] + 1


class _Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a):
        self.calls += 1
        return self.fn(*a)


def test_least_squares_sparse_broyden_tridiagonal():
    n = 2000
    x0 = -np.ones(n)
    ours_f = _Counted(broyden_tridiagonal)
    ours = ajs.least_squares(ours_f, x0)
    assert sp.issparse(ours.jac)  # the plan's csr_array: large and sparse
    pattern = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    fd_f = _Counted(broyden_tridiagonal_np)
    fd = scipy.optimize.least_squares(fd_f, x0, jac_sparsity=pattern)
    assert ours.success and ours.cost < 1e-15
    np.testing.assert_allclose(ours.x, fd.x, atol=1e-8)
    # every call counts: the trace, the values and one batched pass per Jacobian
    assert ours_f.calls < fd_f.calls
    # a given pattern is honoured, and method="lm" gets a dense Jacobian
    given = ajs.least_squares(broyden_tridiagonal, x0, jac_sparsity=pattern)
    np.testing.assert_allclose(given.x, ours.x, atol=1e-10)
    small = ajs.least_squares(broyden_tridiagonal, -np.ones(20), method="lm")
    assert isinstance(small.jac, np.ndarray) and small.cost < 1e-15


@pytest.mark.parametrize("method", ["hybr", "lm", "krylov"])
def test_root(method):
    n = 50
    ours = ajs.root(broyden_tridiagonal, -np.ones(n), method=method)
    fd = scipy.optimize.root(broyden_tridiagonal_np, -np.ones(n), method=method)
    assert ours.success
    np.testing.assert_allclose(broyden_tridiagonal_np(ours.x), 0, atol=1e-6)
    np.testing.assert_allclose(ours.x, fd.x, atol=1e-5)
    if method in ("hybr", "lm"):
        assert ours.nfev < fd.nfev


def reaction_diffusion(n: int, d: float = 1.0):
    h = 1.0 / (n + 1)

    def rhs(t, u):
        up = autojac.nn.functional.pad(u, (1, 1))
        return d * (up[:-2] - 2 * u + up[2:]) / h ** 2 + u * (1 - u) * (u - 0.3)

    def rhs_np(t, u):
        up = np.pad(u, 1)
        return d * (up[:-2] - 2 * u + up[2:]) / h ** 2 + u * (1 - u) * (u - 0.3)

    grid = np.linspace(h, 1 - h, n)
    return rhs, rhs_np, np.exp(-100 * (grid - 0.5) ** 2)


def test_solve_ivp_stiff_reaction_diffusion_bdf():
    n = 1000
    rhs, rhs_np, u0 = reaction_diffusion(n)
    tol = {"rtol": 1e-6, "atol": 1e-9}
    ours_f = _Counted(rhs)
    ours = ajs.solve_ivp(ours_f, (0.0, 0.05), u0, method="BDF", **tol)
    pattern = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)], offsets=[-1, 0, 1])
    fd_f = _Counted(rhs_np)
    fd = scipy.integrate.solve_ivp(fd_f, (0.0, 0.05), u0, method="BDF", jac_sparsity=pattern, **tol)
    assert ours.success and fd.success
    np.testing.assert_allclose(ours.y[:, -1], fd.y[:, -1], atol=1e-8)
    assert ours.njev == fd.njev >= 1 and ours.nfev == fd.nfev  # the same steps
    # SciPy's nfev leaves out the finite-difference calls; counted here: ours are the trace and one
    # batched pass per Jacobian, finite differences 2 calls per color
    assert ours_f.calls == ours.nfev + ours.njev + 1
    assert ours_f.calls < fd_f.calls


@pytest.mark.parametrize("method", ["Radau", "LSODA", "RK45"])
def test_solve_ivp_other_methods(method):
    rhs, rhs_np, u0 = reaction_diffusion(60, d=0.05)
    tol = {"rtol": 1e-7, "atol": 1e-10}
    ours = ajs.solve_ivp(rhs, (0.0, 0.2), u0, method=method, **tol)
    ref = scipy.integrate.solve_ivp(rhs_np, (0.0, 0.2), u0, method="Radau", rtol=1e-10, atol=1e-12)
    assert ours.success
    np.testing.assert_allclose(ours.y[:, -1], ref.y[:, -1], atol=1e-5)


def test_trust_constr_large_uses_a_sparse_hessian_plan():
    from autojac.scipy import _derivatives

    n = 200
    hess = _derivatives.hessian(rosen, np.zeros(n))
    assert isinstance(hess, autojac.sparse.HessianPlan) and hess.n_colors == 3
    x0 = np.full(n, 0.9)
    res = ajs.minimize(rosen, x0, method="trust-constr", options={"gtol": 1e-10, "maxiter": 500})
    assert res.success
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-6)


def test_importing_the_adapters_does_not_import_scipy():
    import subprocess
    import sys

    # autojac itself may use scipy.special; the adapters and sparse add no SciPy module until they run
    code = ("import sys, autojac\n"
            "before = {m for m in sys.modules if m.startswith('scipy')}\n"
            "import autojac.scipy, autojac.sparse\n"
            "print(sorted(m for m in sys.modules if m.startswith('scipy') and m not in before))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
