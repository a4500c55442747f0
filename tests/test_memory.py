"""Memory: graphs and saved tensors are freed as soon as they can be, by reference counting alone
(no reference cycles for the garbage collector to find), and RSS stays flat over 10,000 training
steps of an MLP.

The weakref tests run with the cyclic garbage collector disabled: an object that dies there died
of reference counting, i.e. nothing kept it in a cycle.

Run this file as a script for the full-size MLP (64-256-256-10, batch 32) by hand:
``python tests/test_memory.py [steps]``.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import autojac as T


@contextmanager
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _leaf(n: int = 5) -> T.Tensor:
    return T.tensor(np.linspace(-1.0, 1.0, n), requires_grad=True)


def test_saved_tensors_released_after_backward() -> None:
    with no_cycle_collector():
        x = _leaf()
        h = x.exp()  # exp saves its output array; mul saves h itself
        y = (h * h).sum()
        ref_t, ref_d = weakref.ref(h), weakref.ref(h._data)
        del h
        assert ref_t() is not None and ref_d() is not None  # the graph needs them
        y.backward()
        # y (and its graph) is still alive, but what the pass saved is gone
        assert ref_t() is None and ref_d() is None
        assert y.grad_fn is not None
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


def test_saved_tensors_released_with_outputs() -> None:
    with no_cycle_collector():
        x = _leaf()
        h = x.sin()
        y = (h * x).sum()
        refs = [weakref.ref(h), weakref.ref(h._data), weakref.ref(y.grad_fn)]
        del h, y  # never differentiated: dropping the output frees the graph and what it saved
        assert all(r() is None for r in refs)


def test_graph_nodes_freed_when_outputs_dropped() -> None:
    with no_cycle_collector():
        x = _leaf()
        y = ((x * 2).tanh().reshape(5, 1) @ x.reshape(1, 5)).softmax(1).sum()
        nodes = []
        stack = [y.grad_fn]
        while stack:  # every node of the graph
            fn = stack.pop()
            if fn is not None and hasattr(fn, "op"):
                nodes.append(weakref.ref(fn))
                stack.extend(f for f, _ in fn.next_functions)
        assert len(nodes) >= 6
        y.backward()
        del y
        assert all(r() is None for r in nodes)
        assert x.grad is not None and x.grad.grad_fn is None


def test_no_reference_cycles_in_a_plain_graph() -> None:
    with no_cycle_collector():
        x = _leaf(4)
        w = T.tensor(np.eye(4) * 0.5, requires_grad=True)
        for _ in range(3):
            h = T.tanh(x @ w) * x
            loss = (h.log_softmax(0) + h.norm()).sum()
            h.retain_grad()
            loss.backward()
            g = T.autograd.grad((x * w).sum(), w)[0]
            del h, loss, g
        assert gc.collect() == 0  # nothing unreachable was left for the cycle collector


def test_inplace_writes_leave_no_cycles() -> None:
    # a write through a view rebases the base's graph (CopySlices); its nodes must not hold the
    # base tensor itself, which then takes their grad_fn (that was a cycle, found by this test)
    with no_cycle_collector():
        x = _leaf(6)
        for _ in range(3):
            h = x * 1
            h[1:4].mul_(2)
            h[0] = 3.0
            h.add_(1)
            h.view(2, 3)[1].sub_(x[:3])
            ref = weakref.ref(h.grad_fn)
            h.sum().backward()
            del h
            assert ref() is None
        assert gc.collect() == 0
        # d/dx of sum(h): [0, 2, 2, 2, 1, 1] through h, minus 1 on x[:3] from the last write; 3 passes
        np.testing.assert_allclose(x.grad._data, 3 * np.array([-1.0, 1.0, 1.0, 2.0, 1.0, 1.0]))


def test_retain_graph_keeps_what_second_backward_needs_then_releases() -> None:
    with no_cycle_collector():
        x = _leaf()
        h = x.exp()
        y = (h * h).sum()
        ref_d = weakref.ref(h._data)
        del h
        y.backward(retain_graph=True)
        assert ref_d() is not None
        first = x.grad.clone()
        y.backward()  # the second pass works and frees the saved values
        np.testing.assert_allclose(x.grad._data, 2 * first._data)
        assert ref_d() is None


def test_create_graph_graph_freed_with_gradient() -> None:
    with no_cycle_collector():
        x = _leaf()
        y = (x.exp() * x).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        ref_y, ref_g = weakref.ref(y.grad_fn), weakref.ref(g.grad_fn)
        (h,) = T.autograd.grad(g.sum(), x, create_graph=True)
        ref_h = weakref.ref(h.grad_fn)
        del y
        assert ref_g() is not None  # g's graph is alive as long as g
        del g
        assert ref_g() is None and ref_y() is None and ref_h() is not None
        del h
        assert ref_h() is None


def test_backward_create_graph_cycle_broken_by_resetting_grad() -> None:
    # As in PyTorch, backward(create_graph=True) leaves x.grad's graph pointing back at x: a cycle.
    # Setting .grad to None breaks it (reference counting frees the graph); otherwise gc does.
    with no_cycle_collector():
        x = _leaf()
        (x.exp() * x).sum().backward(create_graph=True)
        ref = weakref.ref(x.grad.grad_fn)
        x.grad = None
        assert ref() is None
        (x.exp() * x).sum().backward(create_graph=True)
        ref_x, ref = weakref.ref(x), weakref.ref(x.grad.grad_fn)
        del x
        assert ref_x() is not None  # the cycle
    gc.collect()
    assert ref_x() is None and ref() is None


def test_grad_accumulation_does_not_keep_graphs() -> None:
    with no_cycle_collector():
        x = _leaf()
        refs = []
        for _ in range(3):
            y = (x.sigmoid() * x).sum()
            refs.append(weakref.ref(y.grad_fn))
            y.backward()
            del y
        assert x.grad.grad_fn is None and not x.grad.requires_grad
        assert all(r() is None for r in refs)


def test_nodes_that_save_nothing_keep_inputs_until_dropped() -> None:
    # add/sum/reshape read only shapes: their nodes keep their inputs so that the graph can be
    # differentiated again (as in PyTorch); dropping the output frees them
    with no_cycle_collector():
        x = _leaf()
        h = x + 1
        y = h.reshape(5, 1).sum()
        ref_h = weakref.ref(h)
        del h
        y.backward()
        y.backward()
        np.testing.assert_allclose(x.grad._data, 2.0)
        del y
        assert ref_h() is None


def test_functional_jacobian_and_hessian_leave_nothing() -> None:
    with no_cycle_collector():
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        f = lambda t: (t.exp() * t.sin()).sum()  # noqa: E731
        for _ in range(3):
            J = T.autograd.functional.jacobian(lambda t: t.exp() * t, x)
            H = T.autograd.functional.hessian(f, x)
            del J, H
        assert gc.collect() == 0


# ----------------------------------------------------------------------------- RSS over training


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def train_rss_curve(sizes: tuple, steps: int, batch: int = 32, every: int = 1000, warmup: int = 500) -> list:
    """Train an MLP with plain SGD (updates under no_grad); RSS in MiB every ``every`` steps
    after ``warmup`` steps, as ``[(step, MiB), ...]``."""
    T.manual_seed(0)
    ws = [(T.randn(a, b) * (1.0 / a ** 0.5)).requires_grad_() for a, b in zip(sizes[:-1], sizes[1:])]
    bs = [T.zeros(b, requires_grad=True) for b in sizes[1:]]
    x = T.randn(batch, sizes[0])
    onehot = T.zeros(batch, sizes[-1])
    onehot[T.arange(batch), T.randint(0, sizes[-1], (batch,))] = 1.0
    curve = []
    for step in range(warmup + steps + 1):
        if step >= warmup and (step - warmup) % every == 0:
            curve.append((step - warmup, _rss_bytes() / 2**20))
        if step == warmup + steps:
            break
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < len(ws) - 1:
                h = T.relu(h)
        loss = -(T.log_softmax(h, 1) * onehot).sum() / batch
        loss.backward()
        with T.no_grad():
            for p in ws + bs:
                p -= 0.05 * p.grad
                p.grad = None
    return curve


_CHILD = "import json, sys; sys.path.insert(0, {tests!r}); import test_memory as m; " \
         "print(json.dumps(m.train_rss_curve({sizes!r}, {steps})))"


def _curve_in_subprocess(sizes: tuple, steps: int) -> list:
    """In a fresh process: its RSS is the training loop's alone, and BLAS runs single-threaded
    (threads of a shared BLAS pool otherwise dominate the time of these small products)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = _CHILD.format(tests=os.path.dirname(os.path.abspath(__file__)), sizes=sizes, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_rss_flat_over_10000_training_steps() -> None:
    # 64-64-64-10 keeps 10,000 steps near 8 s; `python tests/test_memory.py` runs 64-256-256-10
    curve = _curve_in_subprocess((64, 64, 64, 10), 10_000)
    print("\nstep  RSS (MiB)\n" + "\n".join(f"{s:5d}  {m:8.2f}" for s, m in curve))
    assert len(curve) == 11
    growth = max(m for _, m in curve) - curve[0][1]
    assert growth < 5.0, f"RSS grew by {growth:.2f} MiB over 10,000 steps: {curve}"


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for step, mib in _curve_in_subprocess((64, 256, 256, 10), n):
        print(f"{step:6d}  {mib:8.2f} MiB")
