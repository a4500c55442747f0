"""``autojac.linalg`` (det, slogdet, logdet, inv, solve) against PyTorch 2.13 and finite differences.

Each line of the table runs the op-table checks of ``test_op_table.py`` on well-conditioned
random matrices: value (float64 and float32, dtype, ``grad_fn``), the VJP, the second
derivative through a ``create_graph`` gradient, a float64 central finite-difference VJP, the
batched-cotangent rules (DESIGN.md decision 3) and the JVP rules (adjoint identity, batched
tangents, finite differences). Then singular matrices, where det's gradient is the cofactor
matrix, and PyTorch's errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from ._oracle import (
    B,
    assert_all_close,
    assert_close,
    autojac,
    batched_then_differentiated,
    batched_vs_loop,
    fd_jvp,
    jvp_rules,
    lib_tensors,
    out_arrays,
    rng_for,
    second,
    table_checks,
    to_np,
    torch,
    vjp,
)


def wellcond(rng: np.random.Generator, shape: tuple, flip: bool = False) -> np.ndarray:
    """``R / sqrt(n) + 2 I``: eigenvalues within 1 of 2, so condition numbers stay small.

    ``flip`` negates the first row: a negative determinant.
    """
    n = shape[-1]
    a = rng.standard_normal(shape) / np.sqrt(n) + 2 * np.eye(n)
    if flip:
        a[..., 0, :] *= -1
    return a


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable
    shapes: tuple  # per input: a matrix shape (square in its last two dims) or a right-hand side
    kinds: tuple  # per input: "A" (well-conditioned), "-A" (negative determinant) or "B" (normal)
    fd: bool = True  # finite differences apply (not where values are nan)

    @property
    def id(self) -> str:
        return f"{self.name}[{'_'.join('x'.join(map(str, s)) for s in self.shapes)}]"

    def inputs(self) -> list:
        rng = rng_for(self.id)
        return [rng.standard_normal(s) if k == "B" else wellcond(rng, s, flip=k == "-A")
                for s, k in zip(self.shapes, self.kinds)]


CASES: list[Case] = []


def op(name: str, fn: Callable, *shape_sets: tuple, kinds: tuple | None = None, fd: bool = True) -> None:
    for shapes in shape_sets:
        CASES.append(Case(name, fn, shapes, kinds or ("A",) + ("B",) * (len(shapes) - 1), fd))


SQ = [((3, 3),), ((2, 4, 4),), ((1, 1),), ((2, 1, 2, 2),)]
op("det", lambda T, A: T.linalg.det(A), *SQ)
op("det_neg", lambda T, A: T.linalg.det(A), ((3, 3),), ((2, 3, 3),), kinds=("-A",))
op("torch.det", lambda T, A: T.det(A), ((3, 3),))
op("det_method", lambda T, A: A.det() * 2.0, ((2, 3, 3),))
op("slogdet", lambda T, A: tuple(T.linalg.slogdet(A)), *SQ)
op("slogdet_neg", lambda T, A: tuple(T.linalg.slogdet(A)), ((2, 3, 3),), kinds=("-A",))
op("slogdet_logabsdet", lambda T, A: T.linalg.slogdet(A).logabsdet, ((4, 4),))
op("torch.slogdet", lambda T, A: tuple(T.slogdet(A)), ((3, 3),))
op("slogdet_method", lambda T, A: A.slogdet()[1], ((2, 3, 3),))
op("logdet", lambda T, A: T.logdet(A), ((3, 3),), ((2, 4, 4),))
op("logdet_method", lambda T, A: A.logdet(), ((3, 3),))
op("logdet_neg", lambda T, A: T.logdet(A), ((3, 3),), kinds=("-A",), fd=False)  # nan value, zero gradient
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
   ((1, 1), (1, 3)))
op("solve_right", lambda T, A, Bm: T.linalg.solve(A, Bm, left=False),
   ((3, 3), (2, 3)), ((2, 3, 3), (4, 1, 2, 3)), ((3, 3), (2, 1, 3)))
op("solve_of_A_only", lambda T, A: T.linalg.solve(A, T.ones(3, 2, dtype=A.dtype)), ((3, 3),))
op("solve_same_A", lambda T, A: T.linalg.solve(A, A * 1.5 + 1.0), ((2, 3, 3),))  # A on both sides
op("det_of_product", lambda T, A, M: T.linalg.det(A @ A.mT + M * 0.1), ((3, 3), (3, 3)))
op("slogdet_of_inv", lambda T, A: T.linalg.slogdet(T.linalg.inv(A)).logabsdet, ((3, 3),))
op("quadratic_form", lambda T, A, x: (x * T.linalg.solve(A @ A.mT, x)).sum(), ((4, 4), (4,)))

IDS = [c.id for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"
FD_CASES = [c for c in CASES if c.fd]


def _cotangents(case: Case, rng, xs) -> list:
    return [rng.standard_normal(o.shape) for o in out_arrays(torch, case.fn, xs)]


# --------------------------------------------------------------------------- the table checks
globals().update(table_checks(CASES, require_batched=True))



@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_rules(case: Case) -> None:
    """Forward mode through the JVP rules: <v, J t> = <J^T v, t>, and batched tangents equal a loop."""
    xs = case.inputs()
    rng = rng_for("jvp" + case.id)
    ts = [rng.standard_normal(x.shape) for x in xs]
    vs = _cotangents(case, rng, xs)
    jt = jvp_rules(case.fn, xs, ts, 0)
    vj = vjp(autojac, case.fn, xs, vs)
    lhs = sum(float(np.nansum(v * j)) for v, j in zip(vs, jt))
    rhs = sum(float(np.sum(g * t)) for g, t in zip(vj, ts))
    assert_close(np.array(lhs), np.array(rhs), "<v, J t> vs <J^T v, t>", 1e-10, 1e-11)
    big = [rng.standard_normal((B,) + x.shape) for x in xs]
    batched = jvp_rules(case.fn, xs, big, 1)
    loop = [jvp_rules(case.fn, xs, [t[b] for t in big], 0) for b in range(B)]
    assert_all_close(batched, [np.stack([lp[i] for lp in loop]) for i in range(len(batched))], "batched JVP",
                     1e-11, 1e-12)


@pytest.mark.parametrize("case", FD_CASES, ids=[c.id for c in FD_CASES])
def test_jvp_finite_differences(case: Case) -> None:
    xs = case.inputs()
    ts = [rng_for("jfd" + case.id).standard_normal(x.shape) for x in xs]
    assert_all_close(jvp_rules(case.fn, xs, ts, 0), fd_jvp(case.fn, xs, ts), "JVP vs central differences",
                     1e-6, 1e-7)


# --------------------------------------------------------------------------- singular matrices
def cofactor(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix by signed minors (an oracle independent of any factorization)."""
    n = a.shape[-1]
    out = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, -2), j, -1)
            out[..., i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def low_rank(rng: np.random.Generator, n: int, r: int, batch: tuple = ()) -> np.ndarray:
    return rng.standard_normal(batch + (n, r)) @ rng.standard_normal(batch + (r, n))


EXACT = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2, an exact zero pivot in LU


def _det_grad(T, a: np.ndarray, create_graph: bool = False) -> np.ndarray:
    (A,) = lib_tensors(T, [a], "float64")
    (g,) = T.autograd.grad(T.linalg.det(A).sum(), A, create_graph=create_graph)
    return to_np(g)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_det_grad_rank_deficient_matches_torch(n: int) -> None:
    """At a rank n-1 matrix the gradient of det is the (non-zero) cofactor matrix, as in torch."""
    a = low_rank(rng_for(f"rank{n}"), n, n - 1)
    got = _det_grad(autojac, a)
    assert np.abs(got).max() > 0.1
    assert_close(got, cofactor(a), "det grad vs cofactor", 1e-9, 1e-12)
    assert_close(got, _det_grad(torch, a, create_graph=True), "det grad vs torch (create_graph)", 1e-8, 1e-12)
    if torch.linalg.det(torch.tensor(a)).item() != 0:  # else torch's LU hit an exact zero pivot: see below
        assert_close(got, _det_grad(torch, a), "det grad vs torch", 1e-8, 1e-12)


def test_det_grad_exact_zero_pivot() -> None:
    """An exactly singular matrix: torch's create_graph path (SVD) gives the cofactor, as we do.

    (torch without create_graph perturbs the zero pivot and returns 0 * A^{-T} = 0 there.)
    """
    got = _det_grad(autojac, EXACT)
    assert_close(got, cofactor(EXACT), "det grad vs cofactor", 1e-12, 1e-12)
    assert_close(got, _det_grad(torch, EXACT, create_graph=True), "det grad vs torch", 1e-12, 1e-12)
    assert np.abs(got[:2]).min() > 1  # [[4, 4, -4], [-2, -2, 2], [0, 0, 0]]


def test_det_grad_rank_n_minus_2_is_zero() -> None:
    a = low_rank(rng_for("rank n-2"), 4, 2)
    assert_close(_det_grad(autojac, a), np.zeros((4, 4)), "det grad", 0, 1e-12)
    assert_close(_det_grad(autojac, a), _det_grad(torch, a), "det grad vs torch", 0, 1e-12)


def test_det_mixed_batch_of_singular_and_regular() -> None:
    rng = rng_for("mixed")
    a = np.stack([wellcond(rng, (3, 3)), low_rank(rng, 3, 2), EXACT])
    v = rng.standard_normal(3)
    fn = lambda T, A: T.linalg.det(A)  # noqa: E731
    got = vjp(autojac, fn, [a], [v])[0]
    assert_close(got, v[:, None, None] * cofactor(a), "batched det grad vs cofactors", 1e-9, 1e-12)
    assert_close(got[:2], vjp(torch, fn, [a[:2]], [v[:2]])[0], "batched det grad vs torch", 1e-8, 1e-12)


@pytest.mark.parametrize("which", ["rank", "exact", "mixed"])
def test_det_second_derivative_at_singular(which: str) -> None:
    """The Hessian of det at singular matrices: against torch (its SVD path) and finite differences."""
    rng = rng_for("d2" + which)
    a = {"rank": low_rank(rng, 4, 3), "exact": EXACT,
         "mixed": np.stack([low_rank(rng, 3, 2), wellcond(rng, (3, 3))])}[which]
    fn = lambda T, A: T.linalg.det(A)  # noqa: E731
    v = [rng.standard_normal(a.shape[:-2])]
    w = [rng.standard_normal(a.shape)]
    got = second(autojac, fn, [a], v, w)
    want = second(torch, fn, [a], v, w)
    assert_all_close(got, want, "d2 det vs torch", 1e-8, 1e-10)
    # the Hessian applied to w, from central differences of the gradient (det is a polynomial)
    eps = 1e-6
    fd = (_det_grad(autojac, a + eps * w[0]) - _det_grad(autojac, a - eps * w[0])) / (2 * eps)
    assert_close(got[0], np.expand_dims(v[0], (-1, -2)) * fd, "d2 det vs finite differences", 1e-6, 1e-8)


def test_det_hessian_batched_at_singular() -> None:
    """The vectorized Hessian path (batched create_graph VJPs) at a singular matrix."""
    a = low_rank(rng_for("hb"), 3, 2)
    fn = lambda T, A: T.linalg.det(A)  # noqa: E731
    batched, loop = batched_then_differentiated(fn, [a], rng_for("hb2"))
    assert_all_close(batched, loop, "batched create_graph at singular", 1e-10, 1e-12)
    got, stacked = batched_vs_loop(fn, [a], rng_for("hb3"), 2)
    assert_all_close(got, stacked, "batched vjp of grad at singular", 1e-10, 1e-12)
    jt = jvp_rules(fn, [a], [np.ones((B, 3, 3))], 1)[0]
    assert_close(jt, np.full(B, cofactor(a).sum()), "batched det JVP at singular", 1e-9, 1e-12)


def test_det_third_derivative_at_singular_raises() -> None:
    A = autojac.tensor(EXACT, requires_grad=True)
    (g,) = autojac.autograd.grad(autojac.linalg.det(A), A, create_graph=True)
    (h,) = autojac.autograd.grad((g * autojac.tensor(EXACT)).sum(), A, create_graph=True)
    with pytest.raises(NotImplementedError, match="order 3"):
        autojac.autograd.grad(h.sum(), A)


def test_det_third_derivative_regular_matches_torch() -> None:
    a = wellcond(rng_for("d3"), (3, 3))
    w = rng_for("d3w").standard_normal((3, 3))

    def third(T):
        (A,) = lib_tensors(T, [a], "float64")
        (g,) = T.autograd.grad(T.linalg.det(A), A, create_graph=True)
        (h,) = T.autograd.grad((g * T.tensor(w)).sum(), A, create_graph=True)
        return to_np(T.autograd.grad((h * T.tensor(w)).sum(), A)[0])

    assert_close(third(autojac), third(torch), "third derivative of det", 1e-9, 1e-11)


def test_slogdet_at_singular() -> None:
    """Values as torch's; the gradient of logabsdet there is not finite (NaN here, infs in torch)."""
    A = autojac.tensor(EXACT, requires_grad=True)
    sign, lad = autojac.linalg.slogdet(A)
    assert sign.item() == 0 and lad.item() == -np.inf
    assert autojac.logdet(A).item() == -np.inf
    (g,) = autojac.autograd.grad(lad, A)
    assert np.isnan(to_np(g)).all()


def test_sign_has_no_gradient() -> None:
    for T in (autojac, torch):
        (A,) = lib_tensors(T, [wellcond(rng_for("sign"), (3, 3))], "float64")
        sign = T.linalg.slogdet(A).sign
        assert sign.requires_grad
        assert T.autograd.grad(sign, A, allow_unused=True) == (None,)


# --------------------------------------------------------------------------- namespace and errors
def test_namespace() -> None:
    from autojac.linalg import LinAlgError, det, inv, slogdet, solve

    assert autojac.linalg.det is det and autojac.linalg.solve is solve
    assert callable(inv) and callable(slogdet)
    assert issubclass(LinAlgError, RuntimeError)
    r = autojac.slogdet(autojac.eye(2))
    assert type(r).__name__ == "_ReturnSlogdet" and r._fields == ("sign", "logabsdet")
    assert "linalg_slogdet(" in repr(autojac.linalg.slogdet(autojac.eye(2)))


def _eye_with_zero(T, batch: int, k: int, dtype=None):
    a = np.tile(np.eye(3), (batch, 1, 1)) if batch else np.eye(3)
    a[..., k, k] = 0
    return T.tensor(a, dtype=dtype or T.float32)


ERRORS = {
    "det_not_square": lambda T: T.linalg.det(T.ones(3, 2)),
    "det_1d": lambda T: T.linalg.det(T.ones(3)),
    "det_long": lambda T: T.linalg.det(T.ones(3, 3, dtype=T.long)),
    "det_int": lambda T: T.det(T.ones(3, 3, dtype=T.int32)),
    "det_bool": lambda T: T.linalg.det(T.ones(3, 3, dtype=T.bool)),
    "det_half": lambda T: T.linalg.det(T.ones(3, 3, dtype=T.half)),
    "det_list": lambda T: T.linalg.det([[1.0, 2.0], [3.0, 4.0]]),
    "slogdet_not_square": lambda T: T.linalg.slogdet(T.ones(2, 3, 2)),
    "slogdet_long": lambda T: T.slogdet(T.ones(3, 3, dtype=T.long)),
    "slogdet_half": lambda T: T.linalg.slogdet(T.ones(3, 3, dtype=T.half)),
    "logdet_not_square": lambda T: T.logdet(T.ones(3, 2)),
    "logdet_long": lambda T: T.logdet(T.ones(3, 3, dtype=T.long)),
    "logdet_1d": lambda T: T.logdet(T.ones(3)),
    "inv_not_square": lambda T: T.linalg.inv(T.ones(3, 2)),
    "inv_int": lambda T: T.linalg.inv(T.ones(3, 3, dtype=T.int32)),
    "inv_half": lambda T: T.linalg.inv(T.ones(3, 3, dtype=T.half)),
    "inv_singular": lambda T: T.linalg.inv(T.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])),
    "inv_singular_first": lambda T: T.linalg.inv(T.tensor([[0.0, 1.0], [0.0, 1.0]])),
    "inv_zeros": lambda T: T.linalg.inv(T.zeros(2, 2)),
    "inv_singular_batch": lambda T: T.linalg.inv(_eye_with_zero(T, 3, 1)[1:].expand(2, 2, 3, 3)),
    "inverse_singular": lambda T: T.inverse(_eye_with_zero(T, 0, 2, T.float64)),
    "inverse_method_not_square": lambda T: T.ones(3, 2).inverse(),
    "solve_singular": lambda T: T.linalg.solve(T.ones(3, 3), T.ones(3)),
    "solve_singular_batch": lambda T: T.linalg.solve(_eye_with_zero(T, 3, 0)[[0, 0, 1]] + 0, T.ones(3)),
    "solve_vector_size": lambda T: T.linalg.solve(T.eye(3), T.ones(4)),
    "solve_matrix_rows": lambda T: T.linalg.solve(T.eye(3), T.ones(2, 4)),
    "solve_batch_of_vectors_mismatch": lambda T: T.linalg.solve(T.eye(3).expand(4, 3, 3), T.ones(2, 3)),
    "solve_right_vector": lambda T: T.linalg.solve(T.eye(3), T.ones(3), left=False),
    "solve_right_cols": lambda T: T.linalg.solve(T.eye(3), T.ones(3, 2), left=False),
    "solve_batch_broadcast": lambda T: T.linalg.solve(T.ones(2, 3, 3), T.ones(4, 3, 1)),
    "solve_batch_broadcast_dim1": lambda T: T.linalg.solve(T.ones(2, 5, 3, 3), T.ones(4, 3, 3)),
    "solve_not_square": lambda T: T.linalg.solve(T.ones(3, 2), T.ones(3)),
    "solve_A_1d": lambda T: T.linalg.solve(T.ones(3), T.ones(3)),
    "solve_B_0d": lambda T: T.linalg.solve(T.eye(3), T.tensor(1.0)),
    "solve_long_A": lambda T: T.linalg.solve(T.ones(3, 3, dtype=T.long), T.ones(3)),
    "solve_long_B": lambda T: T.linalg.solve(T.eye(3), T.ones(3, dtype=T.long)),
    "solve_mixed_float": lambda T: T.linalg.solve(T.eye(3), T.ones(3, dtype=T.float64)),
    "solve_B_float": lambda T: T.linalg.solve(T.eye(3), 1.0),
    "solve_half": lambda T: T.linalg.solve(T.eye(3, dtype=T.half), T.ones(3, dtype=T.half)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_like_torch(name: str) -> None:
    fn = ERRORS[name]
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(autojac)
    assert str(got.value) == str(want.value)
    for kind in (TypeError, NotImplementedError, RuntimeError):  # torch's LinAlgError is a RuntimeError
        assert isinstance(got.value, kind) == isinstance(want.value, kind), kind.__name__
    if isinstance(want.value, torch.linalg.LinAlgError):
        assert isinstance(got.value, autojac.linalg.LinAlgError)


def test_empty_and_degenerate_shapes() -> None:
    for shape in [(0, 0), (2, 0, 0), (0, 3, 3)]:
        a = np.zeros(shape)
        for fn in (lambda T, A: T.linalg.det(A), lambda T, A: T.linalg.inv(A),
                   lambda T, A: T.linalg.slogdet(A).logabsdet):
            got = fn(autojac, autojac.tensor(a))
            want = fn(torch, torch.tensor(a))
            assert_close(to_np(got), to_np(want), f"{shape}", 0, 0)
