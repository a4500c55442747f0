"""The nn op table (``ops/nn.py``, ``ops/conv.py``, pooling, normalization): activations, losses,
linear/layer_norm/embedding, convolutions, pooling, batch norm and dropout.

Rows only (``_case.Rows``); ``test_table.py`` runs the checks of ``_checks.py`` on them. Kinks stay out
of finite-difference reach (domain ``away``); their values at the kink are ``at`` lines, against torch only.
"""

from __future__ import annotations

import numpy as np

from ._case import Rows

ROWS = Rows("nn")
op, at = ROWS.op, ROWS.at


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
