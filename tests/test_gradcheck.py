"""autograd.gradcheck / gradgradcheck: verdicts and messages against torch.autograd's on the same functions.

Every function is written once as ``f(T, *xs)`` with ``T`` either library, run through both
libraries' gradcheck with the same options; the verdicts (and, on failure, the first line of
the message) must agree. Wrong derivative rules are declared with ``defop`` here (and with
``torch.autograd.Function`` on the torch side).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import autojac
from autojac._core.node import defop
from autojac.autograd import GradcheckError, gradcheck, gradgradcheck

LIBS = (autojac, torch)


def _inputs(T, arrays, requires_grad=True) -> tuple:
    return tuple(T.tensor(a, dtype=T.float64, requires_grad=requires_grad) for a in arrays)


def _arrays(key: int, shapes) -> list:
    rng = np.random.default_rng(key)
    return [rng.uniform(0.3, 1.7, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


# f(T, *xs), input shapes
CORRECT = {
    "sin_times_x": (lambda T, x: (x.sin() * x).sum(), [(3, 4)]),
    "matmul": (lambda T, a, b: a @ b, [(3, 4), (4, 2)]),
    "tuple_outputs": (lambda T, a, b: (a.exp(), (a * b).sum(0), b.tanh()), [(2, 3), (2, 3)]),
    "broadcast": (lambda T, a, b: a * b + a / (b * b + 1), [(3, 1), (1, 4)]),
    "softmax": (lambda T, a: T.softmax(a, 1), [(2, 4)]),
    "log_softmax": (lambda T, a: T.log_softmax(a, 0), [(3, 2)]),
    "logsumexp": (lambda T, a: T.logsumexp(a, 0), [(3, 2)]),
    "norm": (lambda T, a: a.norm(dim=1), [(2, 5)]),
    "pnorm": (lambda T, a: a.norm(p=3), [(5,)]),
    "tanh_sigmoid": (lambda T, a: T.tanh(a) * T.sigmoid(a), [(6,)]),
    "softplus": (lambda T, a: T.nn.functional.softplus(a, 2.0) if T is torch else T.softplus(a, 2.0), [(5,)]),
    "index_slice": (lambda T, a: a[1:, ::2] * 2, [(3, 5)]),
    "cat_stack": (lambda T, a, b: T.stack([T.cat([a, b * b], 0).sum(0), a[0]]), [(2, 2), (1, 2)]),
    "var_std": (lambda T, a: (a.var(1), a.std(0)), [(3, 4)]),
    "pow_div": (lambda T, a, b: a.abs() ** b / (1 + a * a), [(4,), (4,)]),
    "reshape_transpose": (lambda T, a: (a.reshape(6, 2).t() @ a.reshape(6, 2) * 0.1).exp(), [(3, 4)]),
    "max_dim": (lambda T, a: a.max(1)[0] * a.amin(0).sum(), [(3, 4)]),
    "where_clamp": (lambda T, a: T.where(a > 0, a.clamp(0.5, 1.2), a * 3), [(8,)]),
    "scalar_output": (lambda T, a, b: (a * b).sum() / a.norm(), [(2, 3), (2, 3)]),
}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_functions_pass_like_torch(name: str) -> None:
    f, shapes = CORRECT[name]
    arrays = _arrays(len(name), shapes)
    for T in LIBS:
        xs = _inputs(T, arrays)
        fn = lambda *a, T=T: f(T, *a)  # noqa: E731
        assert T.autograd.gradcheck(fn, xs), T.__name__
        assert T.autograd.gradcheck(fn, xs, fast_mode=True), T.__name__
        if T is autojac:  # torch's versions of these checks are slow (vmap); ours are batched passes
            assert gradcheck(fn, xs, check_forward_ad=True, check_batched_grad=True, check_batched_forward_grad=True)
            assert gradcheck(fn, xs, check_forward_ad=True, check_backward_ad=False, fast_mode=True)


@pytest.mark.parametrize("name", ["sin_times_x", "tuple_outputs", "softmax", "norm", "tanh_sigmoid", "pow_div",
                                  "broadcast"])
def test_gradgradcheck_passes_like_torch(name: str) -> None:
    f, shapes = CORRECT[name]
    arrays = _arrays(len(name) + 1, shapes)
    for T in LIBS:
        xs = _inputs(T, arrays)
        fn = lambda *a, T=T: f(T, *a)  # noqa: E731
        assert T.autograd.gradgradcheck(fn, xs), T.__name__
        assert T.autograd.gradgradcheck(fn, xs, fast_mode=True), T.__name__
    assert gradgradcheck(lambda *a: f(autojac, *a), _inputs(autojac, arrays), check_fwd_over_rev=True,
                         gen_non_contig_grad_outputs=True)


def test_non_differentiable_inputs_and_outputs() -> None:
    # an int tensor, a tensor without requires_grad and a Python float among the inputs; an
    # integer output (argmax) among the outputs
    x = autojac.tensor([0.5, -1.0, 2.0], dtype=autojac.float64, requires_grad=True)
    k = autojac.tensor([1, 2, 3])
    c = autojac.tensor([1.5, -2.0, 0.5], dtype=autojac.float64)
    f = lambda x, k, c, s: (x.argmax(), x * k * s + c.sin(), (x * c).sum())  # noqa: E731
    assert gradcheck(f, (x, k, c, 3.0), check_forward_ad=True)
    assert gradcheck(f, (x, k, c, 3.0), fast_mode=True, check_forward_ad=True)
    assert gradgradcheck(lambda x, k, c: (x * x * k).sum() * c, (x, k, c))
    tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, k, c, s: (x * k * s + c.sin(), (x * c).sum()),
                                    (tx, torch.tensor([1, 2, 3]), torch.tensor([1.5, -2.0, 0.5]).double(), 3.0))


def test_input_as_single_tensor_and_list() -> None:
    x = autojac.tensor([[0.2, 0.4], [0.6, 0.8]], dtype=autojac.float64, requires_grad=True)
    assert gradcheck(lambda t: t.exp(), x)
    y = x.detach().clone().requires_grad_()
    assert gradcheck(lambda a, b: a @ b, [x, y])


def test_non_leaf_input() -> None:
    base = autojac.tensor([0.3, 0.9, 1.4], dtype=autojac.float64, requires_grad=True)
    x = base * 2  # checked with respect to the intermediate itself
    assert gradcheck(lambda t: t.log() * t, (x,), check_forward_ad=True)
    assert gradcheck(lambda t: t.log() * t, (x,), fast_mode=True)


# ----------------------------------------------------------------------------- wrong rules


def _autojac_sin(vjp=None, jvp=None):
    return defop("my_sin", np.sin, vjp=(vjp or (lambda g, ans, x: g * x.cos()),),
                 jvp=(jvp or (lambda t, ans, x: t * x.cos()),))


def _torch_sin(vjp=None, jvp=None):
    class MySin(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return (vjp or (lambda g, x: g * x.cos()))(g, x)

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return (jvp or (lambda t, x: t * x.cos()))(t, x)

    return MySin.apply


_X = [0.5, -1.0, 2.0]


def _both_fail(aj_fn, th_fn, **kw) -> tuple[str, str]:
    """Run both gradchecks on the same point; both must fail. Returns the two messages."""
    msgs = []
    for T, fn in ((autojac, aj_fn), (torch, th_fn)):
        x = T.tensor(_X, dtype=T.float64, requires_grad=True)
        with pytest.raises(Exception) as info:
            T.autograd.gradcheck(fn, (x,), **kw)
        assert isinstance(info.value, RuntimeError)
        msgs.append(str(info.value))
        assert T.autograd.gradcheck(fn, (x,), raise_exception=False, **kw) is False
    return msgs[0], msgs[1]


def _numbers(line: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", line)]


def test_wrong_vjp_fails_with_torch_message() -> None:
    ours, theirs = _both_fail(_autojac_sin(vjp=lambda g, ans, x: -g * x.cos()),
                              _torch_sin(vjp=lambda g, x: -g * x.cos()))
    assert isinstance(GradcheckError("x"), RuntimeError)
    head = "Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"
    assert ours.startswith(head) and theirs.startswith(head)
    num_ours, ana_ours = ours.split("analytical:")
    num_theirs, ana_theirs = theirs.split("analytical:")
    np.testing.assert_allclose(_numbers(num_ours), _numbers(num_theirs), atol=1e-4)  # printed with 4 digits
    np.testing.assert_allclose(_numbers(ana_ours), _numbers(ana_theirs), atol=1e-4)
    np.testing.assert_allclose(_numbers(num_ours), np.diag(np.cos(_X)).ravel(), atol=1e-4)


def test_wrong_vjp_fast_mode_same_projection_as_torch() -> None:
    # fast mode draws u and v as PyTorch does, so the compared scalars v^T J u agree to many digits
    ours, theirs = _both_fail(_autojac_sin(vjp=lambda g, ans, x: -g * x.cos()),
                              _torch_sin(vjp=lambda g, x: -g * x.cos()), fast_mode=True)
    lines_o, lines_t = ours.splitlines(), theirs.splitlines()
    assert lines_o[0] == lines_t[0] == "Jacobian mismatch for output 0 with respect to input 0,"
    np.testing.assert_allclose(_numbers(lines_o[1]), _numbers(lines_t[1]), rtol=1e-9)  # numerical v^T J u
    np.testing.assert_allclose(_numbers(lines_o[2]), _numbers(lines_t[2]), rtol=1e-9)  # analytical
    assert "in slow mode" in ours and "Numerical:" in ours and "Analytical:" in ours


def test_wrong_jvp_found_only_by_forward_check() -> None:
    aj = _autojac_sin(jvp=lambda t, ans, x: 2 * t * x.cos())
    th = _torch_sin(jvp=lambda t, x: 2 * t * x.cos())
    for T, fn in ((autojac, aj), (torch, th)):
        x = T.tensor(_X, dtype=T.float64, requires_grad=True)
        assert T.autograd.gradcheck(fn, (x,))  # the VJP is right
    for kw in ({}, {"fast_mode": True}):
        ours, theirs = _both_fail(aj, th, check_forward_ad=True, **kw)
        head = "Jacobian computed with forward mode mismatch for output 0 with respect to input 0,"
        assert ours.splitlines()[0] == theirs.splitlines()[0] == head


def test_second_input_and_output_indices_in_message() -> None:
    # wrong only for input 1 of output 1: the message names that pair
    op = defop("pair", lambda a, b: a * b,
               vjp=(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a * 1.5),
               jvp=(lambda t, ans, a, b: t * b, lambda t, ans, a, b: t * a))
    a = autojac.tensor([0.5, 1.5], dtype=autojac.float64, requires_grad=True)
    b = autojac.tensor([-1.0, 2.0], dtype=autojac.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 1 with respect to input 1,"):
        gradcheck(lambda a, b: (a.exp(), op(a, b)), (a, b))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 1 with respect to input 1,"):
        gradcheck(lambda a, b: (a.exp(), op(a, b)), (a, b), fast_mode=True)


def test_custom_function_wrong_backward() -> None:
    class Cube(autojac.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x  # should be 3 x^2

    class TCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x

    ours, theirs = _both_fail(Cube.apply, TCube.apply)
    assert ours.splitlines()[0] == theirs.splitlines()[0]


def test_backward_not_multiplied_by_grad_output() -> None:
    # right for the all-ones cotangent of a one-element output, but ignores g
    ign = defop("ign", np.sin, vjp=(lambda g, ans, x: x.cos() + 0 * g,), jvp=(lambda t, ans, x: t * x.cos(),))

    class TIgn(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return x.cos() + 0 * g

    for T, fn in ((autojac, ign), (torch, TIgn.apply)):
        x = T.tensor([0.7], dtype=T.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="backward not multiplied by grad_output"):
            T.autograd.gradcheck(fn, (x,))


def test_wrong_second_derivative_found_by_gradgradcheck() -> None:
    # the VJP computed on raw arrays is right but is a constant to the graph: no second derivative
    flat = defop("flat_sin", np.sin, vjp=(lambda g, ans, x: g * autojac.tensor(np.cos(x._data)),),
                 jvp=(lambda t, ans, x: t * x.cos(),))

    class TFlat(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.detach().cos()

    for T, fn in ((autojac, flat), (torch, TFlat.apply)):
        x = T.tensor(_X, dtype=T.float64, requires_grad=True)
        assert T.autograd.gradcheck(fn, (x,))
        assert T.autograd.gradgradcheck(fn, (x,), raise_exception=False) is False
        with pytest.raises(RuntimeError, match="^Jacobian mismatch for output 0 with respect to input 0,"):
            T.autograd.gradgradcheck(fn, (x,))


def test_batching_bug_passes_with_warning_and_fails_batched_check() -> None:
    # the rule reshapes g to the output's shape: wrong once g carries a leading batch dimension
    bsum = defop("bsum", lambda x: np.sum(x), vjp=(lambda g, ans, x: g.reshape(()) * autojac.ones_like(x),),
                 jvp=(lambda t, ans, x: t.sum(),))
    x = autojac.tensor(_X, dtype=autojac.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="right one row at a time"):
        assert gradcheck(bsum, (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(GradcheckError, match="While computing batched gradients"):
            gradcheck(bsum, (x,), check_batched_grad=True)


def test_nondeterministic_backward_and_nondet_tol() -> None:
    calls = [0]

    def noisy(g, ans, x):
        calls[0] += 1
        return g * (1 + 1e-9 * calls[0])

    nd = defop("noisy", lambda x: x * 1.0, vjp=(noisy,), jvp=(lambda t, ans, x: t,))
    x = autojac.tensor(_X, dtype=autojac.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(nd, (x,))
    assert gradcheck(nd, (x,), nondet_tol=1e-6)


def test_no_differentiable_output() -> None:
    for T in LIBS:
        x = T.tensor(_X, dtype=T.float64, requires_grad=True)
        for kw in ({}, {"fast_mode": True}):
            with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
                T.autograd.gradcheck(lambda t: t.detach() * 2, (x,), **kw)
            assert T.autograd.gradcheck(lambda t: (t * 2).detach() * 0, (x,), **kw)


def test_float32_warning_and_eps() -> None:
    for T in LIBS:
        x = T.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
            assert T.autograd.gradcheck(lambda t: t * t, (x,), eps=1e-3, atol=1e-2, rtol=1e-2)
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="Jacobian mismatch"):
            T.autograd.gradcheck(lambda t: t * t, (x,))  # eps=1e-6 is below float32's resolution


def test_argument_errors_like_torch() -> None:
    for T in LIBS:
        x = T.tensor(_X, dtype=T.float64, requires_grad=True)
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            T.autograd.gradcheck(lambda t: t * 2, (x.detach(),))
        with pytest.raises(AssertionError, match="at least one of check_forward_ad or check_backward_ad"):
            T.autograd.gradcheck(lambda t: t, (x,), check_backward_ad=False)
        with pytest.raises(AssertionError, match="check_batched_grad=True requires check_backward_ad"):
            T.autograd.gradcheck(lambda t: t, (x,), check_backward_ad=False, check_forward_ad=True,
                                 check_batched_grad=True)
        with pytest.raises(AssertionError, match="check_fwd_over_rev or check_rev_over_rev"):
            T.autograd.gradgradcheck(lambda t: t, (x,), check_rev_over_rev=False)
        y = T.ones(1, dtype=T.float64).expand(3).requires_grad_()
        with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
            T.autograd.gradcheck(lambda t: t * 2, (y,))


def test_gradgradcheck_given_grad_outputs() -> None:
    x = autojac.tensor(_X, dtype=autojac.float64, requires_grad=True)
    go = autojac.tensor([0.3, -0.2, 1.1], dtype=autojac.float64, requires_grad=True)
    assert gradgradcheck(lambda t: t.exp() * t.sin(), (x,), (go,))
    assert gradgradcheck(lambda t: t.exp() * t.sin(), (x,), (go,), check_fwd_over_rev=True, fast_mode=True)
    state = autojac.get_rng_state()
    assert gradgradcheck(lambda t: (t ** 3).sum(), (x,))  # random grad_outputs from a private generator
    assert autojac.equal(state, autojac.get_rng_state())


def test_input_left_unchanged() -> None:
    x = autojac.tensor([[0.5, -1.0], [2.0, 0.1]], dtype=autojac.float64, requires_grad=True)
    before, version = x.detach().clone(), x._vc[0]
    gradcheck(lambda t: t.sin() @ t, (x,), check_forward_ad=True)
    gradcheck(lambda t: t.sin() @ t, (x,), fast_mode=True, check_forward_ad=True)
    assert np.array_equal(x._data, before._data) and x._vc[0] == version and x.grad is None


def test_forward_batching_bug_passes_with_warning_and_fails_batched_check() -> None:
    # the JVP rule reshapes t to the output's shape: wrong once t carries a leading batch dimension
    fsum = defop("fsum", lambda x: np.sum(x), vjp=(lambda g, ans, x: g[..., None] * autojac.ones_like(x),),
                 jvp=(lambda t, ans, x: t.sum().reshape(()),))
    x = autojac.tensor(_X, dtype=autojac.float64, requires_grad=True)
    assert gradcheck(fsum, (x,), check_batched_grad=True)  # reverse mode is fine
    with pytest.warns(UserWarning, match="forward-mode derivatives with respect to input 0 are right one row"):
        assert gradcheck(fsum, (x,), check_forward_ad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(GradcheckError, match="batched gradient computation"):
            gradcheck(fsum, (x,), check_forward_ad=True, check_batched_forward_grad=True)


def test_scalar_empty_and_noncontiguous_inputs_like_torch() -> None:
    for T in LIBS:
        s = T.tensor(0.7, dtype=T.float64, requires_grad=True)
        e = T.zeros(0, 3, dtype=T.float64, requires_grad=True)
        m = T.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=T.float64).t().requires_grad_()  # transposed storage
        assert T.autograd.gradcheck(lambda s: s.exp() * s, (s,))
        assert T.autograd.gradcheck(lambda e: e.sum(0) + 1, (e,))
        assert T.autograd.gradcheck(lambda e: e * 2, (e,), fast_mode=True)
        assert T.autograd.gradcheck(lambda m: m @ m, (m,))
        assert T.autograd.gradcheck(lambda m: m @ m, (m,), fast_mode=True, check_forward_ad=True)
        assert T.autograd.gradcheck(lambda s, e: (s * 2, e * s), (s, e), check_forward_ad=True)
        assert T.autograd.gradgradcheck(lambda s: s.exp() * s, (s,))
