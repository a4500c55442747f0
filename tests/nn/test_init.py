"""nn.init and Tensor.uniform_/normal_ against PyTorch's CPU generator: same draws, same transformations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import autojac
from autojac.nn import init

SIZES = [1, 2, 5, 15, 16, 17, 31, 100, 1000]
DTYPES = [(autojac.float32, torch.float32), (autojac.float64, torch.float64)]


def pair(shape, dtypes=DTYPES[0], seed=0):
    autojac.manual_seed(seed)
    torch.manual_seed(seed)
    return autojac.empty(*shape, dtype=dtypes[0]), torch.empty(*shape, dtype=dtypes[1])


# PyTorch's float32 normals come from its AVX2 kernel (Cephes polynomials with fused multiply-adds),
# which autojac reproduces bit for bit; other CPU builds of PyTorch use libm's log/sin/cos instead
EXACT_NORMALS = torch.backends.cpu.get_cpu_capability() == "AVX2"


def assert_normal_close(ours, theirs, scale):
    """Normals agree to the bit on AVX2 PyTorch, else within an ulp of the sample's magnitude."""
    o, t = ours.detach().numpy(), theirs.detach().numpy()
    if EXACT_NORMALS:
        np.testing.assert_array_equal(o, t)
        return
    eps = np.finfo(o.dtype).eps
    err = np.abs(o.astype(np.float64) - t) / (eps * (np.abs(t) + scale))
    assert err.max() <= 1, f"{err.max():.1f} ulps apart"


@pytest.mark.parametrize("dtypes", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("low,high", [(0.0, 1.0), (-0.5773502691896258, 0.5773502691896258), (-3.3, 7.1)])
def test_uniform_is_bit_identical(n, dtypes, low, high):
    ours, theirs = pair((n,), dtypes, seed=n)
    ours.uniform_(low, high)
    theirs.uniform_(low, high)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # the generator advanced alike
    np.testing.assert_array_equal(autojac.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("dtypes", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (0.5, 2.3), (-1.0, 0.02)])
def test_normal_matches(n, dtypes, mean, std):
    ours, theirs = pair((n,), dtypes, seed=n)
    ours.normal_(mean, std)
    theirs.normal_(mean, std)
    assert_normal_close(ours, theirs, abs(mean) + std)
    np.testing.assert_array_equal(autojac.rand(3).numpy(), torch.rand(3).numpy())


def test_normal_cached_second_sample_carries_over():
    ours, theirs = pair((3,), DTYPES[1])
    for _ in range(3):  # odd sizes below 16 leave a cached Box-Muller sample for the next call
        ours.normal_()
        theirs.normal_()
        assert_normal_close(ours, theirs, 1.0)


def test_explicit_generator():
    g, tg = autojac.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = autojac.empty(40).uniform_(-1, 1, generator=g)
    t = torch.empty(40).uniform_(-1, 1, generator=tg)
    np.testing.assert_array_equal(a.numpy(), t.numpy())
    a = init.normal_(autojac.empty(20), 1.0, 0.5, generator=g)
    t = torch.nn.init.normal_(torch.empty(20), 1.0, 0.5, generator=tg)
    assert_normal_close(a, t, 1.5)


EXACT = [
    ("uniform_", (), {"a": -2.0, "b": 0.5}),
    ("kaiming_uniform_", (), {}),
    ("kaiming_uniform_", (), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("xavier_uniform_", (), {"gain": 1.5}),
    ("constant_", (0.3,), {}),
    ("zeros_", (), {}),
    ("ones_", (), {}),
]
CLOSE = [
    ("normal_", (), {"mean": 1.0, "std": 0.1}),
    ("kaiming_normal_", (), {"nonlinearity": "relu"}),
    ("kaiming_normal_", (), {"a": 0.1, "mode": "fan_out"}),
    ("xavier_normal_", (), {}),
    ("trunc_normal_", (), {}),
    ("trunc_normal_", (), {"std": 0.02}),
    ("trunc_normal_", (), {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 0.6}),  # the rejection branch
    ("trunc_normal_", (), {"mean": 0.1, "std": 2.0, "a": -0.3, "b": 0.2}),
    ("sparse_", (0.5,), {}),
]
QR_BASED = [
    ("orthogonal_", (), {}),
    ("orthogonal_", (), {"gain": 2.0}),
]


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (4, 3, 2, 2)])
@pytest.mark.parametrize("name,args,kwargs", EXACT, ids=[f"{n}{k}" for n, _, k in EXACT])
def test_uniform_based_initialisers_are_bit_identical(name, args, kwargs, shape):
    ours, theirs = pair(shape, seed=11)
    getattr(init, name)(ours, *args, **kwargs)
    getattr(torch.nn.init, name)(theirs, *args, **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (6, 3, 2, 2)])
@pytest.mark.parametrize("name,args,kwargs", CLOSE + QR_BASED, ids=[f"{n}{k}" for n, _, k in CLOSE + QR_BASED])
def test_normal_based_initialisers_match(name, args, kwargs, shape):
    if name == "sparse_" and len(shape) != 2:
        return
    ours, theirs = pair(shape, seed=5)
    getattr(init, name)(ours, *args, **kwargs)
    getattr(torch.nn.init, name)(theirs, *args, **kwargs)
    o, t = ours.numpy(), theirs.numpy()
    if name in ("orthogonal_",):  # through a QR decomposition: LAPACK's rounding, not the draws
        np.testing.assert_allclose(o, t, rtol=1e-4, atol=1e-5)
    else:
        assert_normal_close(ours, theirs, float(np.abs(t).max()))
    if name == "trunc_normal_":
        lo, hi = kwargs.get("a", -2.0), kwargs.get("b", 2.0)
        assert o.min() >= lo and o.max() <= hi
    np.testing.assert_array_equal(autojac.rand(2).numpy(), torch.rand(2).numpy())  # same number of draws


def test_eye_and_dirac():
    for shape in [(3, 3), (2, 5), (5, 2)]:
        np.testing.assert_array_equal(init.eye_(autojac.empty(*shape)).numpy(),
                                      torch.nn.init.eye_(torch.empty(*shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 2, 3, 3, 1), 1)]:
        np.testing.assert_array_equal(init.dirac_(autojac.empty(*shape), groups).numpy(),
                                      torch.nn.init.dirac_(torch.empty(*shape), groups).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(autojac.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        init.dirac_(autojac.empty(2, 2))


def test_calculate_gain_and_fans():
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)]:
        assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for bad in [("leaky_relu", True), ("swish",)]:
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*bad)
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.calculate_gain(*bad)
        assert str(ours.value) == str(theirs.value)
    for shape in [(3, 4), (8, 3, 5), (2, 3, 4, 5)]:
        assert (init._calculate_fan_in_and_fan_out(autojac.empty(*shape))
                == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape)))
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        init.kaiming_uniform_(autojac.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of"):
        init.kaiming_uniform_(autojac.empty(3, 3), mode="fan_avg")


def test_init_on_parameter_is_not_recorded():
    p = autojac.nn.Parameter(autojac.empty(3, 4))
    out = init.kaiming_uniform_(p)
    assert out is p and p.is_leaf and p.requires_grad and p.grad_fn is None


def make_mlp(T):
    return T.nn.Sequential(T.nn.Conv2d(1, 4, 3), T.nn.ReLU(), T.nn.Flatten(), T.nn.Linear(4 * 6 * 6, 32),
                           T.nn.Tanh(), T.nn.Linear(32, 10), T.nn.LayerNorm(10))


def test_seeded_model_init_is_bit_identical_and_stream_stays_in_step():
    autojac.manual_seed(2024)
    torch.manual_seed(2024)
    ours, theirs = make_mlp(autojac), make_mlp(torch)
    for (k, v), (tk, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == tk
        np.testing.assert_array_equal(v.numpy(), tv.numpy(), err_msg=k)
    np.testing.assert_array_equal(autojac.randn(5).numpy(), torch.randn(5).numpy())


def test_sampler_argument_errors_match_torch():
    for action in (lambda T: T.empty(3).uniform_(1, 0), lambda T: T.empty(3).normal_(0, -1),
                   lambda T: T.empty(3, dtype=T.int64).uniform_()):
        errors = []
        for T in (autojac, torch):
            with pytest.raises((RuntimeError, NotImplementedError)) as e:
                action(T)
            errors.append((e.type, str(e.value)))
        assert errors[0] == errors[1]
