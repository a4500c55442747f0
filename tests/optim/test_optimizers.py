"""Each optimizer's 50-step trajectory against PyTorch 2.13, for the options that change the arithmetic."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import autojac

from ._problem import TOL, loss_fn, params, to_autojac, trajectory

CASES = [
    ("SGD", {"lr": 0.1}, {"lr": 0.05}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"momentum": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, {"nesterov": False}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True}, {}),
    ("Adam", {"lr": 0.05}, {"lr": 0.01}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}, {}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}, {"weight_decay": 0.0}),
    ("Adam", {"lr": 0.05, "amsgrad": True}, {"amsgrad": False}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05, "maximize": True}, {}),
    ("AdamW", {"lr": 0.05}, {"weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "maximize": True}, {}),
    ("RMSprop", {"lr": 0.01}, {"lr": 0.005}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5}, {"momentum": 0.0}),
    ("RMSprop", {"lr": 0.01, "centered": True}, {"centered": False}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1, "maximize": True}, {}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}, {"lr_decay": 0.0}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-6, "maximize": True}, {}),
    ("Adadelta", {}, {"lr": 0.5}),
    ("Adadelta", {"rho": 0.8, "weight_decay": 0.1, "maximize": True}, {}),
    ("Adamax", {"lr": 0.05}, {"lr": 0.01}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.1, "maximize": True}, {}),
    ("NAdam", {"lr": 0.05}, {"momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1}, {"decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "maximize": True}, {}),
    ("RAdam", {"lr": 0.05}, {"lr": 0.01}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}, {"decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "maximize": True}, {}),
    ("Rprop", {"lr": 0.01}, {"etas": (0.3, 1.5)}),
    ("Rprop", {"lr": 0.01, "step_sizes": (1e-3, 0.05), "maximize": True}, {}),
]


def _ids(case):
    name, kw, g2 = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in {**kw, **g2}.items())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(case, dtype):
    name, kw, group2 = case
    sign = -1.0 if kw.get("maximize") else 1.0
    got, opt = trajectory(autojac, name, kw, group2, dtype, sign=sign)
    want, topt = trajectory(torch, name, kw, group2, dtype, sign=sign)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    assert got[-1].tolist() != got[0].tolist()  # the parameters did move
    assert repr(opt) == repr(topt)


@pytest.mark.parametrize("name,kw", [c[:2] for c in CASES if not c[1].get("maximize")][::2])
def test_state_dict_round_trip_continues_the_trajectory(name, kw):
    """Save after 10 steps, load into a fresh optimizer over fresh parameters, go on: same path."""
    whole, _ = trajectory(autojac, name, kw, {}, "float64", steps=20)
    w, b = params(autojac, "float64")
    opt = getattr(autojac.optim, name)([{"params": [w]}, {"params": [b]}], **kw)
    for _ in range(10):
        opt.zero_grad()
        loss_fn(autojac, w, b, "float64").backward()
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    w2, b2 = autojac.tensor(w.detach().numpy(), requires_grad=True), autojac.tensor(b.detach().numpy(),
                                                                                   requires_grad=True)
    opt2 = getattr(autojac.optim, name)([{"params": [w2]}, {"params": [b2]}], **kw)
    opt2.load_state_dict(saved)
    out = []
    for _ in range(10):
        opt2.zero_grad()
        loss_fn(autojac, w2, b2, "float64").backward()
        opt2.step()
        out.append(np.concatenate([w2.detach().numpy().ravel(), b2.detach().numpy().ravel()]))
    # loading casts float32 counters other than ``step`` (NAdam's mu_product) to the parameter's
    # dtype, as PyTorch does, so the continued path may differ in the last bits
    np.testing.assert_allclose(np.array(out), whole[10:], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,kw", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.05, "amsgrad": True}),
                                     ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                     ("Adagrad", {"lr": 0.1, "lr_decay": 0.01})])
def test_load_a_state_dict_exported_by_torch(name, kw):
    tw, tb = params(torch, "float64")
    topt = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tb]}], **kw)
    want = []
    for i in range(20):
        if i == 10:
            sd = to_autojac(topt.state_dict())
            w = autojac.tensor(tw.detach().numpy(), requires_grad=True)
            b = autojac.tensor(tb.detach().numpy(), requires_grad=True)
        topt.zero_grad()
        loss_fn(torch, tw, tb, "float64").backward()
        topt.step()
        if i >= 10:
            want.append(np.concatenate([tw.detach().numpy().ravel(), tb.detach().numpy().ravel()]))
    opt = getattr(autojac.optim, name)([{"params": [w]}, {"params": [b]}], **kw)
    opt.load_state_dict(sd)
    assert opt.state_dict()["param_groups"] == sd["param_groups"]
    got = []
    for _ in range(10):
        opt.zero_grad()
        loss_fn(autojac, w, b, "float64").backward()
        opt.step()
        got.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-13)


def test_state_dict_format_matches_torch():
    def run(lib):
        w, b = params(lib, "float32")
        opt = lib.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        loss_fn(lib, w, b, "float32").backward()
        opt.step()
        return opt.state_dict()

    got, want = run(autojac), run(torch)
    assert got["param_groups"] == want["param_groups"]
    assert list(got["state"]) == list(want["state"])
    for k in want["state"]:
        assert list(got["state"][k]) == list(want["state"][k])
        for key, v in want["state"][k].items():
            assert str(got["state"][k][key].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
            np.testing.assert_allclose(got["state"][k][key].numpy(), v.numpy(), rtol=1e-6)


def test_state_dict_shares_live_state_like_torch():
    w = autojac.ones(2, requires_grad=True)
    opt = autojac.optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    sd = opt.state_dict()
    opt.step()
    assert sd["state"][0]["momentum_buffer"] is opt.state[w]["momentum_buffer"]


def test_load_casts_state_to_param_dtype_but_keeps_step():
    w = autojac.ones(2, dtype=autojac.float64, requires_grad=True)
    opt = autojac.optim.Adam([w])
    sd = {"state": {0: {"step": autojac.tensor(3.0), "exp_avg": autojac.ones(2), "exp_avg_sq": autojac.ones(2)}},
          "param_groups": [{**opt.param_groups[0], "params": [0]}]}
    opt.load_state_dict(sd)
    assert opt.state[w]["exp_avg"].dtype is autojac.float64
    assert opt.state[w]["step"].dtype is autojac.float32


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lbfgs_matches_torch(line_search_fn, dtype):
    def run(lib):
        w, b = params(lib, dtype)
        opt = lib.optim.LBFGS([w, b], lr=0.5 if line_search_fn is None else 1, max_iter=5, history_size=4,
                              line_search_fn=line_search_fn)
        losses, out = [], []

        def closure():
            opt.zero_grad()
            loss = loss_fn(lib, w, b, dtype)
            loss.backward()
            return loss

        for _ in range(6):
            losses.append(float(opt.step(closure).detach()))
            out.append(np.concatenate([w.detach().numpy().ravel(), b.detach().numpy().ravel()]))
        st = opt.state[w]
        return np.array(out), losses, (st["func_evals"], st["n_iter"])

    got, got_l, got_n = run(autojac)
    want, want_l, want_n = run(torch)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 2e-4, "atol": 2e-5}
    np.testing.assert_allclose(got, want, **tol)
    np.testing.assert_allclose(got_l, want_l, **tol)
    if dtype == "float64":
        assert got_n == want_n


def test_lbfgs_rosenbrock_strong_wolfe_converges_like_torch():
    def run(lib):
        x = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)

        def closure():
            opt.zero_grad()
            loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            loss.backward()
            return loss

        opt.step(closure)
        return x.detach().numpy().copy(), opt.state[x]["func_evals"]

    (got, got_n), (want, want_n) = run(autojac), run(torch)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got, [1.0, 1.0], atol=1e-4)
    assert got_n == want_n


@pytest.mark.parametrize("name,kw", [("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
                                     ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
                                     ("AdamW", {"lr": 0.05}), ("RMSprop", {"lr": 0.01, "centered": True,
                                                                         "momentum": 0.5}),
                                     ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
                                     ("Adadelta", {}), ("Adamax", {"lr": 0.05}), ("NAdam", {"lr": 0.05}),
                                     ("RAdam", {"lr": 0.05}), ("Rprop", {"lr": 0.01})])
def test_complex_parameters_match_torch(name, kw):
    """Adaptive optimizers treat real and imaginary parts as separate coordinates (view_as_real)."""
    z0 = np.array([1.0 + 2.0j, -0.5 + 0.3j, 0.2 - 1.0j])
    target = np.array([0.3 - 0.1j, 1.0 + 1.0j, -2.0 + 0.5j])

    def run(lib):
        z = lib.tensor(z0, dtype=lib.complex128, requires_grad=True)
        t = lib.tensor(target, dtype=lib.complex128)
        opt = getattr(lib.optim, name)([z], **kw)
        for _ in range(30):
            opt.zero_grad()
            d = z - t
            (d.real ** 2 + 3 * d.imag ** 2).sum().backward()
            opt.step()
        return z.detach().numpy().copy()

    np.testing.assert_allclose(run(autojac), run(torch), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_tensor_lr_matches_float_lr(name):
    def run(lib, lr):
        w, b = params(lib, "float64")
        opt = getattr(lib.optim, name)([w, b], lr=lr)
        for _ in range(10):
            opt.zero_grad()
            loss_fn(lib, w, b, "float64").backward()
            opt.step()
        return w.detach().numpy().copy()

    got = run(autojac, autojac.tensor(0.05, dtype=autojac.float64))
    np.testing.assert_allclose(got, run(autojac, 0.05), rtol=1e-15)
    np.testing.assert_allclose(got, run(torch, torch.tensor(0.05, dtype=torch.float64)), rtol=1e-12)


def test_lbfgs_state_dict_round_trip():
    def make(w, b):
        return autojac.optim.LBFGS([w, b], max_iter=3, history_size=3, line_search_fn="strong_wolfe")

    def closure_for(opt, w, b):
        def closure():
            opt.zero_grad()
            loss = loss_fn(autojac, w, b, "float64")
            loss.backward()
            return loss
        return closure

    w, b = params(autojac, "float64")
    opt = make(w, b)
    for _ in range(2):
        opt.step(closure_for(opt, w, b))
    saved = copy.deepcopy(opt.state_dict())
    w2, b2 = autojac.tensor(w.detach().numpy(), requires_grad=True), autojac.tensor(b.detach().numpy(),
                                                                                   requires_grad=True)
    opt2 = make(w2, b2)
    opt2.load_state_dict(saved)
    for _ in range(2):
        opt.step(closure_for(opt, w, b))
        opt2.step(closure_for(opt2, w2, b2))
    np.testing.assert_allclose(w2.detach().numpy(), w.detach().numpy(), rtol=1e-14, atol=1e-15)
