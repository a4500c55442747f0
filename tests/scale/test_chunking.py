"""Chunked and memory-budgeted Jacobians and Hessians equal the one-pass result and torch.func."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.func

import autojac
import autojac.autograd.functional as AF
import autojac.func as F
from autojac.executors import ForwardTask, ReverseTask, choose_chunk, graph_footprint, parse_memory

from ._cases import N_IN, N_OUT, X, Y, f, f2, scalar, tensors

TOL = dict(rtol=1e-10, atol=1e-12)
CHUNKS = [1, 2, 3, 5, 7, N_OUT, 1000]  # row by row, non-divisors, exact, larger than the Jacobian


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), **TOL)


def oracle_jac():
    return torch.func.jacrev(lambda x: f(x, torch))(*tensors(torch, X)).numpy()


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_chunked_jacobians_equal_one_pass_and_torch(chunk_size):
    (x,) = tensors(autojac, X)
    ref = oracle_jac()
    one_pass = F.jacrev(lambda x: f(x, autojac))(x).numpy()
    close(one_pass, ref)
    got = {
        "jacrev": F.jacrev(lambda x: f(x, autojac), chunk_size=chunk_size)(x),
        "jacfwd": F.jacfwd(lambda x: f(x, autojac), chunk_size=chunk_size)(x),
        "jacobian": AF.jacobian(lambda x: f(x, autojac), x, chunk_size=chunk_size),
        "jacobian fwd": AF.jacobian(lambda x: f(x, autojac), x, strategy="forward-mode", chunk_size=chunk_size),
    }
    for name, j in got.items():
        assert isinstance(j, autojac.Tensor) and tuple(j.shape) == (N_OUT, N_IN), name
        close(j.numpy(), one_pass)
    t_chunked = torch.func.jacrev(lambda x: f(x, torch), chunk_size=min(chunk_size, N_OUT))(*tensors(torch, X))
    close(got["jacrev"].numpy(), t_chunked.numpy())


@pytest.mark.parametrize("chunk_size", [1, 4, N_IN])
def test_chunked_hessians_equal_one_pass_and_torch(chunk_size):
    (x,) = tensors(autojac, X)
    ref = torch.func.hessian(lambda x: scalar(x, torch))(*tensors(torch, X)).numpy()
    close(F.hessian(lambda x: scalar(x, autojac))(x).numpy(), ref)
    close(F.hessian(lambda x: scalar(x, autojac), chunk_size=chunk_size)(x).numpy(), ref)
    close(F.hessian(lambda x: scalar(x, autojac), max_memory=20_000)(x).numpy(), ref)
    for strategy in ("reverse-mode", "forward-mode"):
        h = AF.hessian(lambda x: scalar(x, autojac), x, chunk_size=chunk_size, outer_jacobian_strategy=strategy)
        close(h.numpy(), ref)


@pytest.mark.parametrize("chunk_size", [1, 4, 100])
def test_tuple_inputs_and_outputs_keep_their_structure(chunk_size):
    x, y = tensors(autojac, X, Y)
    tx, ty = tensors(torch, X, Y)
    ref = torch.func.jacrev(lambda x, y: f2(x, y, torch), argnums=(0, 1))(tx, ty)
    for jac in (F.jacrev(lambda x, y: f2(x, y, autojac), argnums=(0, 1), chunk_size=chunk_size)(x, y),
                F.jacfwd(lambda x, y: f2(x, y, autojac), argnums=(0, 1), chunk_size=chunk_size)(x, y),
                AF.jacobian(lambda x, y: f2(x, y, autojac), (x, y), chunk_size=chunk_size),
                AF.jacobian(lambda x, y: f2(x, y, autojac), (x, y), chunk_size=chunk_size, strategy="forward-mode")):
        assert len(jac) == 2 and all(len(row) == 2 for row in jac)
        for row, trow in zip(jac, ref):
            for j, tj in zip(row, trow):
                assert tuple(j.shape) == tuple(tj.shape)
                close(j.numpy(), tj.numpy())


def test_has_aux_is_returned_with_the_chunked_jacobian():
    (x,) = tensors(autojac, X)
    jac, aux = F.jacrev(lambda x: (f(x, autojac), x.sum()), has_aux=True, chunk_size=4)(x)
    close(jac.numpy(), oracle_jac())
    close(aux.numpy(), X.sum())


@pytest.mark.parametrize("budget,chunked", [(2_000, True), (5_000, True), (20_000, False), ("1MB", False),
                                            ("1 GiB", False)])
def test_memory_budgeted_jacobians_equal_one_pass(budget, chunked, monkeypatch):
    (x,) = tensors(autojac, X)
    ref = oracle_jac()
    passes = []
    real = autojac._jacobian._chunked.reverse_rows
    monkeypatch.setattr(autojac._jacobian._chunked, "reverse_rows", lambda *a: passes.append(a[2:]) or real(*a))
    with warnings.catch_warnings():  # the smallest budget warns: row by row
        warnings.simplefilter("ignore", UserWarning)
        close(F.jacrev(lambda x: f(x, autojac), max_memory=budget)(x).numpy(), ref)
        assert (len(passes) > 1) == chunked and passes[-1][1] == N_OUT  # small budgets: several passes
        close(F.jacfwd(lambda x: f(x, autojac), max_memory=budget)(x).numpy(), ref)
        close(AF.jacobian(lambda x: f(x, autojac), x, max_memory=budget).numpy(), ref)


def test_the_chunk_follows_the_recorded_graph():
    """Budget / (elements of the graph's intermediates per row): a bigger graph or a smaller budget
    gives smaller chunks; without a budget the whole Jacobian is one chunk."""
    n = 200
    x = autojac.ones(n, dtype=autojac.float64, requires_grad=True)
    small = x.sin()
    big = x.sin().exp().cos().tanh()
    saved, elements, largest = graph_footprint([big])
    assert elements == 4 * n and largest == n and saved >= 3 * n * 8
    assert choose_chunk("jacrev", n, None, None, [big]) == n
    c_small = choose_chunk("jacrev", n, None, 200_000, [small], row_elements=3 * n)
    c_big = choose_chunk("jacrev", n, None, 200_000, [big], row_elements=3 * n)
    assert n > c_small > c_big >= 1
    assert choose_chunk("jacrev", n, None, 100_000, [big], row_elements=3 * n) < c_big
    assert choose_chunk("jacrev", n, 3, 200_000, [big], row_elements=3 * n) == 3  # chunk_size caps it
    with pytest.warns(UserWarning, match="row by row"):
        assert choose_chunk("jacrev", n, None, 10, [big]) == 1


@pytest.mark.parametrize("text,expected", [
    ("2GB", 2 * 10 ** 9), ("512MiB", 512 * 2 ** 20), ("1.5 GB", 1_500_000_000), ("100kb", 100_000),
    ("3 gib", 3 * 2 ** 30), ("4096", 4096), ("7 bytes", 7), ("2G", 2 * 10 ** 9), (" .5MB ", 500_000),
    (123456, 123456), (2.5e6, 2_500_000),
])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["2 parsecs", "GB", "", "-1GB", "1e9", "2GBB", "1,5GB"])
def test_bad_memory_strings_raise_a_clear_value_error(bad):
    (x,) = tensors(autojac, X)
    with pytest.raises(ValueError, match="max_memory: could not parse"):
        F.jacrev(lambda x: x, max_memory=bad)
    with pytest.raises(ValueError, match="max_memory: could not parse"):
        AF.jacobian(lambda x: x, x, max_memory=bad)


@pytest.mark.parametrize("bad,error", [(0, ValueError), (-5, ValueError), (True, TypeError), ([1], TypeError)])
def test_bad_memory_values(bad, error):
    with pytest.raises(error, match="max_memory"):
        F.jacfwd(lambda x: x, max_memory=bad)


def test_bad_chunk_sizes_raise_torch_like_errors():
    (x,) = tensors(autojac, X)
    for size in (0, -1):
        with pytest.raises(ValueError) as ours:
            F.jacrev(lambda x: x, chunk_size=size)
        with pytest.raises(ValueError) as theirs:
            torch.func.jacrev(lambda x: x, chunk_size=size)
        assert str(ours.value) == str(theirs.value)
        for api, call in (("jacfwd", lambda s: F.jacfwd(lambda x: x, chunk_size=s)),
                          ("jacobian", lambda s: AF.jacobian(lambda x: x, x, chunk_size=s)),
                          ("jacfwd", lambda s: F.hessian(lambda x: x, chunk_size=s))):
            with pytest.raises(ValueError, match=f"{api}: `chunk_size` should be greater than 0."):
                call(size)
    for size in (2.5, "3", True):
        with pytest.raises(TypeError, match="jacrev: `chunk_size` should be an int"):
            F.jacrev(lambda x: x, chunk_size=size)


def test_chunking_inside_other_transforms_stays_differentiable():
    """Under an enclosing transform the chunked Jacobian keeps its graph (the tensor path)."""
    (x,) = tensors(autojac, X)
    (tx,) = tensors(torch, X)
    ours = F.jacrev(F.jacrev(lambda x: scalar(x, autojac), chunk_size=3))(x)
    ref = torch.func.jacrev(torch.func.jacrev(lambda x: scalar(x, torch), chunk_size=3))(tx)
    close(ours.numpy(), ref.numpy())
    ours = F.jacfwd(F.jacfwd(lambda x: scalar(x, autojac), chunk_size=4), chunk_size=5)(x)
    close(ours.numpy(), torch.func.hessian(lambda x: scalar(x, torch))(tx).numpy())
    with pytest.raises(RuntimeError, match="out= and executor= need a Jacobian cut from the graph"):
        F.jacfwd(F.jacrev(lambda x: scalar(x, autojac), out=np.empty(N_IN)))(x)
    with pytest.raises(NotImplementedError, match="need create_graph=False"):
        AF.jacobian(lambda x: f(x, autojac), x, create_graph=True, chunk_size=2)


def test_progress_bar_on_stderr_when_forced_and_not_when_disabled(capfd):
    (x,) = tensors(autojac, X)
    F.jacrev(lambda x: f(x, autojac), chunk_size=2, progress=True)(x)
    err = capfd.readouterr().err
    assert "jacrev" in err and "row" in err
    F.jacfwd(lambda x: f(x, autojac), chunk_size=2, progress=True)(x)
    assert "column" in capfd.readouterr().err
    F.jacrev(lambda x: f(x, autojac), chunk_size=2, progress=False)(x)
    AF.jacobian(lambda x: f(x, autojac), x, chunk_size=1, progress=False)
    F.jacrev(lambda x: f(x, autojac), chunk_size=2)(x)  # auto: quick, so silent
    assert capfd.readouterr().err == ""
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        F.jacrev(lambda x: f(x, autojac), chunk_size=2, progress="yes")(x)


@pytest.mark.parametrize("pass_rows", [None, 1, 3, 4])
def test_worker_tasks_equal_the_jacobian_rows_whatever_their_passes(pass_rows):
    """A worker's task: one trace, then passes of ``pass_rows`` rows (columns) over its range."""
    ref = oracle_jac()
    fn = lambda x: [f(x, autojac)]
    rev = ReverseTask(fn, [X], pass_rows)(2, 12)
    fwd = ForwardTask(fn, [X], pass_rows)(1, 10)
    assert rev.shape == (10, N_IN) and fwd.shape == (9, N_OUT)
    close(rev, ref[2:12])
    close(fwd, ref[:, 1:10].T)


def test_float32_chunked_jacobian_matches_torch_at_float32_tolerance():
    x = autojac.tensor(X, dtype=autojac.float32)
    tx = torch.tensor(X, dtype=torch.float32)
    g = lambda T: (lambda x: (x.sin() * x.sum()).tanh())
    ours = F.jacrev(g(autojac), chunk_size=3)(x)
    assert ours.dtype == autojac.float32
    np.testing.assert_allclose(ours.numpy(), torch.func.jacrev(g(torch))(tx).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F.jacfwd(g(autojac), max_memory="1KB")(x).numpy(), ours.numpy(), rtol=1e-5,
                               atol=1e-6)
