"""The convolution kernels' fold paths (``ops/_conv_kernels.py``, ``ops/_gemm.py``) against torch 2.13.

The kernels broadcast leading batch dims over both operands, sort them into dims both vary along
(a stack), dims one varies along (folded into that operand's side of the GEMM), and run the rows
in blocks, with full-width windows where strides allow. Each test here drives one of those paths
directly on NumPy arrays (float64, the reference a loop of torch convolutions over the broadcast
batch) or through ``func.vmap`` against ``torch.func.vmap``: per-example weights, nested vmaps
over input and weights (disjoint batch dims), shared and own dims mixed; stride, dilation,
asymmetric padding and groups in 1d, 2d and 3d; tiny blocks; inf and nan inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from _tol import assert_close
from autojac.ops import _conv_kernels as K
from autojac.ops._gemm import batch_roles, folded_matmul

from ._oracle import autojac, torch

TF = torch.nn.functional

# (d, kernel, stride, dilation, padding (lo, hi) per dim, groups, channels in/out, spatial size)
GEOMETRIES = [
    (1, (3,), (1,), (1,), ((1, 2),), 1, (2, 3), (9,)),
    (1, (2,), (2,), (3,), ((0, 1),), 2, (4, 2), (11,)),
    (2, (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0)), 1, (3, 4), (8, 9)),
    (2, (3, 2), (1, 1), (2, 1), ((1, 0), (2, 1)), 2, (4, 6), (7, 6)),
    (2, (2, 3), (2, 1), (1, 2), ((1, 1), (0, 2)), 1, (2, 3), (9, 8)),
    (2, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1)), 3, (3, 3), (7, 7)),
    (3, (2, 2, 2), (1, 1, 1), (1, 1, 1), ((0, 1), (1, 0), (0, 0)), 1, (2, 2), (4, 5, 6)),
    (3, (2, 1, 3), (1, 2, 1), (2, 1, 1), ((1, 1), (0, 0), (2, 0)), 2, (2, 4), (5, 5, 6)),
]

# (x's batch dims, w's batch dims): none, x only (vmap over inputs), w only, shared, disjoint, mixed
BATCHES = [((), ()), ((3,), ()), ((), (2,)), ((2,), (2,)), ((3, 1), (1, 2)), ((2, 3, 1), (2, 1, 2)),
           ((1, 3), (2, 1, 1))]


def _setup(geom, bx, bw, seed=0, n=2):
    d, kernel, stride, dilation, padding, groups, (ci, co), size = geom
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(bx + (n, ci) + size)
    w = rng.standard_normal(bw + (co, ci // groups) + kernel)
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, w, params


def _torch_conv(x, w, stride, padding, dilation, groups):
    d = w.ndim - 2
    xt = TF.pad(x, [v for lo_hi in reversed(padding) for v in lo_hi])
    return getattr(TF, f"conv{d}d")(xt, w, stride=stride, dilation=dilation, groups=groups)


def _expanded(a, shape, nb):
    """``a`` broadcast over batch ``shape`` and flattened to one batch dim: a torch leaf, each element its own copy."""
    a = np.broadcast_to(a, shape + a.shape[nb:])
    return torch.tensor(a.reshape((-1,) + a.shape[len(shape):]), requires_grad=True)


def _references(x, w, gy, params):
    """torch's forward, input gradient (cotangent ``gy``) and weight gradient over the broadcast batch:
    one ``torch.func.vmap`` over every batch element, each operand expanded to its own copies."""
    d = len(params["stride"])
    nbx, nbw, nbg = x.ndim - d - 2, w.ndim - d - 2, gy.ndim - d - 2
    bx, bw, bg = x.shape[:nbx], w.shape[:nbw], gy.shape[:nbg]
    every = np.broadcast_shapes(bx, bw, bg)
    conv = torch.func.vmap(lambda xi, wi: _torch_conv(xi, wi, **params))
    X, W = _expanded(x, every, nbx), _expanded(w, every, nbw)
    y = conv(X, W)
    dx, dw = torch.autograd.grad(y, (X, W), _expanded(gy, every, nbg).detach())
    return (_restrict(y.detach().numpy(), every, np.broadcast_shapes(bx, bw)),
            _restrict(dx.numpy(), every, np.broadcast_shapes(bg, bw)),
            _restrict(dw.numpy(), every, np.broadcast_shapes(bx, bg)))


def _restrict(a, every, batch):
    """Flat-batched ``a`` (over batch ``every``) at the batch ``batch`` a kernel gives (dims it lacks: index 0)."""
    b = (1,) * (len(every) - len(batch)) + tuple(batch)
    a = a.reshape(every + a.shape[1:])
    return a[tuple(slice(0, 1) if k == 1 else slice(None) for k in b)].reshape(tuple(batch) + a.shape[len(every):])


def _check_all(x, w, params, gy_batch=None, seed=1):
    d = len(params["stride"])
    y = K.conv_forward(x, w, None, **params)
    gb = y.shape[:-d - 2] if gy_batch is None else gy_batch
    gy = np.random.default_rng(seed).standard_normal(gb + y.shape[-d - 2:])
    ry, rdx, rdw = _references(x, w, gy, params)
    assert y.flags.c_contiguous
    assert_close(y, ry)
    size = x.shape[-d:]
    assert_close(K.conv_input_grad(gy, w, size, **params), rdx)
    assert_close(K.conv_weight_grad(x, gy, w.shape[-d:], **params), rdw)


@pytest.mark.parametrize("geom", GEOMETRIES, ids=lambda g: f"{g[0]}d-k{g[1]}-s{g[2]}-d{g[3]}-g{g[5]}")
@pytest.mark.parametrize("bx,bw", BATCHES, ids=lambda b: "x".join(map(str, b)) or "-")
def test_kernels_match_torch_over_broadcast_batches(geom, bx, bw):
    x, w, params = _setup(geom, bx, bw)
    _check_all(x, w, params)


@pytest.mark.parametrize("chunk,waste", [(1, 1.5), (300, 100.0), (1 << 21, 100.0)],
                         ids=["one-row-blocks", "small-blocks-wide-windows", "one-block-wide-windows"])
@pytest.mark.parametrize("geom", [GEOMETRIES[2], GEOMETRIES[3], GEOMETRIES[6]], ids=["2d", "2d-dil-pad-groups", "3d"])
def test_blocks_and_full_width_windows(monkeypatch, chunk, waste, geom):
    """Rows cut into many blocks (down to one row each, the block index running over several batch
    dims) and windows over the full padded width even where they waste much: the same numbers."""
    monkeypatch.setattr(K, "_CHUNK_BYTES", chunk)
    monkeypatch.setattr(K, "_MAX_WASTE", waste)
    for bx, bw in [((3, 2), ()), ((2, 1), (1, 3)), ((2, 3), (2, 1))]:
        x, w, params = _setup(geom, bx, bw, n=3)
        _check_all(x, w, params, gy_batch=np.broadcast_shapes(bx, bw))


def test_cotangent_with_batch_dims_of_its_own():
    """A cotangent batched where neither ``x`` nor ``w`` is (vmap over the output basis, as the NTK does)."""
    x, w, params = _setup(GEOMETRIES[3], (3,), ())
    _check_all(x, w, params, gy_batch=(4, 1))


def test_non_contiguous_operands():
    x, w, params = _setup(GEOMETRIES[4], (3, 2), (1, 2))
    x = np.swapaxes(np.swapaxes(x, 0, 1).copy(), 0, 1)  # batch dims in reverse memory order
    w = np.asfortranarray(w)
    _check_all(x, w, params)


@pytest.mark.parametrize("where", ["x", "w"])
def test_inf_and_nan_operands(where):
    """Non-finite values: the full-width windows' garbage positions must not smear them (inf * 0)."""
    x, w, params = _setup(GEOMETRIES[2], (2,), ())
    if where == "x":
        x[0, 1, 0, 2, 3] = np.inf
        x[1, 0, 1, 4, 0] = np.nan
    else:
        w[1, 0, 0, 2] = -np.inf
    _check_all(x, w, params)


@pytest.mark.parametrize("bx,n", [((), 0), ((0,), 2), ((3, 0), 1)], ids=["no-samples", "empty-batch", "empty-inner"])
def test_empty_operands(bx, n):
    x, w, params = _setup(GEOMETRIES[3], bx, (), n=n)
    d = len(params["stride"])
    y = K.conv_forward(x, w, None, **params)
    assert y.shape[:-d] == bx + (n, w.shape[0])
    gy = np.ones(y.shape)
    assert K.conv_input_grad(gy, w, x.shape[-d:], **params).shape == x.shape
    gw = K.conv_weight_grad(x, gy, w.shape[-d:], **params)
    assert gw.shape == bx + w.shape and not gw.any()


def test_float32_and_values_of_one_geometry():
    """float32 operands give float32 results at float32 tolerance."""
    x, w, params = _setup(GEOMETRIES[3], (2, 1), (1, 2))
    x, w = x.astype(np.float32), w.astype(np.float32)
    y = K.conv_forward(x, w, None, **params)
    assert y.dtype == np.float32
    ry = torch.func.vmap(lambda xi, wi: _torch_conv(xi, wi, **params))(
        *(torch.tensor(np.broadcast_to(a, (2, 2) + a.shape[2:]).reshape((4,) + a.shape[2:])) for a in (x, w)))
    assert_close(y, ry.numpy().reshape(y.shape))


# --------------------------------------------------------------------------- through vmap, against torch.func
def _both(fn, *arrays):
    return [fn(T, *[T.tensor(a) for a in arrays]) for T in (autojac, torch)]


def _vals(t):
    return t.detach().numpy()


@pytest.mark.parametrize("d,kw", [(1, dict(stride=2, padding=1, dilation=2, groups=2)),
                                  (2, dict(stride=1, padding=(1, 2), dilation=(2, 1), groups=2)),
                                  (3, dict(stride=(1, 2, 1), padding=1, groups=1))])
def test_vmap_per_example_weights_shared_and_disjoint(d, kw):
    """Per-example weights (both operands batched on one level), and nested vmaps over the inputs
    and over the weights (disjoint batch dims, one GEMM), against torch.func.vmap; float64."""
    rng = np.random.default_rng(d)
    x = rng.standard_normal((3, 2, 4) + (7,) * d)
    w = rng.standard_normal((5, 6, 4 // kw.get("groups", 1)) + (3,) * d)
    b = rng.standard_normal((5, 6))

    def conv(T):
        return getattr(T.nn.functional, f"conv{d}d")

    def shared(T, x, w, b):
        return T.func.vmap(lambda xi, wi, bi: conv(T)(xi, wi, bi, **kw))(x[:1].expand(5, *x.shape[1:]), w, b)

    def disjoint(T, x, w, b):
        inner = T.func.vmap(lambda xi, wi: conv(T)(xi, wi, **kw), in_dims=(0, None))
        return T.func.vmap(inner, in_dims=(None, 0))(x, w)

    def grads(T, x, w, b):  # per-example weight gradients of a loss over a batch of inputs
        def loss(wi, bi):
            return (conv(T)(x[0], wi, bi, **kw) ** 2).sum()
        return T.func.vmap(T.func.grad(loss, argnums=(0, 1)))(w, b)

    for scenario in (shared, disjoint):
        ours, theirs = _both(scenario, x, w, b)
        assert_close(_vals(ours), _vals(theirs))
    ours, theirs = _both(grads, x, w, b)
    for o, t in zip(ours, theirs):
        assert_close(_vals(o), _vals(t))


def test_vmap_conv_transpose_per_example_weights():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((4, 2, 6, 5, 5)), rng.standard_normal((4, 6, 2, 3, 2))

    def f(T, x, w):
        return T.func.vmap(lambda xi, wi: T.nn.functional.conv_transpose2d(xi, wi, stride=2, padding=1,
                                                                           output_padding=1, groups=2))(x, w)

    ours, theirs = _both(f, x, w)
    assert_close(_vals(ours), _vals(theirs))


# --------------------------------------------------------------------------- the GEMM fold
def test_batch_roles():
    r = batch_roles((2, 1, 3, 1), (2, 4, 1, 1))
    assert (r.shape, r.shared, r.a_only, r.b_only) == ((2, 4, 3, 1), [0], [2], [1])
    r = batch_roles((3,), (2, 1, 1))
    assert (r.shape, r.shared, r.a_only, r.b_only) == ((2, 1, 3), [], [2], [0])
    with pytest.raises(ValueError, match="do not broadcast"):
        batch_roles((2, 3), (2,))


@pytest.mark.parametrize("ba,bb", [((4,), ()), ((), (4,)), ((3, 1), (1, 4)), ((2, 3, 1), (2, 1, 4)), ((2,), (2,)),
                                   ((1, 3), (2, 1, 1)), ((5, 1, 2), (2,)), ((0, 1), (1, 3)), ((2, 0), (2, 1))])
@pytest.mark.parametrize("mkn", [(3, 4, 2), (1, 5, 3), (2, 1, 3), (3, 0, 2)])
def test_folded_matmul_is_matmul(ba, bb, mkn):
    m, k, n = mkn
    rng = np.random.default_rng(sum(ba) + 7 * sum(bb) + m)  # empty batches too: 0 broadcasts against 1
    a, b = rng.standard_normal(ba + (m, k)), rng.standard_normal(bb + (k, n))
    out = folded_matmul(a, b)
    assert out.flags.c_contiguous
    assert_close(out, torch.matmul(torch.tensor(a), torch.tensor(b)).numpy())


def test_vmap_matmul_disjoint_and_mixed_batch_dims():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 3, 5)), rng.standard_normal((4, 5, 2))

    def disjoint(T, a, b):
        inner = T.func.vmap(T.matmul, in_dims=(0, None))
        return T.func.vmap(inner, in_dims=(None, 0))(a, b)

    def mixed(T, a, b):
        inner = T.func.vmap(T.matmul, in_dims=(0, None))
        return T.func.vmap(inner, in_dims=(0, 0))(a.reshape(2, 3, 3, 5), b[:2])

    for f in (disjoint, mixed):
        ours, theirs = _both(f, a, b)
        assert_close(_vals(ours), _vals(theirs))


# --------------------------------------------------------------------------- tangents under vmap, pushed once
def test_vmap_of_jvp_pushes_each_tangent_once(monkeypatch):
    """A forward-mode level opened inside vmap (the NTK's ``vmap(jvp)``) pushes an op's tangent once,
    on the batched output, not a second time on the physical one inside the batching rule; a
    ``jvp`` around ``vmap`` still gets its tangent from the physical op. Values against torch.func."""
    from autojac.ops import conv as conv_module

    calls = []
    forward = conv_module._conv.forward
    monkeypatch.setattr(conv_module._conv, "forward", lambda *a, **k: calls.append(a[0].shape) or forward(*a, **k))
    rng = np.random.default_rng(11)
    x, w, tw = (rng.standard_normal(s) for s in ((4, 2, 3, 6, 6), (5, 3, 3, 3), (5, 3, 3, 3)))

    def inner(T, x, w, tw):  # per-example jvp in the weights
        return T.func.vmap(lambda xi: T.func.jvp(lambda wi: T.nn.functional.conv2d(xi, wi), (w,), (tw,))[1])(x)

    def outer(T, x, w, tw):  # jvp of a vmapped function
        return T.func.jvp(lambda wi: T.func.vmap(lambda xi: T.nn.functional.conv2d(xi, wi))(x), (w,), (tw,))[1]

    for f in (inner, outer):
        calls.clear()
        ours, theirs = _both(f, x, w, tw)
        assert_close(_vals(ours), _vals(theirs))
        if f is inner:
            assert len(calls) == 2, calls  # the primal and its tangent


def test_scratch_reused_across_calls_and_threads():
    """The kernels' scratch arrays are kept per thread for the next call: calls of other shapes in
    between, and the same calls from several threads at once, give the same numbers."""
    from concurrent.futures import ThreadPoolExecutor

    cases = [_setup(geom, bx, bw, seed=i) for i, (geom, (bx, bw)) in
             enumerate(zip(GEOMETRIES, BATCHES + BATCHES[:1]))]

    def run(case):
        x, w, params = case
        d = len(params["stride"])
        y = K.conv_forward(x, w, None, **params)
        return y, K.conv_input_grad(y, w, x.shape[-d:], **params), K.conv_weight_grad(x, y, w.shape[-d:], **params)

    alone = [run(c) for c in cases]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(run, cases * 3))
    for i, got in enumerate(together):
        for a, b in zip(got, alone[i % len(cases)]):
            assert_close(a, b)
