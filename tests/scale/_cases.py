"""Shared functions and inputs of the scale tests (float64, seeded): the same code runs on autojac
and on torch (the oracle), and is picklable by cloudpickle for worker processes."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(1234)
N_IN, N_OUT = 11, 13
A = RNG.normal(size=(N_OUT, N_IN)) / 3
X = RNG.normal(size=N_IN)
Y = RNG.normal(size=(2, 3))


def f(x, T):
    """R^11 -> R^13: a matrix product, elementwise ops and a reduction, so every row differs."""
    a = T.tensor(A, dtype=T.float64)
    return (a @ x).tanh() * x.sin().sum() + (a @ x.exp()) / 5


def f2(x, y, T):
    """Two inputs -> two outputs (a tuple), for the multi-block path."""
    a = T.tensor(A, dtype=T.float64)
    return (a @ x).sin() * y.sum(), (y * x[:3]).cos()


def scalar(x, T):
    return ((T.tensor(A, dtype=T.float64) @ x).tanh() ** 2).sum() + (x ** 3).sum() / 6


def tensors(T, *arrays):
    return tuple(T.tensor(a, dtype=T.float64) for a in arrays)


def flaky(x, marker: str, driver: int):
    """``f`` in autojac, except that the first worker call (pid not ``driver``) to find ``marker``
    deletes it and fails: a worker lost once."""
    import os

    import autojac

    if os.getpid() != driver:
        try:
            os.unlink(marker)
        except FileNotFoundError:
            pass
        else:
            raise RuntimeError("worker lost (simulated)")
    return f(x, autojac)


def broken(x, driver: int):
    """``f`` in autojac on the driver, an error on every worker."""
    import os

    import autojac

    if os.getpid() != driver:
        raise ValueError("this worker cannot compute")
    return f(x, autojac)
