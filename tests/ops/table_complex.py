"""The complex op table: holomorphic and non-holomorphic elementwise ops, binary ops mixing real and
complex operands, matrix products, reductions, shape and index ops, in complex128 and complex64.

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them. Domain ``c`` draws
complex normals, ``cu`` complex numbers in the unit disc's middle (asin, atanh...): a row with a complex
input runs in complex128/complex64, its real inputs in float64/float32. PyTorch's convention: the VJP
with cotangent ``c`` is the gradient of ``Re(sum(conj(c) * f(z)))`` (twice the conjugate Wirtinger
derivative); JVPs are ``f'(z) t`` (plus ``df/dz* conj(t)`` where ``f`` is not holomorphic).
"""

from __future__ import annotations

from ._case import Rows

# torch never compared grad_fn names here (its complex views and conj bits name nodes its own way)
ROWS = Rows("complex", names=False, vtol=1e-9, rtol=1e-8, f32=(2e-4, 2e-5), g32=(2e-4, 2e-5), fdtol=1e-6)
op = ROWS.op
C, R = "c", "real"
X = ((2, 3),)

# holomorphic elementwise
for n, f in [
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
]:
    op(n, f, X, domain=C)
for n, f in [
    ("asin", lambda T, x: T.asin(x)), ("acos", lambda T, x: T.acos(x)), ("atanh", lambda T, x: T.atanh(x)),
    ("acosh", lambda T, x: T.acosh(x + 2)),
]:
    op(n, f, X, domain="cu")
# non-holomorphic
for n, f in [
    ("abs", lambda T, x: T.abs(x)), ("angle", lambda T, x: T.angle(x)), ("real", lambda T, x: T.real(x)),
    ("imag", lambda T, x: T.imag(x)), ("real_prop", lambda T, x: x.real * x.imag),
    ("conj", lambda T, x: T.conj(x)), ("conj_method", lambda T, x: x.conj() * x),
    ("conj_physical", lambda T, x: T.conj_physical(x) * x.exp()), ("sgn", lambda T, x: T.sgn(x)),
    ("abs_method", lambda T, x: (x * x).abs().log()), ("angle_mul", lambda T, x: x * x.angle()),
    ("abs_pow", lambda T, x: x.abs() ** 3 * x),
]:
    op(n, f, X, domain=C)
# binary, broadcasting, mixed real and complex operands
op("mul", lambda T, a, b: a * b, ((2, 3), (3,)), domain=(C, C))
op("div", lambda T, a, b: a / b, ((2, 3), (2, 1)), domain=(C, C))
op("add", lambda T, a, b: a + b, ((2, 3), (3,)), domain=(C, C))
op("sub", lambda T, a, b: a - b, ((3,), (2, 3)), domain=(C, C))
op("mul_real", lambda T, a, b: a * b, ((2, 3), (3,)), domain=(C, R))
op("real_mul", lambda T, a, b: a * b, ((2, 3), (2, 3)), domain=(R, C))
op("div_real", lambda T, a, b: a / b, ((2, 3), (3,)), domain=(C, "pos"))
op("real_div", lambda T, a, b: a / b, ((2, 3), (2, 3)), domain=(R, C))
op("real_add", lambda T, a, b: a + b, ((3,), (2, 3)), domain=(R, C))
op("real_sub", lambda T, a, b: a - b, ((2, 3), (2, 3)), domain=(R, C))
op("pow_cc", lambda T, a, b: a ** b, ((2, 3), (2, 3)), domain=(C, C))
op("where", lambda T, a, b: T.where(a.real > 0, a, b), ((2, 3), (3,)), domain=(C, C))
op("complex", lambda T, a, b: T.complex(a, b) * T.complex(b, a), ((2, 3), (3,)), domain=(R, R), complex_out=True)
op("polar", lambda T, a, b: T.polar(a, b), ((2, 3), (2, 3)), domain=("pos", R), complex_out=True)
op("real_param_times_constant", lambda T, w, b: (w * (0.5 - 2j)).exp() * b, ((3,), (2, 3)), domain=(R, C))
op("real_times_constant_tensor", lambda T, w, b: w * T.tensor([1j, 2, -1 + 1j], dtype=b.dtype) + b,
   ((3,), (2, 3)), domain=(R, C))
op("real_to_complex", lambda T, w, b: T.exp(w.to(b.dtype) * b), ((2, 3), (2, 3)), domain=(R, C))
# matrix products
for n, f, s in [
    ("mm", lambda T, a, b: a @ b, ((2, 3), (3, 4))),
    ("bmm", lambda T, a, b: a @ b, ((2, 2, 3), (3, 2))),
    ("dot", lambda T, a, b: a @ b, ((3,), (3,))),
    ("mv", lambda T, a, b: a @ b, ((2, 3), (3,))),
    ("vm", lambda T, a, b: a @ b, ((3,), (3, 2))),
    ("v_batched", lambda T, a, b: a @ b, ((3,), (2, 3, 2))),
    ("batched_v", lambda T, a, b: a @ b, ((2, 2, 3), (3,))),
    ("mH", lambda T, a, b: a.mH @ b, ((3, 2), (3, 2))),
    ("adjoint", lambda T, a, b: T.adjoint(a) @ b.H, ((3, 2), (2, 3))),
    ("einsum", lambda T, a, b: T.einsum("ij,jk->ik", a, b), ((2, 3), (3, 2))),
    ("einsum_diag", lambda T, a, b: T.einsum("ii,ij->j", a @ b, (a @ b).exp()), ((3, 2), (2, 3))),
    ("outer_kron", lambda T, a, b: T.kron(T.outer(a[0], b[:, 1]), a), ((2, 3), (3, 2))),
    ("tensordot", lambda T, a, b: T.tensordot(a, b, 1), ((2, 3), (3, 2))),
]:
    op(n, f, s, domain=(C, C))
op("mm_real_cast", lambda T, a, b: a.to(b.dtype) @ b, ((2, 3), (3, 2)), domain=(R, C))
# torch 2.13's forward mode keeps only the real part of the tangent a real input contributes here
# (its JVP formulas reuse the backward's handle_r_to_c): finite differences judge the JVP
op("pow_rc", lambda T, a, b: a ** b, ((2, 3), (3,)), domain=("pos", C), torch_fwd=False)
op("pow_cr", lambda T, a, b: a ** b, ((2, 3), (3,)), domain=(C, R), torch_fwd=False)
# reductions
for n, f in [
    ("sum", lambda T, x: x.sum()), ("sum_dim", lambda T, x: x.sum(0)), ("mean", lambda T, x: x.mean(1)),
    ("prod", lambda T, x: x.prod()), ("prod_dim", lambda T, x: x.prod(1)), ("var", lambda T, x: x.var(1)),
    ("std", lambda T, x: x.std()), ("norm", lambda T, x: x.norm()), ("norm_dim", lambda T, x: x.norm(dim=1)),
    ("norm_p1", lambda T, x: x.norm(p=1, dim=0)), ("logsumexp", lambda T, x: x.logsumexp(1)),
    ("cumsum", lambda T, x: x.cumsum(1)), ("cumprod", lambda T, x: x.cumprod(1)),
    ("vector_norm", lambda T, x: T.linalg.vector_norm(x, dim=1)),
    ("vector_norm_p3", lambda T, x: T.linalg.vector_norm(x, 3)),
    ("trace_tril", lambda T, x: T.trace(x[:, :2] @ x[:, 1:].mT) * T.tril(x)),
]:
    op(n, f, X, domain=C)
# shape and index ops (linear)
for n, f in [
    ("cat", lambda T, x: T.cat([x, x * 1j], 0)), ("stack", lambda T, x: T.stack([x, x.exp()], -1)),
    ("reshape", lambda T, x: x.reshape(3, 2).T), ("index", lambda T, x: x[:, [2, 0]] * x[1, 1:]),
    ("view_as_real", lambda T, x: T.view_as_real(x * x)),
    ("view_as_complex", lambda T, x: T.view_as_complex(T.view_as_real(x).flip(-1)) * x),
]:
    op(n, f, X, domain=C)
