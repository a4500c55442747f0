"""HIPS autograd's examples/gaussian_process.py, ported to torch.distributions.MultivariateNormal, run under
``import autojac as torch`` and under torch: the same fitted hyperparameters, likelihoods and posterior."""

from __future__ import annotations

import numpy as np
import torch as real_torch
from scipy.optimize import minimize

import autojac


def gp_program(torch):
    """The example, written for PyTorch (no plotting); returns what it would print and plot."""
    torch.set_default_dtype(torch.float64)
    try:
        def make_gp_funs(cov_func, num_cov_params):
            def unpack_kernel_params(params):
                mean = params[0]
                cov_params = params[2:]
                noise_scale = torch.exp(params[1]) + 0.0001
                return mean, cov_params, noise_scale

            def predict(params, x, y, xstar):
                mean, cov_params, noise_scale = unpack_kernel_params(params)
                cov_f_f = cov_func(cov_params, xstar, xstar)
                cov_y_f = cov_func(cov_params, x, xstar)
                cov_y_y = cov_func(cov_params, x, x) + noise_scale * torch.eye(len(y))
                pred_mean = mean + torch.linalg.solve(cov_y_y, cov_y_f).T @ (y - mean)
                pred_cov = cov_f_f - torch.linalg.solve(cov_y_y, cov_y_f).T @ cov_y_f
                return pred_mean, pred_cov

            def log_marginal_likelihood(params, x, y):
                mean, cov_params, noise_scale = unpack_kernel_params(params)
                cov_y_y = cov_func(cov_params, x, x) + noise_scale * torch.eye(len(y))
                prior_mean = mean * torch.ones(len(y))
                mvn = torch.distributions.MultivariateNormal(prior_mean, covariance_matrix=cov_y_y)
                return mvn.log_prob(y)

            return num_cov_params + 2, predict, log_marginal_likelihood

        def rbf_covariance(kernel_params, x, xp):
            output_scale = torch.exp(kernel_params[0])
            lengthscales = torch.exp(kernel_params[1:])
            diffs = (x / lengthscales).unsqueeze(1) - (xp / lengthscales).unsqueeze(0)
            return output_scale * torch.exp(-0.5 * torch.sum(diffs ** 2, dim=2))

        def build_toy_dataset(D=1, n_data=20, noise_std=0.1):
            rs = np.random.RandomState(0)
            inputs = np.concatenate([np.linspace(0, 3, num=n_data // 2), np.linspace(6, 8, num=n_data // 2)])
            targets = (np.cos(inputs) + rs.randn(n_data) * noise_std) / 2.0
            inputs = (inputs - 4.0) / 2.0
            return torch.tensor(inputs.reshape((len(inputs), D))), torch.tensor(targets)

        D = 1
        num_params, predict, log_marginal_likelihood = make_gp_funs(rbf_covariance, num_cov_params=D + 1)
        X, y = build_toy_dataset(D=D)

        def value_and_grad(p):
            params = torch.tensor(p, requires_grad=True)
            value = -log_marginal_likelihood(params, X, y)
            (g,) = torch.autograd.grad(value, params)
            return value.item(), g.numpy()

        trace = []
        init_params = 0.1 * np.random.RandomState(0).randn(num_params)
        result = minimize(value_and_grad, init_params, jac=True, method="CG", options={"maxiter": 25},
                          callback=lambda p: trace.append(-value_and_grad(p)[0]))
        params = torch.tensor(result.x)
        plot_xs = torch.linspace(-7, 7, 50).reshape(50, 1)
        pred_mean, pred_cov = predict(params, X, y, plot_xs)
        torch.manual_seed(0)
        posterior = torch.distributions.MultivariateNormal(pred_mean, pred_cov + 1e-6 * torch.eye(50))
        funcs = posterior.sample((10,))
        return (np.array(trace), result.x, pred_mean.numpy(), torch.sqrt(torch.diagonal(pred_cov)).numpy(),
                funcs.numpy(), posterior.log_prob(funcs).numpy())
    finally:
        torch.set_default_dtype(torch.float32)


def test_gaussian_process_fit_same_numbers_as_torch():
    got, want = gp_program(autojac), gp_program(real_torch)
    trace_a, trace_t = got[0], want[0]
    assert len(trace_a) == len(trace_t) >= 5
    assert trace_t[-1] > trace_t[0]  # the fit improves the marginal likelihood
    np.testing.assert_allclose(trace_a, trace_t, rtol=1e-8)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6, atol=1e-8)  # CG stops in a flat valley: ~1e-7
    for a, t in zip(got[2:5], want[2:5]):
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got[5], want[5], rtol=1e-5)
