"""Parameter penalties of the discrete energy E_N and their discrete Sobolev quantities.

The parameters of layer k are ``theta_k = (K_k, b_k)``, flattened to a row of length
``m = n*n + n``, and ``|.|`` is the Frobenius norm of that row. With step ``h = 1/N``:

    derivative penalty   N^q * sum_{k=0}^{N-2} |theta_{k+1} - theta_k|^p
    magnitude penalty    (1/N) * sum_{k=0}^{N-1} |theta_k|^p
    classifier penalty   |W|^2 + |c|^2

For ``q = p - 1`` and ``theta_k = theta(t_k)`` with a smooth theta, the first two are
Riemann sums of ``int_0^1 |theta'|^p dt`` and ``int_0^1 |theta|^p dt``, each with error O(1/N).
"""

from __future__ import annotations

import torch

__all__ = [
    "stack_parameters",
    "split_parameters",
    "powered_norm",
    "derivative_penalty",
    "magnitude_penalty",
    "classifier_penalty",
    "discrete_seminorm",
    "scaled_second_differences",
]


def stack_parameters(K: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Flatten ``K`` of shape (..., n, n) and ``b`` of shape (..., n) into theta of shape (..., n*n + n)."""
    return torch.cat([K.flatten(start_dim=-2), b], dim=-1)


def split_parameters(theta: torch.Tensor, state_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Invert :func:`stack_parameters`: return K (..., n, n) and b (..., n)."""
    n = state_dim
    K = theta[..., : n * n].reshape(*theta.shape[:-1], n, n)
    b = theta[..., n * n :]
    return K, b


def powered_norm(x: torch.Tensor, p: float) -> torch.Tensor:
    """Return ``|x|^p`` row by row, with |.| the Euclidean norm over the last dimension.

    For p < 2 the gradient of ``|x|^p`` is ``p |x|^(p-2) x``, which tends to 0 at x = 0 but
    evaluates to NaN there in floating point; the double ``where`` returns 0 instead.
    """
    squared = (x**2).sum(dim=-1)
    if p == 2:
        return squared

    positive = squared > 0
    safe = torch.where(positive, squared, torch.ones_like(squared))
    return torch.where(positive, safe ** (p / 2), torch.zeros_like(squared))


def derivative_penalty(theta: torch.Tensor, p: float, q: float) -> torch.Tensor:
    """Return ``N^q * sum_{k=0}^{N-2} |theta_{k+1} - theta_k|^p`` for theta of shape (N, m).

    With ``q = p - 1`` this is ``h * sum_k |(theta_{k+1} - theta_k) / h|^p``, the Riemann sum of
    ``int_0^1 |theta'(t)|^p dt``. A depth of 1 has no differences and gives 0.
    """
    depth = theta.shape[0]
    differences = theta[1:] - theta[:-1]
    return depth**q * powered_norm(differences, p).sum()


def magnitude_penalty(theta: torch.Tensor, p: float) -> torch.Tensor:
    """Return ``(1/N) * sum_{k=0}^{N-1} |theta_k|^p``, the left Riemann sum of ``int_0^1 |theta|^p dt``."""
    return powered_norm(theta, p).mean()


def classifier_penalty(W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Return ``|W|^2 + |c|^2`` (Frobenius and Euclidean norms)."""
    return (W**2).sum() + (c**2).sum()


def discrete_seminorm(theta: torch.Tensor, p: float) -> torch.Tensor:
    """Return the discrete W^{1,p} seminorm ``(N^{p-1} sum_k |theta_{k+1} - theta_k|^p)^{1/p}``.

    It equals the W^{1,p}(0,1) seminorm of the piecewise-linear interpolant through
    ``(t_k, theta_k)`` and stays bounded in N exactly when the energies do (compactness).
    """
    return derivative_penalty(theta, p, p - 1) ** (1 / p)


def scaled_second_differences(theta: torch.Tensor) -> torch.Tensor:
    """Return ``N^2 |theta_{k+1} - 2 theta_k + theta_{k-1}|`` for k = 1..N-2, shape (N-2,).

    For samples of a C^2 function this tends to ``|theta''(t_k)|``; a bounded maximum over k
    as N grows is the discrete sign of regular minimisers.
    """
    depth = theta.shape[0]
    second = theta[2:] - 2 * theta[1:-1] + theta[:-2]
    return depth**2 * torch.linalg.vector_norm(second, dim=-1)
