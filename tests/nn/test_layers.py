"""Every layer against torch.nn: output, input and parameter gradients (float32 and float64), seeded init, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac

from ._torch_pair import build_pair, check_forward_backward, copy_state


def randn(*shape):
    return lambda rng: rng.standard_normal(shape)


def integers(high, *shape):
    return lambda rng: rng.integers(0, high, shape)


def probabilities(*shape):
    return lambda rng: rng.uniform(0.05, 0.95, shape)


# (layer name, constructor args, constructor kwargs, input makers)
LAYERS = [
    ("Linear", (4, 3), {}, [randn(5, 4)]),
    ("Linear", (4, 3), {"bias": False}, [randn(2, 5, 4)]),
    ("Bilinear", (3, 4, 2), {}, [randn(5, 3), randn(5, 4)]),
    ("Identity", (7,), {"unused": 1}, [randn(3, 2)]),
    ("Flatten", (), {}, [randn(2, 3, 4, 5)]),
    ("Flatten", (0, 1), {}, [randn(2, 3, 4)]),
    ("Unflatten", (1, (2, 3)), {}, [randn(4, 6)]),
    ("Embedding", (10, 3), {"padding_idx": 1}, [integers(10, 4, 5)]),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding": 1}, [randn(2, 2, 9)]),
    ("Conv2d", (2, 4, 3), {"padding": "same", "padding_mode": "reflect"}, [randn(2, 2, 6, 5)]),
    ("Conv2d", (4, 4, 3), {"groups": 2, "dilation": 2, "bias": False}, [randn(1, 4, 7, 7)]),
    ("Conv2d", (2, 3, (2, 3)), {"padding": 1, "padding_mode": "circular"}, [randn(1, 2, 5, 5)]),
    ("Conv3d", (2, 3, 2), {}, [randn(1, 2, 4, 4, 3)]),
    ("ConvTranspose1d", (2, 3, 3), {"stride": 2}, [randn(2, 2, 5)]),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, [randn(1, 2, 4, 4)]),
    ("ConvTranspose3d", (2, 2, 2), {"groups": 2}, [randn(1, 2, 3, 3, 2)]),
    ("LayerNorm", ([4, 5],), {}, [randn(3, 4, 5)]),
    ("LayerNorm", (5,), {"elementwise_affine": False}, [randn(3, 5)]),
    ("LayerNorm", (5,), {"bias": False}, [randn(3, 5)]),
    ("BatchNorm1d", (3,), {}, [randn(6, 3)]),
    ("BatchNorm1d", (3,), {"affine": False, "momentum": None}, [randn(4, 3, 5)]),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, [randn(2, 3, 4, 4)]),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}, [randn(2, 3, 9)]),
    ("MaxPool2d", (2,), {}, [randn(2, 3, 6, 6)]),
    ("MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}, [randn(1, 2, 8, 7)]),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [randn(2, 3, 9)]),
    ("AvgPool2d", (2,), {}, [randn(2, 3, 6, 6)]),
    ("AdaptiveAvgPool1d", (4,), {}, [randn(2, 3, 10)]),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, [randn(2, 3, 7, 5)]),
    ("AdaptiveAvgPool2d", (1,), {}, [randn(2, 3, 4, 4)]),
    ("Dropout", (0.3,), {}, [randn(4, 5)]),
    ("PReLU", (), {}, [randn(3, 4)]),
    ("PReLU", (3,), {"init": 0.1}, [randn(2, 3, 4)]),
]

ACTIVATIONS = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("ELU", (0.7,)), ("SELU", ()), ("CELU", (2.0,)),
    # CELU with alpha = 2: PyTorch rounds 1/alpha to float32 in the float64 gradient (ours is exact)
    ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 5.0)), ("Sigmoid", ()),
    ("Tanh", ()), ("Hardtanh", (-0.5, 0.7)), ("Hardsigmoid", ()), ("Hardswish", ()), ("LogSigmoid", ()),
    ("Softsign", ()), ("Tanhshrink", ()), ("Threshold", (0.1, -2.0)), ("Hardshrink", (0.3,)),
    ("Softshrink", (0.3,)), ("GLU", ()), ("GLU", (0,)), ("Softmax", (1,)), ("LogSoftmax", (-1,)),
    ("Softmin", (0,)), ("Softmax2d", ()),
]
LAYERS += [(name, args, {}, [randn(4, 6, 4)]) for name, args in ACTIVATIONS]

LOSSES = [
    ("MSELoss", {}, [randn(4, 3), randn(4, 3)]),
    ("MSELoss", {"reduction": "sum"}, [randn(4, 3), randn(4, 3)]),
    ("L1Loss", {"reduction": "none"}, [randn(4, 3), randn(4, 3)]),
    ("SmoothL1Loss", {"beta": 0.5}, [randn(4, 3), randn(4, 3)]),
    ("HuberLoss", {"delta": 0.7}, [randn(4, 3), randn(4, 3)]),
    ("CrossEntropyLoss", {}, [randn(5, 4), integers(4, 5)]),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 2}, [randn(5, 4), integers(4, 5)]),
    ("NLLLoss", {"reduction": "sum"}, [randn(5, 4), integers(4, 5)]),
    ("BCELoss", {}, [probabilities(4, 3), probabilities(4, 3)]),
    ("BCEWithLogitsLoss", {}, [randn(4, 3), probabilities(4, 3)]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [randn(4, 3), randn(4, 3)]),
]
LAYERS += [(name, (), kwargs, makers) for name, kwargs, makers in LOSSES]


def _id(spec) -> str:
    name, args, kwargs, _ = spec
    return f"{name}{args}{kwargs if kwargs else ''}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("spec", LAYERS, ids=[_id(s) for s in LAYERS])
def test_layer_matches_torch(spec, dtype):
    name, args, kwargs, makers = spec
    ours, theirs = build_pair(name, *args, **kwargs)
    assert repr(ours) == repr(theirs)
    if dtype == np.float64:
        ours.double()
        theirs.double()
    copy_state(ours, theirs)
    rng = np.random.default_rng(0)
    inputs = [m(rng) for m in makers]
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in inputs]
    if name == "Dropout":  # same mask only from the same generator state
        autojac.manual_seed(5)
        torch.manual_seed(5)
    # PyTorch's float64 Hardsigmoid gradient multiplies by 1/6 rounded to float32 (ours is exact)
    check_forward_backward(ours, theirs, inputs, dtype, rtol=1e-7 if name == "Hardsigmoid" else None)
    # running statistics (BatchNorm) and other buffers updated alike
    for (k, b), (tk, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert k == tk
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-7)


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_running_stats_train_then_eval(name, momentum):
    ours, theirs = build_pair(name, 3, momentum=momentum)
    ours.double()
    theirs.double()
    rng = np.random.default_rng(1)
    shape = (5, 3) if name == "BatchNorm1d" else (2, 3, 3, 2)
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        check_forward_backward(ours, theirs, [x], np.float64)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=key)
    assert int(ours.num_batches_tracked) == 3
    ours.eval()
    theirs.eval()
    check_forward_backward(ours, theirs, [rng.standard_normal(shape)], np.float64)


def test_dropout_eval_is_identity_and_train_draws_like_torch():
    ours, theirs = build_pair("Dropout", 0.4)
    x = np.random.default_rng(0).standard_normal((6, 7)).astype(np.float32)
    autojac.manual_seed(3)
    torch.manual_seed(3)
    np.testing.assert_array_equal(ours(autojac.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    ours.eval()
    assert ours(autojac.tensor(x)).numpy().tolist() == x.tolist()


EXACT_INIT = [("Linear", (5, 3)), ("Linear", (64, 32)), ("Bilinear", (3, 4, 2)), ("Conv1d", (2, 4, 3)),
              ("Conv2d", (3, 8, 3)), ("Conv3d", (2, 3, 2)), ("ConvTranspose2d", (4, 2, 3)), ("PReLU", (3,)),
              ("LayerNorm", (6,)), ("BatchNorm2d", (4,))]


@pytest.mark.parametrize("name,args", EXACT_INIT, ids=[f"{n}{a}" for n, a in EXACT_INIT])
def test_seeded_init_is_bit_identical(name, args):
    ours, theirs = build_pair(name, *args, seed=1234)
    for (k, p), (tk, tp) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == tk
        np.testing.assert_array_equal(p.numpy(), tp.numpy(), err_msg=k)
    assert repr(ours.weight) == repr(theirs.weight).replace("torch", "autojac")


def test_embedding_init_normal_and_padding_zero():
    ours, theirs = build_pair("Embedding", 20, 4, padding_idx=-1)
    assert ours.padding_idx == theirs.padding_idx == 19
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=2e-7, atol=1e-7)
    assert not ours.weight.detach().numpy()[19].any()


def test_embedding_from_pretrained_frozen_and_unfrozen():
    w = np.arange(12.0).reshape(4, 3)
    ours = autojac.nn.Embedding.from_pretrained(autojac.tensor(w))
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
    idx = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(ours(autojac.tensor(idx)).numpy(), theirs(torch.tensor(idx)).numpy())
    assert autojac.nn.Embedding.from_pretrained(autojac.tensor(w), freeze=False).weight.requires_grad


def test_conv_transpose_output_size():
    ours, theirs = build_pair("ConvTranspose2d", 2, 3, 3, stride=2)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    out = ours(autojac.tensor(x), output_size=[10, 9])
    tout = theirs(torch.tensor(x), output_size=[10, 9])
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="requested an output size of"):
        ours(autojac.tensor(x), output_size=[20, 20])


@pytest.mark.parametrize("build,message", [
    (lambda nn: nn.Conv2d(3, 4, 3, groups=2), "in_channels must be divisible by groups"),
    (lambda nn: nn.Conv2d(2, 4, 3, stride=2, padding="same"), "padding='same' is not supported"),
    (lambda nn: nn.ConvTranspose2d(2, 4, 3, padding_mode="reflect"), 'Only "zeros" padding mode'),
    (lambda nn: nn.Dropout(1.5), "dropout probability has to be between 0 and 1"),
    (lambda nn: nn.Unflatten(1, 6), "unflattened_size must be a tuple of ints, but found type int"),
    (lambda nn: nn.Unflatten(1, (2, 3.0)), "unflattened_size must be tuple of ints, but found element of type float"),
])
def test_constructor_errors_match_torch(build, message):
    for lib in (torch.nn, autojac.nn):
        with pytest.raises((ValueError, TypeError), match=message):
            build(lib)


def test_batchnorm_input_dim_error():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        autojac.nn.BatchNorm2d(3)(autojac.zeros(2, 3, 4))


def test_out_of_scope_layers_say_so():
    for name in ("LSTM", "GRU", "RNN", "Transformer", "MultiheadAttention", "TransformerEncoderLayer"):
        with pytest.raises(NotImplementedError, match=f"autojac.nn.{name} is out of autojac's scope"):
            getattr(autojac.nn, name)
    with pytest.raises(AttributeError):
        autojac.nn.NoSuchLayer  # noqa: B018
