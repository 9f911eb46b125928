"""The discrete Sobolev metric that preconditions the optimiser.

For p = 2 the parameter penalties of E_N are the quadratic form ``theta^T G theta`` with

    G = (beta / N) I + alpha N^q D^T D,

D the forward difference (N-1 rows, N columns), applied to each parameter component. Its
condition number grows like N^2, which is why plain L-BFGS on theta slows down with depth.
Writing ``G = L L^T`` (Cholesky) and ``theta = L^{-T} phi`` turns the penalties into
``|phi|^2``; in phi the data term has a Hessian bounded independently of N, so L-BFGS
takes a number of iterations that does not grow with N. The norm of the gradient in phi
is the norm of the theta-gradient in the dual metric, ``(g^T G^{-1} g)^{1/2}``.

The continuum problem uses the same construction with the mass and stiffness matrices of
its basis in place of ``I / N`` and ``N D^T D``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["SobolevMetric", "metric_weights"]


def metric_weights(alpha: float, beta: float, q: float, depth: int | None, alpha_floor: float) -> tuple[float, float]:
    """Return the weights ``(mass, stiffness)`` of the metric for one energy.

    For a depth N the metric is ``mass / N * I + stiffness * D^T D`` with
    ``stiffness = max(alpha N^q, alpha_floor N)``; for the continuum (``depth=None``) it is
    ``mass * M + stiffness * A`` with ``stiffness = max(alpha, alpha_floor)``.

    The floor matters when alpha = 0 or q < 1: G then degenerates towards a multiple of the
    identity, whose first L-BFGS steps roughen smooth parameters and end in poor minimisers.
    A floor scaled like the H^1 metric (``alpha_floor N``) keeps the steps smooth without
    changing the energy being minimised.
    """
    if depth is None:
        return beta, max(alpha, alpha_floor)
    return beta, max(alpha * depth**q, alpha_floor * depth)


class SobolevMetric:
    """A symmetric positive definite metric ``G = L L^T`` on the rows of a parameter matrix.

    Parameters
    ----------
    gram : ndarray, shape (P, P)
        The matrix G, symmetric positive definite.
    dtype, device
        Where the Cholesky factor lives.

    Notes
    -----
    The factor is stored dense: a depth of 4096 takes 128 MiB in float64, and each change
    of variables is a triangular solve of O(P^2) operations per column.
    """

    def __init__(self, gram: np.ndarray, dtype=torch.float64, device=None) -> None:
        factor = np.linalg.cholesky(gram)
        self.factor = torch.as_tensor(factor, dtype=dtype, device=device)

    @classmethod
    def discrete(cls, depth: int, mass: float, stiffness: float, dtype=torch.float64, device=None) -> "SobolevMetric":
        """Build ``G = mass / N * I + stiffness * D^T D`` for a depth N.

        The tridiagonal G is factored in O(N) by the Cholesky recurrence for tridiagonal
        matrices; only the lower bidiagonal factor is written into a dense array.
        """
        diagonal = np.full(depth, mass / depth + 2 * stiffness)
        diagonal[0] -= stiffness
        diagonal[-1] -= stiffness
        if depth == 1:
            diagonal[0] = mass
        off_diagonal = np.full(depth - 1, -stiffness)

        factor_diagonal = np.empty(depth)
        factor_lower = np.empty(max(depth - 1, 0))
        factor_diagonal[0] = math.sqrt(diagonal[0])
        for k in range(1, depth):
            factor_lower[k - 1] = off_diagonal[k - 1] / factor_diagonal[k - 1]
            factor_diagonal[k] = math.sqrt(diagonal[k] - factor_lower[k - 1] ** 2)

        metric = cls.__new__(cls)
        factor = np.diag(factor_diagonal) + np.diag(factor_lower, k=-1)
        metric.factor = torch.as_tensor(factor, dtype=dtype, device=device)
        return metric

    @property
    def size(self) -> int:
        return self.factor.shape[0]

    def parameters_from(self, coordinates: torch.Tensor) -> torch.Tensor:
        """Return ``theta = L^{-T} phi`` for phi of shape (P, m); differentiable."""
        return torch.linalg.solve_triangular(self.factor.T, coordinates, upper=True)

    def coordinates_from(self, parameters: torch.Tensor) -> torch.Tensor:
        """Return ``phi = L^T theta`` for theta of shape (P, m)."""
        return self.factor.T @ parameters

    def gram(self) -> torch.Tensor:
        """Return G itself, shape (P, P)."""
        return self.factor @ self.factor.T
