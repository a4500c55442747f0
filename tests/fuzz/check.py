"""The differential check of one program: autojac against PyTorch 2.13.

``check_program`` runs a ``Program`` in both libraries and compares, stage by stage:

1. errors: a step PyTorch rejects must be rejected by autojac at the same step, and the
   other way round;
2. values (native dtypes): dtype, shape, ``requires_grad``, numbers;
3. gradients (native dtypes): ``autograd.grad`` with random cotangents (``None`` for an
   unreachable input in both), then ``autograd.backward`` into ``.grad``; an error (e.g. a
   saved tensor modified in place) must happen in both;
4. in float64: the Jacobian (autojac reverse- and forward-mode against
   ``torch.autograd.functional.jacobian``), the Hessian of a random linear functional of the
   outputs (both outer strategies), and a third derivative (grad of grad of grad along random
   directions, through ``create_graph``).

float32 results are compared with float32 PyTorch, with a tolerance widened by PyTorch's own
float32 error on that program (its distance to the float64 replay), so that cancellations
in a random program are not reported as bugs. A disagreement raises ``Finding``.

Where the libraries legitimately differ, the difference is counted in ``STATS`` (and printed at
the end of the session) instead of reported:

- PyTorch refuses and autojac computes: a write whose operand overlaps the written tensor (NumPy
  buffers it), a split/unbind output used after its base was written in place, a gradient
  through a saved tensor that autojac's (composite) op did not need — then autojac's gradient is
  checked against central differences of PyTorch's float64 forward;
- autojac refuses and PyTorch computes: a write into one element of a view of an expanded
  tensor that repeats elements, a mixed-dtype matmul PyTorch lets through when it is empty;
- second and third derivatives: a nan on one side only (0 * inf at a singular point, or a nan
  cotangent); and when the numbers differ, a referee takes central differences of the
  derivative one order lower: if autojac's matches and PyTorch's does not, PyTorch is wrong
  (layer_norm's third derivative, logcumsumexp's second and third, in PyTorch 2.13).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import torch

import autojac

from .programs import Program, Run, execute, make_inputs, run

RTOL = {"float32": 1e-4, "float64": 1e-9}
RTOL_D = 1e-7  # float64 higher derivatives: longer chains of rounding (layer_norm's rsqrt(eps) amplifies)
MAX_JAC = 3000  # inputs x outputs elements for the Jacobian checks
MAX_HESS_IN = 30  # input elements for the Hessian and third-derivative checks


# ops whose derivatives of this order (and up) are wrong in PyTorch 2.13 (see test_regressions)
KNOWN_TORCH_WRONG = {"layer_norm": 3, "logcumsumexp": 2}

MODIFIED = "modified by an inplace operation"
REPEATS = "more than one element of the written-to tensor refers to a single memory location"
READ_ONLY = "the tensor is a read-only view"
SAME_DTYPE = "to have the same dtype"
REBASED = "its base or another view of its base has been modified inplace"
OVERLAP = "some elements of the input tensor and the written-to tensor refer to a single memory location"


class Finding(AssertionError):
    """autojac disagrees with PyTorch; ``kind`` names the stage."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(f"[{kind}] {msg}")
        self.kind = kind


STATS: Counter = Counter()  # what the fuzz runs checked, reported at the end of the session
TORCH_WRONG: Counter = Counter()  # op -> programs where PyTorch was found wrong that use it


# ----------------------------------------------------------------------------- comparing
def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
        return t.detach().numpy()
    return np.asarray(t.detach()._data)


def dtype_name(t) -> str:
    return str(t.dtype).split(".")[-1]


def assert_close(kind: str, what: str, a, b, rtol: float, slack: np.ndarray | None = None,
                 singular_ok: bool = False) -> None:
    """``a`` (autojac) against ``b`` (torch): same shape, same non-finite entries, finite entries
    within ``rtol`` of the largest finite magnitude (at least 1), plus ``slack`` elementwise.

    ``singular_ok`` (second and third derivatives; gradients at a nan value): a nan on one side
    only is counted, not reported; it comes from 0 * inf at a singular point (norm or sqrt at 0)
    or a nan cotangent, where each library's answer depends on how its formulas are written.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise Finding(kind, f"{what}: shape {a.shape} != torch {b.shape}")
    if singular_ok:
        odd = np.isnan(a) != np.isnan(b)
        if odd.any():
            side = "torch" if np.isnan(b[odd]).any() else "autojac"
            STATS[f"{kind}: nan in {side} only (singular point or nan cotangent)"] += 1
            a, b = np.where(odd, 0.0, a), np.where(odd, 0.0, b)
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not (np.array_equal(fa, fb) and np.array_equal(a[~fa], b[~fb], equal_nan=True)):
        raise Finding(kind, f"{what}: non-finite entries differ\nautojac {a}\ntorch   {b}")
    if not fa.any():
        return
    scale = max(1.0, float(np.abs(b[fb]).max()))
    err = np.abs(a - b)[fa]
    bound = rtol * scale + (0.0 if slack is None else np.nan_to_num(slack, nan=np.inf)[fa])
    if (err > bound).any():
        i = int(np.argmax(err - bound))
        raise Finding(kind, f"{what}: max error {err.max():.3g} (scale {scale:.3g}, entry {i})\n"
                            f"autojac {a}\ntorch   {b}")


def compare(kind: str, what: str, a, b, ref64=None, singular_ok: bool = False) -> None:
    """Tensors of a native-dtype run; ``ref64`` is torch's float64 replay of ``b``."""
    if dtype_name(a) != dtype_name(b):
        raise Finding(kind, f"{what}: dtype {dtype_name(a)} != torch {dtype_name(b)}")
    na, nb = to_np(a), to_np(b)
    slack = None
    if ref64 is not None:  # float32 somewhere in the program (maybe not in this result's dtype)
        r = to_np(ref64)
        if r.shape == nb.shape:
            slack = 8 * np.abs(nb.astype(np.float64) - r)
    # a float64 result of a mixed program may carry float32 rounding (e.g. torch's pow computes the
    # exponent's gradient as log of the float32 base): float32 tolerance there
    assert_close(kind, what, na, nb, RTOL["float32" if ref64 is not None else dtype_name(b)], slack, singular_ok)


def compare_nested(kind: str, a, b, rtol: float, singular_ok: bool = False) -> None:
    """Nested tuples of tensors (Jacobians, Hessians) in float64."""
    if isinstance(b, (tuple, list)):
        if not isinstance(a, (tuple, list)) or len(a) != len(b):
            raise Finding(kind, f"structure differs: {type(a).__name__} vs torch {type(b).__name__}")
        for x, y in zip(a, b):
            compare_nested(kind, x, y, rtol, singular_ok)
        return
    assert_close(kind, "result", to_np(a), to_np(b), rtol, singular_ok=singular_ok)


# ----------------------------------------------------------------------------- stages
def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"


def known_autojac_error(prog: Program, k: int, e: BaseException) -> bool:
    """autojac refuses step ``k`` where PyTorch does not, in one of the known (and kept) ways."""
    op = prog.steps[k].op
    if (REPEATS in str(e) or READ_ONLY in str(e)) and op in ("inplace", "view_inplace", "setitem"):
        # autojac refuses every write into a view of an expanded tensor that repeats elements;
        # PyTorch accepts one that writes each memory location once
        STATS["autojac refuses a write into a view of a repeating expand"] += 1
        return True
    if SAME_DTYPE in str(e) and op == "matmul":
        # PyTorch's batched matmul skips its dtype check when the result is empty or k == 0 (and
        # returns the second operand's dtype); autojac always refuses mixed dtypes
        STATS["autojac refuses a mixed-dtype matmul that torch lets through when empty"] += 1
        return True
    return False


def check_errors(prog: Program, tr: Run, ar: Run) -> bool:
    """Both ran, or both raised at the same step (True: the program stops here)."""
    if tr.error is None and ar.error is None:
        return False
    if tr.error is None:
        k, e = ar.error
        if known_autojac_error(prog, k, e):
            return True
        raise Finding("autojac-raises", f"step {k}: autojac raised {_describe(e)}; torch did not") from e
    if ar.error is None:
        k, e = tr.error
        if REBASED in str(e):
            STATS["torch refuses a split/unbind output whose base was written; autojac reads the new base"] += 1
            return True
        if OVERLAP in str(e):  # a known difference: NumPy writes overlapping operands correctly
            STATS["torch refuses an overlapping write, autojac writes it"] += 1
            return True
        raise Finding("missing-error", f"step {k}: torch raised {_describe(e)}; autojac did not")
    if REBASED in str(tr.error[1]) and ar.error[0] > tr.error[0]:
        # a known difference: autojac regenerates a split/unbind output after its base was written in
        # place (a correct view of the new base); PyTorch refuses to use it
        STATS["torch refuses a split/unbind output whose base was written; autojac reads the new base"] += 1
        return True
    if ar.error[0] < tr.error[0] and known_autojac_error(prog, *ar.error):
        return True
    if tr.error[0] != ar.error[0]:
        raise Finding("error-step", f"torch raised at step {tr.error[0]} ({_describe(tr.error[1])}), "
                                    f"autojac at step {ar.error[0]} ({_describe(ar.error[1])})")
    STATS["raised in both: " + type(tr.error[1]).__name__] += 1
    return True


def check_values(tr: Run, ar: Run, t64: Run | None) -> None:
    for i, (a, b) in enumerate(zip(ar.outputs, tr.outputs)):
        if a.requires_grad != b.requires_grad:
            raise Finding("requires_grad", f"output {i}: requires_grad {a.requires_grad} != torch {b.requires_grad}")
        compare("values", f"output {i}", a, b, None if t64 is None else t64.outputs[i])


def _grads(T, r: Run, cots: Sequence[np.ndarray]):
    outs = [(o, c) for o, c in zip(r.outputs, cots) if o.requires_grad]
    xs = [x for x in r.inputs if x.requires_grad]
    gs = [T.tensor(c, dtype=o.dtype) for o, c in outs]
    return T.autograd.grad([o for o, _ in outs], xs, gs, allow_unused=True, retain_graph=True)


def _backward(T, r: Run, cots: Sequence[np.ndarray]) -> list:
    outs = [(o, c) for o, c in zip(r.outputs, cots) if o.requires_grad]
    T.autograd.backward([o for o, _ in outs], [T.tensor(c, dtype=o.dtype) for o, c in outs])
    return [x.grad for x in r.inputs if x.requires_grad]


def _both(kind: str, fn: Callable, targs: tuple, aargs: tuple, only_torch: Callable | None = None):
    """``fn(torch, *targs)`` and ``fn(autojac, *aargs)``; None if both raised, Finding if one did
    (unless ``only_torch(error)`` accepts that torch alone raised)."""
    try:
        t = fn(torch, *targs)
        te = None
    except Exception as e:  # noqa: BLE001
        t, te = None, e
    try:
        a = fn(autojac, *aargs)
        ae = None
    except Exception as e:  # noqa: BLE001
        a, ae = None, e
    if te is not None and ae is not None:
        STATS[f"{kind} raised in both: {type(te).__name__}"] += 1
        return None
    if ae is not None:
        raise Finding(f"{kind}-autojac-raises", f"autojac raised {_describe(ae)}; torch did not") from ae
    if te is not None:
        if only_torch is not None and only_torch(te):
            return None
        raise Finding(f"{kind}-missing-error", f"torch raised {_describe(te)}; autojac did not")
    return t, a


def _compare_grads(kind: str, ga, gt, ref, singular_ok: bool) -> None:
    for i, (a, t) in enumerate(zip(ga, gt)):
        if a is None and t is not None and not to_np(t).any():
            # e.g. an empty output written in place with a requires-grad operand: torch's graph links
            # the operand (a zero gradient), autojac's does not (nothing was written)
            STATS["None where torch gives zeros"] += 1
            continue
        if (a is None) != (t is None):
            raise Finding(f"{kind}-none", f"input {i}: autojac gives {'None' if a is None else 'a tensor'}, "
                                          f"torch {'None' if t is None else 'a tensor'}")
        if t is not None:
            compare(kind, f"input {i}", a, t, None if ref is None else ref[i], singular_ok)


def check_grads(prog: Program, tr: Run, ar: Run, t64: Run | None) -> bool:
    """Gradients with random cotangents; False when they could not be taken (error in both, no graph)."""
    if not any(o.requires_grad for o in tr.outputs):
        STATS["no output requires grad"] += 1
        return False
    rng = np.random.default_rng(prog.seed + 1)
    cots = [rng.standard_normal(tuple(o.shape)) for o in tr.outputs]

    def only_torch(e: BaseException) -> bool:
        if MODIFIED not in str(e) and REBASED not in str(e):
            return False
        if prog.ties:  # kinks and ties everywhere: differences say nothing
            STATS["torch refuses a gradient; autojac's not verified (ties)"] += 1
            return True
        check_fd(prog, cots)  # autojac answers where torch refuses: its answer must be right
        STATS["torch refuses a gradient (saved tensor or split/unbind output written in place); autojac's "
              "matches finite differences"] += 1
        return True

    res = _both("grad", _grads, (tr, cots), (ar, cots), only_torch)
    if res is None:
        return False
    gt, ga = res
    ref = None
    if t64 is not None and [o.requires_grad for o in t64.outputs] == [o.requires_grad for o in tr.outputs]:
        try:
            ref = _grads(torch, t64, cots)
        except RuntimeError:
            ref = None
    # at a nan value (var of one element...) the gradient's nan pattern is a convention of each
    # formula (mask or product): a nan on one side only is counted, not reported
    nan_point = not all(torch.isfinite(o).all() for o in tr.outputs)
    _compare_grads("grad", ga, gt, ref, nan_point)
    res = _both("backward", _backward, (tr, cots), (ar, cots))
    if res is not None:
        _compare_grads("backward", res[1], res[0], ref, nan_point)
    STATS["grads compared"] += 1
    return True


def check_fd(prog: Program, cots: list[np.ndarray]) -> None:
    """autojac's float64 gradient against central differences of torch's float64 forward, along a
    random direction."""
    ar = run(autojac, prog, float64=True)
    if ar.error is not None:
        raise Finding("fd-autojac-raises", _describe(ar.error[1]))
    ga = _grads(autojac, ar, cots)
    rg = [i for i, r in enumerate(prog.requires_grad) if r]
    arrays = prog.arrays()
    rng = np.random.default_rng(prog.seed + 3)
    dirs = {i: rng.standard_normal(arrays[i].shape) for i in rg}
    f = _function(torch, prog, arrays, rg)

    def at(h: float) -> float:
        with torch.no_grad():
            outs = f(*(torch.tensor(arrays[i] + h * dirs[i], dtype=torch.float64) for i in rg))
        return sum(float((o.double() * torch.tensor(c)).sum()) for o, c in zip(outs, cots) if o.numel())

    h = 1e-6
    try:
        fd = (at(h) - at(-h)) / (2 * h)
    except (RuntimeError, ValueError):  # a data-dependent shape moved
        STATS["torch refuses a gradient; autojac's not verified (shapes move)"] += 1
        return
    exact = sum(float((to_np(g) * dirs[i]).sum()) for g, i in zip(ga, rg) if g is not None)
    if abs(fd - exact) > 1e-5 * max(1.0, abs(fd)):
        raise Finding("fd", f"torch refuses the gradient; autojac's {exact!r} != finite differences {fd!r}")


# ----------------------------------------------------------------------------- float64 derivatives
def _function(T, prog: Program, arrays: list, rg: list[int]) -> Callable:
    """The program as a function of its requires-grad inputs (the others are constants), in float64."""

    def f(*xs):
        inputs = make_inputs(T, prog, arrays, float64=True, requires_grad=[False] * len(arrays))
        for i, x in zip(rg, xs):
            inputs[i] = x
        r = execute(T, prog, inputs, float64=True)
        if r.error is not None:
            raise r.error[1]
        return tuple(r.outputs)

    return f


def _scalar(T, f: Callable, weights: list[np.ndarray]) -> Callable:
    """``x -> sum_k <w_k, f(x)_k>``: a random linear functional of the outputs."""

    def s(*xs):
        total = None
        for o, w in zip(f(*xs), weights):
            term = (o * T.tensor(w, dtype=T.float64)).sum()
            total = term if total is None else total + term
        return total

    return s


def _directional(T, s: Callable, xs: Sequence, dirs: Sequence[Sequence[np.ndarray]]):
    """Derivatives of ``s`` at ``xs`` of order 1..len(dirs)+1, contracted with ``dirs``:
    ``d^k s / dx^k [v1, ..., v_{k-1}]`` through ``create_graph``; unused parts are zeros."""
    y = s(*xs)
    for order in range(len(dirs) + 1):
        last = order == len(dirs)
        if not y.requires_grad:
            return [T.zeros(x.shape, dtype=T.float64) for x in xs]
        gs = T.autograd.grad(y, xs, allow_unused=True, create_graph=not last)
        gs = [T.zeros(x.shape, dtype=T.float64) if g is None else g for g, x in zip(gs, xs)]
        if last:
            return gs
        terms = [(g * T.tensor(v, dtype=T.float64)).sum() for g, v in zip(gs, dirs[order])]
        y = terms[0]
        for term in terms[1:]:
            y = y + term


def _torch_forward(fn: Callable, fallback):
    """PyTorch's forward-mode result where it has one (its vmap rejects some in-place programs)."""
    try:
        return fn()
    except Exception:  # noqa: BLE001
        return fallback


def check_derivatives(prog: Program, tr: Run) -> None:
    """Jacobian, Hessian and a third derivative in float64."""
    rg = [i for i, r in enumerate(prog.requires_grad) if r]
    arrays = prog.arrays()
    n_in = sum(arrays[i].size for i in rg)
    n_out = sum(o.numel() for o in tr.outputs)
    if any(arrays[i].size == 0 for i in rg) or any(o.numel() == 0 for o in tr.outputs):
        STATS["empty tensors: no jacobian"] += 1  # torch's functional API raises on those
        return
    ft, fa = _function(torch, prog, arrays, rg), _function(autojac, prog, arrays, rg)
    xt = tuple(torch.tensor(arrays[i], dtype=torch.float64) for i in rg)
    xa = tuple(autojac.tensor(arrays[i], dtype=autojac.float64) for i in rg)
    jac = torch.autograd.functional.jacobian
    if n_in * n_out <= MAX_JAC and n_out <= 150:
        res = _both("jacobian", lambda T, f, x: T.autograd.functional.jacobian(f, x), (ft, xt), (fa, xa))
        if res is not None:
            jt, ja = res
            compare_nested("jacobian-reverse", ja, jt, RTOL["float64"])
            try:
                jf = autojac.autograd.functional.jacobian(fa, xa, strategy="forward-mode", vectorize=True)
            except Exception as e:  # noqa: BLE001
                raise Finding("jacobian-forward-raises", _describe(e)) from e
            jtf = _torch_forward(lambda: jac(ft, xt, strategy="forward-mode", vectorize=True), jt)
            try:
                compare_nested("jacobian-forward", jf, jtf, RTOL["float64"])
            except Finding:
                if jtf is jt:
                    raise
                compare_nested("jacobian-forward", jf, jt, RTOL["float64"])  # autojac's forward = both reverse
                STATS["torch's forward-mode Jacobian differs from its reverse mode; autojac's agrees with "
                      "both reverse modes"] += 1
                TORCH_WRONG.update({st.op for st in prog.steps})
            STATS["jacobians compared"] += 1
    if n_in > MAX_HESS_IN or not any(o.requires_grad for o in tr.outputs):
        return
    rng = np.random.default_rng(prog.seed + 2)
    weights = [rng.standard_normal(tuple(o.shape)) for o in tr.outputs]
    st, sa = _scalar(torch, ft, weights), _scalar(autojac, fa, weights)
    x0 = [arrays[i] for i in rg]
    dirs = [[rng.standard_normal(a.shape) for a in x0] for _ in range(3)]
    gradient = lambda xs: _directional_np(torch, st, xs, [])  # noqa: E731 - first order: checked above
    res = _both("hessian", lambda T, s, x: T.autograd.functional.hessian(s, x), (st, xt), (sa, xa))
    if res is not None:
        ht, ha = res
        with referee(prog, "hessian", _hv(ha, dirs[2]), _hv(ht, dirs[2]), gradient, x0, dirs[2]):
            compare_nested("hessian", ha, ht, RTOL_D, singular_ok=True)
        try:
            hf = autojac.autograd.functional.hessian(sa, xa, outer_jacobian_strategy="forward-mode",
                                                     vectorize=True)
        except Exception as e:  # noqa: BLE001
            raise Finding("hessian-forward-raises", _describe(e)) from e
        htf = _torch_forward(lambda: torch.autograd.functional.hessian(
            st, xt, outer_jacobian_strategy="forward-mode", vectorize=True), ht)
        with referee(prog, "hessian (forward-over-reverse)", _hv(hf, dirs[2]), _hv(htf, dirs[2]), gradient, x0,
                     dirs[2]):
            compare_nested("hessian-forward", hf, htf, RTOL_D, singular_ok=True)
        STATS["hessians compared"] += 1

    res = _both("third", lambda T, s: _directional_np(T, s, x0, dirs[:2]), (st,), (sa,))
    if res is not None:
        # the second derivative along dirs[0] (autojac's: it agreed with torch's, or with differences)
        second = lambda xs: _directional_np(autojac, sa, xs, dirs[:1])  # noqa: E731
        with referee(prog, "third derivative", res[1], res[0], second, x0, dirs[1]):
            for i, (a, t) in enumerate(zip(res[1], res[0])):
                assert_close("third", f"input {i}", a, t, RTOL_D, singular_ok=True)
        STATS["third derivatives compared"] += 1


def _directional_np(T, s: Callable, x0: Sequence[np.ndarray], dirs) -> list[np.ndarray]:
    xs = [T.tensor(v, dtype=T.float64, requires_grad=True) for v in x0]
    return [to_np(g) for g in _directional(T, s, xs, dirs)]


def _hv(h, v: Sequence[np.ndarray]) -> list[np.ndarray]:
    """A Hessian (tuple of tuples of blocks) applied to the direction ``v`` (one array per input)."""
    return [sum(np.tensordot(to_np(hij), vj, axes=vj.ndim) for hij, vj in zip(hi, v)) for hi in h]


class referee:
    """On a disagreement in a derivative of order k >= 2, take central differences of the order
    k - 1 derivative (on which the libraries agree) along ``v``: if autojac's matches and PyTorch's
    does not, PyTorch is wrong there (counted, per op set); otherwise the finding stands."""

    def __init__(self, prog: Program, what: str, exact_a, exact_t, lower: Callable, x0, v) -> None:
        self.args = prog, what, exact_a, exact_t, lower, x0, v

    def __enter__(self):
        return self

    def __exit__(self, typ, err, tb) -> bool:
        if typ is not Finding:
            return False
        prog, what, exact_a, exact_t, lower, x0, v = self.args
        eps = 1e-6
        try:
            hi = lower([a + eps * d for a, d in zip(x0, v)])
            lo = lower([a - eps * d for a, d in zip(x0, v)])
            fd = [(p - m) / (2 * eps) for p, m in zip(hi, lo)]
        except (RuntimeError, ValueError):  # a data-dependent shape (x[x > 0]) moved: no referee
            return False

        def close(exact) -> bool:
            return all(np.shape(e) == np.shape(f) and
                       np.allclose(e, f, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(f).max(initial=0))))
                       for e, f in zip(exact, fd))

        if close(exact_a) and not close(exact_t):
            STATS[f"torch's {what} is wrong; autojac's matches finite differences"] += 1
            TORCH_WRONG.update({st.op for st in prog.steps})
            return True
        order = 3 if what.startswith("third") else 2
        if any(KNOWN_TORCH_WRONG.get(st.op, 9) <= order for st in prog.steps):
            # differences could not decide (a kink nearby), and PyTorch is known wrong for an op here;
            # test_regressions checks autojac's derivatives of those ops against differences
            STATS[f"{what}: undecided, with an op PyTorch gets wrong at that order"] += 1
            return True
        return False


# ----------------------------------------------------------------------------- one program
def check_program(prog: Program) -> None:
    """Every stage on one program; raises ``Finding`` on the first disagreement."""
    STATS["programs"] += 1
    tr, ar = run(torch, prog), run(autojac, prog)
    if check_errors(prog, tr, ar):
        return
    t64 = run(torch, prog, float64=True) if prog.has_float32() else None
    if t64 is not None and t64.error is not None:
        t64 = None
    check_values(tr, ar, t64)
    if not check_grads(prog, tr, ar, t64):
        return
    if not all(torch.isfinite(o).all() for o in tr.outputs):
        STATS["non-finite values: no higher derivatives"] += 1  # nan/inf points (var of one element...)
        return
    if any(x._version for x in tr.inputs):
        # an input written through a detached alias: the function changes its own inputs, and what a
        # Jacobian then means depends on how many times each library calls it
        STATS["inputs written in place: no higher derivatives"] += 1
        return
    check_derivatives(prog, tr)

