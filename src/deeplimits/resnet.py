"""The discrete ResNet of depth N and its regularised training energy E_N.

The network maps an input x (zero-padded to the state dimension n) by

    X_0 = x,   X_{k+1} = X_k + h * sigma(K_k X_k + b_k),   k = 0..N-1,   h = 1/N,

which is the explicit Euler method for ``dX/dt = sigma(K(t) X + b(t))`` on [0, 1] with
``theta(t_k) = (K_k, b_k)`` at ``t_k = k/N``. The classifier ``g(X) = W X + c`` maps the
final state to class scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .functions import activation_function, loss_function
from .regularisers import (
    classifier_penalty,
    derivative_penalty,
    magnitude_penalty,
    stack_parameters,
)
from .settings import EnergySettings

__all__ = ["DiscreteParameters", "EnergyTerms", "forward", "classify", "discrete_energy", "layer_times"]


@dataclass
class DiscreteParameters:
    """Parameters of a depth-N ResNet with its classifier.

    Attributes
    ----------
    K : Tensor, shape (N, n, n)
    b : Tensor, shape (N, n)
    W : Tensor, shape (C, n)
    c : Tensor, shape (C,)
    """

    K: torch.Tensor
    b: torch.Tensor
    W: torch.Tensor
    c: torch.Tensor

    @property
    def depth(self) -> int:
        return self.K.shape[0]

    @property
    def theta(self) -> torch.Tensor:
        """Layer parameters flattened to shape (N, n*n + n)."""
        return stack_parameters(self.K, self.b)


@dataclass
class EnergyTerms:
    """The terms of an energy, each already multiplied by its weight, and their sum."""

    data: torch.Tensor
    derivative: torch.Tensor
    magnitude: torch.Tensor
    classifier: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.data + self.derivative + self.magnitude + self.classifier

    def to_floats(self) -> dict[str, float]:
        """Return the terms and the total as Python floats, keyed by name."""
        values = {
            "data": self.data,
            "derivative": self.derivative,
            "magnitude": self.magnitude,
            "classifier": self.classifier,
            "total": self.total,
        }
        return {name: float(value.detach()) for name, value in values.items()}


def layer_times(depth: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Return the layer times ``t_k = k/N``, k = 0..N-1, computed in float64 as k/N exactly rounded."""
    return torch.arange(depth, dtype=dtype, device=device) / depth


def forward(
    K: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    activation: str = "tanh",
    return_states: bool = False,
) -> torch.Tensor:
    """Propagate inputs through the ResNet ``X_{k+1} = X_k + (1/N) sigma(K_k X_k + b_k)``.

    Parameters
    ----------
    K : Tensor, shape (N, n, n)
    b : Tensor, shape (N, n)
    x : Tensor, shape (S, n)
        Inputs, already padded to the state dimension n.
    activation : str, default "tanh"
        Name of sigma.
    return_states : bool, default False
        If true, return every state X_0..X_N.

    Returns
    -------
    Tensor
        X_N of shape (S, n), or all states of shape (N + 1, S, n).
    """
    sigma = activation_function(activation)
    depth = K.shape[0]
    step = 1.0 / depth

    state = x
    states = [x]
    for k in range(depth):
        # Rows of ``state`` are samples, so K_k X_k is ``state @ K_k^T``.
        state = state + step * sigma(state @ K[k].T + b[k])
        if return_states:
            states.append(state)

    return torch.stack(states) if return_states else state


def classify(state: torch.Tensor, W: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Return the class scores ``W X + c`` of final states of shape (S, n), shape (S, C)."""
    return state @ W.T + c


def discrete_energy(
    params: DiscreteParameters,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: EnergySettings,
) -> EnergyTerms:
    """Evaluate the discrete energy E_N and its terms.

    ``E_N = (1/S) sum_s l(g(X_N^s), y_s) + alpha N^q sum_{k=0}^{N-2} |theta_{k+1} - theta_k|^p
    + beta (1/N) sum_{k=0}^{N-1} |theta_k|^p + gamma (|W|^2 + |c|^2)``.

    Parameters
    ----------
    params : DiscreteParameters
    x : Tensor, shape (S, n)
        Padded inputs.
    y : Tensor, shape (S,), int64
        Labels in 0..C-1.
    settings : EnergySettings

    Returns
    -------
    EnergyTerms
        Each term weighted; ``total`` is E_N. For ``q = p - 1`` and parameters sampled from
        a smooth theta, E_N differs from the continuum energy E_inf(theta) by O(1/N).
    """
    final = forward(params.K, params.b, x, settings.activation)
    data = loss_function(settings.loss)(classify(final, params.W, params.c), y)

    theta = params.theta
    return EnergyTerms(
        data=data,
        derivative=settings.alpha * derivative_penalty(theta, settings.p, settings.q),
        magnitude=settings.beta * magnitude_penalty(theta, settings.p),
        classifier=settings.gamma * classifier_penalty(params.W, params.c),
    )
