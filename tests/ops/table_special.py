"""The special-function op table (``ops/special.py``) and the piecewise-constant ops: erf family, gamma
family, hyperbolic and inverse trigonometric, binary (atan2, hypot, logaddexp, xlogy, remainder, fmod),
frac/logit/floor/round/sign.

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them.
"""

from __future__ import annotations

import math

from ._case import Rows

ROWS = Rows("special")
op, at = ROWS.op, ROWS.at

U = [((),), ((5,),), ((2, 3),)]
BIN = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3))]

# --------------------------------------------------------------------------- erf family
op("erf", lambda T, x: T.erf(x), *U)
op("erf_method", lambda T, x: (x * 2.0).erf(), ((2, 3),))
op("erfc", lambda T, x: T.erfc(x), *U)
op("erfc_tail", lambda T, x: T.erfc(x + 3.0), ((5,),), domain="pos")
op("erfinv", lambda T, x: T.erfinv(x), *U, domain="unit")
op("erfinv_method", lambda T, x: x.erfinv() * x, ((2, 3),), domain="unit")
# --------------------------------------------------------------------------- gamma family
# torch's trigamma (polygamma(1), the derivative of digamma) is accurate to ~5e-10 relative only (ours to ~1e-15,
# see test_polygamma_accuracy): lines that reach it compare with torch at 1e-8
TRI = dict(rtol=1e-8, vtol=1e-8)
op("lgamma", lambda T, x: T.lgamma(x), *U, domain="pos", **TRI)
op("lgamma_neg", lambda T, x: T.lgamma(x), ((2, 3),), domain="negfrac", **TRI)
op("lgamma_big", lambda T, x: T.lgamma(x * 20.0), ((5,),), domain="pos", **TRI)
op("digamma", lambda T, x: T.digamma(x), *U, domain="pos", **TRI)
op("digamma_neg", lambda T, x: x.digamma(), ((2, 3),), domain="negfrac", **TRI)
op("polygamma1", lambda T, x: T.polygamma(1, x), ((2, 3),), domain="pos", **TRI)
op("polygamma1_neg", lambda T, x: T.polygamma(1, x), ((5,),), domain="negfrac", **TRI)
op("polygamma2", lambda T, x: x.polygamma(2), ((2, 3),), domain="pos")
op("polygamma3", lambda T, x: T.polygamma(3, x + 0.5), ((5,),), domain="pos")
op("polygamma0", lambda T, x: T.polygamma(0, x), ((5,),), domain="pos", **TRI)
op("lgamma_chain", lambda T, x: T.lgamma(x).sum() + T.digamma(x * 2.0).sum(), ((2, 3),), domain="pos", **TRI)
# --------------------------------------------------------------------------- hyperbolic and inverse trigonometric
op("sinh", lambda T, x: T.sinh(x), *U)
op("cosh", lambda T, x: x.cosh(), *U)
op("asin", lambda T, x: T.asin(x), *U, domain="unit")
op("acos", lambda T, x: x.acos(), *U, domain="unit")
op("atan", lambda T, x: T.atan(x), *U)
op("asinh", lambda T, x: T.asinh(x), *U)
op("acosh", lambda T, x: x.acosh(), *U, domain="gt1")
op("atanh", lambda T, x: T.atanh(x), *U, domain="unit")
op("arcsin", lambda T, x: T.arcsin(x) + T.arccos(x) * T.arctan(x), ((5,),), domain="unit")
op("arcsinh", lambda T, x: T.arcsinh(x) * T.arctanh(x * 0.5), ((5,),), domain="unit")
op("arccosh", lambda T, x: T.arccosh(x), ((5,),), domain="gt1")
# --------------------------------------------------------------------------- binary
op("atan2", lambda T, a, b: T.atan2(a, b), *BIN, domain=("nz", "nz"))
op("atan2_method", lambda T, a, b: a.atan2(b) + T.arctan2(b, a), ((2, 3), (2, 3)), domain=("nz", "nz"))
op("hypot", lambda T, a, b: T.hypot(a, b), *BIN, domain=("nz", "nz"))
op("hypot_method", lambda T, a, b: a.hypot(b), ((3,), (3,)), domain=("nz", "nz"))
op("logaddexp", lambda T, a, b: T.logaddexp(a, b), *BIN)
op("logaddexp_big", lambda T, a, b: T.logaddexp(a * 50.0, b * 50.0), ((2, 3), (2, 3)))
op("logaddexp2", lambda T, a, b: a.logaddexp2(b), *BIN)
op("xlogy", lambda T, a, b: T.xlogy(a, b), *BIN, domain=("real", "pos"))
op("xlogy_scalar_other", lambda T, a: T.xlogy(a, 3.0), ((2, 3),))
op("xlogy_scalar_self", lambda T, b: T.xlogy(2.0, b), ((2, 3),), domain="pos")
op("xlogy_method", lambda T, a, b: a.xlogy(b), ((3,), (3,)), domain=("real", "pos"))
op("xlogy_self", lambda T, a: T.xlogy(a, a), ((2, 3),), domain="pos")
op("remainder", lambda T, a, b: T.remainder(a, b), *BIN, domain=("real", "nz"))
op("mod_operator", lambda T, a, b: a % b + a % 0.75, ((2, 3), (3,)), domain=("real", "nz"))
op("fmod", lambda T, a, b: T.fmod(a, b), *BIN, domain=("real", "nz"))
op("fmod_scalar", lambda T, a: a.fmod(-0.75) + a.remainder(0.5), ((2, 3),))
# --------------------------------------------------------------------------- frac, logit, zero-gradient ops
op("frac", lambda T, x: T.frac(x * 3.0), *U, domain="away")
op("frac_method", lambda T, x: x.frac() * x, ((2, 3),), domain="away")
op("sinc", lambda T, x: T.sinc(x * 2.0) + x.sinc(), *U)
op("logit", lambda T, x: T.logit(x), *U, domain="prob")
op("logit_eps", lambda T, x: T.logit(x, eps=0.2), ((2, 3),), domain="prob", fd=False)
op("logit_method", lambda T, x: x.logit() * x, ((5,),), domain="prob")
op("floor", lambda T, x: T.floor(x * 3.0) * x, ((2, 3),), domain="away")
op("ceil", lambda T, x: x.ceil() + x, ((2, 3),), domain="away")
op("trunc", lambda T, x: T.trunc(x * 3.0), *U, domain="away")
op("round", lambda T, x: T.round(x) * x, ((2, 3),), domain="away")
op("round_decimals", lambda T, x: T.round(x * 3.0, decimals=1), ((2, 3),), domain="away", fd=False)
op("sign", lambda T, x: T.sign(x), ((2, 3),), domain="nz")
op("sgn", lambda T, x: x.sgn() * x, ((2, 3),), domain="nz")
op("floor_only", lambda T, x: x.floor(), ((5,),), domain="away")
# compositions
op("gaussian_cdf", lambda T, x: 0.5 * (1 + T.erf(x / math.sqrt(2.0))), ((2, 3),))
op("beta_logpdf", lambda T, x, a, b: (T.xlogy(a - 1, x) + T.xlogy(b - 1, 1 - x) + T.lgamma(a + b) - T.lgamma(a)
                                      - T.lgamma(b)).sum(), ((4,), (4,), ()), domain=("prob", "gt1", "gt1"))

# --------------------------------------------------------------------------- special points, against torch only
at("sinc:zero", lambda T, x: T.sinc(x), [0.0, 1.0, -2.0, 0.5], d2=False)  # torch's 2nd derivative at 0 is nan
at("xlogy:zeros", lambda T, a, b: T.xlogy(a, b), [0.0, 0.0, 1.0, 0.0, 2.0], [0.0, 2.0, 0.0, -1.0, 3.0], d2=False)
at("xlogy:zero_x", lambda T, a, b: T.xlogy(a, b), [0.0, 0.0, 0.5], [0.5, 2.0, 1.5])
at("clamp_ties:both", lambda T, x, lo, hi: T.clamp(x, lo, hi), [-0.5, 0.5, 0.0, 1.0, -1.0, 0.3],
   [-0.5, -0.5, -0.5, -0.5, -0.5, 0.6], [0.5, 0.5, 0.5, 0.5, 0.5, 0.2])
# at x == bound torch's forward mode takes the bound's tangent while its backward gives the gradient to x (ours:
# x both ways, so the JVP rules pass the adjoint check): no forward-mode oracle at these ties
at("clamp_ties:min", lambda T, x, lo: T.clamp(x, min=lo), [-0.5, 0.5, 1.0], [-0.5, 0.6, 0.0], torch_fwd=False)
at("clamp_ties:max", lambda T, x, hi: x.clamp(max=hi), [-0.5, 0.5, 1.0], [-0.5, 0.5, 0.0], torch_fwd=False)
at("clamp_ties:clamp_min", lambda T, x, lo: T.clamp_min(x, lo), [-0.5, 0.5, 1.0], [-0.5, 0.6, 0.0])
at("clamp_ties:clamp_max", lambda T, x, hi: T.clamp_max(x, hi), [-0.5, 0.5, 1.0], [-0.5, 0.5, 0.0])
at("clamp_ties:bcast", lambda T, x, lo, hi: T.clamp(x, lo, hi), [[0.0, 1.0], [2.0, 0.5]], [0.0], [[1.0], [1.0]])
at("clamp:scalar_min", lambda T, x: T.clamp_min(x, 0.5), [0.5, 1.0, 0.0])
at("clamp:scalar_max", lambda T, x: T.clamp_max(x, 0.5), [0.5, 1.0, 0.0])
at("floor:integers", lambda T, x: T.floor(x) + T.ceil(x) + T.round(x) + T.trunc(x) + T.sign(x), [0.0, 1.0, -2.0, 2.5])
at("frac:integers", lambda T, x: T.frac(x), [0.0, 1.0, -2.0, 2.5])
at("lgamma:near_poles", lambda T, x: T.lgamma(x), [-0.999, -1.001, -2.5, 0.001], **TRI)
at("digamma:near_poles", lambda T, x: T.digamma(x), [-0.999, -1.001, -2.5, 1e-3], **TRI)
at("erfinv:near_one", lambda T, x: T.erfinv(x), [0.999, -0.999999, 0.99999999], rtol=1e-8)
at("remainder:signs", lambda T, a, b: T.remainder(a, b) + T.fmod(a, b), [5.0, -5.0, 3.0, -3.0, 0.5],
   [-2.5, 2.5, 2.0, -2.0, 3.0])
at("atan2:axes", lambda T, a, b: T.atan2(a, b), [0.0, 1.0, -1.0, 0.0], [1.0, 0.0, 0.0, -1.0])
