"""``gradcheck``, ``gradgradcheck`` and the driver that runs each enabled check."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._random import Generator
from ..._tensor import Tensor, _wrap
from ..api import grad as _grad
from ._common import (
    GradcheckError,
    _as_tuple,
    _check_flags,
    _check_inputs,
    _check_not_complex,
    _differentiable_outputs,
    _Opts,
    _requires_grad,
)
from ._extra import (
    _test_batched_forward,
    _test_batched_grad,
    _test_mul_by_grad_output,
    _test_undefined_backward,
    _test_undefined_forward,
)
from ._fast import _fast_backward, _fast_forward
from ._forward import _slow_forward
from ._numerical import _numerical_jacobians
from ._reverse import _expect_zero, _slow_backward

# ----------------------------------------------------------------------------- public API


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    Every floating tensor of ``inputs`` with ``requires_grad=True`` is checked against
    every output that requires grad; the comparison is ``allclose(analytical, numerical,
    rtol, atol)``. The defaults are meant for float64 inputs. Returns True, or raises
    ``GradcheckError`` (returns False when ``raise_exception=False``).

    >>> import autojac
    >>> a = autojac.tensor([[1., 2.], [3., 4.]], dtype=autojac.float64, requires_grad=True)
    >>> b = autojac.tensor([0.5, -0.5], dtype=autojac.float64, requires_grad=True)
    >>> autojac.autograd.gradcheck(lambda a, b: (a @ b, a.exp()), (a, b), check_forward_ad=True)
    True
    """
    _check_flags({"check_forward_ad": check_forward_ad, "check_backward_ad": check_backward_ad},
                 {"check_batched_grad": (check_batched_grad, "check_backward_ad"),
                  "check_batched_forward_grad": (check_batched_forward_grad, "check_forward_ad")})
    opts = _Opts(eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes, check_batched_grad,
                 check_batched_forward_grad, check_forward_ad, check_backward_ad, fast_mode, bool(masked))
    if not raise_exception:
        try:
            return _gradcheck(func, inputs, opts)
        except GradcheckError:
            return False
    return _gradcheck(func, inputs, opts)


def gradgradcheck(func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
                  nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the map ``(inputs, grad_outputs) -> VJP``.

    ``grad_outputs`` defaults to random values in [-1, 1) (drawn from a private generator,
    so the user's random state is left alone) that require grad.

    >>> import autojac
    >>> x = autojac.tensor([0.3, 1.7], dtype=autojac.float64, requires_grad=True)
    >>> autojac.autograd.gradgradcheck(lambda t: t.tanh() * t, (x,))
    True
    """
    _check_flags({"check_fwd_over_rev": check_fwd_over_rev, "check_rev_over_rev": check_rev_over_rev},
                 {"check_undefined_grad": (check_undefined_grad, "check_rev_over_rev"),
                  "check_batched_grad": (check_batched_grad, "check_rev_over_rev")})
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*tupled_inputs))
        gen = Generator()
        tupled_grad_outputs = tuple(_random_grad_output(o, gen, gen_non_contig_grad_outputs) for o in outs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    n_out = len(tupled_grad_outputs)
    # remembered now: the forward-mode check hands func detached inputs
    diff_in = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_go = {i for i, g in enumerate(tupled_grad_outputs) if g.requires_grad}

    def vjp_of_func(*args):
        ins = tuple(x.requires_grad_() if i in diff_in else x for i, x in enumerate(args[:len(args) - n_out]))
        outs = _differentiable_outputs(func(*ins))
        gos = tuple(g.requires_grad_() if i in diff_go else g for i, g in enumerate(args[len(args) - n_out:]))
        diff_ins = tuple(x for i, x in enumerate(ins) if i in diff_in)
        res = _grad(outs, diff_ins, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in res if g is not None)

    return gradcheck(vjp_of_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)


def _random_grad_output(o: Tensor, gen: Generator, noncontiguous: bool) -> Tensor:
    """Uniform in [-1, 1), like ``torch.testing.make_tensor(low=-1, high=1)``, requiring grad."""
    dt = o._data.dtype if o._data.dtype.kind == "f" else np.dtype(np.float64)
    n = o._data.size
    vals = (gen.uniform(n, dt) * 2.0 - 1.0).astype(dt).reshape(o._data.shape)
    if noncontiguous and vals.ndim:  # every other element of a buffer twice as long in the last dim
        buf = np.empty(vals.shape[:-1] + (2 * vals.shape[-1],), dt)
        buf[..., ::2] = vals
        vals = buf[..., ::2]
    t = _wrap(vals)
    t.requires_grad_(True)
    return t


# ----------------------------------------------------------------------------- driver


def _gradcheck(func: Callable, inputs, opts: _Opts) -> bool:
    tupled = _as_tuple(inputs)
    _check_inputs(tupled)
    func_out = _as_tuple(func(*tupled))
    out_pos = [k for k, o in enumerate(func_out) if isinstance(o, Tensor) and o.requires_grad]
    outputs = [func_out[k] for k in out_pos]
    _check_not_complex(tupled, func_out)
    diff = [k for k, x in enumerate(tupled) if _requires_grad(x)]
    if opts.fast_mode:
        if opts.check_backward_ad:
            _fast_backward(func, tupled, diff, func_out, out_pos, opts)
        if opts.check_forward_ad:
            _fast_forward(func, tupled, diff, func_out, out_pos, opts)
    else:
        numerical = _numerical_jacobians(func, tupled, diff, opts.eps)  # shared by both modes' checks
        if not out_pos:
            _expect_zero(numerical)
        elif opts.check_backward_ad:
            _slow_backward(tupled, diff, func_out, out_pos, numerical, opts)
        if out_pos and opts.check_forward_ad:
            _slow_forward(func, tupled, diff, out_pos, numerical, opts)
    if opts.check_forward_ad and opts.check_undefined_grad:
        _test_undefined_forward(func, tupled, diff)
    if opts.check_batched_forward_grad:
        _test_batched_forward(func, tupled, diff)
    if not opts.check_backward_ad:
        return True
    xs = [tupled[k] for k in diff]
    if opts.check_batched_grad:
        for j, o in enumerate(outputs):
            _test_batched_grad(o, j, xs)
    _test_mul_by_grad_output(outputs, xs, opts.masked)
    if opts.check_undefined_grad:
        _test_undefined_backward(func, tupled, xs)
    return True
