"""``gradcheck`` and ``gradgradcheck``: derivatives checked against finite differences.

Same arguments, checks and messages as ``torch.autograd.gradcheck``; underneath:

- the numerical Jacobian is a central difference, accumulated in float64, perturbing one
  input element at a time (``fast_mode``: the whole input along a random direction ``u``);
- the analytical Jacobian is one backward pass per output with the identity as a batch of
  cotangents (``is_grads_batched``), and with ``check_forward_ad`` one forward pass per input
  with the identity as a batch of tangents, instead of a Python loop over rows. Should the
  batched pass disagree with the numerical Jacobian, the rows are recomputed one by one
  (PyTorch's method): a rule that is right row by row but wrong under batching passes, as in
  PyTorch without ``check_batched_grad``, with a warning (``autograd.functional.jacobian``
  relies on batching);
- ``fast_mode`` compares the scalars ``v^T J u`` for random unit vectors ``u``, ``v`` drawn
  exactly as PyTorch draws them (its default-seeded generator), so verdicts agree.

Complex inputs and outputs are not supported.

>>> import autojac
>>> from autojac.autograd import gradcheck
>>> x = autojac.tensor([0.5, -1.0, 2.0], dtype=autojac.float64, requires_grad=True)
>>> gradcheck(lambda t: (t.sin() * t).sum(), (x,))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._core import forward
from .._random import Generator
from .._tensor import Tensor, _wrap
from .api import grad as _grad
from .forward_ad import make_dual_batched

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when a check fails."""


@dataclass
class _Opts:
    eps: float
    atol: float
    rtol: float
    nondet_tol: float
    check_undefined_grad: bool
    check_grad_dtypes: bool
    check_batched_grad: bool
    check_batched_forward_grad: bool
    check_forward_ad: bool
    check_backward_ad: bool
    fast_mode: bool
    masked: bool


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
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
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
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
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


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _requires_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _differentiable_outputs(x) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _check_inputs(tupled: tuple) -> None:
    found = False
    for idx, x in enumerate(tupled):
        if not _requires_grad(x):
            continue
        if x._data.dtype != np.float64 and x._data.dtype != np.complex128:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", stacklevel=4)
        d = x._data
        if d.size and not all(st > 0 or sz <= 1 for st, sz in zip(d.strides, d.shape)):
            raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs that "
                               "are non-overlapping to be able to compute the numerical gradients correctly. You "
                               "should call .contiguous on the input before passing it to gradcheck.")
        found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _check_not_complex(tupled: tuple, outs: tuple) -> None:
    for t in tupled + outs:
        if isinstance(t, Tensor) and t._data.dtype.kind == "c":
            raise NotImplementedError("autojac's gradcheck does not support complex inputs or outputs yet")


def _is_float(t) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind == "f"


def _zeros_like(t: Tensor) -> Tensor:
    return _wrap(np.zeros(t._data.shape, t._data.dtype))


def _t(a: np.ndarray) -> Tensor:
    return _wrap(np.array(a, copy=True, order="C"))


def _allclose(a: np.ndarray, n: np.ndarray, rtol: float, atol: float) -> bool:
    """``torch.allclose(a, n)`` after type promotion: NaN never matches, equal infinities do."""
    dt = np.promote_types(a.dtype, n.dtype)
    return a.shape == n.shape and bool(np.allclose(a.astype(dt), n.astype(dt), rtol=rtol, atol=atol))


def _mismatch_msg(a, n, out_idx: int, in_idx: int, forward_ad: bool = False) -> str:
    mode = "computed with forward mode " if forward_ad else ""
    return (f"Jacobian {mode}mismatch for output {out_idx:d} with respect to input {in_idx:d},\n"
            f"numerical:{n}\nanalytical:{a}\n")


# ----------------------------------------------------------------------------- finite differences


def _evaluate(func: Callable, tupled: tuple) -> list:
    """The float outputs of ``func`` as float64 copies (None for other outputs)."""
    return [o._data.astype(np.float64, copy=True) if _is_float(o) else None for o in _as_tuple(func(*tupled))]


def _check_same(a: list, b: list, eps: float, idx=None) -> None:
    on = f"on index {idx} " if idx is not None else ""
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        if x.shape != y.shape:
            raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are perturbed "
                                 f"{on}by {eps}, but got: shapes {x.shape} and {y.shape}.")


def _central(func: Callable, tupled: tuple, x: Tensor, perturb, eps: float, idx=None) -> list:
    """``(f(x + d) - f(x - d)) / (2 eps)`` per float output, flattened; ``perturb(arr, sign)``
    writes ``x``'s value moved by ``sign * d`` into the array ``arr`` and returns a function
    that restores it."""
    lo_out = _with_value(func, tupled, x, perturb, -1)
    hi_out = _with_value(func, tupled, x, perturb, 1)
    _check_same(lo_out, hi_out, eps, idx)
    return [None if lo is None else ((hi - lo) / (2.0 * eps)).reshape(-1) for lo, hi in zip(lo_out, hi_out)]


def _with_value(func: Callable, tupled: tuple, x: Tensor, perturb, sign: int) -> list:
    """Evaluate ``func`` with ``x``'s data perturbed in place (as PyTorch perturbs ``x.data``),
    or on a perturbed copy when the data is read-only; restored afterwards, bit for bit."""
    arr = x._data
    own = arr if arr.flags.writeable else arr.copy()
    restore = perturb(own, sign)
    try:
        x._data = own
        return _evaluate(func, tupled)
    finally:
        restore()
        x._data = arr


def _numerical_jacobians(func: Callable, tupled: tuple, diff: list, eps: float) -> list:
    """``J[k][pos]``: (numel of input ``diff[k]``, numel of output ``pos``) in float64, for float outputs."""
    res = []
    for k in diff:
        x = tupled[k]
        cols = []
        for flat in range(x._data.size):
            idx = tuple(int(i) for i in np.unravel_index(flat, x._data.shape))

            def perturb(arr, sign, idx=idx):
                old = arr[idx]
                arr[idx] = old + sign * eps
                return lambda: arr.__setitem__(idx, old)

            cols.append(_central(func, tupled, x, perturb, eps, idx=idx))
        res.append(_stack_cols(cols, func, tupled))
    return res


def _stack_cols(cols: list, func: Callable, tupled: tuple) -> list:
    if cols:
        return [None if c0 is None else np.stack([c[p] for c in cols]) for p, c0 in enumerate(cols[0])]
    outs = _evaluate(func, tupled)  # an empty input: a Jacobian with no rows per output
    return [None if o is None else np.zeros((0, o.size)) for o in outs]


def _numerical_ju(func: Callable, tupled: tuple, k: int, u: np.ndarray, eps: float) -> list:
    """The directional derivative along ``u`` (a flat unit vector) of input ``k``, per float output."""
    x = tupled[k]
    step = (u * eps).reshape(x._data.shape)

    def perturb(arr, sign):
        saved = arr.copy()
        np.copyto(arr, saved + sign * step, casting="unsafe")
        return lambda: np.copyto(arr, saved)

    return _central(func, tupled, x, perturb, eps)


# ----------------------------------------------------------------------------- reverse mode


def _batched_vjp_jacobian(output: Tensor, xs: list) -> list:
    """Rows of ``J`` for every input in one backward pass: the identity as a batch of cotangents.
    Entries are ``None`` for inputs the output does not reach, else arrays (m, *x.shape)."""
    od = output._data
    m = od.size
    if m == 0:
        return [np.zeros((0,) + x._data.shape, x._data.dtype) for x in xs]
    basis = _wrap(np.eye(m, dtype=od.dtype).reshape((m,) + od.shape))
    gs = _grad(output, xs, basis, retain_graph=True, allow_unused=True, is_grads_batched=True)
    return [None if g is None else g._data for g in gs]


def _looped_vjp_jacobian(output: Tensor, xs: list) -> list:
    """The same rows, one backward pass each (PyTorch's way; for rules that mishandle batches)."""
    od = output._data
    m = od.size
    rows: list = [[] for _ in xs]
    for j in range(m):
        e = np.zeros(m, od.dtype)
        e[j] = 1
        gs = _grad(output, xs, _wrap(e.reshape(od.shape)), retain_graph=True, allow_unused=True)
        for r, g, x in zip(rows, gs, xs):
            r.append(np.zeros(x._data.shape, x._data.dtype) if g is None else g._data)
    return [np.stack(r) if r else np.zeros((0,) + x._data.shape, x._data.dtype) for r, x in zip(rows, xs)]


def _to_jacobians(rows: list, xs: list, m: int, check_grad_dtypes: bool, batched: bool = False) -> list:
    """(numel in, numel out) matrices from VJP rows, with PyTorch's size and dtype checks."""
    jacs = []
    for r, x in zip(rows, xs):
        n = x._data.size
        if r is None:
            jacs.append(np.zeros((n, m), x._data.dtype))
            continue
        if r.shape != (m,) + x._data.shape:
            if batched:  # a batching problem: the caller retries row by row
                raise ValueError("batched gradient of the wrong shape")
            raise GradcheckError("Analytical gradient has incorrect size")
        if check_grad_dtypes and r.dtype != x._data.dtype:
            raise GradcheckError("Gradient has dtype mismatch")
        jacs.append(r.reshape(m, n).T.astype(x._data.dtype))
    return jacs


def _analytical_jacobians(output: Tensor, xs: list, opts: _Opts, batched: bool = True) -> list:
    """``J[i]``: (numel of ``xs[i]``, numel of output), computed twice to check reentrancy."""
    vjp = _batched_vjp_jacobian if batched else _looped_vjp_jacobian
    m = output._data.size
    j1 = _to_jacobians(vjp(output, xs), xs, m, opts.check_grad_dtypes, batched)
    j2 = _to_jacobians(vjp(output, xs), xs, m, False, batched)
    for a, b in zip(j1, j2):
        if a.size and not np.abs(a.astype(np.float64) - b).max() <= opts.nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
                "gives different values, although analytical gradient matches numerical gradient."
                f"The tolerance for nondeterminism was {opts.nondet_tol}.\n\nIf the function is non-deterministic "
                "by design, call gradcheck/gradgradcheck with `nondet_tol=<tol>`.")
    return j1


def _slow_backward(tupled, diff, func_out, out_pos, numerical: list, opts: _Opts) -> None:
    xs = [tupled[k] for k in diff]
    for j, pos in enumerate(out_pos):
        out = func_out[pos]
        try:
            analytical = _analytical_jacobians(out, xs, opts)
        except GradcheckError:
            raise
        except Exception:  # a rule that cannot take batched cotangents: go row by row
            analytical = _analytical_jacobians(out, xs, opts, batched=False)
            _warn_batching("backward", j, None)
        for i, (a, per_out) in enumerate(zip(analytical, numerical)):
            n = per_out[pos]
            if _allclose(a, n, opts.rtol, opts.atol):
                continue
            a = _analytical_jacobians(out, xs, opts, batched=False)[i]
            if not _allclose(a, n, opts.rtol, opts.atol):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i))
            _warn_batching("backward", j, i)


def _warn_batching(mode: str, j: int | None, i: int | None) -> None:
    """The rows were right one at a time only: pass (PyTorch checks batching only on request), but say so."""
    where = " ".join(w for w in (f"for output {j}" if j is not None else "",
                                 f"with respect to input {i}" if i is not None else "") if w)
    warnings.warn(f"gradcheck: the {mode} derivatives {where} are right one row at a time but fail or differ "
                  "with batched cotangents/tangents (extra leading dimensions), which "
                  "autograd.functional.jacobian and func.jacrev/jacfwd rely on. Run gradcheck with "
                  "check_batched_grad=True (check_batched_forward_grad=True) for details.", stacklevel=5)


def _expect_zero(numerical: list) -> None:
    for per_out in numerical:
        for n in per_out:
            if n is not None and np.count_nonzero(n):
                raise GradcheckError("Numerical gradient for function expected to be zero")


# ----------------------------------------------------------------------------- forward mode


def _dual_call(func: Callable, tupled: tuple, diff: list, tangents: dict, level: int) -> tuple:
    """Call ``func`` with the checked inputs detached, those in ``tangents`` (position -> array)
    made dual at ``level``."""
    args = []
    for p, a in enumerate(tupled):
        if p in diff:
            t = tangents.get(p)
            a = a.detach() if t is None else make_dual_batched(a.detach(), _wrap(t), level)
        args.append(a)
    return _as_tuple(func(*args))


def _tangents(outs: tuple, level: int) -> list:
    res = []
    for o in outs:
        t = forward.tangent_of(o, level) if isinstance(o, Tensor) else None
        res.append(None if t is None else t._data)
    return res


def _jvp_jacobians(func, tupled, diff, k: int, batched: bool) -> list:
    """``J[pos]`` for input ``k``: (numel in, numel out) per float output, from forward mode."""
    x = tupled[k]
    shape, dt, n = x._data.shape, x._data.dtype, x._data.size
    level = forward.enter_level()
    try:
        if batched or n == 0:
            outs = _dual_call(func, tupled, diff, {k: np.eye(n, dtype=dt).reshape((n,) + shape)}, level)
            tans = [_batched_tangent(t, o, n) for t, o in zip(_tangents(outs, level), outs)]
        else:
            cols = []
            for flat in range(n):
                e = np.zeros(n, dt)
                e[flat] = 1
                outs = _dual_call(func, tupled, diff, {k: e.reshape(shape)}, level)
                cols.append([_zero_or(t, o).reshape(-1) for t, o in zip(_tangents(outs, level), outs)])
            tans = [np.stack([c[p] for c in cols]) if cols and _is_float(o) else None for p, o in enumerate(outs)]
    finally:
        forward.exit_level(level)
    return [None if not _is_float(o) else (t if t is not None else np.zeros((n, o._data.size), o._data.dtype))
            for t, o in zip(tans, outs)]


def _batched_tangent(t, o, n: int):
    if t is None or not _is_float(o):
        return None
    if t.shape != (n,) + o._data.shape:  # a batching problem: the caller retries column by column
        raise ValueError("batched tangent of the wrong shape")
    return t.reshape(n, o._data.size)


def _zero_or(t, o):
    if not _is_float(o):
        return np.zeros(0)
    if t is None:
        return np.zeros(o._data.shape, o._data.dtype)
    if t.shape != o._data.shape:
        raise GradcheckError("Forward AD gradient has incorrect size")
    return t


def _slow_forward(func, tupled, diff, out_pos, numerical: list, opts: _Opts) -> None:
    analytical = []
    for i, k in enumerate(diff):
        try:
            analytical.append(_jvp_jacobians(func, tupled, diff, k, batched=True))
        except GradcheckError:
            raise
        except Exception:  # a rule that cannot take batched tangents: go column by column
            analytical.append(_jvp_jacobians(func, tupled, diff, k, batched=False))
            _warn_batching("forward-mode", None, i)
    for j, pos in enumerate(out_pos):
        for i, k in enumerate(diff):
            a, n = analytical[i][pos], numerical[i][pos]
            if _allclose(a, n, opts.rtol, opts.atol):
                continue
            a = _jvp_jacobians(func, tupled, diff, k, batched=False)[pos]
            if not _allclose(a, n, opts.rtol, opts.atol):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i, forward_ad=True))
            _warn_batching("forward-mode", j, i)


# ----------------------------------------------------------------------------- fast mode


def _unit_vector(n: int, dt: np.dtype, gen: Generator) -> np.ndarray:
    """PyTorch's ``rand(n, generator=g).to(dt)`` normalized to unit length."""
    v = gen.uniform(n, np.float32).astype(np.float32).astype(dt)
    return v / np.sqrt(np.sum(v * v)) if n else v


def _fast_vectors(tupled: tuple, diff: list, outputs: list, forward_ad: bool) -> tuple:
    gen = Generator()  # PyTorch's default seed: the same u, v as PyTorch's fast mode
    us = [_unit_vector(tupled[k]._data.size, tupled[k]._data.dtype, gen) for k in diff]
    vs = None if forward_ad else [_unit_vector(o._data.size, o._data.dtype, gen) for o in outputs]
    return us, vs


def _fast_backward(func, tupled, diff, func_out, out_pos, opts: _Opts) -> None:
    outputs = [func_out[p] for p in out_pos]
    us, vs = _fast_vectors(tupled, diff, outputs, forward_ad=False)
    jus = [_numerical_ju(func, tupled, k, u, opts.eps) for k, u in zip(diff, us)]
    if not out_pos:
        for ju in jus:
            for d in ju:
                if d is not None and d.size and np.abs(d).max() > opts.nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    xs = [tupled[k] for k in diff]
    vjps = [_fast_vjps(out, xs, v, opts) for out, v in zip(outputs, vs)]
    for i, (u, ju) in enumerate(zip(us, jus)):
        for j, (pos, v) in enumerate(zip(out_pos, vs)):
            a = np.asarray(vjps[j][i] @ u)
            n = np.asarray(v.astype(np.float64) @ ju[pos])
            atol = opts.atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, opts.rtol, atol):
                raise GradcheckError(_mismatch_msg(float(a), float(n), j, i)
                                     + _slow_report(func, tupled, diff, func_out, pos, i, opts, forward_ad=False))


def _fast_vjps(out: Tensor, xs: list, v: np.ndarray, opts: _Opts) -> list:
    """``v^T J`` for each input as flat arrays, computed twice to check reentrancy."""
    go = _wrap(v.reshape(out._data.shape))
    res = []
    for _ in range(2):
        gs = _grad(out, xs, go, retain_graph=True, allow_unused=True)
        row = []
        for g, x in zip(gs, xs):
            if g is None:
                row.append(np.zeros(x._data.size, x._data.dtype))
                continue
            if g._data.shape != x._data.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if opts.check_grad_dtypes and g._data.dtype != x._data.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            row.append(g._data.reshape(-1))
        res.append(row)
    for a, b in zip(*res):
        if a.size and not np.abs(a.astype(np.float64) - b).max() <= opts.nondet_tol:
            raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and grad_output "
                                 "multiple times gives different values, although analytical gradient matches "
                                 f"numerical gradient.The tolerance for nondeterminism was {opts.nondet_tol}.")
    return res[0]


def _fast_forward(func, tupled, diff, func_out, out_pos, opts: _Opts) -> None:
    us, _ = _fast_vectors(tupled, diff, [], forward_ad=True)
    for i, (k, u) in enumerate(zip(diff, us)):
        ju = _numerical_ju(func, tupled, k, u, opts.eps)
        level = forward.enter_level()
        try:
            x = tupled[k]
            outs = _dual_call(func, tupled, diff, {k: u.reshape(x._data.shape).astype(x._data.dtype)}, level)
            tans = _tangents(outs, level)
        finally:
            forward.exit_level(level)
        for j, pos in enumerate(out_pos):
            a = _zero_or(tans[pos], outs[pos]).reshape(-1)
            n = ju[pos]
            if n is None:
                continue
            if not _allclose(a, n, opts.rtol, opts.atol * float(u.sum())):
                raise GradcheckError(_mismatch_msg(_t(a), _t(n), j, i, forward_ad=True)
                                     + _slow_report(func, tupled, diff, func_out, pos, i, opts, forward_ad=True))


def _slow_report(func, tupled, diff, func_out, pos: int, i: int, opts: _Opts, forward_ad: bool) -> str:
    """Fast mode failed: the full Jacobians for the failing pair, for the message."""
    n = _numerical_jacobians(func, tupled, [diff[i]], opts.eps)[0][pos]
    if forward_ad:
        a = _jvp_jacobians(func, tupled, diff, diff[i], batched=False)[pos]
    else:
        a = _to_jacobians(_looped_vjp_jacobian(func_out[pos], [tupled[diff[i]]]), [tupled[diff[i]]],
                          func_out[pos]._data.size, False)[0]
    msg = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
           "in fast mode (v^T J u for random unit vectors u, v). Below, we recompute numerical and analytical "
           "jacobians in slow mode:\n\n"
           f"Numerical:\n {_t(n)}\nAnalytical:\n{_t(a)}\n\n"
           f"The max per-element difference (slow mode) is: {np.abs(n - a).max() if n.size else 0.0}.\n")
    if _allclose(a, n, opts.rtol, opts.atol):
        msg += ("\nFast gradcheck failed but element-wise differences are small. This means that the test might've "
                "passed in slow_mode! Call gradcheck/gradgradcheck with `fast_mode=False`.")
    return msg


# ----------------------------------------------------------------------------- extra checks


_BATCHED_MSG = ("gradcheck or gradgradcheck failed while testing batched gradient computation "
                "(derivative rules called with leading batch dimensions, as autograd.functional.jacobian, "
                "func.jacrev/jacfwd and is_grads_batched call them). Check that the rule handles extra "
                "leading dimensions (negative axes, right-aligned broadcasting), or call "
                "gradcheck/gradgradcheck with check_batched_grad=False (check_batched_forward_grad=False).")


def _batched_fail(out_idx: int, in_idx: int, res, exp) -> str:
    return f"For output {out_idx} and input {in_idx}:\n\n{_BATCHED_MSG}\n\nGot:\n{res}\n\nExpected:\n{exp}"


def _test_batched_grad(output: Tensor, out_idx: int, xs: list) -> None:
    """Two random VJPs as one batched pass (``is_grads_batched``) against a loop."""
    gen = Generator().manual_seed(0)
    od = output._data
    gos = [gen.normal(od.size, od.dtype).astype(od.dtype).reshape(od.shape) for _ in range(2)]

    def vjp(go, batched: bool) -> list:
        gs = _grad(output, xs, _wrap(go), retain_graph=True, allow_unused=True, is_grads_batched=batched)
        b = go.shape[:1] if batched else ()
        return [np.zeros(b + x._data.shape, x._data.dtype) if g is None else g._data for g, x in zip(gs, xs)]

    expected = [np.stack(s) for s in zip(*(vjp(go, False) for go in gos))]
    try:
        result = vjp(np.stack(gos), True)
    except Exception as ex:
        raise GradcheckError(f"While computing batched gradients, got: {ex}\n\n{_BATCHED_MSG}") from ex
    for i, (res, exp) in enumerate(zip(result, expected)):
        if not _allclose(res, exp, 1e-5, 1e-8):
            raise GradcheckError(_batched_fail(out_idx, i, _t(res), _t(exp)))


def _test_batched_forward(func: Callable, tupled: tuple, diff: list) -> None:
    """Two random JVPs as one batched forward pass against a loop."""
    gen = Generator().manual_seed(0)
    for k in diff:
        x = tupled[k]
        tans = [gen.normal(x._data.size, x._data.dtype).astype(x._data.dtype).reshape(x._data.shape)
                for _ in range(2)]

        def jvp(t: np.ndarray, batched: bool, k: int = k) -> list:
            level = forward.enter_level()
            try:
                outs = _dual_call(func, tupled, diff, {k: t}, level)
                res = _tangents(outs, level)
            finally:
                forward.exit_level(level)
            b = t.shape[:1] if batched else ()
            return [np.zeros(b + o._data.shape, o._data.dtype) if r is None else r
                    for r, o in zip(res, outs) if _is_float(o)]

        expected = [np.stack(s) for s in zip(*(jvp(t, False) for t in tans))]
        try:
            result = jvp(np.stack(tans), True)
        except Exception as ex:
            raise GradcheckError(f"While computing batched gradients, got: {ex}\n\n{_BATCHED_MSG}") from ex
        for j, (res, exp) in enumerate(zip(result, expected)):
            if not _allclose(res, exp, 1e-5, 1e-8):
                raise GradcheckError(_batched_fail(j, diff.index(k), _t(res), _t(exp)))


def _test_mul_by_grad_output(outputs: list, xs: list, masked: bool) -> None:
    """Zero cotangents must give zero gradients of the inputs' dtype and shape."""
    if not outputs:
        return
    gs = _grad(outputs, xs, [_zeros_like(o) for o in outputs], allow_unused=True)
    for g, x in zip(gs, xs):
        if g is None:
            continue
        gd = g._data
        zero = np.allclose(gd, 0) if masked else not np.any(gd != 0)
        if not zero:
            raise GradcheckError("backward not multiplied by grad_output")
        if gd.dtype != x._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gd.shape != x._data.shape:
            raise GradcheckError("grad is incorrect size")


def _test_undefined_backward(func: Callable, tupled: tuple, xs: list) -> None:
    """An output left out of a backward pass (PyTorch's undefined gradient) counts as zero: with
    each output dropped in turn and zeros for the rest, every input gradient must be zero."""
    n_out = len(_differentiable_outputs(func(*tupled)))
    for drop in range(n_out if n_out > 1 else 0):
        outs = [o for k, o in enumerate(_differentiable_outputs(func(*tupled))) if k != drop]
        try:
            gs = _grad(outs, xs, [_zeros_like(o) for o in outs], allow_unused=True)
        except RuntimeError as e:
            raise GradcheckError("Expected backward function to handle undefined output grads (an output that "
                                 "takes no part in the backward pass counts as zeros).") from e
        for g in gs:
            if g is not None and np.any(g._data != 0):
                raise GradcheckError("Expected all input grads to be undefined or zero when all output grads are "
                                     "undefined or zero.")


def _test_undefined_forward(func: Callable, tupled: tuple, diff: list) -> None:
    """With the other inputs carrying tangents, a zero tangent on input ``k`` and no tangent at
    all must give the same output tangents."""
    us, _ = _fast_vectors(tupled, diff, [], forward_ad=True)
    tangents = {k: u.reshape(tupled[k]._data.shape).astype(tupled[k]._data.dtype) for k, u in zip(diff, us)}
    for k in diff:
        x = tupled[k]
        level = forward.enter_level()
        try:
            zero = _dual_call(func, tupled, diff, {**tangents, k: np.zeros(x._data.shape, x._data.dtype)}, level)
            with_zero = _tangents(zero, level)
            without = _tangents(_dual_call(func, tupled, diff, {**tangents, k: None}, level), level)
        finally:
            forward.exit_level(level)
        for idx, (t1, t2) in enumerate(zip(with_zero, without)):
            if t1 is not None and t2 is not None and not _allclose(t1, t2, 1e-5, 1e-8):
                raise GradcheckError(f"Mismatch in tangent values for output with index: {idx} when input {k} has "
                                     f"an undefined tangent value. Got: {_t(t1)} but expected: {_t(t2)}")
