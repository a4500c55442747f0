"""Optimizer API against PyTorch 2.13: errors and their wording, param groups, zero_grad, hooks, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac


def _leaf(lib, n=2):
    return lib.ones(n, requires_grad=True)


BAD = [
    lambda lib: lib.optim.SGD([], lr=0.1),
    lambda lib: lib.optim.SGD(_leaf(lib), lr=0.1),
    lambda lib: lib.optim.SGD([_leaf(lib) * 2], lr=0.1),
    lambda lib: lib.optim.SGD([1.0], lr=0.1),
    lambda lib: lib.optim.SGD([{"params": {_leaf(lib)}}], lr=0.1),
    lambda lib: lib.optim.SGD([_leaf(lib)], lr=-0.1),
    lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, momentum=-1),
    lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, weight_decay=-1),
    lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, nesterov=True),
    lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda lib: lib.optim.Adam([_leaf(lib)], lr=-1),
    lambda lib: lib.optim.Adam([_leaf(lib)], eps=-1),
    lambda lib: lib.optim.Adam([_leaf(lib)], betas=(1.0, 0.999)),
    lambda lib: lib.optim.Adam([_leaf(lib)], betas=(0.9, -0.1)),
    lambda lib: lib.optim.Adam([_leaf(lib)], betas=(0, 0.9)),
    lambda lib: lib.optim.Adam([_leaf(lib)], weight_decay=-1),
    lambda lib: lib.optim.AdamW([_leaf(lib)], lr=-1),
    lambda lib: lib.optim.RMSprop([_leaf(lib)], alpha=-1),
    lambda lib: lib.optim.RMSprop([_leaf(lib)], momentum=-1),
    lambda lib: lib.optim.RMSprop([_leaf(lib)], eps=-1),
    lambda lib: lib.optim.Adagrad([_leaf(lib)], lr_decay=-1),
    lambda lib: lib.optim.Adagrad([_leaf(lib)], initial_accumulator_value=-1),
    lambda lib: lib.optim.LBFGS([{"params": [_leaf(lib)]}, {"params": [_leaf(lib)]}]),
    lambda lib: lib.optim.LBFGS([_leaf(lib)], lr=-1),
    lambda lib: lib.optim.Adadelta([_leaf(lib)], rho=1.5),
    lambda lib: lib.optim.Adamax([_leaf(lib)], betas=(0.9, 1.0)),
    lambda lib: lib.optim.NAdam([_leaf(lib)], momentum_decay=-1),
    lambda lib: lib.optim.RAdam([_leaf(lib)], eps=-1),
    lambda lib: lib.optim.Rprop([_leaf(lib)], etas=(1.5, 1.2)),
    lambda lib: _two_groups_sharing(lib),
    lambda lib: lib.optim.SGD([{"params": [_leaf(lib)]}, {"params": [("b", _leaf(lib))]}]),
    lambda lib: lib.optim.SGD([("a", _leaf(lib)), _leaf(lib)]),
    lambda lib: lib.optim.SGD([_leaf(lib)]).add_param_group([_leaf(lib)]),
]


def _two_groups_sharing(lib):
    p = _leaf(lib)
    return lib.optim.SGD([{"params": [p]}, {"params": [p]}])


@pytest.mark.parametrize("make", BAD, ids=range(len(BAD)))
def test_errors_match_torch(make):
    with pytest.raises(Exception) as want:
        make(torch)
    with pytest.raises(type(want.value)) as got:
        make(autojac)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("mutate", [
    lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])),
    lambda sd: sd["param_groups"][0]["params"].append(5),
])
def test_load_state_dict_mismatch_errors_match_torch(mutate):
    def run(lib):
        opt = lib.optim.SGD([_leaf(lib)], lr=0.1, momentum=0.9)
        sd = opt.state_dict()
        mutate(sd)
        opt.load_state_dict(sd)

    with pytest.raises(ValueError) as want:
        run(torch)
    with pytest.raises(ValueError) as got:
        run(autojac)
    assert str(got.value) == str(want.value)


def test_lbfgs_unknown_line_search_errors_like_torch():
    def run(lib):
        p = _leaf(lib)
        opt = lib.optim.LBFGS([p], line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss

        opt.step(closure)

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        run(autojac)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        run(torch)


def test_duplicate_parameters_warn_like_torch():
    p = _leaf(autojac)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        autojac.optim.SGD([p, p], lr=0.1)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "Adadelta", "Adamax",
                                  "NAdam", "RAdam", "Rprop"])
def test_repr_and_defaults_match_torch(name):
    def make(lib):
        p = _leaf(lib)
        groups = [{"params": [p]}] if name == "LBFGS" else [{"params": [p]}, {"params": [_leaf(lib)], "lr": 0.5}]
        return getattr(lib.optim, name)(groups)

    opt, topt = make(autojac), make(torch)
    assert repr(opt) == repr(topt)
    assert opt.defaults == topt.defaults


def test_zero_grad_set_to_none_and_zeroing():
    p = _leaf(autojac)
    opt = autojac.optim.SGD([p], lr=0.1)
    (p * 3).sum().backward()
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_params_without_grad_are_skipped_and_state_stays_empty():
    p, q = _leaf(autojac), _leaf(autojac)
    opt = autojac.optim.Adam([p, q], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert q.tolist() == [1.0, 1.0] and len(opt.state[q]) == 0 and p.tolist() != [1.0, 1.0]


def test_add_param_group_takes_defaults_and_named_params():
    p, q = _leaf(autojac), _leaf(autojac)
    opt = autojac.optim.SGD([("p", p)], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [("q", q)], "lr": 0.01})
    g = opt.param_groups[1]
    assert g["lr"] == 0.01 and g["momentum"] == 0.5 and g["param_names"] == ["q"] and g["params"][0] is q
    assert opt.state_dict()["param_groups"][1]["params"] == [1]


def test_step_hooks_and_closure_loss():
    p = _leaf(autojac)
    opt = autojac.optim.SGD([p], lr=0.1)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert seen == ["pre", "post"] and float(loss) == 2.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 0.8], rtol=1e-6)
    h1.remove()
    opt.step(closure)
    assert seen == ["pre", "post", "post"]


def test_step_bumps_the_parameter_version_like_torch():
    def run(lib):
        p = _leaf(lib)
        opt = lib.optim.SGD([p], lr=0.1)
        y = (p * p).sum()  # saves p, which the step changes before y's backward
        (p * 2).sum().backward()
        opt.step()
        y.backward()

    with pytest.raises(RuntimeError) as want:
        run(torch)
    with pytest.raises(RuntimeError) as got:
        run(autojac)
    assert "modified by an inplace operation" in str(want.value)
    assert "modified by an inplace operation" in str(got.value)


def test_parameter_subclass_is_accepted():
    class Param(autojac.Tensor):
        pass

    p = _leaf(autojac)
    p.__class__ = Param
    opt = autojac.optim.Adam([p], lr=0.1)
    p.grad = autojac.ones(2)
    opt.step()
    assert isinstance(p, Param) and p.tolist() != [1.0, 1.0]


def test_differentiable_updates_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        autojac.optim.Adam([_leaf(autojac)], differentiable=True)
