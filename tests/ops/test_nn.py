"""``autojac.nn.functional`` beyond its op-table rows (``table_nn.py``, run by ``test_table.py``):
cross_entropy with ignore_index and label_smoothing, every target ignored, conv2d with
groups/dilation/padding modes and its errors, the zero rows of normalize, the padding row of embedding.
"""

from __future__ import annotations

import numpy as np
import pytest

from ._oracle import autojac, lib_tensors, rng_for, to_np, torch, vjp

# torch's own notice about even-kernel 'same' padding: not about the code under test
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

def F(T):
    return T.nn.functional


def test_cross_entropy_every_target_ignored_is_nan() -> None:
    for T in (autojac, torch):
        x = T.tensor([[1.0, 2.0], [0.5, 0.1]], dtype=T.float64, requires_grad=True)
        t = T.tensor([-100, -100])
        for kw in ({}, {"label_smoothing": 0.1}, {"weight": T.tensor([1.0, 2.0], dtype=T.float64)}):
            loss = F(T).cross_entropy(x, t, **kw)
            assert np.isnan(loss.item()), (T.__name__, kw)
            assert F(T).cross_entropy(x, t, reduction="sum", **kw).item() == 0.0
            (g,) = T.autograd.grad(F(T).cross_entropy(x, t, reduction="sum", **kw), x)
            np.testing.assert_array_equal(to_np(g), 0.0)


def test_cross_entropy_label_smoothing_formula() -> None:
    """(1 - eps) * nll + eps * mean_k(-log p_k), by hand, with an ignored row and class weights."""
    rng = rng_for("ls")
    x = rng.standard_normal((5, 4))
    t = np.array([0, 3, -100, 1, 3])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    eps = 0.25
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    keep = t != -100
    ts = np.where(keep, t, 0)
    nll = -(w[ts] * logp[np.arange(5), ts])[keep].sum() / w[ts][keep].sum()
    smooth = -(logp * w)[keep].sum() / w[ts][keep].sum() / 4
    want = (1 - eps) * nll + eps * smooth
    got = F(autojac).cross_entropy(autojac.tensor(x), autojac.tensor(t), weight=autojac.tensor(w), label_smoothing=eps)
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)


def test_cross_entropy_and_nll_errors() -> None:
    x = autojac.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F(autojac).cross_entropy(x, autojac.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="batch_size"):
        F(autojac).nll_loss(x, autojac.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        F(autojac).cross_entropy(x, autojac.tensor([0, 1, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F(autojac).mse_loss(x, x, reduction="avg")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F(autojac).binary_cross_entropy(autojac.tensor([1.5]), autojac.tensor([1.0]))
    with pytest.raises(RuntimeError, match="approximate"):
        F(autojac).gelu(x, approximate="erf")


def _conv_error(T, **kw):
    x, w = T.zeros(1, 2, 4, 4), T.zeros(3, 2, 3, 3)
    args = {"input": x, "weight": w, **kw}
    try:
        F(T).conv2d(args.pop("input"), args.pop("weight"), **args)
    except (RuntimeError, ValueError) as e:
        return type(e), str(e)
    return None


@pytest.mark.parametrize("kw", [dict(padding="same", stride=2), dict(weight="big"), dict(groups=2),
                                dict(padding="full"), dict(input="3d_wrong")], ids=str)
def test_conv2d_errors_match_torch(kw: dict) -> None:
    def build(T):
        out = dict(kw)
        if out.get("weight") == "big":
            out["weight"] = T.zeros(3, 2, 5, 5)
        if out.get("input") == "3d_wrong":
            out["input"] = T.zeros(2, 4)
        return out
    got, want = _conv_error(autojac, **build(autojac)), _conv_error(torch, **build(torch))
    assert got is not None and want is not None
    assert got[0] is want[0]
    first = want[1].split(",")[0].split("(")[0]
    assert got[1].startswith(first[:25]), (got[1], want[1])


def test_conv2d_same_padding_keeps_size_and_pads_right() -> None:
    """Even kernels pad one more on the right/bottom, as torch."""
    rng = rng_for("same")
    x, w = rng.standard_normal((1, 1, 5, 6)), rng.standard_normal((1, 1, 2, 4))
    for dil in (1, 2):
        got = to_np(F(autojac).conv2d(autojac.tensor(x), autojac.tensor(w), padding="same", dilation=dil))
        want = to_np(F(torch).conv2d(torch.tensor(x), torch.tensor(w), padding="same", dilation=dil))
        assert got.shape == (1, 1, 5, 6)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_hessian_matches_torch() -> None:
    """A vectorized Hessian (batched create_graph VJPs through all three conv primitives)."""
    rng = rng_for("conv hessian")
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 2, 2))

    def loss(T):
        xt = T.tensor(x)
        return lambda wv: (T.tanh(F(T).conv2d(xt, wv, stride=2, padding=1)) ** 2).sum()

    got = to_np(autojac.func.hessian(loss(autojac))(autojac.tensor(w)))
    want = to_np(torch.func.hessian(loss(torch))(torch.tensor(w)))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    got = to_np(autojac.autograd.functional.hessian(loss(autojac), autojac.tensor(w)))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_conv_matches_a_direct_loop() -> None:
    """An oracle independent of torch: the definition of a strided, dilated, grouped cross-correlation."""
    rng = rng_for("loop")
    x, w, b = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 2, 3)), rng.standard_normal(6)
    s, p, d, g = (2, 1), (1, 2), (2, 1), 2
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    ho = (xp.shape[2] - d[0] * 1 - 1) // s[0] + 1
    wo = (xp.shape[3] - d[1] * 2 - 1) // s[1] + 1
    want = np.zeros((2, 6, ho, wo))
    for n, co, i, j in np.ndindex(*want.shape):
        grp = co // 3
        for ci, ki, kj in np.ndindex(2, 2, 3):
            want[n, co, i, j] += w[co, ci, ki, kj] * xp[n, grp * 2 + ci, i * s[0] + ki * d[0], j * s[1] + kj * d[1]]
        want[n, co, i, j] += b[co]
    got = F(autojac).conv2d(autojac.tensor(x), autojac.tensor(w), autojac.tensor(b), stride=s, padding=p, dilation=d,
                            groups=g)
    np.testing.assert_allclose(to_np(got), want, rtol=1e-12, atol=1e-12)


def test_inplace_activations() -> None:
    for T in (autojac, torch):
        x = T.tensor([-1.0, 0.5, 2.0], dtype=T.float64, requires_grad=True)
        h = x * 2.0
        out = F(T).relu(h, inplace=True)
        assert out is h
        k = x * 1.0
        F(T).leaky_relu(k, 0.1, inplace=True)
        m = x * 3.0
        F(T).elu(m, inplace=True)
        n = x * 0.4
        F(T).hardtanh(n, -0.5, 0.5, inplace=True)
        (g,) = T.autograd.grad((h + k + m + n).sum(), x)
        if T is autojac:
            got = (to_np(h), to_np(k), to_np(m), to_np(n), to_np(g))
        else:
            for a, b in zip(got, (to_np(h), to_np(k), to_np(m), to_np(n), to_np(g))):
                np.testing.assert_allclose(a, b, rtol=1e-12)


def test_embedding_padding_row_gets_no_gradient() -> None:
    w = np.arange(12.0).reshape(4, 3)
    idx = np.array([[1, 3], [3, 0]])
    for T in (autojac, torch):
        wt = T.tensor(w, requires_grad=True)
        (g,) = T.autograd.grad(F(T).embedding(T.tensor(idx), wt, padding_idx=3).sum(), wt)
        np.testing.assert_array_equal(to_np(g), [[1.0] * 3, [1.0] * 3, [0.0] * 3, [0.0] * 3])


def test_one_hot_matches_torch() -> None:
    idx = np.array([[0, 3], [2, 1]])
    for n in (-1, 5):
        got = F(autojac).one_hot(autojac.tensor(idx), n)
        want = F(torch).one_hot(torch.tensor(idx), n)
        assert got.dtype == autojac.int64
        np.testing.assert_array_equal(to_np(got), want.numpy())


FUNCTIONS = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "sigmoid",
             "tanh", "hardtanh", "softmax", "log_softmax", "logsigmoid", "normalize", "mse_loss", "l1_loss",
             "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
             "binary_cross_entropy_with_logits", "kl_div", "linear", "conv1d", "conv2d", "pad", "softmin", "glu",
             "prelu", "layer_norm", "embedding", "conv_transpose2d", "hardswish", "hardsigmoid", "threshold",
             "softsign", "tanhshrink", "one_hot"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functional_signatures_match_torch(name: str) -> None:
    """Same parameter names, order and defaults as torch.nn.functional (where torch's is inspectable)."""
    import inspect

    ours = getattr(autojac.nn.functional, name)
    theirs = getattr(torch.nn.functional, name)
    try:
        want = inspect.signature(theirs)
    except ValueError:  # a C++ builtin: at least the documented first line agrees
        first = (theirs.__doc__ or "").strip().split("\n")[0]
        params = first[first.index("(") + 1:first.index(")")].split(",")
        got = list(inspect.signature(ours).parameters)
        assert [p.split("=")[0].strip() for p in params] == got[:len(params)], first
        return
    got = inspect.signature(ours)
    assert list(got.parameters) == list(want.parameters)
    for p, q in zip(got.parameters.values(), want.parameters.values()):
        assert p.default == q.default, (p, q)


def test_functional_float32_stays_float32() -> None:
    x = autojac.randn(2, 3, 5, 5, requires_grad=True)
    w = autojac.randn(4, 3, 3, 3, requires_grad=True)
    y = F(autojac).gelu(F(autojac).conv2d(x, w, padding=1))
    loss = F(autojac).cross_entropy(y.mean((2, 3)), autojac.tensor([1, 3]))
    gx, gw = autojac.autograd.grad(loss, (x, w))
    assert y.dtype == loss.dtype == gx.dtype == gw.dtype == autojac.float32
    assert lib_tensors(autojac, [np.zeros(1)], "float32")[0].dtype == autojac.float32
    assert vjp(autojac, lambda T, a: F(T).silu(a), [np.zeros(2)], [np.ones(2)], "float32")[0].dtype == np.float32


def test_conv_empty_batch() -> None:
    for T in (autojac, torch):
        x = T.zeros(0, 2, 5, 5, dtype=T.float64, requires_grad=True)
        w = T.ones(3, 2, 3, 3, dtype=T.float64, requires_grad=True)
        y = F(T).conv2d(x, w, padding=1, stride=2)
        gx, gw = T.autograd.grad(y.sum(), (x, w))
        assert tuple(y.shape) == (0, 3, 3, 3) and tuple(gx.shape) == (0, 2, 5, 5)
        np.testing.assert_array_equal(to_np(gw), 0.0)
