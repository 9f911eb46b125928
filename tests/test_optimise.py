"""Tests of the L-BFGS iteration on problems with known minimisers."""

import numpy as np
import pytest
import torch

from deeplimits.optimise import LBFGSState, NonFiniteEnergyError, minimise, start


def quadratic(condition: float, size: int = 40):
    eigenvalues = torch.logspace(0, np.log10(condition), size)
    target = torch.linspace(-1, 1, size)

    def objective(x):
        difference = x - target
        return float(0.5 * (eigenvalues * difference**2).sum()), eigenvalues * difference

    return objective, target


def rosenbrock(x):
    x = x.detach().requires_grad_(True)
    value = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    (gradient,) = torch.autograd.grad(value, x)
    return float(value.detach()), gradient


def test_quadratic_reaches_tolerance():
    objective, target = quadratic(condition=1e3)

    result = minimise(objective, start(objective, torch.zeros(40)), tolerance=1e-9, max_iter=500)

    assert result.converged
    assert result.gradient_norm <= 1e-9
    # The error is at most the gradient norm divided by the smallest eigenvalue, 1.
    assert torch.linalg.vector_norm(result.x - target) <= 1e-9


def test_rosenbrock_reaches_minimiser():
    result = minimise(rosenbrock, start(rosenbrock, torch.tensor([-1.2, 1.0])), tolerance=1e-9, max_iter=500)

    assert result.converged
    assert torch.allclose(result.x, torch.ones(2), atol=1e-8)


def test_iteration_cap_is_reported():
    result = minimise(rosenbrock, start(rosenbrock, torch.tensor([-1.2, 1.0])), tolerance=1e-12, max_iter=3)

    assert not result.converged
    assert result.iterations == 3
    assert result.message == "iteration cap 3 reached"


def test_restored_state_continues_identically():
    uninterrupted = minimise(rosenbrock, start(rosenbrock, torch.tensor([-1.2, 1.0])), tolerance=1e-9, max_iter=500)

    first = minimise(rosenbrock, start(rosenbrock, torch.tensor([-1.2, 1.0])), tolerance=1e-9, max_iter=10)
    restored = LBFGSState.from_arrays(first.state.to_arrays())
    resumed = minimise(rosenbrock, restored, tolerance=1e-9, max_iter=500)

    assert torch.equal(resumed.x, uninterrupted.x)
    assert resumed.iterations == uninterrupted.iterations
    assert resumed.evaluations == uninterrupted.evaluations


def test_non_finite_energy_raises():
    def exploding(x):
        return float("nan"), torch.zeros_like(x)

    with pytest.raises(NonFiniteEnergyError, match="the energy is nan or its gradient is not finite"):
        start(exploding, torch.zeros(3))
