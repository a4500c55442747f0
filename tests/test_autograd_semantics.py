"""Autograd semantics against PyTorch 2.13: the same code runs with ``torch`` and with ``autojac``.

Each case is a function ``case(T)`` of the library module; ``both`` runs it twice and
``assert_same`` compares the results (tensors by dtype, shape and values; containers
element by element).
"""

from __future__ import annotations

import itertools
import operator
import threading

import numpy as np
import pytest
import torch

import autojac
from _tol import assert_close


# --------------------------------------------------------------------------- helpers
def both(case):
    """``case(torch)`` and ``case(autojac)``."""
    return case(torch), case(autojac)


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same(expected, actual, rtol: float = 1e-6, atol: float = 1e-6, path: str = "result") -> None:
    """Compare a torch result with an autojac one, recursively."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, autojac.Tensor), f"{path}: expected a Tensor, got {type(actual).__name__}"
        assert dtype_name(actual.dtype) == dtype_name(expected.dtype), \
            f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert tuple(actual.shape) == tuple(expected.shape), f"{path}: shape {actual.shape} != {expected.shape}"
        assert actual.requires_grad == expected.requires_grad, f"{path}: requires_grad differs"
        assert_close(actual.detach().numpy(), expected.detach().numpy(), rtol, atol, err_msg=path)
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, rtol, atol, f"{path}[{i}]")
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), path
        for k in expected:
            assert_same(expected[k], actual[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=rtol, abs=atol), path
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def check(case, **tol) -> None:
    expected, actual = both(case)
    assert_same(expected, actual, **tol)


def raises_like_torch(case) -> Exception:
    """Run ``case`` in both libraries; both must raise the same exception type. Returns ours."""
    with pytest.raises(Exception) as theirs:
        case(torch)
    with pytest.raises(type(theirs.value)) as ours:
        case(autojac)
    return ours.value


# --------------------------------------------------------------------------- leaves, requires_grad, .grad
def test_leaf_and_requires_grad_flags():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        c = T.tensor([1., 2.])
        y = x * 2
        z = c * 2
        d = x.detach()
        return [t.is_leaf for t in (x, c, y, z, d)], [t.requires_grad for t in (x, c, y, z, d)], y.grad_fn is None
    check(case)


def test_grad_accumulates_across_backward_calls():
    def case(T):
        x = T.tensor([1., 2., 3.], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * 3).sum().backward()
        second = x.grad.clone()
        (x ** 3).sum().backward()
        return first, second, x.grad
    check(case)


def test_grad_zero_is_in_place_and_grad_none_resets():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        (x * x).sum().backward()
        g = x.grad
        g.zero_()
        (x * 3).sum().backward()
        same_object = g is x.grad  # accumulation writes into the existing .grad
        x.grad = None
        (x * 5).sum().backward()
        return same_object, g, x.grad
    check(case)


def test_requires_grad_setter_and_requires_grad_():
    def case(T):
        x = T.tensor([1., 2.])
        r = x.requires_grad_()
        y = T.ones(2)
        y.requires_grad = True
        z = T.ones(2, requires_grad=True).requires_grad_(False)
        return r is x, x.requires_grad, (x * 2).requires_grad, y.requires_grad, z.requires_grad, (z * 2).requires_grad
    check(case)


def test_requires_grad_true_on_non_leaf_is_a_no_op():
    def case(T):
        y = T.ones(2, requires_grad=True) * 2
        return y.requires_grad_() is y, y.requires_grad
    check(case)


def test_detach_shares_storage_and_version_counter():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        d = x.detach()
        d[0] = 5.0
        return x.detach(), d.requires_grad, d.is_leaf, x._version, d._version
    check(case)


def test_detach_in_place_cuts_the_graph():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.detach_()
        z = y * x
        z.sum().backward()
        return y, y.is_leaf, y.requires_grad, y.grad_fn is None, x.grad
    check(case)


def test_data_attribute_is_detached():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        d = x.data
        d.mul_(3)  # no error: .data is outside autograd
        return x.detach(), d.requires_grad
    check(case)


def test_retain_grad_on_non_leaf():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.retain_grad()  # a second call is harmless
        (y * y).sum().backward()
        return y.grad, x.grad, y.retains_grad, x.retains_grad
    check(case)


def test_retain_grad_accumulates_across_backward_calls():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward(retain_graph=True)
        z.backward()
        return y.grad, x.grad
    check(case)


def test_non_leaf_grad_is_none_with_warning():
    y = autojac.ones(2, requires_grad=True) * 2
    (y * y).sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None


# --------------------------------------------------------------------------- hooks
def test_hook_on_leaf_sees_and_replaces_grad_and_can_be_removed():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        seen = []

        def hook(g):
            seen.append(g.clone())
            return g * 10

        h = x.register_hook(hook)
        (x * x).sum().backward()
        with_hook = x.grad.clone()
        h.remove()
        h.remove()  # removing twice is harmless
        x.grad = None
        (x * x).sum().backward()
        return seen, with_hook, x.grad
    check(case)


def test_hook_returning_none_keeps_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(1))
        (x * 3).sum().backward()
        return x.grad, len(calls)
    check(case)


@pytest.mark.parametrize("retain_first", [True, False])
def test_hook_on_non_leaf_changes_upstream_grad(retain_first):
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 3
        if retain_first:
            y.retain_grad()
        y.register_hook(lambda g: g * 2)
        if not retain_first:
            y.retain_grad()
        (y * y).sum().backward()
        return x.grad, y.grad
    check(case)


def test_several_hooks_run_in_registration_order():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x + 0
        y.register_hook(lambda g: g + 1)
        y.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: g - 1)
        y.sum().backward()
        return x.grad
    check(case)


def test_hook_on_tensor_used_twice_sees_summed_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        (y * 3 + y * y).sum().backward()
        return seen, x.grad
    check(case)


# --------------------------------------------------------------------------- Tensor.backward / autograd.backward
def test_backward_with_gradient_and_retain_graph():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * x
        y.backward(T.tensor([1., 0.5]), retain_graph=True)
        first = x.grad.clone()
        y.backward(T.tensor([1., 0.5]))
        return first, x.grad
    check(case)


def test_backward_create_graph_gives_differentiable_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        flags = g.requires_grad, g.grad_fn is not None
        x.grad = None
        g.sum().backward()
        return flags, x.grad
    with pytest.warns(UserWarning):  # PyTorch warns about the grad <-> param reference cycle
        expected = case(torch)
    assert_same(expected, case(autojac))


def test_backward_inputs_restricts_accumulation_including_non_leaf():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([3., 4.], requires_grad=True)
        y = x * w
        (y * y).sum().backward(inputs=[x, y])
        return x.grad, w.grad, y.grad
    check(case)


def test_backward_inputs_single_tensor():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([3., 4.], requires_grad=True)
        (x * w).sum().backward(inputs=w)
        return x.grad, w.grad
    check(case)


def test_autograd_backward_several_roots():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        T.autograd.backward([x * 2, x * x], [T.ones(2), T.tensor([1., -1.])])
        a = x.grad.clone()
        x.grad = None
        T.autograd.backward((x ** 2).sum())
        return a, x.grad
    check(case)


def test_backward_on_leaf_itself():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        x.backward(T.tensor([3., 4.]))
        return x.grad
    check(case)


# --------------------------------------------------------------------------- autograd.grad
def test_grad_with_grad_outputs_and_tuple_inputs():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([3.], requires_grad=True)
        y = x * x * w
        a = T.autograd.grad(y, (x, w), grad_outputs=T.tensor([1., 2.]), retain_graph=True)
        b = T.autograd.grad([y.sum(), (x * w).sum()], [x])
        return a, b, x.grad, w.grad  # grad() accumulates nothing
    check(case)


def test_grad_allow_unused_and_materialize_grads():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        u = T.tensor([1., 2., 3.], requires_grad=True)
        y = (x * x).sum()
        a = T.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
        b = T.autograd.grad(y, [x, u], materialize_grads=True)
        return a, b
    check(case)


def test_grad_create_graph_second_derivative():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        (g,) = T.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h
    check(case)


def test_grad_with_respect_to_non_leaf_inputs():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        z = (y ** 2).sum()
        return T.autograd.grad(z, [y, x])
    check(case)


def test_grad_of_leaf_output():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        return T.autograd.grad(x, x, T.tensor([3., 4.]))
    check(case)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_grad_is_grads_batched(shape):
    def case(T):
        x = T.arange(float(np.prod(shape))).reshape(shape).requires_grad_()
        w = T.tensor([1., 2., 3.], requires_grad=True)
        y = (x * w).sum(0) if len(shape) == 2 else x ** 2 * w
        return T.autograd.grad(y, (x, w), grad_outputs=T.eye(3), is_grads_batched=True)
    check(case)


def test_grad_is_grads_batched_with_create_graph():
    def case(T):
        x = T.tensor([1., 2., 3.], requires_grad=True)
        (jac,) = T.autograd.grad(x ** 3, x, grad_outputs=T.eye(3), is_grads_batched=True, create_graph=True)
        (h,) = T.autograd.grad(jac.sum(), x)
        return jac, h
    check(case)


def test_grad_retain_graph_allows_a_second_call():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x.exp().sum()
        a = T.autograd.grad(y, x, retain_graph=True)
        b = T.autograd.grad(y, x)
        return a, b
    check(case)


def test_grad_outputs_of_other_real_dtype_are_cast():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        a = T.autograd.grad(x * 2, x, T.tensor([1, 3]))
        b = T.autograd.grad(x * 2, x, T.tensor([True, False]))
        c = T.autograd.grad(x * 2, x, T.tensor([1., 3.], dtype=T.float64))
        return a, b, c
    check(case)


# --------------------------------------------------------------------------- grad mode
def test_grad_mode_context_managers_and_decorators():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        out = {}
        with T.no_grad():
            out["no_grad"] = x * 2
            with T.enable_grad():
                out["enable_inside_no_grad"] = x * 2
        with T.set_grad_enabled(False):
            out["set_false"] = x * 2
        with T.set_grad_enabled(True):
            out["set_true"] = x * 2
        with T.inference_mode():
            out["inference"] = x * 2
            out["inference_flag"] = T.is_inference_mode_enabled()
        with T.inference_mode(False):
            out["inference_false"] = x * 2

        @T.no_grad()
        def f_no_grad():
            return x * 2

        @T.no_grad
        def f_no_grad_bare():
            return x * 2

        @T.enable_grad()
        def f_enable():
            return x * 2

        @T.set_grad_enabled(False)
        def f_set_false():
            return x * 2

        @T.inference_mode()
        def f_inference():
            return x * 2

        out["f_no_grad"] = f_no_grad()
        out["f_no_grad_bare"] = f_no_grad_bare()
        with T.no_grad():
            out["f_enable"] = f_enable()
        out["f_set_false"] = f_set_false()
        out["f_inference"] = f_inference()
        out["after"] = x * 2
        out["enabled"] = T.is_grad_enabled()
        out["inference_after"] = T.is_inference_mode_enabled()
        out["name"] = f_no_grad_bare.__name__
        return {k: v.requires_grad if hasattr(v, "requires_grad") else v for k, v in out.items()}
    check(case)


def test_set_grad_enabled_as_a_function():
    def case(T):
        x = T.ones(2, requires_grad=True)
        T.set_grad_enabled(False)
        try:
            a = (x * 2).requires_grad, T.is_grad_enabled()
        finally:
            T.set_grad_enabled(True)
        return a, (x * 2).requires_grad
    check(case)


def test_grad_mode_restored_after_exception():
    def case(T):
        with pytest.raises(ValueError):
            with T.no_grad():
                raise ValueError("boom")
        return T.is_grad_enabled()
    check(case)


def test_no_grad_ops_on_leaf_in_place_are_allowed():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        with T.no_grad():
            x.add_(1)
            x[0] = 7.0
            x.mul_(2)
        (x * x).sum().backward()
        return x.detach(), x.requires_grad, x.is_leaf, x.grad
    check(case)


def test_grad_mode_is_thread_local():
    def case(T):
        entered, release = threading.Event(), threading.Event()
        seen = {}

        def worker():
            with T.no_grad():
                entered.set()
                release.wait(10)
                seen["worker"] = T.is_grad_enabled()

        t = threading.Thread(target=worker)
        t.start()
        entered.wait(10)
        x = T.ones(2, requires_grad=True)
        seen["main"] = (T.is_grad_enabled(), (x * 2).requires_grad)
        release.set()
        t.join()
        return seen
    check(case)


def test_new_thread_starts_with_grad_enabled():
    def case(T):
        seen = []
        with T.no_grad():
            t = threading.Thread(target=lambda: seen.append(T.is_grad_enabled()))
            t.start()
            t.join()
        return seen
    check(case)


# --------------------------------------------------------------------------- higher order, long chains
def test_fourth_derivative_of_sin():
    def case(T):
        x = T.tensor([0.3, 1.0, 2.5], dtype=T.float64, requires_grad=True)
        y = T.sin(x)
        derivs = []
        for _ in range(4):
            (y,) = T.autograd.grad(y.sum(), x, create_graph=True)
            derivs.append(y)
        return derivs
    expected, actual = both(case)
    assert_same(expected, actual, rtol=1e-12, atol=1e-12)
    x = np.array([0.3, 1.0, 2.5])
    for got, want in zip(actual, [np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)]):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)


def test_third_derivative_through_backward_create_graph():
    x = autojac.tensor(0.7, dtype=autojac.float64, requires_grad=True)
    (g1,) = autojac.autograd.grad(x.exp() * x, x, create_graph=True)
    (g2,) = autojac.autograd.grad(g1, x, create_graph=True)
    g2.backward()
    assert x.grad.item() == pytest.approx(np.exp(0.7) * (0.7 + 3), rel=1e-12)


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = autojac.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    y.backward()
    factor = float(np.float32(1.0000001))  # the Python float becomes a float32 multiplier
    assert x.grad.item() == pytest.approx(factor ** 100_000, rel=1e-4)
    assert x.grad.item() == pytest.approx(y.item(), rel=1e-4)


# --------------------------------------------------------------------------- freeing saved tensors
def _second_backward(T, f, **kw):
    x = T.tensor([1., 2.], requires_grad=True)
    y = f(T, x).sum()
    y.backward(**kw)
    try:
        y.backward()
    except RuntimeError as e:
        return "freed" if "second time" in str(e) else f"other error: {e}"
    return x.grad


SAVING = {  # ops whose backward reads saved tensors: a second backward raises
    "exp": lambda T, x: x.exp(),
    "sin": lambda T, x: x.sin(),
    "mul_tensor": lambda T, x: x * x,
    "mul_scalar": lambda T, x: x * 2,
    "div": lambda T, x: x / 2,
    "pow": lambda T, x: x ** 2,
    "relu": lambda T, x: x.relu(),
}
NON_SAVING = {  # ops whose backward needs only shapes: PyTorch lets them run again
    "add": lambda T, x: x + 1,
    "add_self": lambda T, x: x + x,
    "sub": lambda T, x: x - 3,
    "neg": lambda T, x: -x,
    "reshape": lambda T, x: x.reshape(2, 1),
    "index": lambda T, x: x[0],
    "mean": lambda T, x: x.mean(),
    "expand": lambda T, x: x.expand(3, 2),
    "cat": lambda T, x: T.cat([x, x]),
    "transpose": lambda T, x: x.reshape(1, 2).t(),
}


@pytest.mark.parametrize("name", sorted(SAVING) + sorted(NON_SAVING))
def test_second_backward_frees_saved_tensors_like_torch(name):
    f = {**SAVING, **NON_SAVING}[name]
    check(lambda T: _second_backward(T, f))
    assert (_second_backward(autojac, f) == "freed") is (name in SAVING)


@pytest.mark.parametrize("name", sorted(SAVING))
def test_retain_graph_keeps_saved_tensors(name):
    check(lambda T: _second_backward(T, SAVING[name], retain_graph=True))


# --------------------------------------------------------------------------- version counter and in-place
def test_version_counter_counts_in_place_ops():
    def case(T):
        x = T.tensor([1., 2.])
        versions = [x._version]
        x.add_(1)
        versions.append(x._version)
        x[0] = 3.0
        versions.append(x._version)
        x.detach().mul_(2)  # a detached alias shares the counter
        versions.append(x._version)
        v = x[1:]
        v.zero_()  # so does a view
        versions.append(x._version)
        return versions
    check(case)


def test_in_place_on_saved_input_raises_at_backward():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2
        z = y * y  # saves y
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.sum().backward()
        return y._version
    check(case)


def test_in_place_on_saved_output_raises_at_backward():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x.exp()  # saves its output
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return True
    check(case)


def test_in_place_on_unsaved_tensor_is_fine_and_correct():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        y = x * 2  # mul by a scalar saves nothing of y
        y.add_(1)
        (y * y).sum().backward()
        return y, x.grad
    expected, actual = both(case)
    assert_same(expected, actual)
    np.testing.assert_allclose(actual[1].numpy(), [12., 20.])  # d/dx (2x+1)^2 = 4(2x+1)


def test_in_place_chain_on_non_leaf():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        w = T.tensor([0.5, -1.5], requires_grad=True)
        y = x * 1
        y.mul_(w)
        y.add_(x)
        y.sub_(0.5)
        y.div_(2)
        y.pow_(2)
        y.mul_(2.0)
        y.add_(w, alpha=2)
        y.sum().backward()
        return y, x.grad, w.grad, y.grad_fn.name()
    check(case)


@pytest.mark.parametrize("method", ["exp_", "sin_", "tanh_", "sigmoid_", "neg_", "abs_", "sqrt_", "clamp_",
                                    "relu_", "zero_", "fill_"])
def test_unary_in_place_on_non_leaf(method):
    def case(T):
        x = T.tensor([0.5, 1.5, 2.0], requires_grad=True)
        y = x * 1.5
        if method == "clamp_":
            y.clamp_(1.0, 2.5)
        elif method == "fill_":
            y.fill_(3.0)
        else:
            getattr(y, method)()
        (y * x).sum().backward()
        return y, x.grad
    check(case)


def test_setitem_with_tensor_requiring_grad():
    def case(T):
        x = T.tensor([1., 2.], requires_grad=True)
        J = T.zeros(2, 2)
        J[0] = x * x
        J[1, :] = x ** 3
        J.sum().backward()
        return J, J.grad_fn.name().rsplit("::")[-1], x.grad
    check(case)


def test_setitem_overwrites_previous_graph():
    def case(T):
        x = T.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2
        y[1] = 0.0  # kills the gradient of element 1
        y[2] = x[0] * 5  # element 2 now depends on x[0]
        y.sum().backward()
        return y, x.grad
    check(case)


def _jacobian_rows(T, fresh_grad_y: bool):
    """Seed 002: J[i] = grad(y, x, grad_outputs=e_i, create_graph=True)."""
    x = T.tensor([2.0, 3.0], requires_grad=True)
    y = x ** 3
    J = T.zeros(2, 2)
    grad_y = T.zeros(2)
    for i in range(2):
        if fresh_grad_y:
            grad_y = T.zeros(2)
        grad_y.zero_()
        grad_y[i] = 1
        (g,) = T.autograd.grad(y, x, grad_outputs=grad_y, retain_graph=True, create_graph=True)
        J[i] = g
    return x, J


def test_seed_002_jacobian_rows_then_differentiate_J():
    def case(T):
        x, J = _jacobian_rows(T, fresh_grad_y=True)
        info = J, J.requires_grad, J.is_leaf, J.grad_fn.name().rsplit("::")[-1]
        (h,) = T.autograd.grad(J[0, 0] + 2 * J[1, 1], x, retain_graph=True)
        J.sum().backward()
        return info, h, x.grad
    check(case)


def test_seed_002_reused_grad_y_is_a_modified_saved_tensor():
    # the seed's own loop zeroes grad_y in place, which create_graph saved: like PyTorch,
    # J prints fine but differentiating it is an error
    def case(T):
        x, J = _jacobian_rows(T, fresh_grad_y=False)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            J.sum().backward()
        return J
    check(case)


def test_in_place_on_view_of_non_leaf():
    def case(T):
        x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 1
        v = y[0]
        v.mul_(2)
        info = y, v, y.grad_fn.name().rsplit("::")[-1]
        (y * y).sum().backward()
        return info, x.grad
    check(case)


def test_in_place_on_view_with_other_operand_requiring_grad():
    def case(T):
        x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        w = T.tensor([5., 6.], requires_grad=True)
        y = x * 2
        y[:, 1].mul_(w)
        y.sum().backward()
        return y, x.grad, w.grad
    check(case)


def test_in_place_on_reshaped_view():
    def case(T):
        x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x * 1
        y.view(4).add_(1)
        (y * x).sum().backward()
        return y, x.grad
    check(case)


def test_in_place_on_view_of_saved_output_raises():
    def case(T):
        x = T.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        y = x.exp()
        y[:, 1].mul_(x[:, 0])
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return True
    check(case)


# --------------------------------------------------------------------------- dtypes
OPERANDS = {
    "f32": lambda T: T.tensor([1.5, 2.0]),
    "f64": lambda T: T.tensor([1.5, 2.0], dtype=T.float64),
    "f16": lambda T: T.tensor([1.5, 2.0], dtype=T.float16),
    "f64_0d": lambda T: T.tensor(1.5, dtype=T.float64),
    "f32_0d": lambda T: T.tensor(1.5),
    "i64": lambda T: T.tensor([1, 2]),
    "i32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "i64_0d": lambda T: T.tensor(3),
    "u8": lambda T: T.tensor([1, 2], dtype=T.uint8),
    "i8": lambda T: T.tensor([1, 2], dtype=T.int8),
    "bool": lambda T: T.tensor([True, False]),
    "bool_0d": lambda T: T.tensor(True),
    "py_float": lambda T: 2.5,
    "py_int": lambda T: 2,
    "py_bool": lambda T: True,
}
PAIRS = [(a, b) for a, b in itertools.product(OPERANDS, OPERANDS)
         if not (a.startswith("py") and b.startswith("py"))]


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_binary_promotion_matches_torch(a, b):
    def case(T):
        x, y = OPERANDS[a](T), OPERANDS[b](T)
        out = [dtype_name(T.result_type(x, y))]
        with np.errstate(divide="ignore", invalid="ignore"):  # x / False
            for op in (operator.add, operator.mul, operator.truediv):
                out.append(dtype_name(op(x, y).dtype))
        if "bool" not in a + b:  # PyTorch refuses `-` with bool operands
            out.append(dtype_name((x - y).dtype))
        return out
    check(case)


@pytest.mark.parametrize("a,b", [("i64", "i64"), ("i32", "i64_0d"), ("u8", "py_int"), ("bool", "bool")])
def test_integer_true_division_gives_default_float(a, b):
    def case(T):
        with np.errstate(divide="ignore", invalid="ignore"):
            return OPERANDS[a](T) / OPERANDS[b](T)
    check(case)


def test_gradient_dtypes_follow_input_dtypes():
    def case(T):
        x = T.tensor([1., 2.], dtype=T.float64, requires_grad=True)
        y = T.tensor([3., 4.], requires_grad=True)
        s = T.tensor(2.0, dtype=T.float64, requires_grad=True)
        h = T.tensor([1., 2.], dtype=T.float16, requires_grad=True)
        out = (x * y).sum() + (y * s).sum() + (h * y).sum() + (y * 2.5).sum()
        out.backward()
        return out, x.grad, y.grad, s.grad, h.grad
    check(case, rtol=1e-3)


def test_mixed_dtype_result_of_float32_and_float64_0d():
    def case(T):
        y = T.tensor([3., 4.], requires_grad=True)
        s = T.tensor(2.0, dtype=T.float64)
        z = y * s  # a 0-d tensor does not promote a dimensioned one of the same category
        z.sum().backward()
        return z, y.grad
    check(case)
