"""``JacobianTransform``: a transform from any differentiable bijection, its log-det Jacobian automatic.

Beyond PyTorch: ``log_abs_det_jacobian`` differentiates ``f`` itself, so a flow or change of
variables needs no hand-derived determinant. The per-sample Jacobians of a whole batch come
from one batched pass (as many tangents as event elements, each set on every sample at once;
forward mode by default, reverse mode on request), valid because ``f`` maps each sample on its
own (checked once, on the first batch of two or more samples). Before that, a Jacobian that is
the identity plus a rank-one matrix (planar, radial and residual flows with one unit) is looked
for with two cheap forward passes (``r + 1 = 2`` random tangents, then one; ``low_rank=``), the
second replaying the first's recorded JVP rules on its primals (``forward.replay``: ``f`` runs
once): found on every sample, ``log|det|`` is ``log|1 + c|`` with no Jacobian built (the
determinant lemma, ``_low_rank_logdet``; with grad mode off, on arrays: ``_rank_one_logdet``);
not found, the transform stops looking. A flow's ``y = t(x)`` then ``log_abs_det_jacobian(x, y)``
shares that first pass: once such a pair has come back, the call runs the pass and returns its
primal (``_call``). A Jacobian found triangular at the point (autoregressive and coupling flows)
takes ``sum log|diag|``; any other one a batched ``slogdet`` (vectorized across samples for
``n <= 16``: ``_small_slogdet``). ``event_dim=0`` (elementwise maps) needs only the diagonal: one
backward pass.

Cost on ``bench/bench_flows.py`` (10,000 samples, ``n = 8``, a loaded 2-core machine, medians of
3 runs): a 2-layer planar flow's log-density ~1.9x the closed-form one (rank-one path; the
full-Jacobian path, ``low_rank=None``, ~11x: ``n`` evaluations of ``f`` plus an LU per sample),
and with the gradient ~2.7x; an affine coupling flow (triangular) ~3.1x its hand-written log-det.
In a process whose allocator returns freed memory to the system (no larger array freed before),
the planar flow's extra ``(2, batch, n)`` tangents cost page faults too: ~3x.

>>> import autojac
>>> from autojac.distributions.transforms import JacobianTransform
>>> t = JacobianTransform(lambda x: 2 * x + x ** 3, event_dim=1)
>>> x = autojac.tensor([[0.0, 1.0], [1.0, 2.0]])
>>> t.log_abs_det_jacobian(x, t(x))      # log((2 + 3 x1^2)(2 + 3 x2^2)) per row
tensor([2.3026, 4.2485])
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np

from .._core import forward
from .._core.batched import BATCHING
from .._core.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .._tensor import Tensor, _wrap
from ..autograd.api import grad as _grad
from ..autograd.forward_ad import make_dual_batched, unpack_batched
from ..func._jacdet import _reaches_other_leaf
from ..linalg import qr, slogdet, solve
from ..ops.shape import alias
from . import constraints
from ._small_slogdet import slogdet_batch_last
from ._transform import Transform

__all__ = ["JacobianTransform"]


class JacobianTransform(Transform):
    """The bijection ``f`` (and optionally its inverse ``inv``) with an automatic ``log_abs_det_jacobian``.

    Args:
        f: maps a batch of events ``(*batch, *event)`` to the same shape, each sample on its own.
        inv: the inverse map, needed by ``TransformedDistribution.log_prob`` on values not produced
            by this transform (with ``cache_size=1`` the last forward pair is reused instead).
        event_dim: how many rightmost dimensions form one event (0: ``f`` acts elementwise).
        domain, codomain: constraints (default: real, with ``event_dim`` event dimensions).
        triangular: ``"auto"`` (detect a triangular Jacobian at the point), ``"lower"``/``"upper"``
            (trust it), or ``False`` (always ``slogdet``).
        mode: build the Jacobians by forward mode (``"forward"``: one pass whose tangents are the ``n``
            basis directions on every sample; fewest array operations) or reverse mode (``"reverse"``:
            one batched backward pass over ``n`` cotangents).
        sign: the constant sign of the determinant, if known.
        low_rank: look for a Jacobian that is the identity plus a matrix of rank at most ``r`` (planar,
            radial and Sylvester flows: ``r`` units in a residual layer): two forward passes of ``r + 1``
            and ``r`` tangents instead of ``n``, and no ``n x n`` determinant (see ``_low_rank_logdet``).
            ``"auto"`` (default) tries ``r = 1`` and stops trying on this transform after the first batch
            that is not; an int ``r`` tries rank ``r`` on every call; None never. A batch that fails the
            rank check takes the full Jacobian, so a wrong guess costs time, not accuracy (forward mode only).
    """

    bijective = True

    def __init__(self, f: Callable, inv: Callable | None = None, event_dim: int = 1, *, domain=None, codomain=None,
                 triangular: str | bool = "auto", mode: str = "forward", sign=None, cache_size: int = 0,
                 low_rank: int | str | None = "auto") -> None:
        super().__init__(cache_size=cache_size)
        if not callable(f):
            raise TypeError(f"JacobianTransform: f must be callable, got {type(f).__name__}")
        if event_dim < 0:
            raise ValueError(f"JacobianTransform: event_dim must be >= 0, got {event_dim}")
        if triangular not in ("auto", "lower", "upper", False):
            raise ValueError(f"JacobianTransform: triangular must be 'auto', 'lower', 'upper' or False, "
                             f"got {triangular!r}")
        self.f = f
        self.f_inv = inv
        self._event_dim = event_dim
        default = constraints.real if event_dim == 0 else constraints.independent(constraints.real, event_dim)
        self._domain = domain if domain is not None else default
        self._codomain = codomain if codomain is not None else default
        if mode not in ("forward", "reverse"):
            raise ValueError(f"JacobianTransform: mode must be 'forward' or 'reverse', got {mode!r}")
        if low_rank not in (None, "auto") and (isinstance(low_rank, bool) or not isinstance(low_rank, int)
                                               or low_rank < 1):
            raise ValueError(f"JacobianTransform: low_rank must be 'auto', a positive int or None, got {low_rank!r}")
        self.triangular = triangular
        self.low_rank = low_rank
        self._low_rank_seen_failing = False  # ("auto": a transform's structure is its f's; one miss stops the tries)
        self.mode = mode
        self._sign = sign
        self._per_sample_checked = False
        self._basis_cache: tuple | None = None
        self._probe_cache: tuple | None = None
        self.last_path: str | None = None  # how the last log-det was taken: diagonal/triangular/low_rank/slogdet
        self._last_pair: tuple | None = None  # weak refs to the last (x, f(x)) of a call (see _call)
        self._fuse = False  # the last call's pair came back to log_abs_det_jacobian: the next call runs pass 1
        self._stash: tuple | None = None  # (x, version of x, y, grad mode, first pass) from a fused call

    def __getstate__(self):
        state = super().__getstate__()
        state.update(_last_pair=None, _stash=None, _fuse=False)  # (weak references do not pickle)
        return state

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return self._domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return self._codomain

    @property
    def sign(self):
        if self._sign is None:
            raise NotImplementedError("JacobianTransform: the sign of the Jacobian is not known; pass sign=")
        return self._sign

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return JacobianTransform(self.f, self.f_inv, self._event_dim, domain=self._domain, codomain=self._codomain,
                                 triangular=self.triangular, mode=self.mode, sign=self._sign, cache_size=cache_size,
                                 low_rank=self.low_rank)

    def _call(self, x):
        """``f(x)``; fused with the low-rank path's first forward-mode pass when a log-det is expected.

        A flow calls ``y = t(x)`` then ``t.log_abs_det_jacobian(x, y)``, and that pass evaluates ``f(x)``
        again as its primal. Once a call's ``(x, y)`` has come back to ``log_abs_det_jacobian`` on the
        low-rank path, the next call runs the pass itself (its primal is ``y``, with the same graph) and
        keeps its tangents for the log-det of its own ``(x, y)``, taken in the same grad mode with ``x``
        not modified in place since; a call whose pair does not come back turns this off.
        """
        if self._stash is not None:  # the last fused call's pair never came back: stop predicting
            self._stash, self._fuse = None, False
        dims = self._fuse and not BATCHING and isinstance(x, Tensor) and self._low_rank_dims(x)
        if dims:
            n, nb, r = dims
            first = self._probe_pass(x, n, nb, r)
            y = first[1].pop()
            self._stash = (weakref.ref(x), x._version, weakref.ref(y), is_grad_enabled(), first)
            return y
        y = self.f(x)
        self._last_pair = (weakref.ref(x), weakref.ref(y)) if isinstance(x, Tensor) and isinstance(y, Tensor) else None
        return y

    def _low_rank_dims(self, x: Tensor) -> tuple[int, int, int] | None:
        """``(n, nb, r)`` when ``log_abs_det_jacobian(x)`` tries the low-rank path first, else None."""
        nd, r = self._event_dim, 1 if self.low_rank == "auto" else self.low_rank
        if nd == 0 or self.mode != "forward" or x.dim() < nd or r is None:
            return None
        if self.low_rank == "auto" and self._low_rank_seen_failing:
            return None
        n, nb = math.prod(x.shape[x.dim() - nd:]), math.prod(x.shape[:x.dim() - nd])
        if r + 1 >= n or nb == 0 or (nb > 1 and not self._per_sample_checked):
            return None
        return n, nb, r

    def _take_stash(self, x: Tensor, y) -> tuple | None:
        """The first pass kept by the call that produced ``y`` from ``x`` in this grad mode, if that is this pair."""
        stash, self._stash = self._stash, None
        if stash is None:
            return None
        rx, version, ry, grad_mode, first = stash
        ok = y is not None and rx() is x and ry() is y and x._version == version and grad_mode == is_grad_enabled()
        return first if ok else None

    def _note_pair(self, x: Tensor, y) -> None:
        """``(x, y)`` from the last call came back: fuse the next call with the first pass."""
        pair = self._last_pair
        if pair is not None and y is not None and pair[0]() is x and pair[1]() is y:
            self._fuse = True

    def _inverse(self, y):
        if self.f_inv is None:
            raise NotImplementedError("JacobianTransform: no inverse was given (inv=); pass one, or use cache_size=1 "
                                      "to invert values this transform produced")
        return self.f_inv(y)

    def __repr__(self) -> str:
        name = getattr(self.f, "__name__", type(self.f).__name__)
        return f"{self.__class__.__name__}({name}, event_dim={self._event_dim})"

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``log |det df/dx|`` per event, shape ``x.shape[:x.dim() - event_dim]``; differentiable."""
        nd = self._event_dim
        if x.dim() < nd:
            raise ValueError(f"JacobianTransform: the input has {x.dim()} dimensions, fewer than event_dim={nd}")
        create = is_grad_enabled()
        stash = self._take_stash(x, y)  # (always taken: a stash serves only the log-det right after its call)
        batch = tuple(x.shape[:x.dim() - nd])
        n, nb = math.prod(x.shape[x.dim() - nd:]), math.prod(batch)
        if nd == 0 or self.mode == "reverse" or (not self._per_sample_checked and nb > 1):
            with enable_grad():
                xin = alias(x) if x.requires_grad else x.detach().requires_grad_()
                out = self._checked_call(xin, x)
                if nd == 0:
                    return self._diagonal(xin, out, create, x.requires_grad)
                if not self._per_sample_checked and nb > 1:
                    self._check_per_sample(xin, out, nb, n)
                if self.mode == "reverse":
                    return self._logdet(self._reverse_jacobian(x, xin, out, n, nb, create)).reshape(batch)
        r = 1 if self.low_rank == "auto" else self.low_rank
        if r is not None and r + 1 < n and nb > 0 and not (self.low_rank == "auto" and self._low_rank_seen_failing):
            if r == 1 and not create:
                logdet = self._rank_one_logdet(x, n, nb, stash)
            else:
                logdet = self._low_rank_logdet(x, n, nb, r, create, stash)
            self._note_pair(x, y)
            if logdet is not None:
                return logdet.reshape(batch)
            self._low_rank_seen_failing = True
        return self._logdet(self._forward_jacobian(x, n, nb, create)).reshape(batch)

    def _checked_call(self, xin: Tensor, x: Tensor) -> Tensor:
        out = self.f(xin)
        if not isinstance(out, Tensor) or out.shape != x.shape:
            got = list(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"JacobianTransform: f must map a tensor of shape {list(x.shape)} to the same shape, "
                             f"got {got}")
        return out

    def _basis(self, n: int, nb: int, shape: tuple, dtype) -> Tensor:
        """Direction ``k`` is ``e_k`` on every sample at once: ``(n, *shape)``.

        Kept (read-only) for the next call of the same shape: a flow calls this every step, and a
        fresh array of ``n * n * nb`` elements costs more in first-touch page faults than the fill.
        """
        key = (n, shape, np.dtype(dtype))
        if self._basis_cache is None or self._basis_cache[0] != key:
            basis = np.zeros((n, nb, n), dtype=dtype)
            for k in range(n):
                basis[k, :, k] = 1
            basis = basis.reshape((n,) + shape)
            basis.flags.writeable = False
            self._basis_cache = (key, basis)
        return _wrap(self._basis_cache[1])

    def _jvp(self, x: Tensor, tangent: Tensor, recorded: list | None = None) -> Tensor:
        """``J v`` for each of the leading directions of ``tangent`` (``(k, *x.shape)``), every sample at once.

        With a list ``recorded``, the pass is recorded into it (``[tape, dual input, f's output, f(x)]``) for
        ``_jvp_again``.
        """
        level = forward.enter_level()
        try:
            if recorded is not None:
                forward.record_tape(level)
            dual = make_dual_batched(x, tangent, level)
            result = self._checked_call(dual, x)
            out = unpack_batched(result, level)
        finally:
            if recorded is not None:
                recorded[:] = [forward.stop_tape(level), dual, result]
            forward.exit_level(level)
        if recorded is not None:
            recorded.append(out.primal)
        return out.tangent if out.tangent is not None else _wrap(np.zeros(tangent._data.shape, dtype=x._data.dtype))

    def _jvp_again(self, x: Tensor, recorded: list, tangent: Tensor) -> Tensor:
        """``J v`` for a new ``tangent`` after ``_jvp(..., recorded)``: the recorded JVP rules replayed on its
        primals (``forward.replay``; ``f`` is not evaluated again), or a new pass where the tape cannot stand
        for one (``f`` writes in place or holds custom Functions). Empties ``recorded``."""
        tape, dual, result = recorded[:3]
        recorded.clear()  # (its primals are freed before a rerun)
        if tangent._data.dtype is not dual._data.dtype:
            tangent = tangent.to(dual.dtype)
        out = forward.replay(tape, [(dual, tangent)], result)
        del tape, dual, result
        return out if out is not None else self._jvp(x, tangent)

    def _probe(self, r: int, n: int, nb: int, shape: tuple, dtype) -> np.ndarray:
        """``r`` fixed random directions (the same on every sample): ``(r, *shape)``, kept between calls."""
        key = (r, shape, np.dtype(dtype))
        if self._probe_cache is None or self._probe_cache[0] != key:
            omega = np.random.default_rng(0x6A6163).standard_normal((r, 1, n))  # fixed: results are reproducible
            probe = np.ascontiguousarray(np.broadcast_to(omega, (r, nb, n)), dtype=dtype).reshape((r,) + shape)
            probe.flags.writeable = False
            self._probe_cache = (key, probe)
        return self._probe_cache[1]

    def _low_rank_logdet(self, x: Tensor, n: int, nb: int, r: int, create: bool,
                         first: tuple | None = None) -> Tensor | None:
        """``log|det(I + A)|`` for ``A = J - I`` of rank at most ``r`` on every sample, else None.

        ``Omega`` holds ``r + 1`` fixed random directions. ``A`` has rank ``<= r`` exactly when ``A Omega``
        has (almost surely): checked by the last column lying in the span of the first ``r`` (a scaling
        ``A = c I`` fails here, though each ``A omega`` is an eigenvector). Then ``Y1`` (the first ``r``
        columns) spans ``A``'s range: ``A = U V^T``, ``Y1 = U G`` with ``G`` invertible, and ``Y2 = A Y1 =
        Y1 C`` with ``C = G^-1 (V^T U) G``, so ``det(I_n + A) = det(I_r + V^T U) = det(I_r + C)``
        (Sylvester); ``C`` is the least-squares solution of ``Y1 C = Y2`` (for ``r > 1`` its residual
        is checked too, and a sketch too ill-conditioned for an accurate ``C`` is refused).
        Residuals are measured against rounding: ``64 n eps`` times the norms that produced them.
        ``first``: the first pass, run by the call that produced ``y`` (see ``_call``).
        """
        shape, dtype = tuple(x.shape), x._data.dtype
        tol2 = (64 * n * np.finfo(dtype).eps) ** 2
        omega = _wrap(self._probe(r + 1, n, nb, shape, dtype))
        with set_grad_enabled(create):  # recorded (differentiable) only when grad mode is on
            j_omega, recorded = first if first is not None else self._probe_pass(x, n, nb, r)
            graph = j_omega.requires_grad  # the checks read arrays; tensor ops only where a gradient flows
            jo, om = j_omega._data.reshape(r + 1, nb, n), omega._data.reshape(r + 1, nb, n)
            ao = jo - om
            if _in_span(ao[:r], ao[r:], tol2, _sq_norms(jo[r]) + _sq_norms(om[r])) is None:
                return None  # rank above r (or the first r columns dependent)
            y1 = (j_omega - omega).reshape(r + 1, nb, n)[:r] if graph else _wrap(ao[:r])
            jy = self._jvp_again(x, recorded, y1.reshape((r,) + shape))
            graph = graph or jy.requires_grad
            jyd = jy._data.reshape(r, nb, n)
            y1d = ao[:r]
            if r == 1:  # (Y2 in span(Y1) follows from the rank check: no second residual needed)
                if not graph:
                    a = y1d[0]
                    c = _sq_norms(a, jyd[0] - a) / _sq_norms(a)
                    self.last_path = "low_rank"
                    with np.errstate(divide="ignore"):  # a singular Jacobian: -inf, as the tensor log gives
                        return _wrap(np.log(np.abs(c + 1)))
            elif _in_span(y1d, jyd - y1d, tol2, _sq_norms(jyd).sum(0) + _sq_norms(y1d).sum(0)) is None:
                return None
            self.last_path = "low_rank"
            y2 = jy.reshape(r, nb, n) - y1
            if r == 1:  # per-sample dot products as products with a ones vector (BLAS; sum(-1) is slower)
                ones = _wrap(np.ones(n, dtype=dtype))
                a, b = y1[0], y2[0]
                c = ((a * b) @ ones) / ((a * a) @ ones)
                return (c + 1).abs().log()
            q, rr = qr(y1.permute(1, 2, 0))  # Y1 per sample: (element, probe)
            c = solve(rr, q.transpose(-1, -2) @ y2.permute(1, 2, 0))
            return slogdet(c + _wrap(np.eye(r, dtype=dtype)))[1]

    def _probe_pass(self, x: Tensor, n: int, nb: int, r: int = 1) -> tuple[Tensor, list]:
        """The low-rank path's first pass: ``J omega`` for its ``r + 1`` probes (``(r + 1, *x.shape)``), and
        the pass recorded for the second (``_jvp``'s ``recorded``, ``f(x)`` last)."""
        probe = _wrap(self._probe(r + 1, n, nb, tuple(x.shape), x._data.dtype))
        recorded: list = []
        return self._jvp(x, probe, recorded), recorded

    def _rank_one_logdet(self, x: Tensor, n: int, nb: int, stash: tuple | None = None) -> Tensor | None:
        """``_low_rank_logdet`` for ``r = 1`` when no gradient is wanted: the same checks and answer on arrays.

        The arrays are reused in place and every per-sample dot product goes through one scratch array
        (a product, then a BLAS product with ones), so one ``(batch, n)`` temporary is made: on 10,000
        samples a fresh array costs more in page faults than its arithmetic. ``||omega_2||`` comes from
        one row (the probe is the same on every sample). ``det(I + A) = a . J a / a . a`` with
        ``a = A omega_1``; ``J a`` replays the first pass (``_jvp_again``).
        """
        shape, dtype = tuple(x.shape), x._data.dtype
        tol2 = (64 * n * np.finfo(dtype).eps) ** 2
        om = self._probe(2, n, nb, shape, dtype).reshape(2, nb, n)
        j_omega, recorded = stash if stash is not None else self._probe_pass(x, n, nb)  # (stash: see _call)
        ao = j_omega._data.reshape(2, nb, n)
        del j_omega
        dots = _Dots(ao[0])
        if ao.flags.writeable and not np.may_share_memory(ao, om):  # a fresh tangent (not the probe itself)
            np.subtract(ao, om, out=ao)
        else:
            ao = ao - om
        a0, a1 = ao[0], ao[1]
        g00 = dots(a0, a0)
        if not (g00 > 0).all():
            return None  # a zero column: rank unknown
        g01 = dots(a0, a1)
        off = np.multiply(a0, (g01 / g00)[:, None], out=dots.scratch)
        np.subtract(a1, off, out=a1)  # a1's component off a0's line
        rr = dots(a1, a1)
        # measured against rounding in the norms that produced it: |J omega_2| <= |A omega_2| + |omega_2|,
        # and |A omega_2|^2 is the sum of its parts along a0 and off it (no dot product more)
        w1 = om[1, 0]
        if not (rr <= tol2 * (np.sqrt(rr + g01 * g01 / g00) + np.sqrt(w1 @ w1)) ** 2).all():
            return None  # rank above one
        ja = self._jvp_again(x, recorded, _wrap(ao[:1].reshape((1,) + shape)))._data.reshape(nb, n)
        self.last_path = "low_rank"
        with np.errstate(divide="ignore"):  # a singular Jacobian: -inf, as the tensor log gives
            return _wrap(np.log(np.abs(dots(a0, ja) / g00)))

    def _forward_jacobian(self, x: Tensor, n: int, nb: int, create: bool) -> Tensor:
        """Column ``k`` of every sample's Jacobian from one forward-mode pass with tangent basis ``e_k``."""
        with set_grad_enabled(create):  # tangents are recorded (differentiable) only when grad mode is on
            level = forward.enter_level()
            try:
                out = self._checked_call(make_dual_batched(x, self._basis(n, nb, tuple(x.shape), x._data.dtype),
                                                           level), x)
                tangent = unpack_batched(out, level).tangent
            finally:
                forward.exit_level(level)
        if tangent is None:  # f does not depend on x
            return _wrap(np.zeros((nb, n, n), dtype=x._data.dtype))
        return tangent.reshape(n, nb, n).permute(1, 2, 0)  # (sample, output element, input element)

    def _reverse_jacobian(self, x: Tensor, xin: Tensor, out: Tensor, n: int, nb: int, create: bool) -> Tensor:
        """Row ``k`` of every sample's Jacobian from one batched backward pass with cotangent basis ``e_k``."""
        if not out.requires_grad:
            return _wrap(np.zeros((nb, n, n), dtype=out._data.dtype))
        (rows,) = _grad(out, xin, self._basis(n, nb, tuple(out.shape), out._data.dtype), create_graph=create,
                        allow_unused=True, is_grads_batched=True, materialize_grads=True)
        jac = rows.reshape(n, nb, n).permute(1, 0, 2)  # (sample, output element, input element)
        if not create or (jac.requires_grad and not x.requires_grad and not _reaches_other_leaf(jac, xin)):
            jac = jac.detach()  # only our own differentiation handle was in the graph
        return jac

    def _diagonal(self, xin: Tensor, out: Tensor, create: bool, x_requires_grad: bool) -> Tensor:
        self.last_path = "diagonal"
        if not out.requires_grad:
            return _wrap(np.full(out._data.shape, -np.inf, dtype=out._data.dtype))
        (d,) = _grad(out, xin, _wrap(np.ones(out._data.shape, out._data.dtype)), create_graph=create,
                     allow_unused=True, materialize_grads=True)
        if not create or (not x_requires_grad and not _reaches_other_leaf(d, xin)):
            d = d.detach()
        return d.abs().log()

    def _logdet(self, jac: Tensor) -> Tensor:
        tri = self.triangular
        if tri == "auto":
            tri = _triangular_kind(jac._data)
        if tri:
            self.last_path = "triangular"
            return jac.diagonal(dim1=-2, dim2=-1).abs().log().sum(-1)
        self.last_path = "slogdet"
        if jac.requires_grad:
            return slogdet(jac)[1]
        # (sample, row, column) -> (column, row, sample): det of the transpose, the batch axis contiguous
        return _wrap(slogdet_batch_last(jac._data.transpose(2, 1, 0))[1])

    def _check_per_sample(self, xin: Tensor, out: Tensor, nb: int, n: int) -> None:
        """One backward pass from the first sample's outputs: no other sample may receive a gradient."""
        if not out.requires_grad:
            return
        g = np.zeros((nb, n), dtype=out._data.dtype)
        g[0] = 1.0
        (gx,) = _grad(out, xin, _wrap(g.reshape(out._data.shape)), retain_graph=True, allow_unused=True,
                      materialize_grads=True)
        if np.any(gx._data.reshape(nb, n)[1:] != 0):
            raise ValueError("JacobianTransform: f mixes samples (the output of sample 0 depends on other samples); "
                             "f must map each event on its own, with the batch dimensions leading")
        self._per_sample_checked = True


def _triangular_kind(a: np.ndarray) -> str | bool:
    """``"lower"``/``"upper"`` if every matrix of the batch ``a`` is triangular that way, else False.

    The first matrix decides cheaply for most dense Jacobians before the whole batch is scanned
    (only the strictly upper, then strictly lower, entries are read).
    """
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    for kind, (rows, cols) in (("lower", np.triu_indices(n, 1)), ("upper", np.tril_indices(n, -1))):
        if not flat[0, rows, cols].any() and not flat[:, rows, cols].any():
            return kind
    return False


def _sq_norms(v: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Squared norms (or dot products with ``w``) along the last axis: a product with ones, through BLAS,
    is faster than ``sum(-1)`` or einsum on short rows."""
    return (v * (v if w is None else w)) @ np.ones(v.shape[-1], dtype=v.dtype)


class _Dots:
    """Per-row dot products of ``(batch, n)`` arrays through one scratch array: the elementwise product into
    it, then a BLAS product with ones (faster than ``einsum`` or ``sum(-1)`` on short rows)."""

    def __init__(self, like: np.ndarray) -> None:
        self.scratch = np.empty(like.shape, dtype=like.dtype)
        self.ones = np.ones(like.shape[-1], dtype=like.dtype)

    def __call__(self, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.multiply(v, w, out=self.scratch) @ self.ones


def _in_span(basis: np.ndarray, targets: np.ndarray, tol2: float, scale: np.ndarray) -> np.ndarray | bool | None:
    """Per sample, ``targets`` (``(k, batch, n)``) in the span of ``basis`` (``(r, batch, n)``) to ``tol2 * scale``.

    Returns None if any sample's squared residual exceeds ``tol2 * scale`` or its basis is rank-deficient
    or ill-conditioned (a zero vector; an R factor's diagonal spread over ``eps^-1/4``); else, for
    ``r = 1``, the coefficients (``(k, batch)``: ``targets ~ coef * basis``), for ``r > 1`` True.
    """
    r = basis.shape[0]
    if r == 1:
        b = basis[0]
        gram = _sq_norms(b)
        if not np.all(gram > 0):
            return None
        ones = np.ones(b.shape[-1], dtype=b.dtype)
        coef = ((targets * b) @ ones) / gram
        resid = targets - coef[..., None] * b
    else:  # QR, not normal equations: a random sketch's condition number can reach 1e4, squared 1e8
        q, rr = np.linalg.qr(np.moveaxis(basis, 0, -1))  # (batch, n, r), (batch, r, r)
        diag = np.abs(np.diagonal(rr, axis1=-2, axis2=-1))
        # C's error grows with the sketch's condition (~ eps * cond): above eps^-1/4 the full Jacobian is surer
        if not np.all(diag.min(-1) > np.finfo(basis.dtype).eps ** 0.25 * diag.max(-1)):
            return None
        tm = np.moveaxis(targets, 0, -1)
        resid = np.moveaxis(tm - q @ (np.swapaxes(q, -1, -2) @ tm), -1, 0)
        coef = True
    if not np.all(_sq_norms(resid).sum(0) <= tol2 * scale):
        return None
    return coef
