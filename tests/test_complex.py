"""Complex dtypes beyond their op-table rows (``tests/ops/table_complex.py``, run by ``tests/ops/test_table.py``):
zeros, pow at a zero base, NumPy scalars, gradient dtypes, printing and promotion, errors, ``.grad``
accumulation, real paths that record no conj, random complex tensors, batched complex cotangents.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.ops._oracle import rng_for, sample, to_np

import autojac

CDT = ["complex64", "complex128"]
TOL = {"complex64": (2e-4, 2e-5), "complex128": (1e-9, 1e-11)}


def tensors(T, arrays, dtypes, requires_grad=True) -> list:
    return [T.tensor(a, dtype=getattr(T, d), requires_grad=requires_grad) for a, d in zip(arrays, dtypes)]


def close(a, e, what: str, cdt: str, scale: float = 1.0) -> None:
    rtol, atol = TOL[cdt]
    a, e = np.asarray(a), np.asarray(e)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert (a.dtype.kind == "c") == (e.dtype.kind == "c"), f"{what}: dtype {a.dtype} vs {e.dtype}"
    np.testing.assert_allclose(a, e, rtol=rtol * scale, atol=atol * scale, err_msg=what)


# --------------------------------------------------------------------------- edges and semantics
@pytest.mark.parametrize("cdt", CDT)
def test_zero_is_handled_as_torch(cdt):
    """abs, angle and sgn at z = 0: zero gradient (PyTorch's sgn(0) = 0), finite second derivatives."""
    arr = np.array([0j, 1 + 1j, -2j])
    for fn in (lambda x: x.abs(), lambda x: x.angle(), lambda x: x.sgn() * x.sgn().conj().real):
        res = []
        for T in (torch, autojac):
            x = T.tensor(arr, dtype=getattr(T, cdt), requires_grad=True)
            (g,) = T.autograd.grad(fn(x).abs().sum(), x, create_graph=True)
            (h,) = T.autograd.grad((g.abs() ** 2).sum(), x)
            res.append((to_np(g), to_np(h)))
        (ga, ha), (gt, ht) = res[1], res[0]
        close(ga, gt, "grad at 0", cdt)
        assert np.all(np.isfinite(ha))
        close(ha[1:], ht[1:], "second derivative away from 0", cdt)


def test_pow_at_zero_base():
    """d(a**b)/db is 0 where a == 0 and b is real and >= 0 (PyTorch's mask for complex exponents)."""
    res = []
    for T in (torch, autojac):
        a = T.tensor([0j, 0j, 1 + 1j, 0.5j], dtype=T.complex128, requires_grad=True)
        b = T.tensor([2 + 0j, 1 + 1j, 1j, 3 + 0j], dtype=T.complex128, requires_grad=True)
        y = a ** b
        gy = T.autograd.grad(y, (a, b), T.ones_like(y))
        res.append([to_np(g) for g in gy])
    for ga, gt in zip(res[1], res[0]):
        np.testing.assert_allclose(ga, gt, rtol=1e-12, equal_nan=True)


def test_numpy_complex_scalar_operand():
    z = autojac.tensor([1 + 1j], requires_grad=True)
    (g,) = autojac.autograd.grad(autojac.mul(z, np.complex64(2j)), z, autojac.ones(1, dtype=autojac.complex64))
    assert g.tolist() == [-2j]  # g * conj(2j)


def test_grad_dtypes_follow_inputs():
    """A complex gradient that reaches a real leaf keeps its real part; a real one reaching a complex leaf
    becomes complex."""
    w = autojac.tensor([1.0, 2.0], requires_grad=True)
    z = autojac.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    ((w * (1 + 2j)) * z).abs().sum().backward()
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    tz = torch.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    ((tw * (1 + 2j)) * tz).abs().sum().backward()
    assert w.grad.dtype == autojac.float32 and z.grad.dtype == autojac.complex64
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(z.grad.numpy(), tz.grad.numpy(), rtol=1e-6)
    z2 = autojac.tensor([1 + 1j], requires_grad=True)
    z2.real.sum().backward()
    assert z2.grad.dtype == autojac.complex64 and z2.grad.tolist() == [1 + 0j]


def test_complex_dtypes_print_and_promote():
    z = autojac.tensor([1 + 2j], requires_grad=True)
    assert repr(z * 2) == "tensor([2.+4.j], grad_fn=<MulBackward0>)"
    assert repr(z.abs()) == "tensor([2.2361], grad_fn=<AbsBackward0>)"
    assert repr(z.real) == "tensor([1.], grad_fn=<SelectBackward0>)"
    assert (autojac.ones(2, dtype=autojac.float64) * 1j).dtype == autojac.complex128
    assert (autojac.ones(2) * z).dtype == autojac.complex64
    assert autojac.is_complex(z) and z.is_complex() and not z.real.is_complex()
    x = autojac.ones(2, requires_grad=True)
    assert x.conj() is x and x.real is x and x.resolve_conj() is x and not x.is_conj()


def test_errors_match_torch():
    def both(fn):
        msgs = []
        for T in (torch, autojac):
            with pytest.raises(Exception) as e:
                fn(T)
            msgs.append((type(e.value), str(e.value).replace("torch.", "autojac.").splitlines()[0]))
        assert msgs[0] == msgs[1]

    def zt(T):
        return T.tensor([1 + 2j, 3j], requires_grad=True)
    both(lambda T: (zt(T) * 2).sum().backward())  # complex scalar: no implicit grad
    both(lambda T: T.autograd.grad((zt(T) * 2).sum(), zt(T)))
    both(lambda T: (zt(T) * 2).backward(T.ones(2)))  # a real grad_output for a complex output
    both(lambda T: T.autograd.grad(zt(T).abs(), zt(T), T.ones(2, dtype=T.complex64)))
    both(lambda T: T.softmax(zt(T), 0))
    both(lambda T: T.log_softmax(zt(T), 0))
    both(lambda T: T.clamp(zt(T), 0, 1))
    both(lambda T: T.relu(zt(T)))
    both(lambda T: T.maximum(zt(T), zt(T)))
    both(lambda T: T.sign(zt(T)))
    both(lambda T: T.ones(2).imag)
    both(lambda T: T.view_as_real(T.ones(2)))
    both(lambda T: T.view_as_complex(T.ones(3)))
    with pytest.raises(RuntimeError, match="same dtype"):  # as torch (which words it per kernel)
        autojac.ones(2, 2, dtype=autojac.complex64) @ autojac.ones(2, 2)
    both(lambda T: T.complex(T.ones(2), T.ones(2, dtype=T.float64)))


def test_leaf_grad_accumulates_complex():
    res = []
    for T in (torch, autojac):
        z = T.tensor([1 + 1j, -1 + 0.5j], dtype=T.complex128, requires_grad=True)
        for k in range(2):
            ((z * z).abs() ** 2).sum().backward()
            (z.exp().real * (k + 1)).sum().backward()
        res.append(to_np(z.grad))
    np.testing.assert_allclose(res[1], res[0], rtol=1e-12)


def test_real_paths_record_no_conj():
    """Real tensors never meet a conj op: rules skip it for real operands."""
    x = autojac.tensor([1.0, 2.0], requires_grad=True)
    (g,) = autojac.autograd.grad((x * x.exp()).sum(), x, create_graph=True)
    seen, stack = set(), [g.grad_fn]
    while stack:
        n = stack.pop()
        if n is None or not hasattr(n, "next_functions") or id(n) in seen:
            continue
        seen.add(id(n))
        assert "Conj" not in n.name()
        stack.extend(f for f, _ in n.next_functions)


@pytest.mark.parametrize("n", [3, 8, 20])
@pytest.mark.parametrize("cdt", CDT)
def test_random_complex_tensors(n, cdt):
    """randn and rand draw PyTorch's stream: both parts of variance 1/2 (randn), uniform (rand)."""
    out = []
    for T in (torch, autojac):
        T.manual_seed(n)
        out.append([T.randn(n, dtype=getattr(T, cdt)).numpy(), T.rand(2, n, dtype=getattr(T, cdt)).numpy()])
    for a, t in zip(out[1], out[0]):
        assert a.dtype == t.dtype
        np.testing.assert_allclose(a, t, rtol=1e-6 if cdt == "complex64" else 1e-12, atol=1e-7)


def test_batched_cotangents_complex():
    """is_grads_batched with complex cotangents: one pass equals the loop."""
    rng = rng_for("batched")
    a, b = sample(rng, (2, 3), "c"), sample(rng, (3, 2), "c")
    cots = sample(rng, (4, 2, 2), "c")
    A, B = tensors(autojac, [a, b], ["complex128"] * 2)
    y = (A @ B).tanh() * A.abs().sum()
    ga, gb = autojac.autograd.grad(y, (A, B), autojac.tensor(cots), is_grads_batched=True, retain_graph=True)
    for k in range(4):
        la, lb = autojac.autograd.grad(y, (A, B), autojac.tensor(cots[k]), retain_graph=True)
        np.testing.assert_allclose(ga.numpy()[k], la.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb.numpy()[k], lb.numpy(), rtol=1e-12)
