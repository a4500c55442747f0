"""Threads: what docs/THREADS.md promises.

- grad mode (no_grad, enable_grad, set_grad_enabled, inference_mode) is per thread, as in PyTorch;
- independent graphs are built and differentiated concurrently from 8 threads with the results of
  a single thread, to rounding (OpenBLAS may split a call among its threads differently when several
  threads call it at once, which changes the order of a sum);
- concurrent ``autograd.grad`` calls on one shared graph kept with ``retain_graph=True`` agree;
- forward-mode transforms (jacfwd, jvp, hvp, hessian) run in 8 threads at once under CPU load, each
  value checked: dual levels are per thread; ``.grad`` accumulation into one leaf loses no update;
  vmap's randomness flag is per thread; closing a level strips its tangents (no reference cycles);
- forward-mode's public dual level and anomaly mode are process-wide, as in PyTorch.

Threads switch every 10 microseconds here (``sys.setswitchinterval``) to interleave as much as
the GIL allows.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

import autojac as T
from _tol import assert_close

N_THREADS = 8


@contextmanager
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(target: Callable[[int], None], n: int = N_THREADS) -> None:
    """Run ``target(i)`` in ``n`` threads started together; re-raise the first error."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def body(i: int) -> None:
        try:
            start.wait()
            target(i)
        except BaseException as e:  # noqa: BLE001 (reported in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    with fast_switching():
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


# ----------------------------------------------------------------------------- grad mode


@pytest.mark.parametrize("lib", [T, torch], ids=["autojac", "torch"])
def test_grad_mode_is_thread_local(lib) -> None:
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def a() -> None:
        with lib.no_grad():
            inside.set()
            done.wait(30)
            seen["a"] = lib.is_grad_enabled()

    def b() -> None:
        inside.wait(30)
        x = lib.ones(2, requires_grad=True)
        seen["b"] = (lib.is_grad_enabled(), (x * 2).requires_grad)
        with lib.inference_mode():
            seen["b_inference"] = lib.is_inference_mode_enabled()
        done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)
    assert seen == {"a": False, "b": (True, True), "b_inference": True}
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


@pytest.mark.parametrize("lib", [T, torch], ids=["autojac", "torch"])
def test_new_thread_starts_with_grad_enabled(lib) -> None:
    seen = []
    with lib.no_grad():
        t = threading.Thread(target=lambda: seen.append(lib.is_grad_enabled()))
        t.start()
        t.join(30)
    assert seen == [True]


# ----------------------------------------------------------------------------- independent graphs


def _workload(seed: int) -> list[np.ndarray]:
    """Reverse mode through most of the machinery: backward, grad with create_graph, hooks,
    retain_grad, in-place writes through a view, no_grad updates, functional jacobian/hessian/vhp,
    func.grad/jacrev/vmap."""
    rng = np.random.default_rng(seed)
    a = T.tensor(rng.standard_normal((5, 5)), requires_grad=True)
    x = T.tensor(rng.standard_normal(5), requires_grad=True)
    h = T.tanh(a @ x)
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    z = h * 1
    z[1:3].mul_(x[:2].sigmoid())  # CopySlices-style rebase
    y = (z.softmax(0) * x).sum() + a.norm() * x.exp().mean() + T.logsumexp(a, 1).sum()
    y.backward(retain_graph=True)
    (gx,) = T.autograd.grad(y, x, create_graph=True)
    (hx,) = T.autograd.grad(gx.sum(), x)
    jac = T.autograd.functional.jacobian(lambda t: T.tanh(a.detach() @ t) * t, x.detach())
    hess = T.autograd.functional.hessian(lambda t: (t.exp() * t.sin()).sum(), x.detach())
    f = lambda t: (T.tanh(a.detach() @ t) * t).sum()  # noqa: E731
    transforms = [T.func.grad(f)(x.detach()), T.func.jacrev(lambda t: T.tanh(a.detach() @ t))(x.detach()),
                  T.func.vmap(lambda r: (r.exp() * r).sum())(a.detach()),
                  T.autograd.functional.vhp(f, x.detach(), T.ones(5))[1]]
    with T.no_grad():
        a -= 0.1 * a.grad
        assert not (a * 2).requires_grad
    return [y.detach().numpy(), a.detach().numpy(), x.grad.numpy(), h.grad.numpy(), gx.detach().numpy(),
            hx.numpy(), jac.numpy(), hess.numpy()] + [t.detach().numpy() for t in transforms]


def test_independent_graphs_in_eight_threads() -> None:
    expected = {i: _workload(i) for i in range(N_THREADS)}  # single-threaded reference
    iterations = 30

    def target(i: int) -> None:
        for _ in range(iterations):
            for got, want in zip(_workload(i), expected[i]):
                assert_close(got, want)

    run_threads(target)


def test_training_loops_in_threads_each_with_own_mode() -> None:
    # half the threads train under enable_grad, the others evaluate under no_grad at the same time
    weights = {i: T.tensor(np.random.default_rng(i).standard_normal((8, 3)) * 0.3, requires_grad=True)
               for i in range(N_THREADS)}
    xs = T.tensor(np.random.default_rng(99).standard_normal((16, 8)))
    targets = T.tensor(np.random.default_rng(98).standard_normal((16, 3)))

    def step(w: T.Tensor) -> None:
        loss = ((T.tanh(xs @ w) - targets) ** 2).mean()
        loss.backward()
        with T.no_grad():
            w -= 0.1 * w.grad
        w.grad = None

    def reference(i: int) -> np.ndarray:
        w = weights[i].detach().clone().requires_grad_()
        for _ in range(30):
            step(w)
        return w.detach().numpy()

    expected = {i: reference(i) for i in range(N_THREADS)}

    def target(i: int) -> None:
        if i % 2:
            w = weights[i].detach().clone().requires_grad_()
            for _ in range(30):
                step(w)
                assert T.is_grad_enabled()
            assert_close(w.detach().numpy(), expected[i])
        else:
            with T.no_grad():
                for _ in range(30):
                    out = T.tanh(xs @ weights[i])
                    assert not out.requires_grad and not T.is_grad_enabled()

    run_threads(target)


# ----------------------------------------------------------------------------- one shared graph


def test_concurrent_grad_on_shared_graph_with_retain_graph() -> None:
    x = T.tensor(np.linspace(-1.0, 1.0, 40), requires_grad=True)
    w = T.tensor(np.linspace(0.5, 1.5, 40), requires_grad=True)
    y = (x.exp() * x.sin() * w).sum() * x.norm() + (w.log_softmax(0) * x).sum()
    want = [g.numpy() for g in T.autograd.grad(y, (x, w), retain_graph=True)]

    def target(i: int) -> None:
        for _ in range(25):
            got = T.autograd.grad(y, (x, w) if i % 2 else (w, x), retain_graph=True)
            got = got if i % 2 else got[::-1]
            for g, e in zip(got, want):
                assert_close(g.numpy(), e)

    run_threads(target)
    (gx,) = T.autograd.grad(y, x)  # the graph is still whole; this last pass frees it
    assert_close(gx.numpy(), want[0])


# ----------------------------------------------------------------------------- process-wide state


@pytest.mark.parametrize("lib", [T, torch], ids=["autojac", "torch"])
def test_forward_ad_level_is_process_wide_like_torch(lib) -> None:
    fwd = lib.autograd.forward_ad
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def a() -> None:
        with fwd.dual_level():
            inside.set()
            done.wait(30)

    def b() -> None:
        inside.wait(30)
        try:
            with fwd.dual_level():
                seen["b"] = "entered"
        except RuntimeError as e:
            seen["b"] = str(e)
        done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)
    assert seen["b"] == "Nested forward mode AD is not supported at the moment"
    with fwd.dual_level():  # released again once the other thread left it
        pass


@pytest.mark.parametrize("lib", [T, torch], ids=["autojac", "torch"])
def test_anomaly_mode_is_process_wide_like_torch(lib) -> None:
    seen = []
    enabled = lib.is_anomaly_enabled if lib is torch else lib.autograd.is_anomaly_enabled
    with lib.autograd.set_detect_anomaly(True):
        t = threading.Thread(target=lambda: seen.append(enabled()))
        t.start()
        t.join(30)
    assert seen == [True] and not enabled()


# ----------------------------------------------------------------------------- under load, with values checked


@contextmanager
def cpu_load(n: int = 2) -> Iterator[None]:
    """``n`` background threads doing NumPy work (matrix products release the GIL) until the block ends."""
    stop = threading.Event()

    def busy(seed: int) -> None:
        a = np.random.default_rng(seed).standard_normal((120, 120))
        while not stop.is_set():
            a = np.tanh(a @ a.T * 1e-2)

    workers = [threading.Thread(target=busy, args=(k,), daemon=True) for k in range(n)]
    for w in workers:
        w.start()
    try:
        yield
    finally:
        stop.set()
        for w in workers:
            w.join(30)


CALLS = 100
W = T.tensor(np.random.default_rng(42).standard_normal((4, 4)) * 0.5)  # shared by every thread (read only)


def _f(x: T.Tensor) -> T.Tensor:
    return T.tanh(W @ x) * x.sin() + x ** 3


def _scalar(x: T.Tensor) -> T.Tensor:
    return (T.tanh(W @ x) * x.exp()).sum() + (x ** 4).sum()


def _inputs() -> dict:
    return {i: T.tensor(np.random.default_rng(i).standard_normal(4)) for i in range(N_THREADS)}


FORWARD_MODE = {  # each: x, v -> numpy arrays; every one opens dual levels (some nested, some over reverse mode)
    "func.jacfwd": lambda x, v: [T.func.jacfwd(_f)(x).numpy()],
    "func.jvp": lambda x, v: [t.numpy() for t in T.func.jvp(_f, (x,), (v,))],
    "functional.hvp": lambda x, v: [t.numpy() for t in T.autograd.functional.hvp(_scalar, x, v)],
    "func.hessian": lambda x, v: [T.func.hessian(_scalar)(x).numpy(), T.func.jacfwd(T.func.jacfwd(_f))(x).numpy()],
    "functional.hessian": lambda x, v: [T.autograd.functional.hessian(  # requires grad here, as in torch
        _scalar, x, outer_jacobian_strategy="forward-mode", vectorize=True).detach().numpy()],
}


@pytest.mark.parametrize("name", FORWARD_MODE)
def test_forward_mode_transforms_in_eight_threads_under_load(name: str) -> None:
    """Each thread's dual levels are its own: 8 threads x 100 calls, each value against a single thread's."""
    fn = FORWARD_MODE[name]
    xs, vs = _inputs(), {i: T.tensor(np.random.default_rng(100 + i).standard_normal(4)) for i in range(N_THREADS)}
    want = {i: fn(xs[i], vs[i]) for i in range(N_THREADS)}
    assert all(not np.allclose(want[0][0], want[i][0]) for i in range(1, N_THREADS))  # a mix-up would show

    def target(i: int) -> None:
        for _ in range(CALLS):
            for got, expected in zip(fn(xs[i], vs[i]), want[i]):
                assert_close(got, expected)

    with cpu_load():
        run_threads(target)
    assert not T._core.forward.levels() and not T._core.forward.ANY_LEVELS  # every level closed


def test_grad_accumulation_into_one_leaf_from_eight_threads() -> None:
    """8 threads x 100 ``backward()`` calls into one 200k-element leaf: no update lost (integer-valued
    gradients, so the sum is exact in any order)."""
    n = 200_000
    leaf = T.zeros(n, dtype=T.float64, requires_grad=True)
    coef = {i: np.random.default_rng(i).integers(-3, 4, n).astype(np.float64) for i in range(N_THREADS)}
    ctens = {i: T.tensor(c) for i, c in coef.items()}

    def target(i: int) -> None:
        for _ in range(CALLS):
            (leaf * ctens[i]).sum().backward()

    with cpu_load():
        run_threads(target)
    np.testing.assert_array_equal(leaf.grad.numpy(), CALLS * sum(coef.values()))


def test_retain_grad_accumulation_from_threads() -> None:
    """A retained non-leaf gradient also takes every thread's contribution."""
    x = T.ones(1000, dtype=T.float64, requires_grad=True)
    h = x * 2
    h.retain_grad()

    def target(i: int) -> None:
        for _ in range(20):
            (h * (i + 1)).sum().backward(retain_graph=True)

    run_threads(target)
    np.testing.assert_array_equal(h.grad.numpy(), np.full(1000, 20.0 * sum(range(1, N_THREADS + 1))))
    np.testing.assert_array_equal(x.grad.numpy(), 2 * h.grad.numpy())


def test_a_thread_never_sees_another_threads_dual_level() -> None:
    """A tensor given a tangent in one thread carries none in another thread's ops."""
    fwd = T.autograd.forward_ad
    seen = {}
    inside, done = threading.Event(), threading.Event()
    shared = T.tensor([1.0, 2.0])

    def a() -> None:
        with fwd.dual_level():
            seen["dual"] = fwd.make_dual(shared, T.ones(2))
            inside.set()
            done.wait(30)
            seen["a"] = fwd.unpack_dual(seen["dual"] * 3).tangent

    def b() -> None:
        inside.wait(30)
        try:
            y = seen["dual"] * 2  # an op in this thread: no level of its own, so no tangent
            seen["b"] = (y._fw, T.func.jvp(lambda t: t * seen["dual"], (shared,), (T.ones(2),))[1])
            fwd.make_dual(shared, T.ones(2))
        except RuntimeError as e:
            seen["b_error"] = str(e)
        done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)
    assert seen["b"][0] is None
    assert_close(seen["b"][1].numpy(), [1.0, 2.0])  # d/dt (t * dual) = dual's primal: the other level is ignored
    assert "entered in another thread" in seen["b_error"]
    assert_close(seen["a"].numpy(), [3.0, 3.0])
    assert seen["dual"]._fw is None  # the tangent went when its level closed


def test_vmap_randomness_flag_is_per_thread() -> None:
    """One thread inside ``vmap(randomness='error')`` does not stop another thread's sampling."""
    inside, done = threading.Event(), threading.Event()
    drawn = []

    def a() -> None:
        def f(x):
            inside.set()
            done.wait(30)
            return x * 2
        T.func.vmap(f)(T.ones(1, 2))

    def b() -> None:
        inside.wait(30)
        try:
            drawn.append(T.randn(3, generator=T.Generator().manual_seed(0)).shape)
        finally:
            done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    ta.join(30)
    tb.join(30)
    assert drawn == [(3,)]
    with pytest.raises(RuntimeError, match="randomness error mode"):
        T.func.vmap(lambda x: x + T.randn(2))(T.ones(2, 2))


def test_forward_mode_levels_leave_no_reference_cycles() -> None:
    """jvp/hvp/jacfwd with inputs that require grad: the tangents are stripped when the level closes,
    so the intermediate tensors (and their graphs) are freed by reference counting alone."""
    import gc
    import weakref

    x = T.tensor([0.3, -0.2, 0.5], dtype=T.float64, requires_grad=True)
    v = T.ones(3, dtype=T.float64)
    seen: list = []

    def f(t: T.Tensor) -> T.Tensor:
        y = t.exp()
        seen.append(weakref.ref(y))
        return y * t.sin()

    gc.collect()
    gc.disable()
    try:
        for run in (lambda: T.func.jvp(f, (x,), (v,)), lambda: T.autograd.functional.jvp(f, x, v),
                    lambda: T.autograd.functional.hvp(lambda t: f(t).sum(), x, v), lambda: T.func.jacfwd(f)(x),
                    lambda: T.func.hessian(lambda t: f(t).sum())(x)):
            seen.clear()
            out = run()
            del out
            assert seen and all(r() is None for r in seen)
    finally:
        gc.enable()
