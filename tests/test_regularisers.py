"""Tests of the discrete penalties against the integrals they approximate."""

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from deeplimits.regularisers import (
    derivative_penalty,
    discrete_seminorm,
    magnitude_penalty,
    powered_norm,
    scaled_second_differences,
)
from problems import fitted_order, smooth_theta, smooth_theta_derivative

WIDTH = 4


def exact_integral(function, p):
    return quad(lambda t: np.linalg.norm(function(np.array([t]))[0]) ** p, 0, 1, epsabs=1e-12, epsrel=1e-12, limit=200)[0]


def theta_derivative(times):
    return smooth_theta_derivative(times, WIDTH)


@pytest.mark.parametrize("p", [2.0, 3.0, 1.5])
def test_penalties_converge_at_first_order(p):
    depths = [16, 32, 64, 128, 256, 512, 1024]
    exact_derivative = exact_integral(theta_derivative, p)
    exact_magnitude = exact_integral(lambda t: smooth_theta(t, WIDTH), p)

    derivative_errors, magnitude_errors = [], []
    for depth in depths:
        theta = torch.as_tensor(smooth_theta(np.arange(depth) / depth, WIDTH))
        derivative_errors.append(abs(derivative_penalty(theta, p, p - 1).item() - exact_derivative))
        magnitude_errors.append(abs(magnitude_penalty(theta, p).item() - exact_magnitude))

    # Both are Riemann sums with O(1/N) error; the derivative sum also omits the last cell
    # [t_{N-1}, 1], another O(1/N). A fitted order within 0.1 of 1 allows the
    # pre-asymptotic curvature over N = 16..1024.
    assert fitted_order(depths, derivative_errors) == pytest.approx(1.0, abs=0.1)
    assert fitted_order(depths, magnitude_errors) == pytest.approx(1.0, abs=0.1)


def test_seminorm_of_linear_interpolant():
    depth = 10
    theta = torch.as_tensor(smooth_theta(np.arange(depth) / depth, WIDTH))
    p = 3.0

    # The piecewise-linear interpolant has slope N (theta_{k+1} - theta_k) on each cell of length 1/N.
    differences = (theta[1:] - theta[:-1]).norm(dim=1)
    expected = ((depth * differences) ** p / depth).sum() ** (1 / p)
    assert discrete_seminorm(theta, p).item() == pytest.approx(expected.item(), rel=1e-14)


def test_second_differences_approach_second_derivative():
    depth = 512
    times = np.arange(depth) / depth
    theta = torch.as_tensor(smooth_theta(times, WIDTH))
    step = 1e-4
    exact = np.linalg.norm(
        (smooth_theta(times + step, WIDTH) - 2 * smooth_theta(times, WIDTH) + smooth_theta(times - step, WIDTH)) / step**2, axis=1
    )

    scaled = scaled_second_differences(theta).numpy()

    # Central second differences are second order: error about N^-2 |theta''''| ~ 1e-3 here.
    assert np.max(np.abs(scaled - exact[1:-1])) < 1e-2 * np.max(exact)


def test_powered_norm_gradient_at_zero():
    x = torch.zeros(3, 2, requires_grad=True)

    powered_norm(x, 1.5).sum().backward()

    assert torch.equal(x.grad, torch.zeros(3, 2))
