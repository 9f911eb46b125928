"""Legendre polynomials on [0, 1]: the conforming basis of the continuum parameters.

A parameter function is ``theta(t) = sum_{j=0}^{D} a_j P_j(2t - 1)`` with P_j the Legendre
polynomial of degree j. On [0, 1] the mass matrix ``M_ij = int P_i P_j dt`` is
``diag(1 / (2j + 1))`` and the stiffness matrix ``A_ij = int (d/dt P_i)(d/dt P_j) dt`` is
integrated exactly by Gauss-Legendre quadrature, so the p = 2 penalties
``int |theta|^2 = tr(a^T M a)`` and ``int |theta'|^2 = tr(a^T A a)`` carry no quadrature error.
Minimisers of the continuum problem are smooth, so the error of the best degree-D
approximation falls exponentially in D.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["legendre_values", "mass_matrix", "stiffness_matrix", "gauss_nodes", "project"]


def legendre_values(times: torch.Tensor, degree: int, derivative: bool = False) -> torch.Tensor:
    """Evaluate ``P_j(2t - 1)`` (or its t-derivative) for j = 0..degree at ``times``.

    Parameters
    ----------
    times : Tensor, shape (T,) or scalar
    degree : int
    derivative : bool, default False
        Return ``d/dt P_j(2t - 1) = 2 P_j'(2t - 1)`` instead.

    Returns
    -------
    Tensor, shape (T, degree + 1), or (degree + 1,) for a scalar time.

    Notes
    -----
    Uses Bonnet's recurrence ``(j+1) P_{j+1} = (2j+1) s P_j - j P_{j-1}`` and its derivative
    ``(j+1) P'_{j+1} = (2j+1) (P_j + s P'_j) - j P'_{j-1}``, stable for the degrees used here.
    """
    s = 2 * times - 1
    values = [torch.ones_like(s), s]
    slopes = [torch.zeros_like(s), torch.ones_like(s)]
    for j in range(1, degree):
        values.append(((2 * j + 1) * s * values[j] - j * values[j - 1]) / (j + 1))
        slopes.append(((2 * j + 1) * (values[j] + s * slopes[j]) - j * slopes[j - 1]) / (j + 1))

    chosen = slopes if derivative else values
    stacked = torch.stack(chosen[: degree + 1], dim=-1)
    return 2 * stacked if derivative else stacked


def gauss_nodes(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Return Gauss-Legendre nodes and weights on [0, 1]; exact for degree 2*count - 1."""
    nodes, weights = np.polynomial.legendre.leggauss(count)
    return (nodes + 1) / 2, weights / 2


def mass_matrix(degree: int) -> np.ndarray:
    """Return ``M_ij = int_0^1 P_i(2t-1) P_j(2t-1) dt = delta_ij / (2j + 1)``."""
    return np.diag(1.0 / (2 * np.arange(degree + 1) + 1))


def stiffness_matrix(degree: int) -> np.ndarray:
    """Return ``A_ij = int_0^1 (d/dt P_i(2t-1)) (d/dt P_j(2t-1)) dt``, exact by Gauss quadrature."""
    nodes, weights = gauss_nodes(degree + 1)
    slopes = legendre_values(torch.as_tensor(nodes, dtype=torch.float64), degree, derivative=True).numpy()
    return slopes.T @ (weights[:, None] * slopes)


def project(function, degree: int) -> np.ndarray:
    """Return the L^2(0,1) projection coefficients of ``function`` onto degree <= D.

    ``function`` maps times of shape (T,) to values of shape (T, m); coefficients are
    ``a_j = (2j + 1) int_0^1 f(t) P_j(2t-1) dt``, by Gauss quadrature with 4(D + 1) nodes.
    """
    nodes, weights = gauss_nodes(4 * (degree + 1))
    basis = legendre_values(torch.as_tensor(nodes, dtype=torch.float64), degree).numpy()
    values = np.asarray(function(nodes))
    return (2 * np.arange(degree + 1) + 1)[:, None] * (basis.T @ (weights[:, None] * values))
