"""Problems with exact solutions and small data shared by the tests."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import make_moons


def moons(samples: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return standardised two-moons inputs (S, 2) and labels (S,)."""
    x, y = make_moons(samples, noise=0.1, random_state=seed)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return torch.as_tensor(x), torch.as_tensor(y)


def smooth_theta(times: np.ndarray, width: int) -> np.ndarray:
    """An analytic theta(t) of shape (T, width) with non-trivial first and second derivatives."""
    columns = [np.sin(2 * np.pi * (j + 1) * times / width + j) * (0.5 + 0.1 * j) for j in range(width)]
    return np.stack(columns, axis=-1)


def smooth_theta_derivative(times: np.ndarray, width: int) -> np.ndarray:
    """The t-derivative of :func:`smooth_theta`."""
    columns = [
        np.cos(2 * np.pi * (j + 1) * times / width + j) * (0.5 + 0.1 * j) * 2 * np.pi * (j + 1) / width for j in range(width)
    ]
    return np.stack(columns, axis=-1)


def random_parameters(depth: int, state_dim: int, n_classes: int, scale: float = 0.5, seed: int = 0):
    """Return random K (N, n, n), b (N, n), W (C, n), c (C,) as float64 tensors."""
    generator = torch.Generator().manual_seed(seed)
    shape = {"K": (depth, state_dim, state_dim), "b": (depth, state_dim), "W": (n_classes, state_dim), "c": (n_classes,)}
    return {name: scale * torch.randn(size, generator=generator, dtype=torch.float64) for name, size in shape.items()}


def fitted_order(depths, errors) -> float:
    """Return minus the least-squares slope of log(error) on log(depth)."""
    slope = np.polyfit(np.log(np.asarray(depths, dtype=float)), np.log(np.asarray(errors, dtype=float)), 1)[0]
    return -slope
