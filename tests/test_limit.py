"""Tests of the continuum problem: ODE solutions, energy and gradients."""

import numpy as np
import pytest
import torch
from scipy.integrate import quad, solve_ivp
from scipy.linalg import expm
from scipy.special import logsumexp

from deeplimits.limit import ContinuumParameters, ContinuumProblem, ContinuumSettings, ode_final_state
from deeplimits.settings import EnergySettings
from problems import fitted_order, moons

K_CONSTANT = np.array([[0.3, -1.2], [0.8, -0.1]])


def constant_linear_parameters():
    coefficients = torch.as_tensor(np.concatenate([K_CONSTANT.ravel(), [0.0, 0.0]]))[None, :]
    return ContinuumParameters(coefficients, torch.eye(2), torch.zeros(2), 2)


def test_adaptive_solution_equals_matrix_exponential():
    x = torch.randn(5, 2)

    final = ode_final_state(constant_linear_parameters(), x, "identity", ContinuumSettings(degree=0), adaptive=True)

    expected = x.numpy() @ expm(K_CONSTANT).T
    assert np.allclose(final.numpy(), expected, rtol=0, atol=1e-10)


def test_rk4_converges_at_fourth_order():
    x = torch.randn(5, 2)
    expected = x.numpy() @ expm(K_CONSTANT).T
    steps = [4, 8, 16, 32]

    errors = [
        np.abs(ode_final_state(constant_linear_parameters(), x, "identity", ContinuumSettings(degree=0, steps=n)).numpy() - expected).max()
        for n in steps
    ]

    # The 3/8 rule is fourth order; 0.2 allows the pre-asymptotic range at 4 steps.
    assert fitted_order(steps, errors) == pytest.approx(4.0, abs=0.2)


def random_continuum(degree, state_dim, n_classes, seed=0):
    generator = torch.Generator().manual_seed(seed)
    width = state_dim * state_dim + state_dim
    coefficients = 0.5 * torch.randn(degree + 1, width, generator=generator) / (1 + torch.arange(degree + 1))[:, None]
    W = torch.randn(n_classes, state_dim, generator=generator)
    c = 0.1 * torch.randn(n_classes, generator=generator)
    return ContinuumParameters(coefficients, W, c, state_dim)


def independent_energy(params, x, y, settings):
    """E_inf by scipy: DOP853 per sample, numpy Legendre series, quad for the penalties."""
    a = params.coefficients.numpy()
    n = params.state_dim

    def theta(t):
        return np.polynomial.legendre.legval(2 * t - 1, a)

    def theta_derivative(t):
        return 2 * np.polynomial.legendre.legval(2 * t - 1, np.polynomial.legendre.legder(a))

    def field(t, state):
        values = theta(t)
        return np.tanh(values[: n * n].reshape(n, n) @ state + values[n * n :])

    finals = np.array([
        solve_ivp(field, (0, 1), sample, method="DOP853", rtol=1e-13, atol=1e-13).y[:, -1] for sample in x.numpy()
    ])
    scores = finals @ params.W.numpy().T + params.c.numpy()
    labels = y.numpy()
    data = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(labels)), labels])
    derivative = quad(lambda t: np.sum(theta_derivative(t) ** 2), 0, 1, epsabs=1e-14)[0]
    magnitude = quad(lambda t: np.sum(theta(t) ** 2), 0, 1, epsabs=1e-14)[0]
    classifier = np.sum(params.W.numpy() ** 2) + np.sum(params.c.numpy() ** 2)
    return data + settings.alpha * derivative + settings.beta * magnitude + settings.gamma * classifier


def test_energy_matches_scipy():
    x, y = moons(samples=20)
    settings = EnergySettings(alpha=0.05, beta=0.01, gamma=0.02)
    params = random_continuum(degree=5, state_dim=2, n_classes=2)
    problem = ContinuumProblem(x, y, 2, settings, ContinuumSettings(degree=5))

    energy = problem.energy(params, adaptive=True).total.item()

    assert energy == pytest.approx(independent_energy(params, x, y, settings), rel=1e-8)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_energy_gradient_matches_finite_differences(p):
    x, y = moons(samples=12)
    settings = EnergySettings(alpha=0.05, beta=0.01, gamma=0.02, p=p, q=p - 1, state_dim=3)
    continuum = ContinuumSettings(degree=3, steps=8)
    problem = ContinuumProblem(torch.cat([x, torch.zeros(12, 1)], dim=1), y, 2, settings, continuum)
    params = random_continuum(degree=3, state_dim=3, n_classes=2, seed=3)
    unknowns = problem.pack(params).requires_grad_(True)

    def energy(vector):
        return problem.energy(problem.unpack(vector)).total

    # The RK4 energy is a smooth function of the unknowns; central differences with eps
    # 1e-6 are accurate to about 1e-9.
    assert torch.autograd.gradcheck(energy, (unknowns,), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_penalties_exact_for_p2_agree_with_quadrature():
    x, y = moons(samples=10)
    params = random_continuum(degree=6, state_dim=2, n_classes=2, seed=4)
    exact = ContinuumProblem(x, y, 2, EnergySettings(p=2.0), ContinuumSettings(degree=6)).penalties(params)
    # p = 2 + 1e-12 takes the quadrature branch with a numerically identical integrand.
    quadrature = ContinuumProblem(x, y, 2, EnergySettings(p=2.0 + 1e-12, q=1.0), ContinuumSettings(degree=6)).penalties(params)

    assert exact[0].item() == pytest.approx(quadrature[0].item(), rel=1e-10)
    assert exact[1].item() == pytest.approx(quadrature[1].item(), rel=1e-10)


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="degree must be an integer >= 0, got -1"):
        ContinuumSettings(degree=-1)
    with pytest.raises(ValueError, match="unknown adaptive method 'rk45'; choose one of"):
        ContinuumSettings(method="rk45")
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        ContinuumSettings(steps=0)
