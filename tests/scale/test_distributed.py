"""``executor=``: chunks on worker processes (a ProcessPoolExecutor, a real Dask LocalCluster with
two worker processes), assembled in order, retried, and reported by chunk when lost."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.func

import autojac
import autojac.autograd.functional as AF
import autojac.func as F

from ._cases import N_IN, N_OUT, X, Y, broken, f, f2, flaky, scalar, tensors

TOL = dict(rtol=1e-10, atol=1e-12)
DRIVER = os.getpid()  # passed to the workers' functions by value


def oracle():
    return torch.func.jacrev(lambda x: f(x, torch))(*tensors(torch, X)).numpy()


@pytest.fixture(scope="module")
def dask_executor():
    import distributed  # a test extra, installed by the README's test command (never skipped)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        yield client.get_executor()


@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(2) as pool:
        yield pool


def test_dask_local_cluster_computes_jacobians_and_hessians(dask_executor, tmp_path):
    (x,) = tensors(autojac, X)
    fn = lambda x: f(x, autojac)
    ref = oracle()
    np.testing.assert_allclose(F.jacrev(fn, executor=dask_executor, chunk_size=4)(x).numpy(), ref, **TOL)
    np.testing.assert_allclose(AF.jacobian(fn, x, executor=dask_executor).numpy(), ref, **TOL)
    mm = np.memmap(tmp_path / "j", dtype=np.float64, mode="w+", shape=(N_OUT, N_IN))
    assert F.jacfwd(fn, executor=dask_executor, chunk_size=3, out=mm)(x) is mm
    del mm
    np.testing.assert_allclose(np.fromfile(tmp_path / "j").reshape(N_OUT, N_IN), ref, **TOL)
    h = F.hessian(lambda x: scalar(x, autojac), executor=dask_executor, chunk_size=5)(x)
    np.testing.assert_allclose(h.numpy(), torch.func.hessian(lambda x: scalar(x, torch))(*tensors(torch, X)).numpy(),
                               **TOL)


def test_dask_worker_failure_is_retried_to_a_complete_result(dask_executor, tmp_path):
    (x,) = tensors(autojac, X)
    marker = tmp_path / "fail-once"
    marker.touch()
    jac = F.jacrev(lambda x: flaky(x, str(marker), DRIVER), executor=dask_executor, chunk_size=3)(x)
    assert not marker.exists()  # one chunk did fail, and was recomputed
    np.testing.assert_allclose(jac.numpy(), oracle(), **TOL)


def test_dask_lost_chunk_is_reported_by_its_rows(dask_executor, tmp_path):
    (x,) = tensors(autojac, X)
    marker = tmp_path / "fail-once"
    marker.touch()
    with pytest.raises(RuntimeError, match=r"jacrev: chunk \d+ \(rows \d+:\d+ of 13\) failed on the executor after "
                                           r"1 attempt\(s\): RuntimeError: worker lost \(simulated\)"):
        F.jacrev(lambda x: flaky(x, str(marker), DRIVER), executor=dask_executor, chunk_size=3, retries=0)(x)
    with pytest.raises(RuntimeError, match=r"chunk \d+ \(columns \d+:\d+ of 11\) failed on the executor after 3 "
                                           r"attempt\(s\): ValueError: this worker cannot compute"):
        F.jacfwd(lambda x: broken(x, DRIVER), executor=dask_executor, chunk_size=4, retries=2)(x)


def test_process_pool_executor(process_pool, tmp_path):
    x, y = tensors(autojac, X, Y)
    tx, ty = tensors(torch, X, Y)
    np.testing.assert_allclose(F.jacfwd(lambda x: f(x, autojac), executor=process_pool)(x).numpy(), oracle(), **TOL)
    ours = AF.jacobian(lambda x, y: f2(x, y, autojac), (x, y), executor=process_pool, max_memory=30_000)
    ref = torch.func.jacrev(lambda x, y: f2(x, y, torch), argnums=(0, 1))(tx, ty)
    for row, trow in zip(ours, ref):
        for j, tj in zip(row, trow):
            np.testing.assert_allclose(j.numpy(), tj.numpy(), **TOL)
    h = AF.hessian(lambda x: scalar(x, autojac), x, executor=process_pool, chunk_size=2)
    np.testing.assert_allclose(h.numpy(), torch.func.hessian(lambda x: scalar(x, torch))(tx).numpy(), **TOL)
    marker = tmp_path / "fail-once"
    marker.touch()
    jac = F.jacrev(lambda x: flaky(x, str(marker), DRIVER), executor=process_pool, chunk_size=2)(x)
    assert not marker.exists()
    np.testing.assert_allclose(jac.numpy(), oracle(), **TOL)


def test_thread_pool_runs_reverse_mode_and_refuses_forward_mode():
    (x,) = tensors(autojac, X)
    with ThreadPoolExecutor(2) as pool:
        np.testing.assert_allclose(F.jacrev(lambda x: f(x, autojac), executor=pool, chunk_size=3)(x).numpy(),
                                   oracle(), **TOL)
        with pytest.raises(ValueError, match="cannot run on a ThreadPoolExecutor"):
            F.jacfwd(lambda x: f(x, autojac), executor=pool)(x)


def test_bad_executor_and_retries():
    (x,) = tensors(autojac, X)
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        F.jacrev(lambda x: f(x, autojac), executor="dask")(x)
    with pytest.raises(ValueError, match="retries must be an int >= 0, got -1"):
        F.jacrev(lambda x: f(x, autojac), executor=ThreadPoolExecutor(1), retries=-1)(x)


def test_missing_cloudpickle_and_tqdm_are_clear(monkeypatch, capfd):
    (x,) = tensors(autojac, X)
    monkeypatch.setitem(sys.modules, "cloudpickle", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with ThreadPoolExecutor(1) as pool, pytest.raises(ImportError, match=r"pip install 'autojac\[distributed\]'"):
        F.jacrev(lambda x: f(x, autojac), executor=pool)(x)
    jac = F.jacrev(lambda x: f(x, autojac), chunk_size=1, progress=True)(x)  # no tqdm: silent, same result
    np.testing.assert_allclose(jac.numpy(), oracle(), **TOL)
    assert capfd.readouterr().err == ""
