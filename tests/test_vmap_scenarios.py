"""vmap scenarios against torch.func (issue 10), through the public API only.

Every scenario is one function ``(T, d)`` written against a namespace ``T`` (``torch`` or
``autojac``) and ``d``, a source of seeded inputs that gives both libraries the same numbers; it
runs under both and the results (any pytree of tensors) must agree to float tolerance. The
scenarios: the docstring examples of torch.func's vmap, grad, jacrev, jacfwd, hessian, vjp and
jvp; nested vmap with in_dims/out_dims combinations; transforms composed in every order;
per-sample gradients of an MLP and of a small conv net (torch's per-sample-grads tutorial);
``autograd.grad`` vmapped over an outer graph (torch's is_grads_batched example); randomness
modes; in-place writes; error types and messages in torch's words; ``chunk_size``; ``autojac.vmap``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autojac
from _tol import assert_close
from autojac.func._vmap import VmapFallbackWarning

TOL64 = 1e-10  # float64: batched and looped code paths agree to rounding over these short chains


class Inputs:
    """Seeded inputs as ``T`` tensors: the same numbers for both libraries (float64 unless asked)."""

    def __init__(self, T, seed: int = 0):
        self.T, self.rng = T, np.random.default_rng(seed)

    def randn(self, *shape, dtype=np.float64, requires_grad=False):
        return self.T.tensor(self.rng.standard_normal(shape).astype(dtype), requires_grad=requires_grad)

    def rand(self, *shape, dtype=np.float64, requires_grad=False):
        return self.T.tensor(self.rng.uniform(0.1, 1.0, shape).astype(dtype), requires_grad=requires_grad)


def assert_same(ours, theirs, tol: float = TOL64, path: str = "result") -> None:
    """``ours`` (autojac) has the structure, shapes, dtypes and values (to ``tol``) of ``theirs`` (torch)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{path}: {ours!r} vs {theirs!r}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, tol, f"{path}[{i}]")
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs), f"{path}: keys {list(ours)} vs {list(theirs)}"
        for k in theirs:
            assert_same(ours[k], theirs[k], tol, f"{path}[{k!r}]")
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, autojac.Tensor), f"{path}: {type(ours).__name__}, not a tensor"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], f"{path}: dtype"
        assert_close(ours.detach().numpy(), theirs.detach().numpy(), tol, tol, err_msg=path)
    else:
        assert ours == theirs, path


def check(scenario, seed: int = 0, tol: float = TOL64) -> None:
    """Run ``scenario(T, inputs)`` under torch and autojac on the same seeded inputs; compare."""
    theirs = scenario(torch, Inputs(torch, seed))
    ours = scenario(autojac, Inputs(autojac, seed))
    assert_same(ours, theirs, tol)


def same_error(call, cut: str | None = None):
    """``call(torch)`` and ``call(autojac)`` raise the same exception type with torch's message (up
    to ``cut``, where torch prints its own pytree spec); autojac may append an explanation."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    want = str(theirs.value)
    if cut is not None:
        want = want.split(cut)[0]
    with pytest.raises(Exception) as ours:
        call(autojac)
    assert isinstance(ours.value, type(theirs.value)), f"{type(ours.value).__name__}: {ours.value}"
    assert str(ours.value).startswith(want), f"\nautojac: {ours.value}\ntorch:   {want}"
    return ours.value


# --------------------------------------------------------------------------- docstring examples
# torch/_functorch/apis.py (vmap, grad) and eager_transforms.py (vjp, jacrev, jvp, jacfwd, hessian),
# with float64 inputs and smaller batches.

def vmap_doc_batched_dot(T, d):
    return T.func.vmap(T.dot)(d.randn(2, 5), d.randn(2, 5))


def vmap_doc_model_with_captured_weights(T, d):
    weights = d.randn(5, requires_grad=True)

    def model(feature_vec):
        return feature_vec.dot(weights).relu()

    result = T.vmap(model)(d.randn(3, 5))
    return result, T.autograd.grad(result.sum(), weights)


def vmap_doc_jacobian_rows_by_autograd_grad(T, d):
    x = d.randn(5, requires_grad=True)
    y = x ** 2
    eye = T.eye(5, dtype=T.float64)
    rows = T.stack([T.autograd.grad(y, x, v, retain_graph=True)[0] for v in eye.unbind()])
    return rows, T.vmap(lambda v: T.autograd.grad(y, x, v))(eye)


def vmap_doc_nested_dot(T, d):
    return T.vmap(T.vmap(T.dot))(d.randn(2, 3, 5), d.randn(2, 3, 5))


def vmap_doc_in_dims_1(T, d):
    return T.vmap(T.dot, in_dims=1)(d.randn(2, 5), d.randn(2, 5))


def vmap_doc_in_dims_0_none(T, d):
    return T.vmap(T.dot, in_dims=(0, None))(d.randn(2, 5), d.randn(5))


def vmap_doc_dict_input(T, d):
    f = lambda dct: T.dot(dct["x"], dct["y"])  # noqa: E731
    return T.vmap(f, in_dims=({"x": 0, "y": None},))({"x": d.randn(2, 5), "y": d.randn(5)})


def vmap_doc_out_dims_1(T, d):
    return T.vmap(lambda x: x ** 2, out_dims=1)(d.randn(2, 5))


def vmap_doc_kwargs(T, d):
    x = d.randn(2, 5)

    def fn(x, scale=4.0):
        return x * scale

    batched = T.vmap(fn)
    return batched(x), batched(x, scale=x)  # the kwarg is not batched: [2, 2, 5]


def grad_doc_sin(T, d):
    x = d.randn()
    return T.func.grad(lambda x: T.sin(x))(x), T.func.grad(T.func.grad(lambda x: T.sin(x)))(x), x.cos(), -x.sin()


def grad_doc_per_sample(T, d):
    def model(weights, feature_vec):
        assert feature_vec.dim() == 1
        return feature_vec.dot(weights).relu()

    def compute_loss(weights, example, target):
        return ((model(weights, example) - target) ** 2).mean()

    weights = d.randn(5, requires_grad=True)
    return T.func.vmap(T.func.grad(compute_loss), in_dims=(None, 0, 0))(weights, d.randn(3, 5), d.randn(3))


def grad_doc_has_aux_argnums(T, d):
    def my_loss_func(y, y_pred):
        loss_per_sample = (0.5 * y_pred - y) ** 2
        return loss_per_sample.mean(), (y_pred, loss_per_sample)

    return T.func.grad(my_loss_func, argnums=(0, 1), has_aux=True)(d.rand(4), d.rand(4, requires_grad=True))


def _jac_doc(jac):
    """The examples jacrev's and jacfwd's docstrings share, for ``jac`` in (jacrev, jacfwd)."""

    def scenario(T, d):
        J = getattr(T.func, jac)
        x, y = d.randn(5), d.randn(5)

        def g(x):
            result = x.sin()
            return result, result

        def f(x, y):
            return x + y ** 2

        second = T.func.jacfwd if jac == "jacfwd" else T.func.jacrev  # jacfwd(jacrev(f)) / jacrev(jacrev(f))
        return (J(T.sin)(x), J(g, has_aux=True)(x), T.func.vmap(J(T.sin))(d.randn(6, 5)),
                second(T.func.jacrev(lambda x: x.sin().sum()))(x), J(f, argnums=1)(x, y), J(f, argnums=(0, 1))(x, y))

    scenario.__name__ = f"{jac}_doc_examples"
    return scenario


def hessian_doc(T, d):
    x = d.randn(5)
    return T.func.hessian(lambda x: x.sin().sum())(x), T.diag(-x.sin())


def vjp_doc_examples(T, d):
    vjp = T.func.vjp
    x = d.randn(5)
    out = [vjp(lambda x: x.sin().sum(), x)[1](T.tensor(1.0, dtype=T.float64))]
    out.append(vjp(lambda x: (x.sin(), x.cos()), x)[1]((T.ones(5, dtype=T.float64), T.ones(5, dtype=T.float64))))
    cot = {"first": T.ones(5, dtype=T.float64), "second": T.ones(5, dtype=T.float64)}
    out.append(vjp(lambda x: {"first": x.sin(), "second": x.cos()}, x)[1](cot))
    a, b = d.randn(5, 4), d.randn(4, 5)
    out.append(vjp(T.matmul, a, b)[1](d.randn(5, 5)))

    def f(x, scale=4.0):
        return x * scale

    out.append(vjp(f, x)[1](T.ones_like(x)))
    return out


def jvp_doc_examples(T, d):
    x = d.randn()
    scale = T.tensor([1.0, 2.0, 3.0], dtype=T.float64)
    first = T.func.jvp(lambda x: x * scale, (x,), (T.tensor(1.0, dtype=T.float64),))
    x, y = d.randn(5), d.randn(5)
    return first, T.func.jvp(lambda x, y: x * y, (x, y), (T.ones(5, dtype=T.float64), T.ones(5, dtype=T.float64)))


DOC_EXAMPLES = [vmap_doc_batched_dot, vmap_doc_model_with_captured_weights, vmap_doc_jacobian_rows_by_autograd_grad,
                vmap_doc_nested_dot, vmap_doc_in_dims_1, vmap_doc_in_dims_0_none, vmap_doc_dict_input,
                vmap_doc_out_dims_1, vmap_doc_kwargs, grad_doc_sin, grad_doc_per_sample, grad_doc_has_aux_argnums,
                _jac_doc("jacrev"), _jac_doc("jacfwd"), hessian_doc, vjp_doc_examples, jvp_doc_examples]


@pytest.mark.parametrize("scenario", DOC_EXAMPLES, ids=lambda s: s.__name__)
def test_docstring_example(scenario):
    check(scenario)


# --------------------------------------------------------------------------- nested vmap, dims, pytrees

def nested_outer_product(T, d):
    mul = lambda a, b: a * b  # noqa: E731
    return T.func.vmap(T.func.vmap(mul, in_dims=(None, 0)), in_dims=(0, None))(d.randn(3), d.randn(4))


def nested_in_dims_1_and_minus_1(T, d):
    return T.func.vmap(T.func.vmap(lambda a: a.exp().sum(), in_dims=1), in_dims=-1)(d.randn(4, 5, 3))


def nested_out_dims(T, d):
    f = lambda a: a * a.sum()  # noqa: E731
    return T.func.vmap(T.func.vmap(f, out_dims=1), out_dims=-1)(d.randn(3, 4, 2))


def nested_three_levels(T, d):
    vm = T.func.vmap
    return vm(vm(vm(lambda a, b: (a * b).sum().tanh(), in_dims=(0, None)), in_dims=(None, 0)))(
        d.randn(2, 3, 4), d.randn(2, 5, 4))


def nested_inner_closes_over_outer_batched(T, d):
    y = d.randn(4, 2)
    return T.func.vmap(lambda a: T.func.vmap(lambda b: a * b + a.sum())(y))(d.randn(3, 2))


def in_dims_tuple_pytree(T, d):
    f = lambda ab, c: ab[0] @ c + ab[1]  # noqa: E731
    return T.func.vmap(f, in_dims=((0, None), 1))((d.randn(3, 2), d.randn(4)), d.randn(2, 3, 4))


def in_dims_dict_pytree_nested(T, d):
    f = lambda p: (p["w"] * p["x"]).sum()  # noqa: E731
    inner = T.func.vmap(f, in_dims=({"w": None, "x": 0},))
    return T.func.vmap(inner, in_dims=({"w": 0, "x": 1},))({"w": d.randn(3, 2), "x": d.randn(4, 3, 2)})


def in_dims_none_and_python_scalars(T, d):
    f = lambda a, k, w, flag: (a * k + w) if flag else a  # noqa: E731
    return T.func.vmap(f, in_dims=(0, None, None, None))(d.randn(3, 2), 2.5, d.randn(2), True)


def out_dims_tuple_with_none(T, d):
    c = d.randn(2)
    return T.func.vmap(lambda a: (a * 2, c, a.sum()), out_dims=(1, None, 0))(d.randn(3, 2))


def out_dims_negative(T, d):
    return T.func.vmap(lambda a: a.T @ a, in_dims=-1, out_dims=-2)(d.randn(2, 3, 4))


def kwargs_not_batched(T, d):
    scale = d.randn(2)
    f = lambda a, *, scale, shift=0.0: a * scale + shift  # noqa: E731
    return T.func.vmap(f)(d.randn(3, 2), scale=scale, shift=1.5)


def output_dict_and_list(T, d):
    f = lambda a: {"sq": a ** 2, "parts": [a.sum(), a.max()]}  # noqa: E731
    return T.func.vmap(f)(d.randn(4, 3))


def unbatched_output_broadcast(T, d):
    w = d.randn(2)
    return T.func.vmap(lambda a: w * 3.0)(d.randn(4, 5))  # an output that ignores the batch is expanded


NESTED = [nested_outer_product, nested_in_dims_1_and_minus_1, nested_out_dims, nested_three_levels,
          nested_inner_closes_over_outer_batched, in_dims_tuple_pytree, in_dims_dict_pytree_nested,
          in_dims_none_and_python_scalars, out_dims_tuple_with_none, out_dims_negative, kwargs_not_batched,
          output_dict_and_list, unbatched_output_broadcast]


@pytest.mark.parametrize("scenario", NESTED, ids=lambda s: s.__name__)
def test_nested_and_dims(scenario):
    check(scenario)


# --------------------------------------------------------------------------- programs under vmap
# Small per-example programs mixing the op families a batching rule must shift (views, indexing with
# batched indices, reductions, cat/stack, linalg, in-place on fresh tensors); each value and its
# per-example gradient ``vmap(grad(sum of program))`` against torch.

def _attention(T, q, k, v):
    w = T.softmax(q @ k.transpose(-2, -1) / k.shape[-1] ** 0.5, dim=-1)
    return (w @ v).reshape(-1)


def _views_and_reductions(T, x):
    y = x.reshape(2, 6).permute(1, 0).unsqueeze(0).expand(3, 6, 2)
    z = y.sum(0)
    return T.cat([z, z.mean(-1, keepdim=True), y.amax(0)[:, 1:]], dim=1).flatten()


def _indexing(T, x):
    return T.stack([x[1:, ::2].sum(), x[:, -1].norm(), x.diagonal().prod(), T.where(x > 0, x, x * 0.1).sum()])


def _fresh_inplace(T, x):
    y = x.clone()
    y[0] = y[0] * 2
    y.mul_(y.sigmoid()).add_(1.0)
    return y.cumsum(0)


def _linalg(T, x):
    a = x @ x.mT + T.eye(x.shape[0], dtype=x.dtype)
    return T.linalg.solve(a, x[:, 0]) + T.logdet(a) + T.linalg.inv(a).trace()


def _gather(T, x, idx):
    return x.gather(0, idx).sum(0) * x.index_select(1, idx[0]).sum(0)


PROGRAMS = {
    "attention": (lambda T, d: (d.randn(5, 3, 4), d.randn(5, 6, 4), d.randn(5, 6, 2)), _attention),
    "views_and_reductions": (lambda T, d: (d.randn(5, 3, 4),), _views_and_reductions),
    "indexing": (lambda T, d: (d.randn(5, 4, 4),), _indexing),
    "fresh_inplace": (lambda T, d: (d.randn(5, 3, 2),), _fresh_inplace),
    "linalg": (lambda T, d: (d.randn(5, 3, 3),), _linalg),
    "gather_batched_index": (lambda T, d: (d.randn(5, 3, 4), T.tensor(d.rng.integers(0, 3, (5, 2, 4)))), _gather),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_under_vmap(name):
    make_inputs, program = PROGRAMS[name]

    def scenario(T, d):
        args = make_inputs(T, d)
        f = lambda *a: program(T, *a)  # noqa: E731
        grad = T.func.vmap(T.func.grad(lambda *a: f(*a).sum()))(*args) if args[0].is_floating_point() else None
        return T.func.vmap(f)(*args), grad

    check(scenario)


DATA_DEPENDENT = {  # a batched value has no single Python value
    "item": lambda T: T.func.vmap(lambda a: a * a.sum().item())(_x(T)),
    "tensor_from_item": lambda T: T.func.vmap(lambda a: a * T.tensor(a.sum().item()))(_x(T)),
    "control_flow": lambda T: T.func.vmap(lambda a: a if a.sum() > 0 else -a)(_x(T)),
}
LOOPED = {  # the same programs as loops over the batch (vmap's definition)
    "item": lambda T, x: T.stack([a * a.sum().item() for a in x]),
    "tensor_from_item": lambda T, x: T.stack([a * T.tensor(a.sum().item()) for a in x]),
    "control_flow": lambda T, x: T.stack([a if a.sum() > 0 else -a for a in x]),
}


@pytest.mark.parametrize("case", list(DATA_DEPENDENT))
def test_data_dependent_python_values_run_as_a_loop(case):
    """torch refuses these; autojac's vmap warns and runs the function once per element (a deliberate
    difference, documented in autojac.func.vmap), which gives torch's loop result."""
    with pytest.raises(RuntimeError):
        DATA_DEPENDENT[case](torch)
    with pytest.warns(VmapFallbackWarning, match="could not be vectorized"):
        got = DATA_DEPENDENT[case](autojac)
    np.testing.assert_allclose(got.numpy(), LOOPED[case](torch, _x(torch)).numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- composed transforms

def _f(T):
    return lambda w, x: T.tanh(x @ w).pow(2).sum() + (w * x.sin().sum()).exp().sum()


def _g(T):
    return lambda x: T.stack([x.sin().sum(), (x * x.roll(1)).sum(), x.exp().prod()])


def vmap_of_grad(T, d):
    return T.func.vmap(T.func.grad(_f(T)), in_dims=(None, 0))(d.randn(3) * 0.3, d.randn(5, 4, 3))


def grad_of_vmap(T, d):
    X = d.randn(5, 4, 3)
    return T.func.grad(lambda w: T.func.vmap(_f(T), in_dims=(None, 0))(w, X).sum())(d.randn(3) * 0.3)


def vmap_of_grad_argnums_has_aux(T, d):
    def loss(w, x):
        v = _f(T)(w, x)
        return v, v.detach() * 2
    return T.func.vmap(T.func.grad(loss, argnums=(0, 1), has_aux=True))(d.randn(5, 3) * 0.3, d.randn(5, 4, 3))


def vmap_of_jacrev(T, d):
    return T.func.vmap(T.func.jacrev(_g(T)))(d.randn(6, 4))


def jacrev_of_vmap(T, d):
    return T.func.jacrev(T.func.vmap(_g(T)))(d.randn(3, 4))


def vmap_of_jacfwd(T, d):
    return T.func.vmap(T.func.jacfwd(_g(T)))(d.randn(6, 4))


def jacfwd_of_vmap(T, d):
    return T.func.jacfwd(T.func.vmap(_g(T)))(d.randn(3, 4))


def vmap_of_hessian(T, d):
    return T.func.vmap(T.func.hessian(_f(T)), in_dims=(0, None))(d.randn(5, 3) * 0.3, d.randn(4, 3))


def hessian_of_vmap_sum(T, d):
    X = d.randn(5, 4, 3)
    return T.func.hessian(lambda w: T.func.vmap(_f(T), in_dims=(None, 0))(w, X).sum())(d.randn(3) * 0.3)


def vmap_of_jvp(T, d):
    jvp = lambda x, t: T.func.jvp(_g(T), (x,), (t,))  # noqa: E731
    return T.func.vmap(jvp)(d.randn(5, 4), d.randn(5, 4))


def jvp_of_vmap(T, d):
    return T.func.jvp(T.func.vmap(_g(T)), (d.randn(5, 4),), (d.randn(5, 4),))


def vmap_of_vjp(T, d):
    def pullback(x, c):
        out, fn = T.func.vjp(_g(T), x)
        return out, fn(c)
    return T.func.vmap(pullback)(d.randn(5, 4), d.randn(5, 3))


def vjp_of_vmap(T, d):
    out, fn = T.func.vjp(T.func.vmap(_g(T)), d.randn(5, 4))
    return out, fn(d.randn(5, 3))


def vmap_of_vmap_of_grad(T, d):
    vm = T.func.vmap
    return vm(vm(T.func.grad(_f(T)), in_dims=(None, 0)), in_dims=(0, None))(d.randn(2, 3) * 0.3, d.randn(4, 5, 3))


def vmap_of_fourth_derivative(T, d):
    g = T.func.grad
    return T.func.vmap(g(g(g(g(T.tanh)))))(d.randn(7))


def grad_of_function_calling_vmap(T, d):
    X = d.randn(6, 3)

    def loss(w):
        per_row = T.func.vmap(lambda x: (w * x).sin().sum())(X)
        return (per_row ** 2).sum() + w.norm()

    return T.func.grad(loss)(d.randn(3))


def backward_through_vmap_of_grad(T, d):
    w = d.randn(3, requires_grad=True)
    per_sample = T.func.vmap(T.func.grad(_f(T), argnums=1), in_dims=(None, 0))(w, d.randn(5, 4, 3))
    return per_sample, T.autograd.grad(per_sample.pow(2).sum(), w)


COMPOSED = [vmap_of_grad, grad_of_vmap, vmap_of_grad_argnums_has_aux, vmap_of_jacrev, jacrev_of_vmap, vmap_of_jacfwd,
            jacfwd_of_vmap, vmap_of_hessian, hessian_of_vmap_sum, vmap_of_jvp, jvp_of_vmap, vmap_of_vjp, vjp_of_vmap,
            vmap_of_vmap_of_grad, vmap_of_fourth_derivative, grad_of_function_calling_vmap,
            backward_through_vmap_of_grad]


@pytest.mark.parametrize("scenario", COMPOSED, ids=lambda s: s.__name__)
def test_composed_transforms(scenario):
    check(scenario)


# --------------------------------------------------------------------------- per-sample gradients

def _load(T, model, d):
    """The module's parameters as a dict of seeded (detached) tensors of the test's dtype."""
    return {k: d.randn(*v.shape) * 0.3 for k, v in model.named_parameters()}


def _mlp(T):
    nn = T.nn
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4)).double()


def _conv_net(T):
    nn, F = T.nn, T.nn.functional

    class SmallConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
            self.fc = nn.Linear(4 * 2 * 2, 5)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.avg_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc(T.flatten(x, 1))

    return SmallConvNet().double()


def _per_sample(make_model, x_shape, batch=6, classes=None):
    """torch's per-sample-grads tutorial: ``vmap(grad(loss), in_dims=(None, 0, 0))`` over functional_call."""

    def scenario(T, d):
        model = make_model(T)
        params = _load(T, model, d)
        x = d.randn(batch, *x_shape)
        n_out = classes or 4
        targets = T.tensor(d.rng.integers(0, n_out, batch))

        def loss(params, sample, target):
            logits = T.func.functional_call(model, params, (sample.unsqueeze(0),))
            return T.nn.functional.cross_entropy(logits, target.unsqueeze(0))

        per_sample = T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))(params, x, targets)
        batch_loss = T.func.vmap(loss, in_dims=(None, 0, 0))(params, x, targets)
        return per_sample, batch_loss

    scenario.__name__ = make_model.__name__.strip("_")
    return scenario


@pytest.mark.parametrize("scenario", [_per_sample(_mlp, (6,)), _per_sample(_conv_net, (1, 10, 10), classes=5)],
                         ids=lambda s: s.__name__)
def test_per_sample_gradients(scenario):
    check(scenario, seed=3)


def test_per_sample_gradients_float32():
    def scenario(T, d):
        w1, b1, w2 = (d.randn(*s, dtype=np.float32) for s in ((8, 5), (8,), (3, 8)))
        x, y = d.randn(7, 5, dtype=np.float32), d.randn(7, 3, dtype=np.float32)
        F = T.nn.functional

        def loss(w1, b1, w2, x, y):
            return F.mse_loss(F.linear(F.gelu(F.linear(x, w1, b1)), w2), y)

        return T.func.vmap(T.func.grad(loss, argnums=(0, 1, 2)), in_dims=(None, None, None, 0, 0))(w1, b1, w2, x, y)

    theirs = scenario(torch, Inputs(torch, 5))
    ours = scenario(autojac, Inputs(autojac, 5))
    assert_same(ours, theirs, tol=0.0)  # float32: _tol's float32 floors (1e-5 relative)


# --------------------------------------------------------------------------- autograd.grad over an outer graph

def test_vmap_of_autograd_grad_over_outer_graph():
    """torch's is_grads_batched example: the rows of a Jacobian, one vmapped autograd.grad, graph retained."""

    def scenario(T, d):
        x = d.randn(5, requires_grad=True)
        y = x.sin() * x.sum() + x ** 2
        eye = T.eye(5, dtype=T.float64)
        jac = T.vmap(lambda v: T.autograd.grad(y, x, v, retain_graph=True))(eye)
        again = T.vmap(lambda v: T.autograd.grad(y, x, v, retain_graph=True)[0], in_dims=1)(eye[:, :3] * 2)
        batched = T.autograd.grad(y, x, eye, is_grads_batched=True)
        return jac, again, batched

    check(scenario)


def test_vmap_of_autograd_grad_create_graph_then_backward():
    def scenario(T, d):
        x = d.randn(4, requires_grad=True)
        y = x.exp() * x
        rows = T.vmap(lambda v: T.autograd.grad(y, x, v, create_graph=True)[0])(T.eye(4, dtype=T.float64))
        return rows, T.autograd.grad(rows.sum(), x)

    check(scenario)


# --------------------------------------------------------------------------- randomness

RANDOM_OPS = {
    "rand": lambda T: (lambda a: a + T.rand(3, dtype=T.float64)),
    "randn_like": lambda T: (lambda a: a + T.randn_like(a)),
    "dropout": lambda T: (lambda a: T.nn.functional.dropout(a, 0.5)),
}


@pytest.mark.parametrize("op", list(RANDOM_OPS))
@pytest.mark.parametrize("explicit", [False, True], ids=["default", "error"])
def test_randomness_error_raises(op, explicit):
    kw = {"randomness": "error"} if explicit else {}
    same_error(lambda T: T.func.vmap(RANDOM_OPS[op](T), **kw)(T.ones(4, 3, dtype=T.float64)))


LIBS = pytest.mark.parametrize("T", [torch, autojac], ids=["torch", "autojac"])  # torch shows the property holds


@LIBS
@pytest.mark.parametrize("op", list(RANDOM_OPS))
@pytest.mark.parametrize("mode", ["same", "different"])
def test_randomness_same_and_different(op, mode, T):
    T.manual_seed(0)
    out = T.func.vmap(RANDOM_OPS[op](T), randomness=mode)(T.ones(6, 3, dtype=T.float64)).numpy()
    rows_equal = all(np.array_equal(out[0], r) for r in out[1:])
    assert rows_equal == (mode == "same"), out


@pytest.mark.parametrize("explicit", [False, True], ids=["default", "error"])
def test_jacfwd_randomness_error_raises(explicit):
    kw = {"randomness": "error"} if explicit else {}
    same_error(lambda T: T.func.jacfwd(lambda a: a * T.rand(4, dtype=T.float64), **kw)(T.ones(4, dtype=T.float64)))


@LIBS
@pytest.mark.parametrize("mode", ["same", "different"])
def test_jacfwd_randomness_same_and_different(mode, T):
    """jacfwd vmaps its tangents: under 'same' every column sees one draw, under 'different' its own."""
    T.manual_seed(0)
    jac = T.func.jacfwd(lambda a: a.sum() * T.rand(4, dtype=T.float64), randomness=mode)(T.ones(5, dtype=T.float64))
    cols = jac.numpy().T
    cols_equal = all(np.array_equal(cols[0], c) for c in cols[1:])
    assert cols_equal == (mode == "same"), jac


@LIBS
def test_jacrev_allows_random_ops(T):
    """jacrev runs the function once (only the pullback is vmapped): the Jacobian is diag(one draw)."""
    T.manual_seed(0)
    jac = T.func.jacrev(lambda a: a * T.rand(4, dtype=T.float64))(T.ones(4, dtype=T.float64)).numpy()
    assert np.count_nonzero(jac - np.diag(np.diag(jac))) == 0 and np.all(np.diag(jac) > 0)


# --------------------------------------------------------------------------- in-place writes

@pytest.mark.parametrize("write", ["copy_", "setitem", "add_"])
def test_inplace_write_to_captured_tensor_refused(write):
    captured = {}

    def call(T):
        c = T.zeros(3, dtype=T.float64)
        captured[T.__name__] = c

        def f(a):
            if write == "copy_":
                c.copy_(a)
            elif write == "setitem":
                c[0] = a[0]
            else:
                c.add_(a)
            return a

        T.func.vmap(f)(T.ones(4, 3, dtype=T.float64))

    if write == "add_":  # torch's message names its internal batch shape; autojac gives its in-place refusal
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError, match="inplace arithmetic"):
            call(autojac)
    else:
        same_error(call)
    assert np.array_equal(captured["autojac"].numpy(), captured["torch"].numpy())  # refused before writing


def test_inplace_on_vmapped_input_allowed():
    def scenario(T, d):
        x = d.randn(4, 3)
        out = T.func.vmap(lambda a: a.mul_(2))(x)
        y, w = d.randn(4, 3), d.randn(3)
        out2 = T.func.vmap(lambda a: a.add_(w).sin_())(y)  # the captured `w` is only read
        return out, x, out2, y  # x and y are written through the vmapped slices, as in torch

    check(scenario)


# --------------------------------------------------------------------------- errors in torch's words

def _x(T):
    return T.ones(3, 4, dtype=T.float64)


ERRORS = {
    "in_dims_str": lambda T: T.func.vmap(lambda a: a, in_dims="a")(_x(T)),
    "in_dims_float": lambda T: T.func.vmap(lambda a: a, in_dims=1.5)(_x(T)),
    "in_dims_list": lambda T: T.func.vmap(lambda a, b: a + b, in_dims=[0, None])(_x(T), _x(T)),
    "in_dims_all_none": lambda T: T.func.vmap(lambda a: a, in_dims=None)(_x(T)),
    "in_dims_out_of_range": lambda T: T.func.vmap(lambda a: a, in_dims=2)(_x(T)),
    "in_dims_negative_out_of_range": lambda T: T.func.vmap(lambda a: a, in_dims=-3)(_x(T)),
    "in_dim_on_python_float": lambda T: T.func.vmap(lambda a, k: a * k, in_dims=(0, 0))(_x(T), 2.0),
    "batch_size_mismatch": lambda T: T.func.vmap(lambda a, b: a + b)(T.ones(3), T.ones(4)),
    "non_tensor_output": lambda T: T.func.vmap(lambda a: 3.0)(_x(T)),
    "non_tensor_in_output_tuple": lambda T: T.func.vmap(lambda a: (a, 3.0))(_x(T)),
    "out_dims_wrong_type": lambda T: T.func.vmap(lambda a: a, out_dims="a")(_x(T)),
    "out_dims_out_of_range": lambda T: T.func.vmap(lambda a: a, out_dims=3)(_x(T)),
    "out_dims_none_on_batched_output": lambda T: T.func.vmap(lambda a: a, out_dims=None)(_x(T)),
    "no_inputs": lambda T: T.func.vmap(lambda: T.ones(2))(),
    "randomness_unknown": lambda T: T.func.vmap(lambda a: a, randomness="sometimes"),
    "chunk_size_zero": lambda T: T.func.vmap(lambda a: a, chunk_size=0),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_error_message_as_torch(case):
    same_error(ERRORS[case])


STRUCTURE_ERRORS = {  # torch prints its TreeSpecs after the sentence; autojac needs only the sentence
    "in_dims_tuple_length": (lambda T: T.func.vmap(lambda a: a, in_dims=(0, 0))(_x(T)), " in_dims has structure"),
    "in_dims_dict_keys": (lambda T: T.func.vmap(lambda p: p["x"], in_dims=({"x": 0, "z": None},))(
        {"x": _x(T), "y": _x(T)}), " in_dims has structure"),
    "out_dims_tuple_length": (lambda T: T.func.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(_x(T)),
                              " out_dims has structure"),
}


@pytest.mark.parametrize("case", list(STRUCTURE_ERRORS))
def test_structure_error_message_as_torch(case):
    call, cut = STRUCTURE_ERRORS[case]
    same_error(call, cut)


# --------------------------------------------------------------------------- chunk_size, torch.vmap alias

@pytest.mark.parametrize("chunk_size", [1, 2, 5, 64])
def test_chunk_size(chunk_size):
    def scenario(T, d):
        f = lambda a, w: (T.tanh(a @ w), a.sum())  # noqa: E731
        vm = T.func.vmap(f, in_dims=(1, None), out_dims=(1, 0), chunk_size=chunk_size)
        grads = T.func.vmap(T.func.grad(lambda a, w: f(a, w)[0].sum(), argnums=1), in_dims=(0, None),
                            chunk_size=chunk_size)
        return vm(d.randn(3, 5, 4), d.randn(4, 2)), grads(d.randn(5, 3, 4), d.randn(4, 2))

    check(scenario)


def test_torch_vmap_alias():
    check(lambda T, d: T.vmap(lambda a, b: T.outer(a, b).trace(), in_dims=(0, None))(d.randn(4, 3), d.randn(3)))
    check(lambda T, d: T.vmap(T.vmap(T.mul))(d.randn(2, 3), d.randn(2, 3)))
