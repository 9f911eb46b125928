"""Interpolants of discrete parameters and distances between parameter functions on [0, 1].

Discrete parameters ``theta_0..theta_{N-1}`` at ``t_k = k/N`` become functions of t by

    piecewise constant   theta_N(t) = theta_k            for t in [t_k, t_{k+1}),
    piecewise linear     through (t_k, theta_k), constant on [t_{N-1}, 1].

Distances are taken in L^2(0,1) and L^inf(0,1) of ``|.|`` (the Frobenius norm of theta), by
Gauss-Legendre quadrature on each cell of a common uniform grid that contains every
breakpoint, so the integrand is a polynomial on each cell and the quadrature is exact up to
the polynomial degree ``2 * nodes - 1``.

For an odd activation the problem has exact symmetries in the padded coordinates (those
beyond the data dimension d): flipping the sign of, or permuting, padded state coordinates,
with the matching rows and columns of K, entries of b and columns of W, maps a minimiser to
another of the same energy. Distances are taken modulo these (:func:`align`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from .legendre import gauss_nodes, legendre_values
from .regularisers import split_parameters, stack_parameters

__all__ = [
    "PiecewiseConstant",
    "PiecewiseLinear",
    "LegendreFunction",
    "distances",
    "padded_symmetries",
    "apply_symmetry",
    "align",
]


@dataclass
class PiecewiseConstant:
    """``theta_N(t) = theta_k`` on ``[k/N, (k+1)/N)``; values of shape (N, m)."""

    values: np.ndarray

    @property
    def cells(self) -> int:
        return self.values.shape[0]

    def on_cell(self, cell_count: int, local: np.ndarray) -> np.ndarray:
        """Evaluate at local positions ``local`` in [0, 1) of each of ``cell_count`` uniform cells.

        Returns shape (cell_count, len(local), m). ``cell_count`` must be a multiple of N,
        so each cell lies inside one layer; the layer is found by integer division, never
        by ``floor(t * N)``, which rounding can put one layer too low.
        """
        depth = self.cells
        layer = np.arange(cell_count) * depth // cell_count
        return np.broadcast_to(self.values[layer][:, None, :], (cell_count, len(local), self.values.shape[1]))


@dataclass
class PiecewiseLinear:
    """Linear through ``(k/N, theta_k)``, constant on ``[(N-1)/N, 1]``; values of shape (N, m)."""

    values: np.ndarray

    @property
    def cells(self) -> int:
        return self.values.shape[0]

    def on_cell(self, cell_count: int, local: np.ndarray) -> np.ndarray:
        depth = self.cells
        ratio = cell_count // depth
        cell = np.arange(cell_count)
        layer = cell // ratio
        # Position within the layer interval, in [0, 1).
        fraction = ((cell % ratio)[:, None] + local[None, :]) / ratio
        upper = np.minimum(layer + 1, depth - 1)
        left = self.values[layer][:, None, :]
        right = self.values[upper][:, None, :]
        return left + fraction[..., None] * (right - left)


@dataclass
class LegendreFunction:
    """A polynomial ``theta(t) = sum_j a_j P_j(2t - 1)``; coefficients of shape (D + 1, m)."""

    coefficients: np.ndarray

    cells = 1

    def on_cell(self, cell_count: int, local: np.ndarray) -> np.ndarray:
        times = (np.arange(cell_count)[:, None] + local[None, :]) / cell_count
        basis = legendre_values(torch.as_tensor(times.ravel()), self.coefficients.shape[0] - 1).numpy()
        return (basis @ self.coefficients).reshape(cell_count, len(local), -1)


def distances(first, second, nodes: int = 16, min_cells: int = 64) -> dict[str, float]:
    """Return the L^2(0,1) and L^inf(0,1) distances between two parameter functions.

    Parameters
    ----------
    first, second : PiecewiseConstant, PiecewiseLinear or LegendreFunction
    nodes : int, default 16
        Gauss-Legendre nodes per cell; exact for polynomial integrands of degree 31.
    min_cells : int, default 64
        The common grid has ``lcm(N_1, N_2, min_cells)`` cells (at least ``min_cells``),
        so a polynomial is resolved even against a shallow network.

    Returns
    -------
    dict
        ``{"l2": ||first - second||_{L^2}, "linf": ||first - second||_{L^inf}}``, with the
        L^inf norm the maximum over the quadrature nodes and both ends of every cell.
    """
    cell_count = math.lcm(first.cells, second.cells, min_cells)
    local_nodes, weights = gauss_nodes(nodes)

    difference = first.on_cell(cell_count, local_nodes) - second.on_cell(cell_count, local_nodes)
    squared = (difference**2).sum(axis=-1)
    l2 = math.sqrt(float((squared * weights[None, :]).sum() / cell_count))

    # End points of each cell, approached from inside; for piecewise constants these are
    # the one-sided limits, where the largest jump against a smooth function sits.
    ends = np.array([0.0, 1.0 - 1e-12])
    end_difference = first.on_cell(cell_count, ends) - second.on_cell(cell_count, ends)
    linf = math.sqrt(max(float(squared.max()), float((end_difference**2).sum(axis=-1).max())))
    return {"l2": l2, "linf": linf}


def padded_symmetries(data_dim: int, state_dim: int, odd: bool, limit: int = 5040) -> list[tuple[np.ndarray, np.ndarray]]:
    """List the symmetries of the padded coordinates as ``(permutation, signs)`` pairs.

    A pair acts on the state as ``X -> P S X`` where S flips the signs ``signs`` and P
    permutes the padded coordinates d..n-1 among themselves. Sign flips are symmetries only
    for an odd activation. The identity comes first.

    Raises
    ------
    ValueError
        If the group has more than ``limit`` elements, too many to search exhaustively.
    """
    padded = list(range(data_dim, state_dim))
    sign_choices = list(itertools.product([1.0, -1.0], repeat=len(padded))) if odd else [(1.0,) * len(padded)]
    size = math.factorial(len(padded)) * len(sign_choices)
    if size > limit:
        raise ValueError(
            f"{state_dim - data_dim} padded coordinates have {size} symmetries, more than {limit}; "
            "use fewer padded coordinates or pass align=False"
        )

    group = []
    for order in itertools.permutations(padded):
        for flips in sign_choices:
            permutation = np.arange(state_dim)
            permutation[padded] = order
            signs = np.ones(state_dim)
            signs[padded] = flips
            group.append((permutation, signs))
    return group


def apply_symmetry(theta: np.ndarray, W: np.ndarray, state_dim: int, symmetry) -> tuple[np.ndarray, np.ndarray]:
    """Transform parameters by ``T = P S``: ``K -> T K T^T``, ``b -> T b``, ``W -> W T^T``.

    ``theta`` has shape (..., n*n + n) and ``W`` shape (C, n).
    """
    permutation, signs = symmetry
    transform = np.eye(state_dim)[permutation] * signs[None, :]
    K, b = split_parameters(torch.as_tensor(theta), state_dim)
    K, b = K.numpy(), b.numpy()
    K = transform @ K @ transform.T
    b = b @ transform.T
    return stack_parameters(torch.as_tensor(K), torch.as_tensor(b)).numpy(), W @ transform.T


def align(
    moving_theta: np.ndarray,
    moving_W: np.ndarray,
    moving_kind,
    reference,
    reference_W: np.ndarray,
    data_dim: int,
    state_dim: int,
    odd: bool,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Transform ``moving`` parameters by the padded symmetry that brings them nearest ``reference``.

    Parameters
    ----------
    moving_theta : ndarray, shape (N, m) or (D + 1, m)
        Values or coefficients of the parameters to move.
    moving_W : ndarray, shape (C, n)
    moving_kind : type
        PiecewiseConstant, PiecewiseLinear or LegendreFunction: how ``moving_theta`` is read.
    reference : PiecewiseConstant, PiecewiseLinear or LegendreFunction
    reference_W : ndarray, shape (C, n)
    data_dim, state_dim : int
    odd : bool
        Whether the activation is odd.

    Returns
    -------
    theta, W : ndarray
        The transformed moving parameters.
    distance : dict
        ``l2`` and ``linf`` of theta after alignment, and ``classifier``, the Frobenius
        distance of W (c is invariant). The chosen symmetry minimises
        ``l2^2 + classifier^2``.
    """
    best = None
    for symmetry in padded_symmetries(data_dim, state_dim, odd):
        theta, W = apply_symmetry(moving_theta, moving_W, state_dim, symmetry)
        measured = distances(moving_kind(theta), reference)
        measured["classifier"] = float(np.linalg.norm(W - reference_W))
        score = measured["l2"] ** 2 + measured["classifier"] ** 2
        if best is None or score < best[0]:
            best = (score, theta, W, measured)
    return best[1], best[2], best[3]
