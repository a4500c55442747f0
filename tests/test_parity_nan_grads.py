"""Gradients at NaN and at the origin, as torch 2.13 gives them (issue 8: these were nan everywhere)."""

from __future__ import annotations

import math

import pytest

from _parity import same

NAN = math.nan


def grad_of(fn, *values, dtype="float32"):
    def case(T):
        xs = [T.tensor(v, dtype=getattr(T, dtype), requires_grad=True) for v in values]
        fn(T, *xs).sum().backward()
        return [x.grad for x in xs]
    return case


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("values", [[NAN, 1.], [1., NAN], [NAN, 1., NAN], [2., NAN, -3.], [1., 2., 2.]])
def test_max_min_of_everything_with_nan(values, dtype):
    same(grad_of(lambda T, x: x.max(), values, dtype=dtype))
    same(grad_of(lambda T, x: x.min(), values, dtype=dtype))
    same(grad_of(lambda T, x: T.max(x) * 3, values, dtype=dtype))


@pytest.mark.parametrize("values", [[NAN, 1.], [NAN, -3., 1.], [-3., 3., 1.], [[NAN, -3.], [1., 2.]]])
@pytest.mark.parametrize("p", [math.inf, -math.inf])
def test_inf_norm_with_nan(values, p):
    same(grad_of(lambda T, x: x.norm(p=p), values))
    same(grad_of(lambda T, x: T.linalg.vector_norm(x, ord=p), values))
    same(grad_of(lambda T, x: T.norm(x, p=p, dim=-1), values))


def test_inf_norm_values_and_second_derivative():
    same(lambda T: T.tensor([[NAN, -3.], [1., -2.]]).norm(p=math.inf, dim=1))

    def case(T):
        x = T.tensor([-3., 3., 1.], dtype=T.float64, requires_grad=True)
        (g,) = T.autograd.grad(x.norm(p=math.inf) * x.sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x)
        return g, h
    same(case)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_gradient_at_nan(dtype):
    same(grad_of(lambda T, x: T.relu(x), [NAN, 1., -1., 0.], dtype=dtype))
    same(grad_of(lambda T, x: x.relu() * 2, [NAN, -NAN], dtype=dtype))
    same(grad_of(lambda T, x: T.nn.functional.relu(x), [NAN, 0.5], dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_atan2_gradient_at_the_origin(dtype):
    same(grad_of(lambda T, x, y: T.atan2(x, y), [0., 0., 1e-30, NAN, 1.], [0., 1., 0., 0., -1.], dtype=dtype))
    same(grad_of(lambda T, x: T.atan2(x, T.zeros(2, dtype=x.dtype)), [0., 2.], dtype=dtype))
    same(grad_of(lambda T, y: T.atan2(T.zeros(2, dtype=y.dtype), y), [0., 2.], dtype=dtype))


def test_atan2_second_derivative_stays_finite_away_from_origin():
    def case(T):
        x = T.tensor([0.5, 1.], dtype=T.float64, requires_grad=True)
        y = T.tensor([2., -1.], dtype=T.float64, requires_grad=True)
        gx, gy = T.autograd.grad(T.atan2(x, y).sum(), (x, y), create_graph=True)
        return T.autograd.grad((gx * gy).sum(), (x, y))
    same(case)
