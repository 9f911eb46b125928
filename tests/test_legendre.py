"""Tests of the Legendre basis on [0, 1]."""

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from deeplimits.legendre import legendre_values, mass_matrix, project, stiffness_matrix


def test_values_match_numpy():
    times = np.linspace(0, 1, 33)
    values = legendre_values(torch.as_tensor(times), 9).numpy()

    for degree in range(10):
        coefficients = np.zeros(degree + 1)
        coefficients[degree] = 1
        expected = np.polynomial.legendre.legval(2 * times - 1, coefficients)
        assert np.allclose(values[:, degree], expected, rtol=0, atol=1e-13)


def test_derivatives_match_numpy():
    times = np.linspace(0, 1, 33)
    slopes = legendre_values(torch.as_tensor(times), 9, derivative=True).numpy()

    for degree in range(10):
        coefficients = np.zeros(degree + 1)
        coefficients[degree] = 1
        expected = 2 * np.polynomial.legendre.legval(2 * times - 1, np.polynomial.legendre.legder(coefficients))
        assert np.allclose(slopes[:, degree], expected, rtol=0, atol=1e-11)


def test_mass_and_stiffness_match_quadrature():
    degree = 6

    def basis(j, derivative=False):
        coefficients = np.zeros(j + 1)
        coefficients[j] = 1
        if derivative:
            return lambda t: 2 * np.polynomial.legendre.legval(2 * t - 1, np.polynomial.legendre.legder(coefficients))
        return lambda t: np.polynomial.legendre.legval(2 * t - 1, coefficients)

    for i in range(degree + 1):
        for j in range(degree + 1):
            mass = quad(lambda t: basis(i)(t) * basis(j)(t), 0, 1)[0]
            stiffness = quad(lambda t: basis(i, True)(t) * basis(j, True)(t), 0, 1)[0]
            assert mass_matrix(degree)[i, j] == pytest.approx(mass, abs=1e-12)
            assert stiffness_matrix(degree)[i, j] == pytest.approx(stiffness, abs=1e-9)


def test_projection_reproduces_polynomials():
    coefficients = np.array([[0.5, -1.0], [2.0, 0.1], [0.0, 0.3], [-0.7, 0.0]])

    def polynomial(times):
        return legendre_values(torch.as_tensor(times), 3).numpy() @ coefficients

    assert np.allclose(project(polynomial, 5)[:4], coefficients, atol=1e-13)
    assert np.allclose(project(polynomial, 5)[4:], 0, atol=1e-13)
