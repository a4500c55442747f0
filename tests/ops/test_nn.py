"""``autojac.nn.functional`` (``ops/nn/``, ``ops/conv.py``) against PyTorch 2.13 and float64 finite
differences: activations, losses, linear/layer_norm/embedding, convolutions.

The table runs the op-table checks (see ``_table.py``); kinks stay out of finite-difference reach
(domain ``away``), and their values at the kink are ``at`` lines checked against torch only. Then
edge cases: cross_entropy with ignore_index and label_smoothing, every target ignored, conv2d with
groups/dilation/padding modes and its errors, the zero rows of normalize, the padding row of embedding.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import _table as tb
from ._oracle import autojac, lib_tensors, rng_for, to_np, torch, vjp

# torch's own notices about its kl_div 'mean' and even-kernel 'same' padding: not about the code under test
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning",
                                        "ignore:Using padding='same':UserWarning")

CASES: list = []
op = lambda *a, **kw: tb.op(CASES, *a, **kw)  # noqa: E731
at = lambda *a, **kw: tb.at(CASES, *a, **kw)  # noqa: E731


def F(T):
    return T.nn.functional


U = [((),), ((5,),), ((2, 3),)]
M = [((3, 4),)]

# --------------------------------------------------------------------------- activations
op("relu", lambda T, x: F(T).relu(x), *U, domain="away")
op("relu6", lambda T, x: F(T).relu6(x * 4.0), ((2, 3),), domain="away")
op("leaky_relu", lambda T, x: F(T).leaky_relu(x), *U, domain="away")
op("leaky_relu_slope", lambda T, x: F(T).leaky_relu(x, 0.2), ((2, 3),), domain="away")
op("hardtanh", lambda T, x: F(T).hardtanh(x * 2.0), ((2, 3),), domain="away")
op("hardtanh_bounds", lambda T, x: F(T).hardtanh(x, -0.5, 0.75), ((2, 3),), domain="away")
op("elu", lambda T, x: F(T).elu(x), *U, domain="away")
op("elu_alpha", lambda T, x: F(T).elu(x, alpha=0.5), ((2, 3),), domain="away")
op("selu", lambda T, x: F(T).selu(x), ((2, 3),), domain="away")
op("torch.selu", lambda T, x: T.selu(x), ((5,),), domain="away")
op("celu", lambda T, x: F(T).celu(x, alpha=2.0), ((2, 3),), domain="away")
op("torch.celu", lambda T, x: T.celu(x), ((5,),), domain="away")
op("gelu", lambda T, x: F(T).gelu(x), *U)
op("gelu_wide", lambda T, x: F(T).gelu(x * 4.0), ((2, 3),))
op("gelu_tanh", lambda T, x: F(T).gelu(x, approximate="tanh"), *U)
op("gelu_tanh_wide", lambda T, x: F(T).gelu(x * 4.0, approximate="tanh"), ((2, 3),))
op("silu", lambda T, x: F(T).silu(x), *U)
op("mish", lambda T, x: F(T).mish(x), *U)
op("mish_wide", lambda T, x: F(T).mish(x * 10.0), ((2, 3),))
op("logsigmoid", lambda T, x: F(T).logsigmoid(x), *U)
op("logsigmoid_wide", lambda T, x: F(T).logsigmoid(x * 50.0), ((2, 3),))
op("F.softplus", lambda T, x: F(T).softplus(x, beta=0.5), ((2, 3),))
op("F.sigmoid_tanh", lambda T, x: F(T).sigmoid(x) * F(T).tanh(x), ((2, 3),))
op("softsign", lambda T, x: F(T).softsign(x), ((2, 3),), domain="away")
op("tanhshrink", lambda T, x: F(T).tanhshrink(x), ((2, 3),))
op("threshold", lambda T, x: F(T).threshold(x, 0.25, -1.0), ((2, 3),), domain="away")
op("torch.threshold", lambda T, x: T.threshold(x, 0.5, 2.0), ((5,),), domain="away")
op("hardshrink", lambda T, x: F(T).hardshrink(x), ((2, 3),), domain="away")
op("hardshrink_method", lambda T, x: x.hardshrink(0.25) + T.hardshrink(x, 1.0), ((2, 3),), domain="away")
op("softshrink", lambda T, x: F(T).softshrink(x, 0.25), ((2, 3),), domain="away")
# torch: 1/6 as a float32 constant in hardsigmoid's backward (3e-8 relative), and no double backward
op("hardsigmoid", lambda T, x: F(T).hardsigmoid(x * 2.0), ((2, 3),), domain="away", rtol=1e-7, d2=False)
op("hardswish", lambda T, x: F(T).hardswish(x * 2.0), ((2, 3),), domain="away")
op("glu", lambda T, x: F(T).glu(x), ((2, 4),), names=False)  # torch: one fused node; ours: split and mul
op("glu_dim0", lambda T, x: F(T).glu(x, 0), ((4, 3),), names=False)
op("prelu", lambda T, x, w: F(T).prelu(x, w), ((2, 3, 4), (3,)), ((2, 3), (1,)), domain=("away", "real"))
op("torch.prelu", lambda T, x, w: T.prelu(x, w) + x.prelu(w), ((4,), (1,)), domain=("away", "real"))
op("softmin", lambda T, x: F(T).softmin(x, dim=1), *M)
op("F.softmax", lambda T, x: F(T).softmax(x, dim=-1), *M)
op("F.log_softmax", lambda T, x: F(T).log_softmax(x, 0), *M)
op("normalize", lambda T, x: F(T).normalize(x), *M, ((2, 3, 4),))
op("normalize_p1", lambda T, x: F(T).normalize(x, p=1.0, dim=0), *M, domain="nz")
op("normalize_last", lambda T, x: F(T).normalize(x, dim=-1), ((2, 3, 4),))

# --------------------------------------------------------------------------- losses
REDS = ("mean", "sum", "none")
for red in REDS:
    op(f"mse_loss_{red}", lambda T, a, b, r=red: F(T).mse_loss(a, b, reduction=r), ((3, 4), (3, 4)))
    op(f"l1_loss_{red}", lambda T, a, b, r=red: F(T).l1_loss(a, b, reduction=r), ((3, 4), (3, 4)))
    op(f"smooth_l1_loss_{red}", lambda T, a, b, r=red: F(T).smooth_l1_loss(a, b, reduction=r), ((3, 4), (3, 4)))
    op(f"huber_loss_{red}", lambda T, a, b, r=red: F(T).huber_loss(a, b, reduction=r, delta=0.5), ((3, 4), (3, 4)))
op("mse_loss_0d", lambda T, a, b: F(T).mse_loss(a, b), ((), ()))
for red in REDS:
    for loss in ("mse_loss", "l1_loss", "huber_loss"):
        op(f"{loss}_weight_{red}", lambda T, a, b, w, r=red, f=loss: getattr(F(T), f)(a, b, weight=w, reduction=r),
           ((3, 4), (3, 4), (3, 4)), domain=("real", "real", "pos"))
op("smooth_l1_loss_beta", lambda T, a, b: F(T).smooth_l1_loss(a, b, beta=0.5), ((3, 4), (3, 4)))
op("smooth_l1_loss_beta0", lambda T, a, b: F(T).smooth_l1_loss(a, b, beta=0.0), ((3, 4), (3, 4)))
op("mse_loss_legacy", lambda T, a, b: F(T).mse_loss(a, b, size_average=False), ((3, 4), (3, 4)))

IDX = np.array([0, 2, 4, 1])
IDX_IGN = np.array([0, -100, 4, 1])
IDX_IGN2 = np.array([2, 2, 4, 1])
W5 = np.array([0.5, 1.0, 2.0, 0.3, 1.5])
IDX4 = np.array([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])  # (2, 2, 2) for a (2, 3, 2, 2) input
IDX3 = np.array([[0, 2, 1], [2, 2, 0]])  # (2, 3) for a (2, 3, 3) input


def ce(**kw):
    def fn(T, x, idx=IDX):
        kw2 = {k: (T.tensor(v, dtype=x.dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        return F(T).cross_entropy(x, T.tensor(idx), **kw2)
    return fn


for red in REDS:
    op(f"cross_entropy_{red}", ce(reduction=red), ((4, 5),))
    op(f"cross_entropy_smooth_{red}", ce(reduction=red, label_smoothing=0.1), ((4, 5),))
    op(f"cross_entropy_weight_{red}", ce(reduction=red, weight=W5), ((4, 5),))
    op(f"cross_entropy_all_{red}", ce(reduction=red, weight=W5, label_smoothing=0.2, ignore_index=2),
       ((4, 5),))
op("cross_entropy_ignore", lambda T, x: ce()(T, x, IDX_IGN), ((4, 5),))
op("cross_entropy_ignore_smooth", lambda T, x: ce(label_smoothing=0.3)(T, x, IDX_IGN), ((4, 5),))
op("cross_entropy_ignore2_weight", lambda T, x: ce(weight=W5, ignore_index=2)(T, x, IDX_IGN2), ((4, 5),))
op("cross_entropy_4d", lambda T, x: F(T).cross_entropy(x, T.tensor(IDX4)), ((2, 3, 2, 2),))
op("cross_entropy_4d_smooth_none", lambda T, x: F(T).cross_entropy(x, T.tensor(IDX4), label_smoothing=0.1,
                                                                       reduction="none"), ((2, 3, 2, 2),))
op("cross_entropy_unbatched", lambda T, x: F(T).cross_entropy(x, T.tensor(3)), ((5,),))


def ce_prob(**kw):
    def fn(T, x, p):
        kw2 = {k: (T.tensor(v, dtype=x.dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        return F(T).cross_entropy(x, T.softmax(p, 1), **kw2)
    return fn


for red in REDS:
    op(f"cross_entropy_prob_{red}", ce_prob(reduction=red), ((4, 5), (4, 5)))
op("cross_entropy_prob_weight_smooth", ce_prob(weight=W5, label_smoothing=0.2), ((4, 5), (4, 5)))
op("cross_entropy_prob_4d", lambda T, x, p: F(T).cross_entropy(x, T.softmax(p, 1), reduction="sum"),
   ((2, 3, 2, 2), (2, 3, 2, 2)))


def nll(**kw):
    def fn(T, x, idx=IDX):
        kw2 = {k: (T.tensor(v, dtype=x.dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        return F(T).nll_loss(F(T).log_softmax(x, 1), T.tensor(idx), **kw2)
    return fn


for red in REDS:
    op(f"nll_loss_{red}", nll(reduction=red), ((4, 5),))
    op(f"nll_loss_weight_{red}", nll(reduction=red, weight=W5), ((4, 5),))
op("nll_loss_raw", lambda T, x: F(T).nll_loss(x, T.tensor(IDX)), ((4, 5),))
op("nll_loss_ignore", lambda T, x: nll(weight=W5)(T, x, IDX_IGN), ((4, 5),))
op("nll_loss_4d", lambda T, x: F(T).nll_loss(x, T.tensor(IDX4), reduction="sum"), ((2, 3, 2, 2),))
op("nll_loss_3d", lambda T, x: F(T).nll_loss(x, T.tensor(IDX3)), ((2, 3, 3),))
op("nll_loss_3d_none", lambda T, x: F(T).nll_loss(x, T.tensor(IDX3), reduction="none"), ((2, 3, 3),))

for red in REDS:
    op(f"bce_{red}", lambda T, x, y, r=red: F(T).binary_cross_entropy(x, y, reduction=r), ((3, 4), (3, 4)),
       domain="prob")
    op(f"bce_logits_{red}", lambda T, x, y, r=red: F(T).binary_cross_entropy_with_logits(x, y, reduction=r),
       ((3, 4), (3, 4)), domain=("real", "prob"))
op("bce_weight", lambda T, x, y: F(T).binary_cross_entropy(x, y, weight=T.tensor(W5[:4], dtype=x.dtype)),
   ((3, 4), (3, 4)), domain="prob")
op("bce_0d", lambda T, x, y: F(T).binary_cross_entropy(x, y), ((), ()), domain="prob")
op("bce_logits_weights", lambda T, x, y: F(T).binary_cross_entropy_with_logits(  # torch: no gradient for the weights
    x, y, weight=T.tensor(W5[:4], dtype=x.dtype), pos_weight=T.tensor(W5[1:], dtype=x.dtype)), ((3, 4), (3, 4)),
   domain=("real", "prob"))
op("bce_logits_wide", lambda T, x, y: F(T).binary_cross_entropy_with_logits(x * 30.0, y, reduction="sum"),
   ((3, 4), (3, 4)), domain=("real", "prob"))
for red in REDS + ("batchmean",):
    op(f"kl_div_{red}", lambda T, x, y, r=red: F(T).kl_div(F(T).log_softmax(x, 1), T.softmax(y, 1), reduction=r),
       ((3, 4), (3, 4)))
    op(f"kl_div_log_target_{red}", lambda T, x, y, r=red: F(T).kl_div(F(T).log_softmax(x, 1),
                                                                       F(T).log_softmax(y, 1), reduction=r,
                                                                       log_target=True), ((3, 4), (3, 4)))

# --------------------------------------------------------------------------- linear layers
op("linear", lambda T, x, w, b: F(T).linear(x, w, b), ((4, 3), (5, 3), (5,)), ((3,), (5, 3), (5,)),
   ((2, 4, 3), (5, 3), (5,)))
op("linear_nobias", lambda T, x, w: F(T).linear(x, w), ((4, 3), (5, 3)), ((3,), (5, 3)), ((2, 4, 3), (5, 3)))
op("layer_norm", lambda T, x, w, b: F(T).layer_norm(x, (4,), w, b), ((2, 3, 4), (4,), (4,)))
op("layer_norm_2d", lambda T, x: F(T).layer_norm(x, [3, 4], eps=1e-3), ((2, 3, 4),))
op("torch.layer_norm", lambda T, x, w: T.layer_norm(x, (4,), w), ((3, 4), (4,)))
EMB = np.array([[0, 2], [4, 2]])
op("embedding", lambda T, w: F(T).embedding(T.tensor(EMB), w), ((5, 3),))
# the padding row gets no gradient (its value still depends on the weight, so no finite differences), and
# torch's forward mode ignores padding_idx: our JVP is the transpose of our VJP instead
op("embedding_padding", lambda T, w: F(T).embedding(T.tensor(EMB), w, padding_idx=2) * 2.0, ((5, 3),),
   names=False, fd=False, torch_fwd=False)

# --------------------------------------------------------------------------- convolutions
C2 = dict(names=True)
op("conv1d", lambda T, x, w, b: F(T).conv1d(x, w, b), ((2, 3, 7), (4, 3, 3), (4,)))
op("conv1d_stride_pad", lambda T, x, w: F(T).conv1d(x, w, stride=2, padding=2), ((2, 2, 7), (3, 2, 3)))
op("conv1d_same_even", lambda T, x, w: F(T).conv1d(x, w, padding="same", dilation=3), ((1, 2, 8), (2, 2, 2)))
op("conv1d_unbatched", lambda T, x, w: F(T).conv1d(x, w, stride=3), ((2, 9), (3, 2, 2)))
op("conv2d", lambda T, x, w, b: F(T).conv2d(x, w, b), ((2, 3, 5, 4), (2, 3, 3, 2), (2,)))
op("conv2d_stride", lambda T, x, w: F(T).conv2d(x, w, stride=(2, 1)), ((2, 2, 5, 5), (3, 2, 3, 3)))
op("conv2d_padding", lambda T, x, w, b: F(T).conv2d(x, w, b, padding=(1, 2)), ((1, 2, 4, 4), (2, 2, 3, 3), (2,)))
op("conv2d_dilation", lambda T, x, w: F(T).conv2d(x, w, dilation=2, padding=1), ((1, 2, 6, 5), (2, 2, 2, 3)))
op("conv2d_groups", lambda T, x, w, b: F(T).conv2d(x, w, b, groups=2), ((2, 4, 4, 4), (6, 2, 3, 3), (6,)))
op("conv2d_depthwise", lambda T, x, w: F(T).conv2d(x, w, groups=3, padding="same"), ((1, 3, 5, 5), (3, 1, 3, 3)))
op("conv2d_same", lambda T, x, w: F(T).conv2d(x, w, padding="same", dilation=(2, 1)), ((1, 2, 5, 5), (2, 2, 2, 3)))
op("conv2d_valid", lambda T, x, w: F(T).conv2d(x, w, padding="valid", stride=2), ((1, 2, 5, 6), (2, 2, 3, 3)))
op("conv2d_all", lambda T, x, w, b: F(T).conv2d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
   ((2, 4, 7, 6), (4, 2, 3, 2), (4,)))
op("conv2d_unbatched", lambda T, x, w: F(T).conv2d(x, w), ((2, 4, 4), (3, 2, 2, 2)))
op("torch.conv2d", lambda T, x, w: T.conv2d(x, w, None, 1, 1), ((1, 1, 4, 4), (1, 1, 3, 3)))
op("conv3d", lambda T, x, w, b: F(T).conv3d(x, w, b, padding=1, stride=(1, 2, 1)), ((1, 2, 3, 4, 3), (2, 2, 2, 2, 2),
                                                                                   (2,)))
op("conv_transpose1d", lambda T, x, w, b: F(T).conv_transpose1d(x, w, b, stride=2, output_padding=1),
   ((2, 3, 4), (3, 2, 3), (2,)))
op("conv_transpose2d", lambda T, x, w: F(T).conv_transpose2d(x, w, stride=2, padding=1, dilation=(1, 2)),
   ((1, 4, 3, 3), (4, 2, 3, 2)))
op("conv_transpose2d_groups", lambda T, x, w, b: F(T).conv_transpose2d(x, w, b, groups=2, output_padding=(0, 1),
                                                                         stride=(1, 2)),
   ((2, 4, 3, 2), (4, 1, 2, 2), (2,)))
op("conv_transpose3d", lambda T, x, w: F(T).conv_transpose3d(x, w, stride=2), ((1, 2, 2, 2, 2), (2, 1, 2, 2, 2)))
op("conv_chain", lambda T, x, w1, w2: F(T).conv2d(T.tanh(F(T).conv2d(x, w1, padding=1)), w2, stride=2).sum(),
   ((1, 2, 5, 5), (3, 2, 3, 3), (2, 3, 2, 2)))
op("F.pad", lambda T, x: F(T).pad(x, (1, 2, 0, 1), value=0.5), ((1, 2, 3, 3),))
op("F.pad_reflect", lambda T, x: F(T).pad(x, (2, 1), mode="reflect"), ((2, 3, 4),))

# --------------------------------------------------------------------------- pooling, batch norm, dropout
op("max_pool2d", lambda T, x: F(T).max_pool2d(x, 2), ((2, 3, 4, 4),), ((2, 4, 5),))
op("max_pool2d_pad_ceil", lambda T, x: F(T).max_pool2d(x, 3, 2, 1, ceil_mode=True), ((1, 2, 5, 6),))
op("max_pool2d_dilation", lambda T, x: F(T).max_pool2d(x, (2, 3), (1, 2), (1, 0), dilation=(2, 1)), ((1, 2, 6, 5),))
op("max_pool1d", lambda T, x: F(T).max_pool1d(x, 3, stride=2, padding=1), ((2, 3, 7),), ((3, 7),))
op("max_pool3d", lambda T, x: F(T).max_pool3d(x, 2, stride=(1, 2, 2)), ((1, 2, 3, 4, 4),))
op("avg_pool2d", lambda T, x: F(T).avg_pool2d(x, 3, 2, 1), ((2, 2, 5, 5),), ((2, 5, 4),))
op("avg_pool2d_ceil_exclude_pad", lambda T, x: F(T).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
   ((1, 2, 6, 5),))
op("avg_pool2d_divisor", lambda T, x: F(T).avg_pool2d(x, (2, 3), divisor_override=4), ((1, 2, 4, 6),))
op("avg_pool1d", lambda T, x: F(T).avg_pool1d(x, 2, stride=1, padding=1), ((2, 3, 5),))
op("avg_pool3d", lambda T, x: F(T).avg_pool3d(x, 2, ceil_mode=True), ((1, 2, 3, 4, 3),))
op("adaptive_avg_pool2d", lambda T, x: F(T).adaptive_avg_pool2d(x, (3, 2)), ((2, 3, 7, 5),), ((3, 4, 4),))
op("adaptive_avg_pool2d_none", lambda T, x: F(T).adaptive_avg_pool2d(x, (None, 3)), ((1, 2, 4, 5),))
op("adaptive_avg_pool1d", lambda T, x: F(T).adaptive_avg_pool1d(x, 3), ((2, 3, 7),))
op("adaptive_avg_pool3d", lambda T, x: F(T).adaptive_avg_pool3d(x, (2, 1, 2)), ((1, 2, 3, 4, 5),))
op("batch_norm_train", lambda T, x, w, b: F(T).batch_norm(x, None, None, w, b, training=True),
   ((4, 3, 2, 2), (3,), (3,)))
op("batch_norm_train_stats", lambda T, x: F(T).batch_norm(x, T.zeros(3, dtype=x.dtype), T.ones(3, dtype=x.dtype),
                                                          training=True, momentum=0.3), ((5, 3),))
op("batch_norm_eval", lambda T, x, w: F(T).batch_norm(x, T.tensor([0.1, -0.2], dtype=x.dtype),
                                                      T.tensor([0.5, 2.0], dtype=x.dtype), w, eps=1e-3),
   ((3, 2, 4), (2,)))
# a seeded mask inside the function: the same elements drop in both libraries and at every call
op("dropout", lambda T, x: (T.manual_seed(0), F(T).dropout(x, 0.3))[1], ((4, 5),))
op("dropout2d", lambda T, x: (T.manual_seed(1), F(T).dropout2d(x, 0.5))[1], ((2, 3, 2, 2),))
op("dropout_eval", lambda T, x: F(T).dropout(x, 0.5, training=False) * 2.0, ((4, 5),))

# --------------------------------------------------------------------------- kinks, against torch only
K = [-1.0, -0.5, 0.0, 0.5, 1.0, 3.0, -3.0, 6.0]
at("kink:relu", lambda T, x: F(T).relu(x), K)
at("kink:relu6", lambda T, x: F(T).relu6(x), K)
at("kink:leaky_relu", lambda T, x: F(T).leaky_relu(x, 0.1), K)
at("kink:hardtanh", lambda T, x: F(T).hardtanh(x), K)
at("kink:elu", lambda T, x: F(T).elu(x, 0.5), K)
at("kink:selu", lambda T, x: F(T).selu(x), K)
at("kink:celu", lambda T, x: F(T).celu(x, 0.5), K)
at("kink:threshold", lambda T, x: F(T).threshold(x, 0.5, 9.0), K)
at("kink:hardshrink", lambda T, x: F(T).hardshrink(x), K)
at("kink:softshrink", lambda T, x: F(T).softshrink(x), K)
at("kink:hardsigmoid", lambda T, x: F(T).hardsigmoid(x), K, rtol=1e-7, d2=False)
at("kink:hardswish", lambda T, x: F(T).hardswish(x), K)
# at x = 0 torch's prelu backward takes the negative branch (slope w) but its forward mode and double backward
# the positive one; ours is consistent (slope w everywhere at 0), so only first derivatives compare
at("kink:prelu", lambda T, x, w: F(T).prelu(x, w), K, [0.25], d2=False, torch_fwd=False)
at("kink:l1_loss", lambda T, a, b: F(T).l1_loss(a, b), [0.0, 1.0, 2.0], [0.0, 2.0, 2.0])
at("kink:smooth_l1_loss", lambda T, a, b: F(T).smooth_l1_loss(a, b, beta=0.5), [0.0, 1.0, 2.0, 0.5],
   [0.0, 0.5, 2.5, 0.0])
at("kink:huber_loss", lambda T, a, b: F(T).huber_loss(a, b, delta=0.5, reduction="sum"), [0.0, 1.0, 2.0, 0.5],
   [0.0, 0.5, 2.5, 0.0])
at("kink:gelu_tails", lambda T, x: F(T).gelu(x) + F(T).gelu(x, approximate="tanh"), [-40.0, -8.0, 0.0, 8.0, 40.0])
at("kink:logsigmoid_tails", lambda T, x: F(T).logsigmoid(x), [-800.0, -30.0, 0.0, 30.0, 800.0])
at("kink:bce_logits_tails", lambda T, x, y: F(T).binary_cross_entropy_with_logits(x, y, reduction="none"),
   [-800.0, -30.0, 0.0, 30.0, 800.0], [1.0, 0.0, 0.5, 1.0, 0.0])
# a zero row: gradient 1/eps-scaled as torch; torch's second derivative there is nan (its norm's double backward)
at("kink:normalize_zero_row", lambda T, x: F(T).normalize(x), [[0.0, 0.0], [3.0, 4.0]], d2=False)
at("kink:cross_entropy_equal_logits", lambda T, x: F(T).cross_entropy(x, T.tensor([0, 1])), [[1.0, 1.0], [2.0, 2.0]])

IDS = tb.ids(CASES)
FD = [c for c in CASES if c.fd]
D2 = [c for c in CASES if c.d2]
FWD = [c for c in CASES if c.torch_fwd]


# --------------------------------------------------------------------------- the table checks
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value(case, dtype: str) -> None:
    tb.check_value(case, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad(case, dtype: str) -> None:
    tb.check_grad(case, dtype)


@pytest.mark.parametrize("case", D2, ids=[c.id for c in D2])
def test_second_derivative(case) -> None:
    tb.check_second(case)


@pytest.mark.parametrize("case", FD, ids=[c.id for c in FD])
def test_finite_differences(case) -> None:
    tb.check_fd(case)


@pytest.mark.parametrize("order", [1, 2], ids=["vjp", "vjp_of_grad"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_batched_cotangents(case, order: int) -> None:
    tb.check_batched(case, order)


@pytest.mark.parametrize("case", D2, ids=[c.id for c in D2])
def test_batched_create_graph(case) -> None:
    tb.check_batched_create_graph(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jvp_rules(case) -> None:
    tb.check_jvp_rules(case)


@pytest.mark.parametrize("case", FD, ids=[c.id for c in FD])
def test_jvp_finite_differences(case) -> None:
    tb.check_jvp_fd(case)


@pytest.mark.parametrize("case", FWD, ids=[c.id for c in FWD])
def test_forward_mode(case) -> None:
    tb.check_forward_mode(case)


# --------------------------------------------------------------------------- edge cases
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
