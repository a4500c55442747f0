"""``autojac.linalg`` (det, slogdet, logdet, inv, solve) beyond its op-table rows (``table_linalg.py``, run
by ``test_table.py``): singular matrices, where det's gradient is the cofactor matrix, and PyTorch's errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from ._oracle import (
    B,
    assert_all_close,
    assert_close,
    autojac,
    batched_then_differentiated,
    batched_vs_loop,
    jvp_rules,
    lib_tensors,
    rng_for,
    sample,
    second,
    to_np,
    torch,
    vjp,
)


def wellcond(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """``R / sqrt(n) + 2 I``: eigenvalues within 1 of 2, so condition numbers stay small."""
    return sample(rng, shape, "A")


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
