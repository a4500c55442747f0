"""``autograd.functional`` (vjp, jvp, jacobian, hessian, hvp, vhp) against PyTorch 2.13.

Every function of a table runs through both libraries; results are compared by structure
(Tensor / tuple / tuple of tuples), dtype, shape, ``requires_grad`` and value. Then:
``create_graph`` followed by a further gradient, ``strict`` and ``v`` errors (same type and
message), forward-mode == reverse-mode, call counts, nesting, and our documented extensions.
Inputs are float64 (values agree to rounding) and seeded.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import autojac
from _tol import assert_close

# --------------------------------------------------------------------------- helpers


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def assert_same(ours, theirs, *, rtol: float = 1e-9, atol: float = 1e-11, path: str = "result",
                check_rg: bool = True) -> None:
    """Same nesting of tuples, and per tensor the same dtype, shape, requires_grad and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, autojac.Tensor), f"{path}: expected a Tensor, got {type(ours).__name__}"
        assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), f"{path}: dtype {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
        assert ours.requires_grad == theirs.requires_grad or not check_rg, f"{path}: requires_grad"
        assert_close(ours.detach().numpy(), theirs.detach().numpy(), rtol, atol, err_msg=path)
        return
    # a tuple, or a list where torch's forward-mode jacobian builds one
    assert type(theirs) in (tuple, list), f"{path}: unexpected oracle type {type(theirs).__name__}"
    assert type(ours) is type(theirs), f"{path}: expected a {type(theirs).__name__}, got {type(ours).__name__}"
    assert len(ours) == len(theirs), f"{path}: length {len(ours)} != {len(theirs)}"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_same(a, b, rtol=rtol, atol=atol, path=f"{path}[{k}]", check_rg=check_rg)


def rng_for(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def arrays(key: str, shapes) -> list:
    rng = rng_for(key)
    return [np.asarray(rng.standard_normal(s)) for s in shapes]


def tensors(T, arrs, *, requires_grad: bool = False, dtype: str = "float64") -> tuple:
    return tuple(T.tensor(a, dtype=getattr(T, dtype), requires_grad=requires_grad) for a in arrs)


def pack(ts: tuple, as_tuple: bool):
    return ts if as_tuple else ts[0]


def F(T):
    return T.autograd.functional


def both(case) -> tuple:
    """``(case(autojac), case(torch))``."""
    return case(autojac), case(torch)


def flat(res) -> list:
    return [res] if not isinstance(res, (tuple, list)) else [t for r in res for t in flat(r)]


# --------------------------------------------------------------------------- the table
# name -> (function of the library module, input shapes, inputs given as a tuple)
CASES = {
    "exp_sum_dim1 (seed 000)": (lambda T: lambda x: x.exp().sum(dim=1), [(2, 3)], False),
    "elementwise": (lambda T: lambda x: (x.sin() * x.cos() + x.tanh()) / (1 + x * x) - x.sigmoid().log(),
                    [(4,)], False),
    "reductions": (lambda T: lambda x: x.softmax(-1) * x.logsumexp(-1, keepdim=True) + x.mean(0) * x.amax(1, True),
                   [(2, 3)], False),
    "matmul_chain": (lambda T: lambda x, w: (x @ w).tanh() @ w.T, [(3, 4), (4, 4)], True),
    "matvec": (lambda T: lambda a, x: a @ (a @ x).sin(), [(3, 3), (3,)], True),
    "indexing": (lambda T: lambda x: x[1:, ::2] * x[0, 0] + x[[0, 2]][:, 1:3] - x[[2, 2]][:, :2], [(3, 4)], False),
    "broadcasting": (lambda T: lambda x, y: x * y + y.exp() - x.pow(2), [(3, 1), (1, 4)], True),
    "tuple_outputs": (lambda T: lambda x, y: (x * y, (x + y).sum(), x.exp()), [(3,), (3,)], True),
    "one_input_as_tuple": (lambda T: lambda x: (x.cos(), x.sum()), [(3,)], True),
    "scalar_output": (lambda T: lambda x: x.norm() * x.sum(), [(5,)], False),
    "zero_dim_input": (lambda T: lambda x: x * x.exp(), [()], False),
    "unused_input": (lambda T: lambda x, y: x.exp() * 2, [(2,), (3,)], True),
    "where_stack": (lambda T: lambda x: T.stack([T.where(x > 0, x, x * x), x.abs() + x]), [(4,)], False),
}

def _in_place(T):
    def f(x):
        y = x.clone()
        y.mul_(2)
        y[0] = 5.0
        y.add_(x)
        z = x * 1
        z[1:] += x[:-1]
        return y * z

    return f


CASES["in_place_ops"] = (_in_place, [(3,)], False)

# scalar functions for hessian / hvp / vhp
SCALAR_CASES = {
    "cubic": (lambda T: lambda x: (x ** 3).sum(), [(3,)], False),
    "exp_sum_dim1_squared": (lambda T: lambda x: (x.exp().sum(dim=1) ** 2).sum(), [(2, 3)], False),
    "softplus_quadratic": (lambda T: lambda a, x: (a @ x).exp().log1p().sum() + x @ x / 2, [(3, 3), (3,)], True),
    "two_inputs": (lambda T: lambda x, y: (x.sin() * y.unsqueeze(1)).sum() + (y ** 2).prod(), [(2, 3), (2,)], True),
    "saved_outputs": (lambda T: lambda x: (x.sigmoid() * x.tanh() + x.exp()).sum(), [(4,)], False),
    "mlp": (lambda T: lambda w, x: (x @ w).tanh().pow(2).mean(), [(3, 2), (4, 3)], True),
    "zero_dim_input": (lambda T: lambda x: x.sin() * x.exp(), [()], False),
    "one_element_output": (lambda T: lambda x: (x ** 2).sum(0, keepdim=True), [(3,)], False),
    "unused_input": (lambda T: lambda x, y: (x ** 3).sum(), [(2,), (2,)], True),
}


def setup(table: dict, name: str, T, *, requires_grad: bool = False):
    make, shapes, as_tuple = table[name]
    return make(T), pack(tensors(T, arrays(name, shapes), requires_grad=requires_grad), as_tuple)


def random_like(key: str, ref, T):
    """A random v shaped like ``ref`` (a Tensor or a tuple of them), for both libraries alike."""
    refs = ref if isinstance(ref, tuple) else (ref,)
    vs = tensors(T, arrays(key, [tuple(r.shape) for r in refs]))
    return vs if isinstance(ref, tuple) else vs[0]


# --------------------------------------------------------------------------- first order


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("name", list(CASES))
def test_jacobian_matches_torch(name: str, strategy: str) -> None:
    vec = strategy == "forward-mode"  # both need vectorize=True for forward mode
    theirs = torch.autograd.functional.jacobian(*setup(CASES, name, torch), strategy=strategy, vectorize=vec)
    ours = autojac.autograd.functional.jacobian(*setup(CASES, name, autojac), strategy=strategy, vectorize=vec)
    assert_same(ours, theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_forward_mode_jacobian_equals_reverse_mode(name: str) -> None:
    rev = autojac.autograd.functional.jacobian(*setup(CASES, name, autojac))
    fwd = autojac.autograd.functional.jacobian(*setup(CASES, name, autojac), strategy="forward-mode", vectorize=True)
    for a, b in zip(flat(fwd), flat(rev)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_vjp_and_jvp_match_torch(name: str) -> None:
    def case(T):
        f, x = setup(CASES, name, T)
        out = f(*x) if isinstance(x, tuple) else f(x)
        v_out, v_in = random_like(name + "/vo", out, T), random_like(name + "/vi", x, T)
        return (F(T).vjp(f, x, v_out), F(T).jvp(f, x, v_in))

    assert_same(*both(case))


@pytest.mark.parametrize("name", ["zero_dim_input"])
def test_v_may_be_omitted_for_one_element(name: str) -> None:
    def case(T):
        f, x = setup(CASES, name, T)
        return (F(T).vjp(f, x), F(T).jvp(f, x))

    assert_same(*both(case))


# --------------------------------------------------------------------------- second order


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_hessian_hvp_vhp_match_torch(name: str) -> None:
    def case(T):
        f, x = setup(SCALAR_CASES, name, T)
        v = random_like(name + "/v", x, T)
        return (F(T).hessian(f, x), F(T).hvp(f, x, v), F(T).vhp(f, x, v),
                F(T).hessian(f, x, outer_jacobian_strategy="forward-mode", vectorize=True))

    ours, theirs = both(case)
    assert_same(ours[:3], theirs[:3])
    # torch's forward-over-reverse Hessian keeps a graph to its internal dual inputs whenever one
    # of its tangent formulas reads a primal; whether ours does depends on each rule's form
    assert_same(ours[3], theirs[3], check_rg=False)


def test_forward_over_reverse_through_ops_that_save_their_output() -> None:
    # exp, tanh and sigmoid save their output for the backward: the saved output must keep its tangent
    x = tensors(autojac, arrays("saved", [(5,)]))[0]
    v = tensors(autojac, arrays("saved/v", [(5,)]))[0]
    f = lambda x: (x.exp() + x.tanh() + x.sigmoid()).sum()  # noqa: E731
    _, hv = autojac.autograd.functional.hvp(f, x, v)
    xn, vn = x.numpy(), v.numpy()
    s = 1 / (1 + np.exp(-xn))
    th = np.tanh(xn)
    diag = np.exp(xn) - 2 * th * (1 - th ** 2) + s * (1 - s) * (1 - 2 * s)
    np.testing.assert_allclose(hv.numpy(), diag * vn, rtol=1e-12)


# --------------------------------------------------------------------------- create_graph


def _weights(key: str, res, T) -> list:
    return [T.tensor(a) for a in arrays(key, [tuple(t.shape) for t in flat(res)])]


def _further_grad(res, wrt: tuple, key: str, T) -> tuple:
    """The gradient of a fixed random linear function of every tensor in ``res``."""
    total = sum(((t * w).sum() for t, w in zip(flat(res), _weights(key, res, T))), T.zeros((), dtype=T.float64))
    return T.autograd.grad(total, wrt, allow_unused=True, materialize_grads=True)


CREATE_GRAPH_CALLS = {
    "jacobian": lambda T, f, x, v_in, v_out: F(T).jacobian(f, x, create_graph=True),
    "vjp": lambda T, f, x, v_in, v_out: F(T).vjp(f, x, v_out, create_graph=True),
    "jvp": lambda T, f, x, v_in, v_out: F(T).jvp(f, x, v_in, create_graph=True),
}
SECOND_ORDER_CALLS = {
    "hessian": lambda T, f, x, v: F(T).hessian(f, x, create_graph=True),
    "hvp": lambda T, f, x, v: F(T).hvp(f, x, v, create_graph=True),
    "vhp": lambda T, f, x, v: F(T).vhp(f, x, v, create_graph=True),
}


@pytest.mark.parametrize("name", ["exp_sum_dim1 (seed 000)", "matmul_chain", "tuple_outputs", "broadcasting"])
@pytest.mark.parametrize("call", list(CREATE_GRAPH_CALLS))
def test_create_graph_then_a_further_gradient(call: str, name: str) -> None:
    def case(T):
        f, x = setup(CASES, name, T, requires_grad=True)
        xs = x if isinstance(x, tuple) else (x,)
        out = f(*xs)
        v_out, v_in = random_like(name + "/vo", out, T), random_like(name + "/vi", x, T)
        for v in flat(v_out) + flat(v_in):
            v.requires_grad_(True)  # the products are differentiable in v too
        res = CREATE_GRAPH_CALLS[call](T, f, x, v_in, v_out)
        return (res, _further_grad(res, xs + tuple(flat(v_in)) + tuple(flat(v_out)), name, T))

    assert_same(*both(case))


@pytest.mark.parametrize("name", ["cubic", "two_inputs", "mlp", "saved_outputs"])
@pytest.mark.parametrize("call", list(SECOND_ORDER_CALLS))
def test_create_graph_second_order_then_a_third_derivative(call: str, name: str) -> None:
    def case(T):
        f, x = setup(SCALAR_CASES, name, T, requires_grad=True)
        v = random_like(name + "/v", x, T)
        for t in flat(v):
            t.requires_grad_(True)
        res = SECOND_ORDER_CALLS[call](T, f, x, v)
        xs = x if isinstance(x, tuple) else (x,)
        return (res, _further_grad(res, xs + tuple(flat(v)), name, T))

    assert_same(*both(case))


def test_create_graph_with_inputs_that_need_no_grad() -> None:
    # the results still carry a graph (to the function's internal copies of the inputs), as in torch
    def case(T):
        f, x = setup(SCALAR_CASES, "two_inputs", T)
        v = random_like("cg", x, T)
        kw = {"create_graph": True}
        return (F(T).jacobian(f, x, **kw), F(T).vjp(f, x, **kw), F(T).jvp(f, x, v, **kw), F(T).hessian(f, x, **kw),
                F(T).hvp(f, x, v, **kw), F(T).vhp(f, x, v, **kw))

    assert_same(*both(case))


def test_forward_mode_jacobian_stays_differentiable_in_the_inputs() -> None:
    # torch's forward-mode jacobian does not detach: with inputs that require grad it has a graph
    def case(T):
        f, x = setup(CASES, "matvec", T, requires_grad=True)
        jac = F(T).jacobian(f, x, strategy="forward-mode", vectorize=True)
        return (jac, _further_grad(jac, x, "fwd", T))

    assert_same(*both(case))


def test_results_without_create_graph_are_detached() -> None:
    f, x = setup(CASES, "matmul_chain", autojac, requires_grad=True)
    v_out = random_like("d", f(*x), autojac)
    for res in (F(autojac).jacobian(f, x), F(autojac).vjp(f, x, v_out), F(autojac).jvp(f, x, x)):
        assert all(not t.requires_grad and t.grad_fn is None for t in flat(res))


# --------------------------------------------------------------------------- errors


def _fn(T):
    return F(T)


def _o(T, *shape):
    return T.ones(*shape, dtype=T.float64)


ERRORS = {
    # inputs, outputs and v that are not Tensors / tuples of Tensors (a list is not a tuple)
    "inputs_int": lambda T: _fn(T).vjp(lambda x: x, 3),
    "inputs_list": lambda T: _fn(T).jacobian(lambda x, y: x * y, [_o(T, 2), _o(T, 2)]),
    "inputs_tuple_with_int": lambda T: _fn(T).jvp(lambda x, y: x, (_o(T, 1), 3)),
    "outputs_list": lambda T: _fn(T).jacobian(lambda x: [x, x], _o(T, 2)),
    "v_list": lambda T: _fn(T).vjp(lambda x: x, _o(T, 2), [_o(T, 2)]),
    # v validation
    "vjp_v_none_for_vector_output": lambda T: _fn(T).vjp(lambda x: x, _o(T, 2)),
    "jvp_v_none_for_vector_input": lambda T: _fn(T).jvp(lambda x: x.sum(), _o(T, 2)),
    "hvp_v_none_for_vector_input": lambda T: _fn(T).hvp(lambda x: x.sum(), _o(T, 2)),
    "vhp_v_none_for_vector_input": lambda T: _fn(T).vhp(lambda x: x.sum(), _o(T, 2)),
    "v_tuple_for_single_output": lambda T: _fn(T).vjp(lambda x: x, _o(T, 2), (_o(T, 2), _o(T, 2))),
    "v_tuple_of_wrong_length": lambda T: _fn(T).jvp(lambda x, y: x, (_o(T, 2), _o(T, 2)), (_o(T, 2),)),
    "v_wrong_size": lambda T: _fn(T).vjp(lambda x: x, _o(T, 2), _o(T, 3)),
    "v_entry_wrong_size": lambda T: _fn(T).vjp(lambda x: (x, x), _o(T, 2), (_o(T, 2), _o(T, 3))),
    "hvp_v_wrong_size": lambda T: _fn(T).hvp(lambda x: x.sum(), _o(T, 2), _o(T, 2, 1)),
    # functions hessian / hvp / vhp reject
    "hessian_tuple_output": lambda T: _fn(T).hessian(lambda x: ((x ** 3).sum(),), _o(T, 2)),
    "hessian_vector_output": lambda T: _fn(T).hessian(lambda x: x ** 3, _o(T, 2)),
    "hvp_tuple_output": lambda T: _fn(T).hvp(lambda x: ((x ** 3).sum(),), _o(T, 2), _o(T, 2)),
    "vhp_vector_output": lambda T: _fn(T).vhp(lambda x: x ** 3, _o(T, 2), _o(T, 2)),
    # strategies
    "jacobian_bad_strategy": lambda T: _fn(T).jacobian(lambda x: x, _o(T, 2), strategy="sideways"),
    "hessian_bad_strategy": lambda T: _fn(T).hessian(lambda x: x.sum(), _o(T, 2), outer_jacobian_strategy="x"),
    "forward_mode_create_graph": lambda T: _fn(T).jacobian(lambda x: x, _o(T, 2), create_graph=True,
                                                           strategy="forward-mode", vectorize=True),
    "forward_mode_strict": lambda T: _fn(T).jacobian(lambda x: x, _o(T, 2), strict=True, strategy="forward-mode",
                                                     vectorize=True),
    "hessian_forward_mode_create_graph": lambda T: _fn(T).hessian(
        lambda x: (x ** 3).sum(), _o(T, 2), create_graph=True, outer_jacobian_strategy="forward-mode",
        vectorize=True),
    "forward_mode_integer_input": lambda T: _fn(T).jacobian(lambda x: x * 2, T.arange(3), strategy="forward-mode",
                                                            vectorize=True),
    # strict mode
    "strict_output_needs_no_grad": lambda T: _fn(T).jacobian(lambda x: _o(T, 2), _o(T, 2), strict=True),
    "strict_jvp_output_needs_no_grad": lambda T: _fn(T).jvp(lambda x: _o(T, 2), _o(T, 2), _o(T, 2), strict=True),
    "strict_jacobian_unused_input": lambda T: _fn(T).jacobian(lambda x, y: x ** 3, (_o(T, 2), _o(T, 2)),
                                                              strict=True),
    "strict_vjp_unused_input": lambda T: _fn(T).vjp(lambda x, y: x ** 3, (_o(T, 2), _o(T, 2)), _o(T, 2),
                                                    strict=True),
    "strict_jvp_unused_input": lambda T: _fn(T).jvp(lambda x, y: x ** 3, (_o(T, 2), _o(T, 2)),
                                                    (_o(T, 2), _o(T, 2)), strict=True),
    "strict_hvp_unused_input": lambda T: _fn(T).hvp(lambda x, y: (x ** 3).sum(), (_o(T, 2), _o(T, 2)),
                                                    (_o(T, 2), _o(T, 2)), strict=True),
    "strict_hessian_unused_input": lambda T: _fn(T).hessian(lambda x, y: (x ** 3).sum(), (_o(T, 2), _o(T, 2)),
                                                            strict=True),
    "strict_hessian_independent_block": lambda T: _fn(T).hessian(
        lambda x, y: (x ** 3).sum() + (y ** 3).sum(), (_o(T, 2), _o(T, 2)), strict=True),
    "strict_hvp_linear": lambda T: _fn(T).hvp(lambda x: x.sum(), _o(T, 2), _o(T, 2), strict=True),
    "strict_vhp_linear": lambda T: _fn(T).vhp(lambda x: x.sum(), _o(T, 2), _o(T, 2), strict=True),
    "strict_hessian_linear": lambda T: _fn(T).hessian(lambda x: x.sum(), _o(T, 2), strict=True),
    "strict_create_graph_jacobian_linear": lambda T: _fn(T).jacobian(lambda x, y: x * 3, (_o(T, 2), _o(T, 2)),
                                                                     strict=True, create_graph=True),
    "strict_create_graph_vjp_linear": lambda T: _fn(T).vjp(lambda x: x * 3, _o(T, 2), _o(T, 2), strict=True,
                                                           create_graph=True),
    "strict_create_graph_jvp_linear": lambda T: _fn(T).jvp(lambda x: x * 3, _o(T, 2), _o(T, 2), strict=True,
                                                           create_graph=True),
    "strict_create_graph_hvp_quadratic": lambda T: _fn(T).hvp(lambda x: (x * x).sum(), _o(T, 2), _o(T, 2),
                                                              strict=True, create_graph=True),
    "strict_create_graph_vhp_quadratic": lambda T: _fn(T).vhp(lambda x: (x * x).sum(), _o(T, 2), _o(T, 2),
                                                              strict=True, create_graph=True),
    "strict_create_graph_hessian_quadratic": lambda T: _fn(T).hessian(lambda x: (x * x).sum(), _o(T, 2),
                                                                      strict=True, create_graph=True),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_matches_torch(name: str) -> None:
    """Same exception type and message (up to the library's name)."""
    with pytest.raises(Exception) as theirs:
        ERRORS[name](torch)
    with pytest.raises(Exception) as ours:
        ERRORS[name](autojac)
    assert ours.type is theirs.type, f"torch raised {theirs.type.__name__}: {theirs.value}; we {ours.value!r}"
    assert str(ours.value).replace("autojac", "torch") == str(theirs.value)


def test_integer_inputs_cannot_require_grad() -> None:
    for T in (torch, autojac):
        with pytest.raises(RuntimeError, match="only Tensors of floating point"):
            F(T).jacobian(lambda x: x * 2, T.arange(3))


def test_strict_passes_when_everything_is_connected() -> None:
    def case(T):
        f, x = setup(SCALAR_CASES, "two_inputs", T)
        v = random_like("s", x, T)
        return (F(T).jacobian(f, x, strict=True), F(T).vjp(f, x, strict=True), F(T).jvp(f, x, v, strict=True),
                F(T).hessian(f, x, strict=True), F(T).hvp(f, x, v, strict=True),
                F(T).vhp(f, x, v, strict=True))

    assert_same(*both(case))


# --------------------------------------------------------------------------- semantics


def test_outputs_that_need_no_grad_give_zeros() -> None:
    def case(T):
        f = lambda x: T.ones(2, dtype=T.float64)  # noqa: E731
        x = _o(T, 3)
        return (F(T).jacobian(f, x), F(T).jacobian(f, x, strategy="forward-mode", vectorize=True),
                F(T).vjp(f, x, _o(T, 2)), F(T).jvp(f, x, _o(T, 3)))

    assert_same(*both(case))


def test_dtypes_follow_torch() -> None:
    # reverse mode: the input's dtype; forward mode: the output's (also for independent blocks)
    def case(T):
        x = (T.ones(2, dtype=T.float64), T.ones(3, dtype=T.float64))
        f = lambda a, b: (a.float() * 2, b.sum().float())  # noqa: E731
        g = lambda a, b: a.float().exp()  # noqa: E731
        return (F(T).jacobian(f, x), F(T).jacobian(f, x, strategy="forward-mode", vectorize=True),
                F(T).jacobian(g, x), F(T).jacobian(g, x, strategy="forward-mode", vectorize=True),
                F(T).jacobian(lambda a: a.exp(), T.ones(2)))

    assert_same(*both(case), rtol=1e-6)


CALLS_ONCE = {
    "jacobian": lambda T, f, x: F(T).jacobian(f, x),
    "jacobian_fwd": lambda T, f, x: F(T).jacobian(f, x, strategy="forward-mode", vectorize=True),
    "vjp": lambda T, f, x: F(T).vjp(f, x),
    "jvp": lambda T, f, x: F(T).jvp(f, x, x),
    "hessian": lambda T, f, x: F(T).hessian(f, x),
    "hessian_fwd": lambda T, f, x: F(T).hessian(f, x, outer_jacobian_strategy="forward-mode", vectorize=True),
    "hvp": lambda T, f, x: F(T).hvp(f, x, x),
    "vhp": lambda T, f, x: F(T).vhp(f, x, x),
}


@pytest.mark.parametrize("call", list(CALLS_ONCE))
def test_the_function_is_called_once_like_torch(call: str) -> None:
    # what func does besides computing (drawing random numbers, printing) happens as often as in torch
    def case(T):
        n = [0]

        def f(x):
            n[0] += 1
            return (x ** 3).sum()

        CALLS_ONCE[call](T, f, T.ones(3))
        return n[0]

    assert both(case) == (1, 1)


def test_nested_transforms_match_torch() -> None:
    """jacobian of a jvp (reverse over forward) and jvp of a jacobian (forward over reverse)."""
    def case(T):
        f, x = setup(CASES, "elementwise", T)
        v = random_like("nest", x, T)
        jac_of_jvp = F(T).jacobian(lambda y: F(T).jvp(f, y, v, create_graph=True)[1], x)
        jvp_of_jac = F(T).jvp(lambda y: F(T).jacobian(f, y, create_graph=True), x, v)
        hvp_of_hvp = F(T).hvp(lambda y: F(T).hvp(lambda z: (z ** 4).sum(), y, v, create_graph=True)[1].sum(), x, v)
        return (jac_of_jvp, jvp_of_jac, hvp_of_hvp)

    assert_same(*both(case))


def test_functional_inside_a_public_dual_level() -> None:
    # our internal levels are fresh ones: functional calls work inside a user's dual_level
    f, x = setup(SCALAR_CASES, "cubic", autojac)
    v = random_like("dl", x, autojac)
    def jac():
        return F(autojac).jacobian(f, x, strategy="forward-mode", vectorize=True)

    want = (F(autojac).jvp(f, x, v), F(autojac).hvp(f, x, v), jac())
    with autojac.autograd.forward_ad.dual_level():
        got = (F(autojac).jvp(f, x, v), F(autojac).hvp(f, x, v), jac())
    for a, b in zip(flat(got), flat(want)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_returned_jacobians_are_fresh_writable_arrays(strategy: str) -> None:
    # identity bases are cached: a Jacobian that passes the basis straight through must not alias it
    x = autojac.ones(3, requires_grad=True)
    jac = F(autojac).jacobian(lambda x: x, x, strategy=strategy, vectorize=True)
    jac[0, 0] = 5.0
    jac.add_(1.0)
    if strategy == "reverse-mode":
        F(autojac).jacobian(lambda x: x, x, create_graph=True).add_(1.0)
    np.testing.assert_array_equal(F(autojac).jacobian(lambda x: x, x, strategy=strategy, vectorize=True).numpy(),
                                  np.eye(3))
    np.testing.assert_array_equal(F(autojac).jacobian(lambda x: x.view(3, 1), x, strategy=strategy,
                                                             vectorize=True).numpy(),
                                  np.eye(3).reshape(3, 1, 3))


def test_empty_output_gives_an_empty_jacobian() -> None:
    # torch's forward mode returns (0, 2); its reverse mode fails in torch.stack, ours does not
    theirs = torch.autograd.functional.jacobian(lambda x: x[:0], torch.ones(2), strategy="forward-mode",
                                                vectorize=True)
    for strategy in ("reverse-mode", "forward-mode"):
        assert_same(F(autojac).jacobian(lambda x: x[:0], autojac.ones(2), strategy=strategy, vectorize=True), theirs)


def test_vectorize_is_accepted_everywhere() -> None:
    """Always vectorized: ``vectorize`` changes nothing (torch would refuse strict+vectorize). Forward mode
    without ``vectorize=True`` raises as torch does (tests/test_parity_api.py)."""
    f, x = setup(CASES, "matvec", autojac)
    want = F(autojac).jacobian(f, x)
    for kw in ({"vectorize": True, "strict": True}, {"vectorize": True, "strategy": "forward-mode"},
               {"vectorize": True}):
        for a, b in zip(flat(F(autojac).jacobian(f, x, **kw)), flat(want)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_float32_seed_000_values() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    for strategy in ("reverse-mode", "forward-mode"):
        ours = F(autojac).jacobian(lambda x: x.exp().sum(dim=1), autojac.tensor(x), strategy=strategy,
                                   vectorize=True)
        theirs = torch.autograd.functional.jacobian(lambda x: x.exp().sum(dim=1), torch.tensor(x),
                                                    strategy=strategy, vectorize=True)
        assert_same(ours, theirs, rtol=1e-6, atol=1e-7)
