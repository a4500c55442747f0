"""``JacobianTransform``: a transform from any differentiable bijection, its log-det Jacobian automatic.

Beyond PyTorch: ``log_abs_det_jacobian`` differentiates ``f`` itself, so a flow or change of
variables needs no hand-derived determinant. The per-sample Jacobians of a whole batch come
from one batched pass (as many tangents as event elements, each set on every sample at once;
forward mode by default, reverse mode on request), valid because ``f`` maps each sample on its
own (checked once, on the first batch of two or more samples). A Jacobian found triangular
at the point (autoregressive and coupling flows) takes ``sum log|diag|``; any other one a
batched ``slogdet``. ``event_dim=0``
(elementwise maps) needs only the diagonal: one backward pass.

Cost: about ``n`` times one evaluation of ``f`` (``n`` elements per event) plus one small LU per
sample. On ``bench/bench_flows.py`` (10,000 samples, ``n = 8``) that is ~12x a planar flow's
closed-form log-det and ~130x faster than a per-sample ``vmap(slogjacdet(f))`` loop; an affine
coupling flow (triangular, no LU) costs ~3.7x its hand-written log-det.

>>> import autojac
>>> from autojac.distributions.transforms import JacobianTransform
>>> t = JacobianTransform(lambda x: 2 * x + x ** 3, event_dim=1)
>>> x = autojac.tensor([[0.0, 1.0], [1.0, 2.0]])
>>> t.log_abs_det_jacobian(x, t(x))      # log((2 + 3 x1^2)(2 + 3 x2^2)) per row
tensor([2.3026, 4.2485])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._core import forward
from .._core.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .._tensor import Tensor, _wrap
from ..autograd.api import grad as _grad
from ..autograd.forward_ad import make_dual_batched, unpack_batched
from ..func._jacdet import _reaches_other_leaf
from ..linalg import slogdet
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
    """

    bijective = True

    def __init__(self, f: Callable, inv: Callable | None = None, event_dim: int = 1, *, domain=None, codomain=None,
                 triangular: str | bool = "auto", mode: str = "forward", sign=None, cache_size: int = 0) -> None:
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
        self.triangular = triangular
        self.mode = mode
        self._sign = sign
        self._per_sample_checked = False
        self._basis_cache: tuple | None = None
        self.last_path: str | None = None  # "diagonal", "triangular" or "slogdet": how the last log-det was taken

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
                                 triangular=self.triangular, mode=self.mode, sign=self._sign, cache_size=cache_size)

    def _call(self, x):
        return self.f(x)

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
        batch = tuple(x.shape[:x.dim() - nd])
        n = int(np.prod(x.shape[x.dim() - nd:], dtype=np.int64))
        nb = int(np.prod(batch, dtype=np.int64))
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
