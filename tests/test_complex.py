"""Complex dtypes against PyTorch 2.13 and complex128 finite differences.

PyTorch's convention: the gradient of a real loss ``L`` of a complex ``z`` is ``dL/dx + i dL/dy``
(twice the conjugate Wirtinger derivative), so a VJP with a cotangent ``c`` is the gradient of
``Re(sum(conj(c) * f(z)))``; JVPs are ``df = f'(z) t`` (plus ``df/dz* conj(t)`` where ``f`` is not
holomorphic). Every case checks, in complex64 and complex128: the value, the VJP with a random
complex cotangent, the gradients of the real losses ``sum |f|^2``, ``sum Re f`` and ``sum |f|``,
the second derivative (create_graph) and the JVP against ``torch.func.jvp``; in complex128 also the
VJP and JVP against central finite differences.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import autojac

CDT = ["complex64", "complex128"]
REAL_OF = {"complex64": "float32", "complex128": "float64"}
TOL = {"complex64": (2e-4, 2e-5), "complex128": (1e-9, 1e-11)}


def rng_for(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def draw(rng, shape: tuple, kind: str) -> np.ndarray:
    """``c``: complex normal; ``r``: real normal; ``cu``: complex in the unit disc's middle (asin...);
    ``rp``: positive reals."""
    if kind == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    if kind == "cu":
        return 0.6 * (rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape))
    if kind == "r":
        return rng.standard_normal(shape)
    if kind == "rp":
        return rng.uniform(0.5, 2.0, shape)
    raise ValueError(kind)


def dtype_for(kind: str, cdt: str) -> str:
    return cdt if kind.startswith("c") else REAL_OF[cdt]


def tensors(T, arrays, dtypes, requires_grad=True) -> list:
    return [T.tensor(a, dtype=getattr(T, d), requires_grad=requires_grad) for a, d in zip(arrays, dtypes)]


def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
        return np.asarray(t.detach().resolve_conj().resolve_neg().numpy())
    return np.asarray(t.detach().numpy())


def close(a, e, what: str, cdt: str, scale: float = 1.0) -> None:
    rtol, atol = TOL[cdt]
    a, e = np.asarray(a), np.asarray(e)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert (a.dtype.kind == "c") == (e.dtype.kind == "c"), f"{what}: dtype {a.dtype} vs {e.dtype}"
    np.testing.assert_allclose(a, e, rtol=rtol * scale, atol=atol * scale, err_msg=what)


def as_complex_cot(T, y, arr):
    """A cotangent for ``y``: complex if ``y`` is, else its real part."""
    if y.dtype.is_complex:
        return T.tensor(arr, dtype=y.dtype)
    return T.tensor(arr.real, dtype=y.dtype)


LOSSES = {
    "abs2": lambda T, y: (y.abs() ** 2).sum(),
    "real": lambda T, y: y.real.sum(),
    "abs": lambda T, y: y.abs().sum(),
}


class Case:
    def __init__(self, name, fn, shapes, kinds, *, losses=("abs2", "real", "abs"), second=True, scale=1.0,
                 torch_jvp=True):
        self.name, self.fn, self.shapes, self.kinds = name, fn, shapes, kinds
        self.losses, self.second, self.scale = losses, second, scale
        self.torch_jvp = torch_jvp  # False where torch's forward mode is wrong: finite differences judge

    def __repr__(self) -> str:
        return self.name

    def arrays(self, salt: str = ""):
        rng = rng_for(self.name + salt)
        return [draw(rng, s, k) for s, k in zip(self.shapes, self.kinds)]


C, R = "c", "r"
CASES = [
    # holomorphic elementwise
    *(Case(n, f, [(2, 3)], [C]) for n, f in [
        ("exp", lambda T, x: T.exp(x)), ("log", lambda T, x: T.log(x)), ("sin", lambda T, x: T.sin(x)),
        ("cos", lambda T, x: T.cos(x)), ("tan", lambda T, x: T.tan(x)), ("tanh", lambda T, x: T.tanh(x)),
        ("sigmoid", lambda T, x: T.sigmoid(x)), ("sqrt", lambda T, x: T.sqrt(x)), ("rsqrt", lambda T, x: T.rsqrt(x)),
        ("reciprocal", lambda T, x: T.reciprocal(x)), ("square", lambda T, x: T.square(x)),
        ("log2", lambda T, x: T.log2(x)), ("log10", lambda T, x: T.log10(x)), ("log1p", lambda T, x: T.log1p(x)),
        ("expm1", lambda T, x: T.expm1(x)), ("exp2", lambda T, x: T.exp2(x)), ("sinh", lambda T, x: T.sinh(x)),
        ("cosh", lambda T, x: T.cosh(x)), ("atan", lambda T, x: T.atan(x)), ("asinh", lambda T, x: T.asinh(x)),
        ("neg", lambda T, x: -x), ("pow2", lambda T, x: x ** 2), ("pow2.5", lambda T, x: x ** 2.5),
        ("pow_half", lambda T, x: x ** 0.5), ("pow_cscalar", lambda T, x: x ** (1.5 - 0.5j)),
        ("rpow", lambda T, x: 2 ** x), ("rpow_neg", lambda T, x: (-2) ** x), ("rpow_c", lambda T, x: (1 + 1j) ** x),
        ("mul_cscalar", lambda T, x: x * (2 - 3j)), ("div_cscalar", lambda T, x: (2 - 3j) / x),
        ("add_cscalar", lambda T, x: x + 1j),
    ]),
    *(Case(n, f, [(2, 3)], ["cu"]) for n, f in [
        ("asin", lambda T, x: T.asin(x)), ("acos", lambda T, x: T.acos(x)), ("atanh", lambda T, x: T.atanh(x)),
        ("acosh", lambda T, x: T.acosh(x + 2)),
    ]),
    # non-holomorphic
    *(Case(n, f, [(2, 3)], [C]) for n, f in [
        ("abs", lambda T, x: T.abs(x)), ("angle", lambda T, x: T.angle(x)), ("real", lambda T, x: T.real(x)),
        ("imag", lambda T, x: T.imag(x)), ("real_prop", lambda T, x: x.real * x.imag),
        ("conj", lambda T, x: T.conj(x)), ("conj_method", lambda T, x: x.conj() * x),
        ("conj_physical", lambda T, x: T.conj_physical(x) * x.exp()), ("sgn", lambda T, x: T.sgn(x)),
        ("abs_method", lambda T, x: (x * x).abs().log()), ("angle_mul", lambda T, x: x * x.angle()),
        ("abs_pow", lambda T, x: x.abs() ** 3 * x),
    ]),
    # binary, broadcasting, mixed real and complex operands
    *(Case(n, f, s, k) for n, f, s, k in [
        ("mul", lambda T, a, b: a * b, [(2, 3), (3,)], [C, C]),
        ("div", lambda T, a, b: a / b, [(2, 3), (2, 1)], [C, C]),
        ("add", lambda T, a, b: a + b, [(2, 3), (3,)], [C, C]),
        ("sub", lambda T, a, b: a - b, [(3,), (2, 3)], [C, C]),
        ("mul_real", lambda T, a, b: a * b, [(2, 3), (3,)], [C, R]),
        ("real_mul", lambda T, a, b: a * b, [(2, 3), (2, 3)], [R, C]),
        ("div_real", lambda T, a, b: a / b, [(2, 3), (3,)], [C, "rp"]),
        ("real_div", lambda T, a, b: a / b, [(2, 3), (2, 3)], [R, C]),
        ("real_add", lambda T, a, b: a + b, [(3,), (2, 3)], [R, C]),
        ("real_sub", lambda T, a, b: a - b, [(2, 3), (2, 3)], [R, C]),
        ("pow_cc", lambda T, a, b: a ** b, [(2, 3), (2, 3)], [C, C]),
        ("where", lambda T, a, b: T.where(a.real > 0, a, b), [(2, 3), (3,)], [C, C]),
        ("complex", lambda T, a, b: T.complex(a, b) * T.complex(b, a), [(2, 3), (3,)], [R, R]),
        ("polar", lambda T, a, b: T.polar(a, b), [(2, 3), (2, 3)], ["rp", R]),
        ("real_param_times_constant", lambda T, w, b: (w * (0.5 - 2j)).exp() * b, [(3,), (2, 3)], [R, C]),
        ("real_times_constant_tensor", lambda T, w, b: w * T.tensor([1j, 2, -1 + 1j], dtype=b.dtype) + b,
         [(3,), (2, 3)], [R, C]),
        ("real_to_complex", lambda T, w, b: T.exp(w.to(b.dtype) * b), [(2, 3), (2, 3)], [R, C]),
    ]),
    # matrix products
    *(Case(n, f, s, [C, C]) for n, f, s in [
        ("mm", lambda T, a, b: a @ b, [(2, 3), (3, 4)]),
        ("bmm", lambda T, a, b: a @ b, [(2, 2, 3), (3, 2)]),
        ("dot", lambda T, a, b: a @ b, [(3,), (3,)]),
        ("mv", lambda T, a, b: a @ b, [(2, 3), (3,)]),
        ("vm", lambda T, a, b: a @ b, [(3,), (3, 2)]),
        ("v_batched", lambda T, a, b: a @ b, [(3,), (2, 3, 2)]),
        ("batched_v", lambda T, a, b: a @ b, [(2, 2, 3), (3,)]),
        ("mH", lambda T, a, b: a.mH @ b, [(3, 2), (3, 2)]),
        ("adjoint", lambda T, a, b: T.adjoint(a) @ b.H, [(3, 2), (2, 3)]),
        ("einsum", lambda T, a, b: T.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
        ("einsum_diag", lambda T, a, b: T.einsum("ii,ij->j", a @ b, (a @ b).exp()), [(3, 2), (2, 3)]),
        ("outer_kron", lambda T, a, b: T.kron(T.outer(a[0], b[:, 1]), a), [(2, 3), (3, 2)]),
        ("tensordot", lambda T, a, b: T.tensordot(a, b, 1), [(2, 3), (3, 2)]),
    ]),
    Case("mm_real_cast", lambda T, a, b: a.to(b.dtype) @ b, [(2, 3), (3, 2)], [R, C]),
    # torch 2.13's forward mode keeps only the real part of the tangent a real input contributes here
    # (its JVP formulas reuse the backward's handle_r_to_c): finite differences judge the JVP
    Case("pow_rc", lambda T, a, b: a ** b, [(2, 3), (3,)], ["rp", C], torch_jvp=False),
    Case("pow_cr", lambda T, a, b: a ** b, [(2, 3), (3,)], [C, R], torch_jvp=False),
    # reductions
    *(Case(n, f, [(2, 3)], [C]) for n, f in [
        ("sum", lambda T, x: x.sum()), ("sum_dim", lambda T, x: x.sum(0)), ("mean", lambda T, x: x.mean(1)),
        ("prod", lambda T, x: x.prod()), ("prod_dim", lambda T, x: x.prod(1)), ("var", lambda T, x: x.var(1)),
        ("std", lambda T, x: x.std()), ("norm", lambda T, x: x.norm()), ("norm_dim", lambda T, x: x.norm(dim=1)),
        ("norm_p1", lambda T, x: x.norm(p=1, dim=0)), ("logsumexp", lambda T, x: x.logsumexp(1)),
        ("cumsum", lambda T, x: x.cumsum(1)), ("cumprod", lambda T, x: x.cumprod(1)),
        ("vector_norm", lambda T, x: T.linalg.vector_norm(x, dim=1)),
        ("vector_norm_p3", lambda T, x: T.linalg.vector_norm(x, 3)),
        ("trace_tril", lambda T, x: T.trace(x[:, :2] @ x[:, 1:].mT) * T.tril(x)),
    ]),
    # shape and index ops (linear)
    *(Case(n, f, [(2, 3)], [C]) for n, f in [
        ("cat", lambda T, x: T.cat([x, x * 1j], 0)), ("stack", lambda T, x: T.stack([x, x.exp()], -1)),
        ("reshape", lambda T, x: x.reshape(3, 2).T), ("index", lambda T, x: x[:, [2, 0]] * x[1, 1:]),
        ("view_as_real", lambda T, x: T.view_as_real(x * x)),
        ("view_as_complex", lambda T, x: T.view_as_complex(T.view_as_real(x).flip(-1)) * x),
    ]),
]


def _vjp(T, case, arrays, dtypes, cot_arr, create_graph=False):
    xs = tensors(T, arrays, dtypes)
    y = case.fn(T, *xs)
    cot = as_complex_cot(T, y, cot_arr)
    gs = T.autograd.grad(y, xs, cot, create_graph=create_graph, allow_unused=True)
    return xs, y, gs


def _dtypes(case, cdt):
    return [dtype_for(k, cdt) for k in case.kinds]


@pytest.mark.parametrize("cdt", CDT)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value_and_vjp(case, cdt):
    arrays, dtypes = case.arrays(), _dtypes(case, cdt)
    rng = rng_for(case.name + "cot")
    ty = case.fn(torch, *tensors(torch, arrays, dtypes))
    cot = draw(rng, tuple(ty.shape), "c")
    (txs, ty, tg), (axs, ay, ag) = (_vjp(T, case, arrays, dtypes, cot) for T in (torch, autojac))
    assert str(ay.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    close(to_np(ay), to_np(ty), f"{case} value", cdt, case.scale)
    for i, (a, t) in enumerate(zip(ag, tg)):
        if t is None:
            assert a is None or not np.any(to_np(a))
            continue
        assert a.dtype.name == str(t.dtype).split(".")[-1], f"grad {i} dtype"
        close(to_np(a), to_np(t), f"{case} vjp {i}", cdt, case.scale)


@pytest.mark.parametrize("cdt", CDT)
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_real_losses(case, loss, cdt):
    """``backward()`` of real losses, into ``.grad`` of complex and real leaves."""
    if loss not in case.losses:
        return
    arrays, dtypes = case.arrays(), _dtypes(case, cdt)
    grads = []
    for T in (torch, autojac):
        xs = tensors(T, arrays, dtypes)
        LOSSES[loss](T, case.fn(T, *xs)).backward()
        grads.append([x.grad for x in xs])
    for i, (a, t) in enumerate(zip(*reversed(grads))):
        if t is None:
            assert a is None or not np.any(to_np(a))
            continue
        close(to_np(a), to_np(t), f"{case} {loss} grad {i}", cdt, case.scale)


def _real_loss(case, arrays, dtypes, cot):
    """``Re(sum(conj(cot) * f(x)))`` in complex128 NumPy through autojac (no autograd)."""
    xs = tensors(autojac, arrays, [d.replace("64", "128") if "complex" in d else "float64" for d in dtypes],
                 requires_grad=False)
    y = to_np(case.fn(autojac, *xs))
    return float(np.sum(np.conj(cot) * y).real)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_vjp_finite_differences(case):
    """In complex128 the VJP with cotangent c is d/dx + i d/dy of Re(sum(conj(c) f))."""
    cdt = "complex128"
    arrays, dtypes = case.arrays(), _dtypes(case, cdt)
    rng = rng_for(case.name + "fd")
    y = case.fn(autojac, *tensors(autojac, arrays, dtypes))
    cot = draw(rng, tuple(y.shape), "c" if y.is_complex() else "r")
    _, _, gs = _vjp(autojac, case, arrays, dtypes, cot)
    eps = 1e-6
    for i, a in enumerate(arrays):
        directions = [1.0] + ([1j] if np.iscomplexobj(a) else [])
        fd = np.zeros(a.shape, dtype=complex if np.iscomplexobj(a) else float)
        for d in directions:
            for idx in np.ndindex(a.shape):
                hi = [x.copy() for x in arrays]
                lo = [x.copy() for x in arrays]
                hi[i][idx] += eps * d
                lo[i][idx] -= eps * d
                fd[idx] += (d if d == 1j else 1.0) * (_real_loss(case, hi, dtypes, cot)
                                                       - _real_loss(case, lo, dtypes, cot)) / (2 * eps)
        g = np.zeros(a.shape) if gs[i] is None else to_np(gs[i])
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7, err_msg=f"{case} input {i}")


@pytest.mark.parametrize("cdt", CDT)
@pytest.mark.parametrize("case", [c for c in CASES if c.second], ids=repr)
def test_second_derivative(case, cdt):
    """grad of Re(sum(conj(c2) * vjp(c))) again, with create_graph, against torch."""
    arrays, dtypes = case.arrays(), _dtypes(case, cdt)
    rng = rng_for(case.name + "second")
    ty = case.fn(torch, *tensors(torch, arrays, dtypes))
    cot = draw(rng, tuple(ty.shape), "c")
    c2 = [draw(rng, a.shape, "c") for a in arrays]
    results = []
    for T in (torch, autojac):
        xs, y, gs = _vjp(T, case, arrays, dtypes, cot, create_graph=True)
        total = 0
        for g, c in zip(gs, c2):
            if g is not None and g.requires_grad:
                total = total + (g * as_complex_cot(T, g, c).conj()).real.sum()
        if not isinstance(total, int):
            results.append([to_np(g) if g is not None else None
                            for g in T.autograd.grad(total, xs, allow_unused=True)])
        else:
            results.append(None)
    t, a = results
    assert (t is None) == (a is None), f"{case}: second derivative exists in one library only"
    for i, (ga, gt) in enumerate(zip(a or [], t or [])):
        if gt is None:
            assert ga is None or not np.any(ga)
            continue
        close(ga, gt, f"{case} second derivative {i}", cdt, 10 * case.scale)


@pytest.mark.parametrize("cdt", CDT)
@pytest.mark.parametrize("case", CASES, ids=repr)
def test_jvp(case, cdt):
    """Forward mode against torch.func.jvp, and (complex128) central differences."""
    arrays, dtypes = case.arrays(), _dtypes(case, cdt)
    rng = rng_for(case.name + "jvp")
    tangents = [draw(rng, a.shape, "c" if np.iscomplexobj(a) else "r") for a in arrays]
    out = {}
    for T in (torch, autojac):
        ps = tensors(T, arrays, dtypes, requires_grad=False)
        ts = tensors(T, tangents, dtypes, requires_grad=False)
        _, jv = T.func.jvp(lambda *xs, T=T: case.fn(T, *xs), tuple(ps), tuple(ts))
        out[T] = to_np(jv)
    eps = 1e-6
    dtypes128 = _dtypes(case, "complex128")

    def at(s):
        xs = tensors(autojac, [a + s * t for a, t in zip(arrays, tangents)], dtypes128, requires_grad=False)
        return to_np(case.fn(autojac, *xs))
    fd = (at(eps) - at(-eps)) / (2 * eps)
    if case.torch_jvp:
        close(out[autojac], out[torch], f"{case} jvp", cdt, case.scale)
    else:
        assert not np.allclose(out[torch], fd, rtol=1e-3), "torch's forward mode is right here now: compare with it"
        close(out[autojac], fd.astype(out[autojac].dtype), f"{case} jvp vs finite differences", "complex64")
    if cdt == "complex128":
        np.testing.assert_allclose(out[autojac], fd, rtol=1e-6, atol=1e-7)


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
    a, b = draw(rng, (2, 3), "c"), draw(rng, (3, 2), "c")
    cots = draw(rng, (4, 2, 2), "c")
    A, B = tensors(autojac, [a, b], ["complex128"] * 2)
    y = (A @ B).tanh() * A.abs().sum()
    ga, gb = autojac.autograd.grad(y, (A, B), autojac.tensor(cots), is_grads_batched=True, retain_graph=True)
    for k in range(4):
        la, lb = autojac.autograd.grad(y, (A, B), autojac.tensor(cots[k]), retain_graph=True)
        np.testing.assert_allclose(ga.numpy()[k], la.numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb.numpy()[k], lb.numpy(), rtol=1e-12)
