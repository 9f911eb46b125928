"""Settings of the regularised training energy, shared by the discrete and continuum problems."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ACTIVATIONS", "LOSSES", "EnergySettings"]

ACTIVATIONS = ("tanh", "relu", "identity")
LOSSES = ("cross_entropy", "squared")


@dataclass(frozen=True)
class EnergySettings:
    """Coefficients and choices that define the energies E_N and E_inf.

    Parameters
    ----------
    alpha : float, default 1e-2
        Weight of the derivative penalty ``alpha * N^q * sum_k |theta_{k+1} - theta_k|^p``.
    beta : float, default 1e-3
        Weight of the magnitude penalty ``beta * (1/N) * sum_k |theta_k|^p``. Must be
        positive: it makes the energy coercive when ``alpha = 0``.
    gamma : float, default 1e-3
        Weight of the classifier penalty ``gamma * (|W|^2 + |c|^2)``.
    p : float, default 2.0
        Exponent of both parameter penalties, in (1, inf).
    q : float, default 1.0
        Power of N in front of the derivative penalty; ``q = p - 1`` gives the ODE limit.
    activation : {"tanh", "relu", "identity"}, default "tanh"
        The activation sigma; all three are Lipschitz with sigma(0) = 0.
    loss : {"cross_entropy", "squared"}, default "cross_entropy"
        Softmax cross-entropy, or squared loss against one-hot labels.
    state_dim : int, default 2
        Dimension n of the state X; inputs of dimension d <= n are padded with zeros.

    Raises
    ------
    ValueError
        If a value is outside the range given above.
    """

    alpha: float = 1e-2
    beta: float = 1e-3
    gamma: float = 1e-3
    p: float = 2.0
    q: float = 1.0
    activation: str = "tanh"
    loss: str = "cross_entropy"
    state_dim: int = 2

    def __post_init__(self) -> None:
        for name in ("alpha", "gamma"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise ValueError(
                f"beta must be a finite number > 0, got {self.beta!r}: the magnitude penalty "
                "keeps the energy coercive, so set beta to a small positive value such as 1e-3"
            )
        if not (math.isfinite(self.p) and self.p > 1):
            raise ValueError(f"p must be a finite number > 1, got {self.p!r}")
        if not (math.isfinite(self.q) and self.q >= 0):
            raise ValueError(f"q must be a finite number >= 0, got {self.q!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {list(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {list(LOSSES)}")
        if isinstance(self.state_dim, bool) or not isinstance(self.state_dim, int) or self.state_dim < 1:
            raise ValueError(f"state_dim must be an integer >= 1, got {self.state_dim!r}")

    @property
    def has_ode_limit(self) -> bool:
        """Whether ``q = p - 1`` and ``alpha > 0``, the setting whose Gamma-limit is the ODE problem."""
        return self.alpha > 0 and math.isclose(self.q, self.p - 1)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a plain dictionary, as stored in metrics files."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "EnergySettings":
        """Build settings from a dictionary, rejecting unknown keys by name."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown energy settings {unknown}; valid keys are {sorted(known)}")
        return cls(**values)
