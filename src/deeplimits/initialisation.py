"""Seeded starting points shared by every depth and by the continuum problem.

The default start is one smooth random function of t per restart,

    theta(t) = scale * sum_{j=0}^{J-1} a_j cos(pi j t) / (1 + j),   a_j ~ N(0, I),

sampled at the layer times t_k of each depth and projected onto the continuum basis, with a
random classifier (W, c). Because the function does not depend on the depth, every depth
and the continuum problem start from the same point of function space, which is what makes
their minimisers comparable branch by branch. The alternative "iid" start draws every
layer independently and is used to show that, without a derivative penalty, rough starts
stay rough.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["INITIALISATIONS", "InitialisationSettings", "InitialFunction"]

INITIALISATIONS = ("smooth", "iid")


@dataclass(frozen=True)
class InitialisationSettings:
    """How starting parameters are drawn.

    Parameters
    ----------
    kind : {"smooth", "iid"}, default "smooth"
    scale : float, default 0.5
        Standard deviation of each parameter entry (of the lowest mode for "smooth").
    modes : int, default 3
        Number J of cosine modes of the smooth start.
    seed : int, default 0
        Base seed; restart r uses the seed sequence (seed, r).
    """

    kind: str = "smooth"
    scale: float = 0.5
    modes: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in INITIALISATIONS:
            raise ValueError(f"unknown initialisation {self.kind!r}; choose one of {list(INITIALISATIONS)}")
        if not (np.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"initial scale must be a finite number > 0, got {self.scale!r}")
        if isinstance(self.modes, bool) or not isinstance(self.modes, int) or self.modes < 1:
            raise ValueError(f"modes must be an integer >= 1, got {self.modes!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class InitialFunction:
    """The starting point of one restart: a function theta(t) of shape (m,) and (W, c).

    Parameters
    ----------
    settings : InitialisationSettings
    restart : int
        Restart index r; restarts differ in their random coefficients.
    state_dim : int
        State dimension n, so m = n*n + n.
    n_classes : int
        Number C of rows of W.
    """

    def __init__(self, settings: InitialisationSettings, restart: int, state_dim: int, n_classes: int) -> None:
        self.settings = settings
        self.restart = restart
        self.state_dim = state_dim
        self.width = state_dim * state_dim + state_dim

        rng = np.random.default_rng([settings.seed, restart])
        self.mode_coefficients = settings.scale * rng.standard_normal((settings.modes, self.width))
        self.W = rng.standard_normal((n_classes, state_dim)) / np.sqrt(state_dim)
        self.c = np.zeros(n_classes)

    def theta(self, times: np.ndarray) -> np.ndarray:
        """Evaluate the smooth start at ``times`` (shape (T,)); returns shape (T, m)."""
        times = np.asarray(times, dtype=np.float64)
        frequencies = np.arange(self.settings.modes)
        basis = np.cos(np.pi * np.outer(times, frequencies)) / (1 + frequencies)
        return basis @ self.mode_coefficients

    def layers(self, depth: int) -> np.ndarray:
        """Return the starting parameters of a depth-N network, shape (N, m).

        "smooth" samples theta at t_k = k/N; "iid" draws each layer independently, from a
        generator seeded by (seed, restart, N) so that depths differ but reruns do not.
        """
        if self.settings.kind == "smooth":
            return self.theta(np.arange(depth) / depth)

        rng = np.random.default_rng([self.settings.seed, self.restart, depth])
        return self.settings.scale * rng.standard_normal((depth, self.width))
