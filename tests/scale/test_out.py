"""``out=``: Jacobians and Hessians written chunk by chunk into preallocated arrays and memmaps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func

import autojac
import autojac.autograd.functional as AF
import autojac.func as F

from ._cases import N_IN, N_OUT, X, Y, f, f2, scalar, tensors

TOL = dict(rtol=1e-10, atol=1e-12)


def oracle():
    return torch.func.jacrev(lambda x: f(x, torch))(*tensors(torch, X)).numpy()


@pytest.mark.parametrize("api", ["jacrev", "jacfwd", "jacobian", "jacobian fwd"])
def test_memmap_jacobian_streams_to_disk_and_reads_back(tmp_path, api):
    (x,) = tensors(autojac, X)
    path = tmp_path / "jac.f64"
    shape = (N_OUT, N_IN)
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=shape)
    fn = lambda x: f(x, autojac)
    res = {"jacrev": lambda out: F.jacrev(fn, out=out, chunk_size=4)(x),
           "jacfwd": lambda out: F.jacfwd(fn, out=out, chunk_size=3)(x),
           "jacobian": lambda out: AF.jacobian(fn, x, out=out, max_memory=20_000),
           "jacobian fwd": lambda out: AF.jacobian(fn, x, out=out, chunk_size=5, strategy="forward-mode")}[api](mm)
    assert res is mm  # out itself comes back, as torch's out= does
    del mm, res
    back = np.memmap(path, dtype=np.float64, mode="r", shape=shape)
    np.testing.assert_allclose(back, oracle(), **TOL)


def test_out_may_be_the_flattened_2d_jacobian(tmp_path):
    x = autojac.tensor(Y.reshape(-1)[:6].reshape(2, 3), dtype=autojac.float64)
    fn = lambda x: (x.sin() * x.sum()).reshape(3, 2)
    full = np.empty((3, 2, 2, 3))
    flat = np.memmap(tmp_path / "j", dtype=np.float64, mode="w+", shape=(6, 6))
    assert F.jacrev(fn, out=full, chunk_size=4)(x) is full
    assert F.jacrev(fn, out=flat, chunk_size=4)(x) is flat
    ref = torch.func.jacrev(lambda x: (x.sin() * x.sum()).reshape(3, 2))(torch.tensor(x.numpy())).numpy()
    np.testing.assert_allclose(full, ref, **TOL)
    np.testing.assert_allclose(np.asarray(flat).reshape(full.shape), ref, **TOL)


def test_memmap_hessian(tmp_path):
    (x,) = tensors(autojac, X)
    ref = torch.func.hessian(lambda x: scalar(x, torch))(*tensors(torch, X)).numpy()
    mm = np.memmap(tmp_path / "h", dtype=np.float64, mode="w+", shape=(N_IN, N_IN))
    assert F.hessian(lambda x: scalar(x, autojac), out=mm, chunk_size=4)(x) is mm
    mm2 = np.memmap(tmp_path / "h2", dtype=np.float64, mode="w+", shape=(N_IN, N_IN))
    assert AF.hessian(lambda x: scalar(x, autojac), x, out=mm2, chunk_size=3) is mm2
    del mm, mm2
    for name in ("h", "h2"):
        np.testing.assert_allclose(np.fromfile(tmp_path / name).reshape(N_IN, N_IN), ref, **TOL)


def test_float32_out_holds_a_float64_jacobian_cast():
    (x,) = tensors(autojac, X)
    out = np.zeros((N_OUT, N_IN), np.float32)
    F.jacrev(lambda x: f(x, autojac), out=out)(x)
    np.testing.assert_allclose(out, oracle(), rtol=1e-5, atol=1e-6)


def test_bad_out_gives_clear_errors():
    x, y = tensors(autojac, X, Y)
    fn = lambda x: f(x, autojac)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray or numpy.memmap, got list"):
        F.jacrev(fn, out=[0.0])(x)
    with pytest.raises(ValueError, match=r"expected the Jacobian's shape \(13, 11\) or its flattened shape"):
        F.jacrev(fn, out=np.zeros(N_OUT * N_IN))(x)
    with pytest.raises(TypeError, match="floating point dtype"):
        F.jacrev(fn, out=np.zeros((N_OUT, N_IN), np.int64))(x)
    with pytest.raises(ValueError, match="writable C-contiguous"):
        F.jacrev(fn, out=np.zeros((N_IN, N_OUT)).T)(x)
    with pytest.raises(ValueError, match=r"one output w.r.t. one input; got 2 output\(s\) and 2 input\(s\)"):
        F.jacrev(lambda x, y: f2(x, y, autojac), argnums=(0, 1), out=np.zeros(4))(x, y)
    with pytest.raises(ValueError, match="one output w.r.t. one input"):
        AF.jacobian(lambda x, y: f2(x, y, autojac)[0], (x, y), out=np.zeros(4))
