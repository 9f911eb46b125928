"""Activations sigma and losses l of the energies."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["activation_function", "is_odd", "loss_function"]


def activation_function(name: str):
    """Return the activation ``sigma`` called ``name`` as a callable on tensors.

    Raises
    ------
    ValueError
        If ``name`` is not one of "tanh", "relu", "identity".
    """
    if name == "tanh":
        return torch.tanh
    if name == "relu":
        return torch.relu
    if name == "identity":
        return _identity
    raise ValueError(f"unknown activation {name!r}; choose one of ['tanh', 'relu', 'identity']")


def is_odd(name: str) -> bool:
    """Whether sigma(-x) = -sigma(x), so that sign flips of padded coordinates are symmetries."""
    return name in ("tanh", "identity")


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def loss_function(name: str):
    """Return the mean loss ``(1/S) sum_s l(logits_s, y_s)`` called ``name``.

    "cross_entropy" is the softmax cross-entropy; "squared" is ``|logits_s - e_{y_s}|^2``
    with ``e_y`` the one-hot vector of class y, summed over classes.

    Raises
    ------
    ValueError
        If ``name`` is not one of "cross_entropy", "squared".
    """
    if name == "cross_entropy":
        return F.cross_entropy
    if name == "squared":
        return _squared_loss
    raise ValueError(f"unknown loss {name!r}; choose one of ['cross_entropy', 'squared']")


def _squared_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    one_hot = F.one_hot(labels, num_classes=logits.shape[-1]).to(logits.dtype)
    return ((logits - one_hot) ** 2).sum(dim=-1).mean()
