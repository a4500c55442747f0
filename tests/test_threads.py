"""Threads: what docs/THREADS.md promises.

- grad mode (no_grad, enable_grad, set_grad_enabled, inference_mode) is per thread, as in PyTorch;
- independent graphs are built and differentiated concurrently from 8 threads with the results of
  a single thread, bit for bit;
- concurrent ``autograd.grad`` calls on one shared graph kept with ``retain_graph=True`` agree;
- forward-mode's public dual level and anomaly mode are process-wide, as in PyTorch; forward mode
  used from several threads must be serialized (shown working under a lock).

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
                np.testing.assert_array_equal(got, want)

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
            np.testing.assert_array_equal(w.detach().numpy(), expected[i])
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
                np.testing.assert_array_equal(g.numpy(), e)

    run_threads(target)
    (gx,) = T.autograd.grad(y, x)  # the graph is still whole; this last pass frees it
    np.testing.assert_array_equal(gx.numpy(), want[0])


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


def test_forward_mode_from_threads_under_a_lock() -> None:
    # dual levels are process-wide: forward-mode transforms from several threads are serialized
    lock = threading.Lock()
    xs = {i: T.tensor(np.random.default_rng(i).standard_normal(4)) for i in range(N_THREADS)}
    f = lambda t: T.tanh(t) * t.exp()  # noqa: E731
    want = {i: T.func.jacfwd(f)(xs[i]).numpy() for i in xs}

    def target(i: int) -> None:
        for _ in range(10):
            with lock:
                jac = T.func.jacfwd(f)(xs[i])
                _, tangent = T.autograd.functional.jvp(f, xs[i], T.ones(4))
            np.testing.assert_array_equal(jac.numpy(), want[i])
            np.testing.assert_allclose(tangent.numpy(), want[i].sum(1), rtol=1e-12)

    run_threads(target)
