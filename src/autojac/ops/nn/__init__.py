"""Neural-network functions (``torch.nn.functional``): activations, losses, ``linear``, ``normalize``,
``layer_norm``, ``embedding``, ``one_hot``.

Activations are primitives whose VJP and JVP rules are written in autojac ops (so they are
differentiable again), with PyTorch's conventions at kinks (``relu'(0) = 0``, ``leaky_relu'(0) =
slope``, ``hardtanh`` passes no gradient at its bounds). Losses are compositions of primitives; they
show PyTorch's ``grad_fn`` names. Convolutions are in ``ops/conv.py``; ``pad`` in ``ops/shape/_rearrange.py``.
"""

from ._activations import (
    relu, relu6, leaky_relu, elu, selu, celu, gelu, silu, mish, softplus, sigmoid, tanh, hardtanh, hardsigmoid,
    hardswish, softsign, tanhshrink, threshold, hardshrink, softshrink, glu, prelu, logsigmoid,
)
from ._layers import softmax, log_softmax, softmin, normalize, linear, layer_norm, embedding, one_hot
from ._losses import (
    mse_loss, l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, kl_div,
)

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "sigmoid",
           "tanh", "hardtanh", "hardsigmoid", "hardswish", "softsign", "tanhshrink", "threshold", "hardshrink",
           "softshrink", "glu", "prelu", "logsigmoid", "softmax", "log_softmax", "softmin", "normalize",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "linear", "layer_norm", "embedding",
           "one_hot"]
