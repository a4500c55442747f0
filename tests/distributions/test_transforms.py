"""Transforms vs torch.distributions.transforms, and the automatic JacobianTransform vs every hand-written
log-det and vs ``torch.linalg.slogdet(torch.func.jacrev(f)(x))``; a coupling flow trained through
TransformedDistribution follows torch's trajectory."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as TD

import autojac
import autojac.distributions as AD
from autojac.distributions.transforms import JacobianTransform

RNG = np.random.default_rng(3)
X = RNG.normal(size=(4, 3))
POS = RNG.uniform(0.5, 2.0, (4, 3))
LOC, SCALE = RNG.normal(size=3), RNG.uniform(0.5, 2.0, 3) * np.array([1, -1, 1])


def _np(x):
    return x.detach().numpy()


TRANSFORMS = {  # name -> (build(T, D), input, event_dim of the automatic version)
    "exp": (lambda T, D: D.transforms.ExpTransform(), X, 0),
    "sigmoid": (lambda T, D: D.transforms.SigmoidTransform(), X, 0),
    "tanh": (lambda T, D: D.transforms.TanhTransform(), X * 0.5, 0),
    "power": (lambda T, D: D.transforms.PowerTransform(T.tensor(2.5, dtype=T.float64)), POS, 0),
    "power-neg": (lambda T, D: D.transforms.PowerTransform(T.tensor(-1.5, dtype=T.float64)), POS, 0),
    "affine-scalar": (lambda T, D: D.transforms.AffineTransform(0.5, -2.0), X, 0),
    "affine-vector-event1": (lambda T, D: D.transforms.AffineTransform(T.tensor(LOC), T.tensor(SCALE), event_dim=1),
                             X, 1),
    "compose": (lambda T, D: D.transforms.ComposeTransform([D.transforms.AffineTransform(T.tensor(LOC), 0.7),
                                                           D.transforms.TanhTransform()]), X * 0.3, 0),
    "independent-sigmoid": (lambda T, D: D.transforms.IndependentTransform(D.transforms.SigmoidTransform(), 1), X, 1),
    "stick-breaking": (lambda T, D: D.transforms.StickBreakingTransform(), X, 1),
    "inverse-exp": (lambda T, D: D.transforms.ExpTransform().inv, POS, 0),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_forward_inverse_logdet_vs_torch(name):
    build, x, _ = TRANSFORMS[name]
    ta, tt = build(autojac, AD), build(torch, TD)
    xa = autojac.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ta(xa), tt(xt)
    np.testing.assert_allclose(_np(ya), _np(yt), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(ta.inv(ya)), _np(tt.inv(yt)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(ta.inv(ya)), x, rtol=1e-9, atol=1e-10)
    la, lt = ta.log_abs_det_jacobian(xa, ya), tt.log_abs_det_jacobian(xt, yt)
    assert tuple(la.shape) == tuple(lt.shape)
    np.testing.assert_allclose(_np(la), _np(lt), rtol=1e-11, atol=1e-12)
    assert la.requires_grad == lt.requires_grad
    if lt.requires_grad:  # (an affine map's log-det is constant)
        (ga,) = autojac.autograd.grad(la.sum(), xa)
        (gt,) = torch.autograd.grad(lt.sum(), xt)
        np.testing.assert_allclose(_np(ga), _np(gt), rtol=1e-10, atol=1e-12)
    assert ta.domain.event_dim == tt.domain.event_dim and ta.codomain.event_dim == tt.codomain.event_dim
    assert ta.bijective == tt.bijective
    assert repr(ta) == repr(tt)
    assert tuple(ta.forward_shape((2, 3))) == tuple(tt.forward_shape((2, 3)))


def _square_part(name, t):
    """The square map whose log-det the transform reports (stick breaking: drop the last coordinate)."""
    if name == "stick-breaking":
        return lambda x: t(x)[..., :-1]
    return t


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_automatic_logdet_equals_hand_written(name, mode):
    build, x, event_dim = TRANSFORMS[name]
    t = build(autojac, AD)
    auto = JacobianTransform(_square_part(name, t), event_dim=event_dim, mode=mode)
    xa = autojac.tensor(x, requires_grad=True)
    want = t.log_abs_det_jacobian(xa, t(xa))
    got = auto.log_abs_det_jacobian(xa, None)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12)
    assert auto.last_path == ("diagonal" if event_dim == 0 else "triangular")
    # differentiable: its gradient is the hand-written log-det's gradient
    assert got.requires_grad == want.requires_grad
    if want.requires_grad:
        (g1,) = autojac.autograd.grad(got.sum(), xa)
        (g2,) = autojac.autograd.grad(want.sum(), xa)
        np.testing.assert_allclose(_np(g1), _np(g2), rtol=1e-9, atol=1e-11)


def _planar(T, u, w, b):
    def f(z):
        return z + u * T.tanh(z @ w + b).unsqueeze(-1)
    return f


def _autoregressive(T, A):
    def f(z):  # y_i = z_i * exp(tanh(sum_{j<i} A_ij z_j)) + sin(sum_{j<i} A_ij z_j): lower triangular Jacobian
        h = z @ T.tril(A, -1).T
        return z * T.exp(T.tanh(h)) + T.sin(h)
    return f


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("kind", ["planar", "autoregressive", "dense"])
def test_automatic_logdet_vs_torch_slogdet_of_jacrev(kind, mode):
    rng = np.random.default_rng(11)
    d = 4
    z = rng.normal(size=(6, d))
    u, w, b, A = rng.normal(size=d) * 0.5, rng.normal(size=d), 0.3, rng.normal(size=(d, d)) * 0.5
    M = rng.normal(size=(d, d)) * 0.3 + np.eye(d)

    def make(T):
        if kind == "planar":
            return _planar(T, T.tensor(u), T.tensor(w), b)
        if kind == "autoregressive":
            return _autoregressive(T, T.tensor(A))
        return lambda x: T.tanh(x @ T.tensor(M).T) + 2 * x

    fa, ft = make(autojac), make(torch)
    auto = JacobianTransform(fa, mode=mode)
    got = auto.log_abs_det_jacobian(autojac.tensor(z))
    path = {"autoregressive": "triangular", "planar": "low_rank" if mode == "forward" else "slogdet"}
    assert auto.last_path == path.get(kind, "slogdet")
    want = torch.stack([torch.linalg.slogdet(torch.func.jacrev(ft)(torch.tensor(zi)))[1] for zi in z])
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-11, atol=1e-12)
    if kind == "planar":  # and the planar flow's closed form, log|1 + u . psi|
        psi = (1 - np.tanh(z @ w + b) ** 2)[:, None] * w
        np.testing.assert_allclose(_np(got), np.log(np.abs(1 + psi @ u)), rtol=1e-11)


def _residual(T, U, W, extra=0.0):
    """``z + U tanh(W^T z)`` (rank ``U.shape[1]`` plus identity) ``+ extra * tanh(z)`` (a full-rank diagonal part)."""
    def f(z):
        return z + T.tanh(z @ W) @ U.T + extra * T.tanh(z)
    return f


def _torch_logdet(f, z):
    return torch.linalg.slogdet(torch.func.vmap(torch.func.jacrev(f))(z))[1]


@pytest.mark.parametrize("rank, low_rank", [(1, "auto"), (1, 1), (2, 2), (3, 3), (1, 2)])
def test_identity_plus_low_rank_found_and_differentiable(rank, low_rank):
    rng = np.random.default_rng(36)  # (a seed whose rank-3 sketches are all well conditioned, see _low_rank_logdet)
    d = 6
    z = rng.normal(size=(7, d))
    U0, W0 = rng.normal(size=(d, rank)) * 0.4, rng.normal(size=(d, rank))
    Ua, Wa = autojac.tensor(U0, requires_grad=True), autojac.tensor(W0, requires_grad=True)
    Ut, Wt = torch.tensor(U0, requires_grad=True), torch.tensor(W0, requires_grad=True)
    auto = JacobianTransform(_residual(autojac, Ua, Wa), low_rank=low_rank)
    got = auto.log_abs_det_jacobian(autojac.tensor(z))
    want = _torch_logdet(_residual(torch, Ut, Wt), torch.tensor(z))
    # rank 1 declared as 2: the sketch's first two columns are dependent, so the full Jacobian is taken
    assert auto.last_path == ("slogdet" if low_rank == 2 and rank == 1 else "low_rank")
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-11, atol=1e-12)
    ga = autojac.autograd.grad(got.sum(), [Ua, Wa])
    gt = torch.autograd.grad(want.sum(), [Ut, Wt])
    for a, t in zip(ga, gt):
        np.testing.assert_allclose(_np(a), _np(t), rtol=1e-9, atol=1e-12)
    # float32: to float32's precision (a rank-2 or 3 sketch is often too ill-conditioned there: the full Jacobian)
    auto32 = JacobianTransform(_residual(autojac, autojac.tensor(U0, dtype=autojac.float32),
                                         autojac.tensor(W0, dtype=autojac.float32)), low_rank=low_rank)
    got32 = auto32.log_abs_det_jacobian(autojac.tensor(z, dtype=autojac.float32))
    assert got32.dtype == autojac.float32
    np.testing.assert_allclose(_np(got32), _np(want), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", ["scaling", "diagonal", "rank-2-as-1", "one-sample-full-rank"])
def test_low_rank_check_rejects_higher_rank_jacobians(case):
    """Each ``A omega`` of a scaling ``A = cI`` is an eigenvector: the second probe must catch it, and any
    sample above the rank sends the batch to the full Jacobian, whose answer is exact."""
    rng = np.random.default_rng(22)
    d = 5
    z = rng.normal(size=(9, d))
    U0, W0 = rng.normal(size=(d, 2)) * 0.4, rng.normal(size=(d, 2))
    if case == "one-sample-full-rank":
        z[4] = 5.0  # only there does the relu term switch on

    def make(T):
        if case == "scaling":
            return lambda x: 2.5 * x
        if case == "diagonal":
            return lambda x: x + 0.5 * T.tanh(x)
        if case == "rank-2-as-1":
            return _residual(T, T.tensor(U0), T.tensor(W0))
        return lambda x: _residual(T, T.tensor(U0[:, :1]), T.tensor(W0[:, :1]))(x) + T.relu(x - 4.0) ** 2

    auto = JacobianTransform(make(autojac), low_rank=1)
    got = auto.log_abs_det_jacobian(autojac.tensor(z))
    assert auto.last_path in ("slogdet", "triangular")
    np.testing.assert_allclose(_np(got), _np(_torch_logdet(make(torch), torch.tensor(z))), rtol=1e-11, atol=1e-12)
    if case == "one-sample-full-rank":  # without that sample the batch is rank one
        auto.log_abs_det_jacobian(autojac.tensor(np.delete(z, 4, 0)))
        assert auto.last_path == "low_rank"


@pytest.mark.parametrize("case", ["planar", "residual-rank-1", "scaling", "diagonal", "rank-2", "one-sample-full-rank",
                                  "identity", "singular", "float32"])
def test_rank_one_path_without_grad_vs_torch(case):
    """Grad mode off: the rank-one check and log-det run on arrays (``_rank_one_logdet``); the same answers as
    torch's slogdet of each sample's Jacobian, the same fallbacks to the full Jacobian."""
    rng = np.random.default_rng(41)
    d = 6
    z = rng.normal(size=(11, d))
    u, w = rng.normal(size=d) * 0.5, rng.normal(size=d)
    U0, W0 = rng.normal(size=(d, 2)) * 0.4, rng.normal(size=(d, 2))
    if case == "one-sample-full-rank":
        z[3] = 5.0  # only there does the relu term switch on
    if case == "singular":  # u = -w / |w|^2 and tanh'(0) = 1 at z = 0: 1 + u . psi = 0 on the first sample
        u, z[0] = -w / (w @ w), 0.0

    def make(T, dtype=None):
        if case in ("planar", "singular", "float32"):
            return _planar(T, T.tensor(u, dtype=dtype), T.tensor(w, dtype=dtype), 0.0)
        if case == "residual-rank-1":
            return _residual(T, T.tensor(U0[:, :1]), T.tensor(W0[:, :1]))
        if case == "scaling":
            return lambda x: 2.5 * x
        if case == "diagonal":
            return lambda x: x + 0.5 * T.tanh(x)
        if case == "rank-2":
            return _residual(T, T.tensor(U0), T.tensor(W0))
        if case == "identity":
            return lambda x: x
        return lambda x: _residual(T, T.tensor(U0[:, :1]), T.tensor(W0[:, :1]))(x) + T.relu(x - 4.0) ** 2

    dtype = autojac.float32 if case == "float32" else autojac.float64
    auto = JacobianTransform(make(autojac, dtype), low_rank=1)
    with autojac.no_grad():
        got = auto.log_abs_det_jacobian(autojac.tensor(z, dtype=dtype))
    assert got.dtype == dtype and tuple(got.shape) == (11,) and not got.requires_grad
    found = case in ("planar", "residual-rank-1", "singular", "float32")
    assert (auto.last_path == "low_rank") == found
    xa = autojac.tensor(z, dtype=dtype)
    with autojac.enable_grad():  # grad mode on: the tensor path (_low_rank_logdet)
        tensor_path = JacobianTransform(make(autojac, dtype), low_rank=1).log_abs_det_jacobian(xa)
    got, want, tensor_path = _np(got), _np(_torch_logdet(make(torch), torch.tensor(z))), _np(tensor_path)
    if case == "singular":
        assert want[0] < -25 and got[0] < -25 and tensor_path[0] < -25  # (det ~ 1e-16: rounding decides how small)
        got, want, tensor_path = got[1:], want[1:], tensor_path[1:]
    tol = dict(rtol=1e-5, atol=1e-5) if case == "float32" else dict(rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(tensor_path, got, **tol)


def test_rank_one_path_exact_singular_jacobian_gives_minus_inf():
    w = np.array([1.0, 0.0, 0.0])
    auto = JacobianTransform(lambda x: x - autojac.tensor(w) * (x @ autojac.tensor(w)).unsqueeze(-1), low_rank=1)
    with autojac.no_grad():  # I - w w^T with |w| = 1: a projection, det 0 exactly on every sample
        got = auto.log_abs_det_jacobian(autojac.tensor(np.random.default_rng(5).normal(size=(4, 3))))
    assert auto.last_path == "low_rank" and np.all(_np(got) == -np.inf)


def test_rank_one_second_pass_reruns_f_when_the_tape_cannot_stand_for_it():
    """The second pass replays the first's recorded JVP rules; an ``f`` writing in place makes it run ``f`` again."""
    rng = np.random.default_rng(9)
    u, w, z = rng.normal(size=4) * 0.5, rng.normal(size=4), rng.normal(size=(6, 4))
    calls = []

    def make(T, in_place, ut):
        def f(x):
            calls.append(1)
            y = x * 1.0
            step = ut * T.tanh(x @ T.tensor(w)).unsqueeze(-1)
            return y.add_(step) if in_place else y + step
        return f

    ut = torch.tensor(u, requires_grad=True)
    want = _torch_logdet(make(torch, False, ut), torch.tensor(z))
    (want_grad,) = torch.autograd.grad(want.sum(), ut)
    for in_place, passes in ((False, 1), (True, 2)):
        ua = autojac.tensor(u, requires_grad=True)
        auto = JacobianTransform(make(autojac, in_place, ua))
        with autojac.no_grad():
            auto.log_abs_det_jacobian(autojac.tensor(z))  # (the first batch: the per-sample check)
            calls.clear()
            got = auto.log_abs_det_jacobian(autojac.tensor(z))
        assert auto.last_path == "low_rank" and len(calls) == passes
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-11, atol=1e-12)
        calls.clear()
        got = auto.log_abs_det_jacobian(autojac.tensor(z))  # grad mode on: the tensor path, differentiable
        assert auto.last_path == "low_rank" and len(calls) == passes and got.requires_grad
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-11, atol=1e-12)
        (grad,) = autojac.autograd.grad(got.sum(), ua)
        np.testing.assert_allclose(_np(grad), _np(want_grad), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("low_rank", ["auto", 2])
def test_call_fused_with_first_pass_in_grad_mode_keeps_gradients(low_rank):
    """Grad mode on: the fused call's ``y`` carries ``f``'s graph and the log-det its own; the gradients of a
    loss through both, with respect to the flow's parameters, are torch's."""
    rng = np.random.default_rng(12)
    d, rank = 6, 1 if low_rank == "auto" else 2
    U0, W0 = rng.normal(size=(d, rank)) * 0.4, rng.normal(size=(d, rank))
    Ua, Wa = autojac.tensor(U0, requires_grad=True), autojac.tensor(W0, requires_grad=True)
    Ut, Wt = torch.tensor(U0, requires_grad=True), torch.tensor(W0, requires_grad=True)
    t = JacobianTransform(_residual(autojac, Ua, Wa), low_rank=low_rank)
    ft = _residual(torch, Ut, Wt)
    for step in range(3):
        z = rng.normal(size=(5, d))
        x = autojac.tensor(z)
        y = t(x)
        assert (t._stash is not None) == (step > 0)
        assert y.requires_grad and y.grad_fn is not None
        lad = t.log_abs_det_jacobian(x, y)
        assert t.last_path == "low_rank" and t._fuse
        yt = ft(torch.tensor(z))
        ladt = _torch_logdet(ft, torch.tensor(z))
        np.testing.assert_allclose(_np(y), _np(yt), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(_np(lad), _np(ladt), rtol=1e-11, atol=1e-12)
        ga = autojac.autograd.grad((y ** 2).sum() + lad.sum(), [Ua, Wa])
        gt = torch.autograd.grad((yt ** 2).sum() + ladt.sum(), [Ut, Wt])
        for a, b in zip(ga, gt):
            np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-12)


def _shifted(x):  # (module level: picklable)
    return x + 1.0


def test_call_fused_with_first_pass_when_its_pair_comes_back():
    """``y = t(x)`` then ``log_abs_det_jacobian(x, y)``: once seen, the next call runs the rank-one path's first
    forward-mode pass and the log-det reuses it; any other pair, a modified ``x`` or grad mode on recomputes."""
    rng = np.random.default_rng(8)
    d = 5
    u, w = rng.normal(size=d) * 0.5, rng.normal(size=d)
    fa, ft = (_planar(T, T.tensor(u), T.tensor(w), 0.2) for T in (autojac, torch))
    t = JacobianTransform(fa)
    zs = [rng.normal(size=(7, d)) for _ in range(5)]

    def check(x, y, z):
        np.testing.assert_allclose(_np(y), _np(ft(torch.tensor(z))), rtol=1e-14, atol=1e-15)
        got = t.log_abs_det_jacobian(x, y)
        assert t.last_path == "low_rank" and not got.requires_grad
        np.testing.assert_allclose(_np(got), _np(_torch_logdet(ft, torch.tensor(z))), rtol=1e-11, atol=1e-12)

    with autojac.no_grad():
        x0 = autojac.tensor(zs[0])
        y0 = t(x0)
        assert t._stash is None and not t._fuse
        check(x0, y0, zs[0])
        assert t._fuse  # the pair came back
        x1 = autojac.tensor(zs[1])
        y1 = t(x1)
        assert t._stash is not None and not y1.requires_grad
        check(x1, y1, zs[1])  # from the stash
        assert t._stash is None and t._fuse
        x2 = autojac.tensor(zs[2])
        y2 = t(x2)
        x2.mul_(0.5)  # modified in place: the stash no longer describes x2
        check(x2, fa(x2), zs[2] * 0.5)
        y3 = t(autojac.tensor(zs[3]))
        check(x1, y1, zs[1])  # another pair: recomputed
        x4 = autojac.tensor(zs[4])
        y4 = t(x4)
    check(x4, y4, zs[4])  # grad mode on: the tensor path, the stash dropped
    assert t._stash is None and t._fuse
    with autojac.no_grad():
        t(x4)
        t(x4)  # the last call's pair never came back: no more fused calls
        assert t._stash is None and not t._fuse
    del y2, y3
    kept = JacobianTransform(_shifted)
    kept(autojac.ones(2, 3))
    import pickle
    assert pickle.loads(pickle.dumps(kept))._last_pair is None


def test_low_rank_auto_stops_trying_after_a_miss_and_bad_values():
    t = JacobianTransform(lambda x: x + 0.5 * autojac.tanh(x))
    x = autojac.tensor(np.random.default_rng(23).normal(size=(4, 5)))
    t.log_abs_det_jacobian(x)
    assert t._low_rank_seen_failing and t.last_path == "triangular"
    t._probe_cache = None
    t.log_abs_det_jacobian(x)
    assert t._probe_cache is None  # not tried again
    for bad in (0, -1, True, 1.5, "yes"):
        with pytest.raises(ValueError, match="low_rank must be"):
            JacobianTransform(lambda x: x, low_rank=bad)
    assert JacobianTransform(lambda x: x, low_rank=2).with_cache(1).low_rank == 2


def test_automatic_transform_errors_and_sample_mixing_detection():
    with pytest.raises(ValueError, match="mixes samples"):
        JacobianTransform(lambda x: x + x.mean(0)).log_abs_det_jacobian(autojac.ones(3, 2))
    with pytest.raises(ValueError, match="same shape"):
        JacobianTransform(lambda x: x[..., :1]).log_abs_det_jacobian(autojac.ones(3, 2))
    with pytest.raises(NotImplementedError, match="no inverse"):
        JacobianTransform(lambda x: 2 * x).inv(autojac.ones(2))
    cached = JacobianTransform(lambda x: 2 * x, cache_size=1)
    x = autojac.ones(2)
    assert cached.inv(cached(x)) is x


def _coupling_flow(T, D, params, automatic, mode="forward"):
    """Affine coupling on R^4: y1 = x1, y2 = x2 * exp(s(x1)) + t(x1), s and t one tanh layer each."""
    W1, b1, Ws, Wt = params

    def st(x1):
        h = T.tanh(x1 @ W1 + b1)
        return T.tanh(h @ Ws), h @ Wt

    def f(x):
        x1, x2 = x[..., :2], x[..., 2:]
        s, t = st(x1)
        return T.cat([x1, x2 * T.exp(s) + t], -1)

    def f_inv(y):
        y1, y2 = y[..., :2], y[..., 2:]
        s, t = st(y1)
        return T.cat([y1, (y2 - t) * T.exp(-s)], -1)

    if automatic:
        return JacobianTransform(f, f_inv, event_dim=1, mode=mode)

    class Coupling(D.transforms.Transform):
        domain = D.constraints.real_vector
        codomain = D.constraints.real_vector
        bijective = True

        def _call(self, x):
            return f(x)

        def _inverse(self, y):
            return f_inv(y)

        def log_abs_det_jacobian(self, x, y):
            return st(x[..., :2])[0].sum(-1)

    return Coupling()


@pytest.mark.parametrize("automatic", [False, "forward", "reverse"])
def test_coupling_flow_trained_by_max_likelihood_follows_torch(automatic):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(64, 4)) @ np.array([[1.0, 0.5, 0, 0], [0, 1, 0.3, 0], [0, 0, 1, 0.2], [0.1, 0, 0, 1]])
    init = [rng.normal(size=(2, 8)) * 0.3, np.zeros(8), rng.normal(size=(8, 2)) * 0.3, rng.normal(size=(8, 2)) * 0.3]

    def train(T, D, auto):
        params = [T.tensor(p, requires_grad=True) for p in init]
        base = D.Independent(D.Normal(T.zeros(4, dtype=T.float64), T.ones(4, dtype=T.float64)), 1)
        losses = []
        for _ in range(20):
            flow = D.TransformedDistribution(base, [_coupling_flow(T, D, params, bool(auto), auto or "forward")])
            loss = -flow.log_prob(T.tensor(data)).mean()
            grads = T.autograd.grad(loss, params)
            with T.no_grad():
                for p, g in zip(params, grads):
                    p -= 0.1 * g
            losses.append(loss.item())
        return losses, [p.detach().numpy() for p in params]

    la, pa = train(autojac, AD, automatic)
    lt, pt = train(torch, TD, False)
    np.testing.assert_allclose(la, lt, rtol=1e-11)
    assert la[-1] < la[0] - 0.05
    for a, t in zip(pa, pt):
        np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-11)
