"""Learning-rate sequences of the schedulers against PyTorch 2.13, over 30 epochs."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

import autojac


def _opt(lib, name="SGD", **kw):
    w = lib.zeros(2, requires_grad=True)
    b = lib.zeros(1, requires_grad=True)
    return getattr(lib.optim, name)([{"params": [w]}, {"params": [b], "lr": 0.3}], lr=0.1, **kw)


SCHEDULERS = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}, "SGD", {}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20], "gamma": 0.3}, "SGD", {}),
    ("ExponentialLR", {"gamma": 0.93}, "SGD", {}),
    ("CosineAnnealingLR", {"T_max": 10}, "SGD", {}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}, "SGD", {}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.95 ** e}, "SGD", {}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9}, "SGD", {}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 31}, "SGD", {"momentum": 0.9}),
    ("OneCycleLR", {"max_lr": [1.0, 2.0], "epochs": 3, "steps_per_epoch": 11, "anneal_strategy": "linear"},
     "SGD", {"momentum": 0.9}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 40, "three_phase": True, "pct_start": 0.25}, "Adam", {}),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 35, "cycle_momentum": False}, "SGD", {}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 6}, "SGD", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 12}, "SGD", {}),
    ("PolynomialLR", {"total_iters": 20, "power": 2.0}, "SGD", {}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2, "eta_min": 0.001}, "SGD", {}),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}, "SGD", {}),
]


def _sequence(lib, sched_name, kw, opt_name, opt_kw, epochs=30):
    opt = _opt(lib, opt_name, **opt_kw)
    sched = getattr(lib.optim.lr_scheduler, sched_name)(opt, **kw)
    seq = []
    for _ in range(epochs):
        opt.step()
        seq.append((sched.get_last_lr(), [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
        sched.step()
    return seq, sched


@pytest.mark.parametrize("case", SCHEDULERS, ids=[f"{c[0]}-{i}" for i, c in enumerate(SCHEDULERS)])
def test_lr_sequence_matches_torch(case):
    got, sched = _sequence(autojac, *case)
    want, tsched = _sequence(torch, *case)
    assert got == want  # same formulas in the same order: the same doubles
    skip = {"lr_lambdas", "anneal_func", "_anneal_func_type"}
    got_sd = {k: v for k, v in sched.state_dict().items() if k not in skip}
    want_sd = {k: v for k, v in tsched.state_dict().items() if k not in skip}
    assert set(got_sd) - {"_is_initial", "_get_lr_called_within_step"} <= set(want_sd)
    for k in got_sd:
        if k in want_sd:
            assert got_sd[k] == want_sd[k], k


def _composite(lib, kind):
    opt = _opt(lib)
    s = lib.optim.lr_scheduler
    first = s.LinearLR(opt, start_factor=0.2, total_iters=4)
    second = s.ExponentialLR(opt, gamma=0.9)
    if kind == "sequential":
        sched = s.SequentialLR(opt, [first, second, s.StepLR(opt, 3, 0.5)], milestones=[5, 12])
    else:
        sched = s.ChainedScheduler([first, second])
    seq = []
    for _ in range(30):
        opt.step()
        seq.append(sched.get_last_lr())
        sched.step()
    return seq


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composite_schedulers_match_torch(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _composite(autojac, kind) == _composite(torch, kind)


@pytest.mark.parametrize("epochs", [[1, 5, 9, 2], [0.5, 3.25, 17, 40]])
def test_warm_restarts_epoch_argument_matches_torch(epochs):
    def run(lib):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        out = []
        for e in epochs:
            opt.step()
            sched.step(e)
            out.append(sched.get_last_lr())
        return out

    assert run(autojac) == run(torch)


def test_closed_form_with_epoch_argument_matches_torch():
    def run(lib):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [1, 5, 9, 2]:
                opt.step()
                sched.step(e)
        return sched.get_last_lr()

    assert run(autojac) == run(torch)


def test_scheduler_state_dict_round_trip():
    opt = _opt(autojac)
    sched = autojac.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(5):
        opt.step()
        sched.step()
    saved = copy.deepcopy(sched.state_dict())
    opt2 = _opt(autojac)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    sched2 = autojac.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10, last_epoch=4)
    sched2.load_state_dict(saved)
    for _ in range(5):
        opt.step(), sched.step()
        opt2.step(), sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_scheduler_warns_when_stepped_before_optimizer():
    sched = autojac.optim.lr_scheduler.StepLR(_opt(autojac), step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


PLATEAU = [
    {},
    {"patience": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "threshold": 0.05, "cooldown": 2},
    {"threshold_mode": "abs", "threshold": 0.1, "patience": 0, "min_lr": [0.02, 0.05]},
    {"mode": "max", "threshold_mode": "abs", "patience": 1, "min_lr": 0.001, "eps": 0.01},
]
METRICS = [1.0, 0.9, 0.95, 0.9, 0.89, 0.91, 0.92, 0.93, 0.5, 0.6, 0.6, 0.6, 0.7, 0.4, 0.4, 0.4, 0.4, 0.45, 0.3,
           0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.2, 0.2, 0.2, 0.2, 0.2]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(kw):
    def run(lib):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        out = []
        for m in METRICS:
            opt.step()
            sched.step(m)
            out.append((sched.get_last_lr(), sched.num_bad_epochs, sched.cooldown_counter, sched.best))
        return out

    assert run(autojac) == run(torch)


@pytest.mark.parametrize("make", [
    lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
    lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, mode="avg"),
    lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"),
    lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="x"),
    lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=10),
    lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
    lambda lib, o: lib.optim.lr_scheduler.StepLR(o, 2, last_epoch=3),
    lambda lib, o: lib.optim.lr_scheduler.StepLR(object(), 2),
    lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=2),
    lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0),
    lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, end_factor=1.5),
    lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [], milestones=[]),
    lambda lib, o: lib.optim.lr_scheduler.SequentialLR(o, [lib.optim.lr_scheduler.StepLR(o, 2)], milestones=[3]),
    lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler([lib.optim.lr_scheduler.ReduceLROnPlateau(o)]),
    lambda lib, o: lib.optim.lr_scheduler.ChainedScheduler([]),
])
def test_scheduler_errors_match_torch(make):
    with pytest.raises(Exception) as want:
        make(torch, _opt(torch))
    with pytest.raises(type(want.value)) as got:
        make(autojac, _opt(autojac))
    assert str(got.value) == str(want.value)


def test_one_cycle_past_total_steps_raises_like_torch():
    def run(lib):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(4):
            opt.step()
            sched.step()

    with pytest.raises(ValueError) as want:
        run(torch)
    with pytest.raises(ValueError, match="Tried to step 4 times") as got:
        run(autojac)
    assert str(got.value) == str(want.value)
