"""vmap over batched *index* tensors (issue 10): indexing, gather/scatter, index_*, sorting and the ops that
gather at computed indices run vectorized (no loop over the batch) and match torch.func.vmap.

Each scenario is a per-example function ``f(T, *args)`` written for a namespace ``T`` (``torch`` or
``autojac``), with seeded inputs and ``in_dims``; every check runs it through a transform in both
libraries: the vmapped values, ``vmap(grad)``, the gradient of a vmapped sum, ``vmap(jacrev)`` (a
cotangent with its own batch dim inside the vmap) and ``vmap(jvp)``. autojac's runs are strict: a
fallback to the loop, or an error in a batching rule, fails the test.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import autojac
from autojac.func import _vmap
from autojac.func._vmap import VmapFallbackWarning
from test_vmap_scenarios import assert_same

B = 3
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # torch's


def _inputs(T, spec: list, seed: int) -> list:
    """Seeded inputs from ``spec``: ``("f", shape)`` standard normal float64, ``("i", shape, high)`` indices in
    ``[0, high)``, ``("p", shape, n)`` each row along the last dim a distinct pick from ``range(n)``."""
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape, *extra in spec:
        if kind == "f":
            a = rng.standard_normal(shape)
        elif kind == "i":
            a = rng.integers(0, extra[0], shape)
        else:
            rows = [rng.permutation(extra[0])[:shape[-1]] for _ in range(int(np.prod(shape[:-1])))]
            a = np.array(rows, dtype=np.int64).reshape(shape)
        out.append(T.tensor(a))
    return out


def _floats(out) -> list:
    outs = list(out) if isinstance(out, tuple) else [out]
    return [o for o in outs if o.is_floating_point()]


# name: (per-example function, input spec (batched inputs carry the batch dim B first), in_dims)
SCENARIOS = {
    # advanced indexing x[...] with a batched index
    "getitem": (lambda T, x, i: x[i], [("f", (B, 5, 3)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_2d_index": (lambda T, x, i: x[i], [("f", (B, 5, 3)), ("i", (B, 2, 2), 5)], (0, 0)),
    "getitem_after_slice": (lambda T, x, i: x[:, i], [("f", (B, 3, 5)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_two_indices": (lambda T, x, i: x[i, i % 3], [("f", (B, 5, 3)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_int_slice_index": (lambda T, x, i: x[1, :, i], [("f", (B, 2, 3, 5)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_slice_int_index": (lambda T, x, i: x[:, 1, i], [("f", (B, 2, 3, 5)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_split_indices": (lambda T, x, i: x[i % 2, :, i], [("f", (B, 2, 3, 5)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_none_and_ellipsis": (lambda T, x, i: x[None, ..., i], [("f", (B, 3, 5)), ("i", (B, 2), 5)], (0, 0)),
    "getitem_negative": (lambda T, x, i: x[i - 5], [("f", (B, 5, 3)), ("i", (B, 4), 5)], (0, 0)),
    "getitem_shared_values": (lambda T, x, i: x[i], [("f", (5, 3)), ("i", (B, 4), 5)], (None, 0)),
    "getitem_batched_and_shared_index": (
        lambda T, x, i, j: x[i.unsqueeze(-1), j], [("f", (B, 5, 3)), ("i", (B, 4), 5), ("i", (2,), 3)], (0, 0, None)),
    "getitem_large": (lambda T, x, i: x[i - 100], [("f", (B, 200, 4)), ("i", (B, 300), 200)], (0, 0)),  # bincount
    # gather family
    "gather_dim0": (lambda T, x, i: T.gather(x, 0, i), [("f", (B, 5, 3)), ("i", (B, 2, 3), 5)], (0, 0)),
    "gather_dim1": (lambda T, x, i: x.gather(1, i), [("f", (B, 4, 3)), ("i", (B, 4, 5), 3)], (0, 0)),
    "gather_last_shared_values": (lambda T, x, i: x.gather(-1, i), [("f", (4, 3)), ("i", (B, 2, 2), 3)], (None, 0)),
    "gather_1d": (lambda T, x, i: x.gather(0, i), [("f", (B, 6)), ("i", (B, 8), 6)], (0, 0)),
    "index_select_dim0": (lambda T, x, i: x.index_select(0, i), [("f", (B, 5, 3)), ("i", (B, 4), 5)], (0, 0)),
    "index_select_dim1": (lambda T, x, i: T.index_select(x, 1, i), [("f", (B, 2, 5)), ("i", (B, 3), 5)], (0, 0)),
    "take_along_dim": (lambda T, x, i: T.take_along_dim(x, i, 1), [("f", (B, 4, 5)), ("i", (B, 4, 2), 5)], (0, 0)),
    "take_along_dim_broadcast": (
        lambda T, x, i: T.take_along_dim(x, i, dim=1), [("f", (B, 1, 5)), ("i", (B, 3, 2), 5)], (0, 0)),
    "take_along_dim_flat": (lambda T, x, i: x.take_along_dim(i), [("f", (B, 3, 4)), ("i", (B, 5), 12)], (0, 0)),
    "take": (lambda T, x, i: T.take(x, i - 6), [("f", (B, 3, 4)), ("i", (B, 2, 3), 12)], (0, 0)),
    "embedding": (lambda T, w, i: T.nn.functional.embedding(i, w), [("f", (5, 3)), ("i", (B, 4), 5)], (None, 0)),
    "embedding_padding": (lambda T, w, i: T.nn.functional.embedding(i, w, padding_idx=2),
                          [("f", (B, 5, 3)), ("i", (B, 4), 5)], (0, 0)),
    # scatter family
    "scatter_add": (lambda T, s, i: T.zeros(5, dtype=s.dtype).scatter_add(0, i, s),
                    [("f", (B, 6)), ("i", (B, 6), 5)], (0, 0)),
    "scatter_add_2d": (lambda T, x, s, i: x.scatter_add(1, i, s),
                       [("f", (B, 3, 4)), ("f", (B, 2, 5)), ("i", (B, 2, 5), 4)], (0, 0, 0)),
    "scatter_add_shared_src": (lambda T, s, i: T.ones(5, dtype=s.dtype).scatter_add(0, i, s),
                               [("f", (6,)), ("i", (B, 6), 5)], (None, 0)),
    "scatter": (lambda T, x, s, i: x.scatter(0, i, s), [("f", (B, 5)), ("f", (B, 3)), ("p", (B, 3), 5)], (0, 0, 0)),
    "scatter_value": (lambda T, x, i: x.scatter(1, i, 2.5), [("f", (B, 2, 5)), ("p", (B, 2, 3), 5)], (0, 0)),
    "scatter_reduce_sum": (lambda T, x, s, i: x.scatter_reduce(0, i, s, "sum"),
                           [("f", (B, 5)), ("f", (B, 6)), ("i", (B, 6), 5)], (0, 0, 0)),
    "scatter_reduce_mean_noself": (lambda T, x, s, i: x.scatter_reduce(0, i, s, "mean", include_self=False),
                                   [("f", (B, 5)), ("f", (B, 6)), ("i", (B, 6), 5)], (0, 0, 0)),
    "scatter_reduce_amax": (lambda T, x, s, i: x.scatter_reduce(0, i, s, "amax"),
                            [("f", (B, 5)), ("f", (B, 6)), ("i", (B, 6), 5)], (0, 0, 0)),
    "scatter_reduce_amin_noself_2d": (lambda T, x, s, i: x.scatter_reduce(1, i, s, "amin", include_self=False),
                                      [("f", (B, 2, 5)), ("f", (B, 2, 4)), ("i", (B, 2, 4), 5)], (0, 0, 0)),
    "scatter_reduce_amax_shared_index": (lambda T, x, s, i: x.scatter_reduce(0, i, s, "amax"),
                                         [("f", (B, 5)), ("f", (B, 6)), ("i", (6,), 5)], (0, 0, None)),
    "index_add": (lambda T, x, s, i: x.index_add(0, i, s, alpha=2.0),
                  [("f", (B, 5, 2)), ("f", (B, 4, 2)), ("i", (B, 4), 5)], (0, 0, 0)),
    "index_copy": (lambda T, x, s, i: x.index_copy(1, i, s),
                   [("f", (B, 2, 5)), ("f", (B, 2, 3)), ("p", (B, 3), 5)], (0, 0, 0)),
    "index_fill": (lambda T, x, i: x.index_fill(1, i, -1.0), [("f", (B, 2, 5)), ("i", (B, 3), 5)], (0, 0)),
    "index_put": (lambda T, x, v, i: x.index_put((i,), v), [("f", (B, 5, 2)), ("f", (B, 3, 2)), ("p", (B, 3), 5)],
                  (0, 0, 0)),
    "index_put_scalar_value": (lambda T, x, i: x.index_put((i, i % 2), T.tensor(7.0, dtype=x.dtype)),
                                         [("f", (B, 5, 2)), ("i", (B, 3), 5)], (0, 0)),
    "index_put_accumulate": (lambda T, x, v, i: x.index_put((i,), v, accumulate=True),
                             [("f", (B, 5, 2)), ("f", (B, 6, 2)), ("i", (B, 6), 5)], (0, 0, 0)),
    "index_put_accumulate_pairs": (lambda T, x, i: x.index_put((i, i % 2), T.tensor(0.5, dtype=x.dtype), True),
                                   [("f", (B, 5, 2)), ("i", (B, 6), 5)], (0, 0)),
    # in-place writes (under grad of the vmapped function the physical tensor takes over the write's graph)
    "setitem_into_clone": (lambda T, x, v, i: _written(x, lambda y: y.__setitem__(i, v)),
                           [("f", (B, 5, 2)), ("f", (B, 3, 2)), ("p", (B, 3), 5)], (0, 0, 0)),
    "setitem_shared_index_into_clone": (lambda T, x, v, i: _written(x, lambda y: y.__setitem__(i, v * 2)),
                                        [("f", (B, 5, 2)), ("f", (B, 2)), ("p", (3,), 5)], (0, 0, None)),
    "scatter__into_clone": (lambda T, x, s, i: _written(x, lambda y: y.scatter_(0, i, s)),
                            [("f", (B, 5)), ("f", (B, 3)), ("p", (B, 3), 5)], (0, 0, 0)),
    "index_put__accumulate_into_clone": (
        lambda T, x, v, i: _written(x, lambda y: y.index_put_((i,), v, accumulate=True)),
        [("f", (B, 5, 2)), ("f", (B, 6, 2)), ("i", (B, 6), 5)], (0, 0, 0)),
    "mul__into_clone": (lambda T, x, v: _written(x, lambda y: y.mul_(v).exp_()), [("f", (B, 4)), ("f", (B, 4))],
                        (0, 0)),
    "index_add__then_sin_": (lambda T, x, s, i: _written(x, lambda y: y.index_add_(0, i, s).sin_()),
                             [("f", (B, 5, 2)), ("f", (B, 3, 2)), ("i", (B, 3), 5)], (0, 0, 0)),
    # orders computed per example, then gathered
    "sort": (lambda T, x: tuple(T.sort(x)), [("f", (B, 6))], (0,)),
    "sort_dim0_descending": (lambda T, x: tuple(x.sort(0, descending=True)), [("f", (B, 4, 3))], (0,)),
    "sort_values_only": (lambda T, x: x.sort().values, [("f", (B, 2, 5))], (0,)),
    "argsort_then_index": (lambda T, x: x[x.argsort()], [("f", (B, 6))], (0,)),
    "msort": (lambda T, x: T.msort(x), [("f", (B, 4, 2))], (0,)),
    "topk": (lambda T, x: tuple(x.topk(3)), [("f", (B, 7))], (0,)),
    "topk_smallest_dim0": (lambda T, x: tuple(T.topk(x, 2, dim=0, largest=False)), [("f", (B, 5, 3))], (0,)),
    "topk_large_k": (lambda T, x: tuple(x.topk(5)), [("f", (B, 2, 6))], (0,)),
    "kthvalue": (lambda T, x: tuple(x.kthvalue(2)), [("f", (B, 5))], (0,)),
    "kthvalue_keepdim": (lambda T, x: tuple(T.kthvalue(x, 3, 0, keepdim=True)), [("f", (B, 4, 2))], (0,)),
    "cummax": (lambda T, x: tuple(T.cummax(x, 0)), [("f", (B, 5, 2))], (0,)),
    "cummin": (lambda T, x: tuple(x.cummin(-1)), [("f", (B, 2, 5))], (0,)),
    "argmax_then_gather": (lambda T, x: x.gather(1, x.argmax(1, keepdim=True)), [("f", (B, 4, 5))], (0,)),
    "argmin_flat_then_take": (lambda T, x: x.take(x.argmin()), [("f", (B, 3, 4))], (0,)),
    "accuracy_as_float": (lambda T, x, y: (x.argmax(-1) == y).float() + x.logsumexp(-1),
                          [("f", (B, 4, 5)), ("i", (B, 4), 5)], (0, 0)),
    "bce_values_checked_by_an_op": (lambda T, x, t: T.nn.functional.binary_cross_entropy(x.sigmoid(), t.sigmoid()),
                                    [("f", (B, 4)), ("f", (B, 4))], (0, 0)),
    "logdet": (lambda T, a: T.logdet(a @ a.mT + T.eye(3, dtype=a.dtype)), [("f", (B, 3, 3))], (0,)),
    "one_hot_weights": (lambda T, x, i: x * T.nn.functional.one_hot(i, 5), [("f", (B, 4, 5)), ("i", (B, 4), 5)],
                        (0, 0)),
}

def _written(x, write):
    """``x`` cloned, then ``write`` into the clone in place, then used: the clone."""
    y = x.clone()
    write(y)
    return y * y


NO_GRAD = {"index_put_scalar_value"}  # only needs the values: its value is a constant
# where torch.func.vmap refuses (one_hot's data-dependent check under grad) or differs from its own loop over the
# batch (embedding's padding row gets a gradient), the oracle is torch's loop: vmap's definition
LOOP_ORACLE = {"one_hot_weights", "embedding_padding"}


def _args(T, name: str, seed: int = 0) -> tuple:
    fn, spec, dims = SCENARIOS[name]
    return (lambda *a: fn(T, *a)), _inputs(T, spec, seed), dims


def strict(call):
    """``call()`` with autojac's vmap neither falling back to the loop nor swallowing a rule's error."""
    _vmap.STRICT = True
    _vmap._FELL_BACK.clear()  # vmap warns once per function and cause: every check must see its own warning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", VmapFallbackWarning)
            warnings.filterwarnings("error", "There is a performance drop")  # a per-element rule (ours)
            return call()
    finally:
        _vmap.STRICT = False


class _LoopFunc:
    """torch.func with ``vmap`` as a loop over the batch (no chunking, out_dims 0)."""

    def __getattr__(self, attr):
        return getattr(torch.func, attr)

    @staticmethod
    def vmap(f, in_dims=0):
        def run(*args):
            dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
            n = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
            res = [f(*[a.select(d, b) if d is not None else a for a, d in zip(args, dims)]) for b in range(n)]
            if isinstance(res[0], tuple):
                return tuple(torch.stack([r[k] for r in res]) for k in range(len(res[0])))
            return torch.stack(res)
        return run


class _LoopTorch:
    """torch, with ``func.vmap`` the loop over the batch."""

    func = _LoopFunc()

    def __getattr__(self, attr):
        return getattr(torch, attr)


def both(check, name: str, tol: float = 1e-10) -> None:
    """``check(T, f, args, in_dims)`` for torch and (strictly vectorized) autojac: the same results."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "There is a performance drop")  # torch's own fallbacks
        oracle = _LoopTorch() if name in LOOP_ORACLE else torch
        f, args, dims = _args(torch, name)
        theirs = check(oracle, (lambda *a: SCENARIOS[name][0](oracle, *a)), args, dims)
    ours = strict(lambda: check(autojac, *_args(autojac, name)))
    assert_same(ours, theirs, tol)


def _loss(T, f):
    return lambda *a: sum((o * o).sum() for o in _floats(f(*a)))


def values(T, f, args, dims):
    return T.func.vmap(f, in_dims=dims)(*args)


def vmap_of_grad(T, f, args, dims):
    k = next(n for n, a in enumerate(args) if a.is_floating_point())
    return T.func.vmap(T.func.grad(_loss(T, f), argnums=k), in_dims=dims)(*args)


def grad_of_vmap(T, f, args, dims):
    leaves = [a.requires_grad_() if a.is_floating_point() else a for a in args]
    outs = _floats(T.func.vmap(f, in_dims=dims)(*leaves))
    return T.autograd.grad(sum((o * o).sum() for o in outs), [a for a in leaves if a.is_floating_point()])


def vmap_of_jacrev(T, f, args, dims):
    k = next(n for n, a in enumerate(args) if a.is_floating_point())
    first = lambda *a: _floats(f(*a))[0]  # noqa: E731
    return T.func.vmap(T.func.jacrev(first, argnums=k), in_dims=dims)(*args)


def vmap_of_jvp(T, f, args, dims):
    k = next(n for n, a in enumerate(args) if a.is_floating_point())

    def tangent_out(*a):
        def g(xk):
            return _floats(f(*a[:k], xk, *a[k + 1:]))[0]
        return T.func.jvp(g, (a[k],), (T.ones_like(a[k]),))[1]
    return T.func.vmap(tangent_out, in_dims=dims)(*args)


def _grad_names() -> list:
    return [n for n in SCENARIOS if n not in NO_GRAD]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_values(name):
    both(values, name)


@pytest.mark.parametrize("name", _grad_names())
def test_vmap_of_grad(name):
    both(vmap_of_grad, name)


@pytest.mark.parametrize("name", _grad_names())
def test_grad_of_vmap(name):
    both(grad_of_vmap, name)


@pytest.mark.parametrize("name", _grad_names())
def test_vmap_of_jacrev(name):
    both(vmap_of_jacrev, name)


@pytest.mark.parametrize("name", [n for n in _grad_names() if n != "embedding_padding"])
def test_vmap_of_jvp(name):  # (embedding's padding row: autojac's tangent is zero there, torch's is not, vmap or not)
    both(vmap_of_jvp, name)


# --------------------------------------------------------------------------- nesting, chunks, compile
def test_nested_vmap_batched_index_at_both_levels():
    def run(T):
        x = _inputs(T, [("f", (2, B, 5, 3))], 1)[0]
        i = _inputs(T, [("i", (2, B, 4), 5)], 2)[0]
        return T.func.vmap(T.func.vmap(lambda x, i: x[i].sin() * x.gather(0, i[:2, None].expand(2, 3))[0]))(x, i)
    assert_same(strict(lambda: run(autojac)), run(torch))


def test_nested_vmap_index_batched_at_outer_level_only():
    def run(T):
        x = _inputs(T, [("f", (B, 5, 3))], 1)[0]
        i = _inputs(T, [("i", (2, 4), 5)], 2)[0]
        inner = T.func.vmap(lambda x, i: x.index_select(0, i), in_dims=(0, None))
        return T.func.vmap(inner, in_dims=(None, 0))(x, i)
    assert_same(strict(lambda: run(autojac)), run(torch))


def test_chunked_vmap_of_sort():
    def run(T):
        x = _inputs(T, [("f", (5, 6))], 3)[0]
        return T.func.vmap(lambda r: r.sort().values.cumsum(0), chunk_size=2)(x)
    assert_same(strict(lambda: run(autojac)), run(torch))


def test_per_sample_gradients_of_a_classifier_with_gathered_logits():
    """The per-sample-grads tutorial's loss written with gather at the target class (a batched index)."""
    def run(T):
        w, xs, ys = _inputs(T, [("f", (4, 3)), ("f", (6, 4)), ("i", (6,), 3)], 4)

        def loss(w, x, y):
            logp = T.log_softmax(x @ w, -1)
            return -logp.gather(0, y.unsqueeze(0)).squeeze(0) + logp.topk(2).values.sum() * 0.1
        return T.func.vmap(T.func.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
    assert_same(strict(lambda: run(autojac)), run(torch))


def test_compiled_function_with_batched_gather_matches_eager():
    x = autojac.tensor(np.random.default_rng(5).standard_normal((B, 4, 5)))
    i = autojac.tensor(np.random.default_rng(6).integers(0, 4, (B, 2, 5)))
    f = lambda x, i: autojac.func.vmap(lambda x, i: x.gather(0, i).exp().sum(0))(x, i)  # noqa: E731
    compiled = autojac.compile(f)
    want = strict(lambda: f(x, i))
    for _ in range(2):  # the trace, then the replay
        np.testing.assert_allclose(strict(lambda: compiled(x, i)).numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    j = autojac.tensor(np.random.default_rng(7).integers(0, 4, (B, 2, 5)))  # the index is an operand: read live
    np.testing.assert_allclose(compiled(x, j).numpy(), strict(lambda: f(x, j)).numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- bad indices: torch's errors
BAD = {  # per-example function with one index out of range in the second element, as torch's loop raises it
    "getitem": lambda T, x, i: x[i],
    "gather": lambda T, x, i: x.gather(0, i),
    "index_select": lambda T, x, i: x.index_select(0, i),
    "index_select_dim1": lambda T, x, i: x.t().index_select(1, i),
    "take": lambda T, x, i: x.take(i),
    "scatter_add": lambda T, x, i: x.scatter_add(0, i, x[:2]),
    "index_add": lambda T, x, i: x.unsqueeze(1).index_add(0, i, x[:2].unsqueeze(1)),
    "index_copy": lambda T, x, i: x.index_copy(0, i, x[:2]),
    "embedding": lambda T, x, i: T.nn.functional.embedding(i, x.unsqueeze(1)),
}


@pytest.mark.parametrize("bad", [9, -9])
@pytest.mark.parametrize("name", list(BAD))
def test_out_of_range_index_raises_torchs_error(name, bad):
    def call(T):
        x = T.tensor(np.arange(30.0).reshape(3, 5, 2)[..., 0].copy())
        i = T.tensor([[0, 1], [2, bad], [1, 1]])
        if T is torch:  # the loop over the batch (vmap's definition): torch's vmap names physical dims
            return [BAD[name](T, x[b], i[b]) for b in range(3)]
        return T.func.vmap(lambda x, i: BAD[name](T, x, i))(x, i)
    try:
        call(torch)
    except Exception as e:  # noqa: BLE001  (whatever torch raises is the expectation)
        want = e
    else:
        pytest.fail("torch accepted the index")
    with pytest.raises(type(want)) as ours:
        strict(lambda: call(autojac))
    assert str(ours.value) == str(want)


def test_strict_sees_a_fallback():
    """The checks above would fail on a loop over the batch (a function reading a batched value)."""
    x = autojac.ones(3, 2)
    for _ in range(2):  # also when vmap warned about this function before
        with pytest.raises(VmapFallbackWarning):
            strict(lambda: autojac.func.vmap(lambda r: r * r.sum().item())(x))


INT_AND_ARRAY = [(0, slice(None), [0, 2]), (slice(None), [0, 1], slice(None), 0), (0, [1, 0], slice(None), [2, 3]),
                 (slice(None), [0, 2], 1, [3, 3]), (None, 1, [0, 2]), (Ellipsis, 0, [1, 1]), (1, True, [0, 2])]


@pytest.mark.parametrize("idx", INT_AND_ARRAY, ids=str)
def test_integer_and_array_index_as_torch(idx):
    """Outside vmap too: PyTorch selects at an advanced index's integers first (``x[0, :, i]`` keeps the slice's
    dim in front, where NumPy would put ``i``'s), values and gradient."""
    def run(T):
        x = T.tensor(np.arange(120.0).reshape(2, 3, 4, 5) / 7, requires_grad=True)
        y = x[tuple(T.tensor(i) if isinstance(i, list) else i for i in idx)]
        (g,) = T.autograd.grad((y * y.detach().sin()).sum(), x)
        return y.detach(), g
    assert_same(run(autojac), run(torch))


@pytest.mark.parametrize("value_dims", [None, 1, 2], ids=["full", "last_dim", "last_two"])
@pytest.mark.parametrize("idx", INT_AND_ARRAY[:-1], ids=str)
def test_integer_and_array_setitem_as_torch(idx, value_dims):
    """``x[0, :, i] = v`` takes ``v`` in PyTorch's layout of the region (values, gradients of both operands)."""
    region = torch.zeros(2, 3, 4, 5)[tuple(torch.tensor(i) if isinstance(i, list) else i for i in idx)].shape
    vshape = tuple(region)[-value_dims:] if value_dims else tuple(region)

    def run(T):
        x = T.tensor(np.arange(120.0).reshape(2, 3, 4, 5) / 7, requires_grad=True)
        v = T.tensor(np.arange(float(np.prod(vshape))).reshape(vshape) + 1, requires_grad=True)
        y = x * 1.0
        y[tuple(T.tensor(i) if isinstance(i, list) else i for i in idx)] = v
        plain = x.detach().clone()
        plain[tuple(T.tensor(i) if isinstance(i, list) else i for i in idx)] = v.detach()
        return (y.detach(), plain, *T.autograd.grad((y * y.detach().cos()).sum(), (x, v)))
    assert_same(run(autojac), run(torch))


def test_index_put_accumulate_outside_vmap():
    """``accumulate=True`` adds (repeated indices add up), as PyTorch: values and gradients, in place too."""
    def run(T):
        x, v = _inputs(T, [("f", (4, 3)), ("f", (5, 3))], 9)
        x.requires_grad_()
        v.requires_grad_()
        i = T.tensor([0, 3, 0, 0, 2])
        y = x.index_put((i,), v, accumulate=True)
        z = x.detach().clone()
        z.index_put_((i,), v.detach(), accumulate=True)
        return (y.detach(), z, *T.autograd.grad((y * y).sum(), (x, v)))
    assert_same(run(autojac), run(torch))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_index_gradients_outside_vmap(dtype):
    """Cotangents of 512 elements and more are summed into place by one bincount (np.add.at below that)."""
    def run(T):
        rng = np.random.default_rng(11)
        x = T.tensor(rng.standard_normal((60, 5, 3)).astype(dtype), requires_grad=True)
        i, j = T.tensor(rng.integers(-60, 60, (40, 8))), T.tensor(rng.integers(0, 5, (8,)))
        w = T.tensor(rng.standard_normal((40, 8, 3)).astype(dtype))
        y = (x[i, j] * w).sum() + (x.gather(0, T.tensor(rng.integers(0, 60, (200, 5, 3)))) ** 2).sum()
        return T.autograd.grad(y, x)
    assert_same(run(autojac), run(torch), tol=1e-5 if dtype == np.float32 else 1e-12)


WRITES_INTO_UNBATCHED = {  # torch refuses to write per-example values (or at per-example places) into a shared tensor
    "setitem_batched_index": lambda T, x, i: T.zeros(5).__setitem__(i, 1.0),
    "index_put__batched_index": lambda T, x, i: T.zeros(5).index_put_((i,), T.tensor(1.0)),
    "setitem_batched_value_and_index": lambda T, x, i: T.zeros(5).__setitem__(i, x),
    "setitem_batched_value": lambda T, x, i: T.zeros(5).__setitem__(T.tensor([0, 1]), x),
}


@pytest.mark.parametrize("name", list(WRITES_INTO_UNBATCHED))
def test_write_into_an_unbatched_tensor_refused_as_torch(name):
    def call(T):
        return T.func.vmap(lambda x, i: WRITES_INTO_UNBATCHED[name](T, x, i))(T.ones(2, 2), T.tensor([[0, 1], [2, 3]]))
    with pytest.raises(RuntimeError) as theirs:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        strict(lambda: call(autojac))
    assert str(ours.value) == str(theirs.value)


def test_plain_indexing_keeps_its_constant_index_primitive():
    """Outside vmap (and with a shared index inside it) indexing records the constant-index op, as before."""
    x = autojac.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x[autojac.tensor([1, 0])].grad_fn.name() == "IndexBackward0"
    assert x.gather(0, autojac.tensor([[1, 0]])).grad_fn.name() == "GatherBackward0"
    assert x.sort().values.grad_fn.name() == "SortBackward0"
