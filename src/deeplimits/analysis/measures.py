"""Per-model quantities of a study: energies, distances to the limit, regularity, predictions.

Each trained ResNet and each continuum minimiser is read from its ``.npz`` and JSON pair.
Distances between parameter functions are taken after aligning the moving parameters by
the padded-coordinate symmetry that brings them nearest the reference (see
:func:`deeplimits.interpolation.align`): with an odd activation, flipping or permuting the
padded state coordinates maps a minimiser to another of the same energy, so an unaligned
distance would count a symmetric copy as a different minimiser.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..datasets import Dataset
from ..functions import is_odd
from ..interpolation import LegendreFunction, PiecewiseConstant, PiecewiseLinear, align, distances
from ..limit import ContinuumParameters, ContinuumSettings, ode_final_state
from ..records import load_continuum, load_discrete
from ..regularisers import discrete_seminorm, scaled_second_differences
from ..resnet import DiscreteParameters, classify, forward
from ..settings import EnergySettings

logger = logging.getLogger(__name__)

__all__ = [
    "Geometry",
    "TrainedModel",
    "LimitSolution",
    "load_model",
    "load_limit",
    "seminorm",
    "max_second_difference",
    "limit_distances",
    "cauchy_distances",
    "predicted_classes",
    "limit_predicted_classes",
    "disagreement",
]


@dataclass(frozen=True)
class Geometry:
    """What decides the padded-coordinate symmetries: data dimension d, state dimension n, odd sigma."""

    data_dim: int
    state_dim: int
    odd: bool

    @classmethod
    def of(cls, dataset: Dataset, settings: EnergySettings) -> "Geometry":
        """Return the geometry of a data set trained with ``settings``."""
        return cls(dataset.n_features, settings.state_dim, is_odd(settings.activation))


@dataclass
class TrainedModel:
    """A trained depth-N ResNet: theta of shape (N, n*n + n), classifier (W, c), metrics JSON."""

    depth: int
    restart: int
    params: DiscreteParameters
    metrics: dict

    @property
    def theta(self) -> np.ndarray:
        return self.params.theta.numpy()

    @property
    def W(self) -> np.ndarray:
        return self.params.W.numpy()

    @property
    def c(self) -> np.ndarray:
        return self.params.c.numpy()

    @property
    def converged(self) -> bool:
        return bool(self.metrics.get("converged", False))

    @property
    def settings(self) -> EnergySettings:
        return EnergySettings.from_dict(self.metrics["settings"])


@dataclass
class LimitSolution:
    """A continuum minimiser from one start, with its metrics JSON."""

    restart: int
    params: ContinuumParameters
    metrics: dict

    @property
    def function(self) -> LegendreFunction:
        return LegendreFunction(self.params.coefficients.numpy())

    @property
    def W(self) -> np.ndarray:
        return self.params.W.numpy()

    @property
    def c(self) -> np.ndarray:
        return self.params.c.numpy()

    @property
    def energy(self) -> float:
        return float(self.metrics["energy"]["total"])

    @property
    def converged(self) -> bool:
        return bool(self.metrics.get("converged", False))

    @property
    def settings(self) -> EnergySettings:
        return EnergySettings.from_dict(self.metrics["settings"])

    def refinement_estimate(self, key: str) -> float:
        """Return the refinement estimate of ``key`` ("energy", "theta_l2", ...), NaN when not computed.

        For a degree-0 solution (the constant-parameter problem) the variant with the
        degree raised is left out: constant parameters are that problem's definition, not
        a truncation of a basis, so the change to a degree-2 minimiser is no error of it.
        """
        refinement = self.metrics.get("refinement") or {}
        if self.params.degree == 0:
            variants = [values for name, values in refinement.items() if name not in ("degree", "estimate")]
            if variants and all(key in values for values in variants):
                return max(float(values[key]) for values in variants)
        return float(refinement.get("estimate", {}).get(key, math.nan))


def load_model(models_dir: Path, depth: int, restart: int) -> TrainedModel:
    """Read ``models_dir/N{depth}/restart{restart}`` (``.npz`` and ``.json``).

    Raises
    ------
    FileNotFoundError
        If the model is missing; the message names the ``deeplimits train`` run that writes it.
    ValueError
        If the stored depth differs from the folder's.
    """
    stem = Path(models_dir) / f"N{depth}" / f"restart{restart}"
    if not stem.with_suffix(".npz").exists():
        raise FileNotFoundError(
            f"model {stem}.npz not found; train it with `deeplimits train --depth {depth} "
            f"--restarts {restart + 1} --out-dir {stem.parent}`, or pass only the depths and restarts that exist"
        )
    params, metrics = load_discrete(stem)
    params = DiscreteParameters(*(value.to(torch.float64) for value in (params.K, params.b, params.W, params.c)))
    if params.depth != depth:
        raise ValueError(
            f"{stem}.npz contains a depth-{params.depth} model but its folder name is N{depth}; "
            f"move it to N{params.depth} or retrain at depth {depth}"
        )
    return TrainedModel(depth, restart, params, metrics)


def load_limit(limit_dir: Path, restart: int) -> LimitSolution:
    """Read ``limit_dir/restart{restart}`` (``.npz`` and ``.json``).

    Raises
    ------
    FileNotFoundError
        If the solution is missing; the message names the ``deeplimits solve-limit`` run.
    """
    stem = Path(limit_dir) / f"restart{restart}"
    if not stem.with_suffix(".npz").exists():
        raise FileNotFoundError(
            f"continuum solution {stem}.npz not found; solve it with `deeplimits solve-limit --restart {restart} "
            f"--out-dir {stem.parent}`, or omit --limit-dir for a study without a limit"
        )
    params, metrics = load_continuum(stem)
    params = ContinuumParameters(*(value.to(torch.float64) for value in (params.coefficients, params.W, params.c)), params.state_dim)
    return LimitSolution(restart, params, metrics)


def seminorm(model: TrainedModel) -> float:
    """Return the discrete W^{1,p} seminorm ``(N^{p-1} sum_k |theta_{k+1} - theta_k|^p)^{1/p}`` of a model."""
    return float(discrete_seminorm(model.params.theta, model.settings.p))


def max_second_difference(model: TrainedModel) -> float:
    """Return ``max_k N^2 |theta_{k+1} - 2 theta_k + theta_{k-1}|``; NaN for fewer than 3 layers."""
    if model.depth < 3:
        return math.nan
    return float(scaled_second_differences(model.params.theta).max())


def limit_distances(model: TrainedModel, limit: LimitSolution, geometry: Geometry) -> dict[str, float]:
    """Return the aligned distances of a model's parameters to a continuum minimiser.

    The model is aligned by the padded symmetry that minimises ``l2^2 + |W - W_inf|^2`` for
    its piecewise-constant interpolant, and the same symmetry is used for the others.

    Returns
    -------
    dict
        ``l2`` and ``linf``: ``||theta_N - theta_inf||`` in L^2(0,1) and L^inf(0,1) with the
        piecewise-constant interpolant theta_N; ``l2_linear``: L^2 with the piecewise-linear
        interpolant; ``classifier``: Frobenius norm of ``(W_N - W_inf, c_N - c_inf)``.
    """
    theta, W, measured = align(
        model.theta, model.W, PiecewiseConstant, limit.function, limit.W,
        geometry.data_dim, geometry.state_dim, geometry.odd,
    )
    linear = distances(PiecewiseLinear(theta), limit.function)
    classifier = math.sqrt(float(np.sum((W - limit.W) ** 2) + np.sum((model.c - limit.c) ** 2)))
    return {"l2": measured["l2"], "linf": measured["linf"], "l2_linear": linear["l2"], "classifier": classifier}


def cauchy_distances(model: TrainedModel, deeper: TrainedModel, geometry: Geometry) -> dict[str, float]:
    """Return the aligned L^2 and L^inf distances between the piecewise-constant interpolants of two depths.

    ``deeper`` (normally the same restart at depth 2N) is aligned onto ``model``.
    """
    _, _, measured = align(
        deeper.theta, deeper.W, PiecewiseConstant, PiecewiseConstant(model.theta), model.W,
        geometry.data_dim, geometry.state_dim, geometry.odd,
    )
    return {"l2": measured["l2"], "linf": measured["linf"]}


def predicted_classes(model: TrainedModel, x: torch.Tensor) -> np.ndarray:
    """Return the class of highest score of the ResNet for padded inputs ``x`` of shape (S, n)."""
    with torch.no_grad():
        state = forward(model.params.K, model.params.b, x, model.settings.activation)
        scores = classify(state, model.params.W, model.params.c)
    return scores.argmax(dim=1).numpy()


def limit_predicted_classes(limit: LimitSolution, x: torch.Tensor) -> np.ndarray:
    """Return the class of highest score of the limit classifier ``W X(1) + c`` for inputs ``x``.

    X(1) is integrated by the adaptive solver at the tolerances the solution was computed
    with (its ``continuum`` settings), so the classes are those of the solution of record.
    """
    continuum = ContinuumSettings(**limit.metrics.get("continuum", {}))
    with torch.no_grad():
        state = ode_final_state(limit.params, x, limit.settings.activation, continuum, adaptive=True)
        scores = classify(state, limit.params.W, limit.params.c)
    return scores.argmax(dim=1).numpy()


def disagreement(classes: np.ndarray, reference: np.ndarray) -> float:
    """Return the fraction of points whose predicted classes differ."""
    if classes.shape != reference.shape:
        raise ValueError(f"cannot compare predictions of shapes {classes.shape} and {reference.shape}")
    return float(np.mean(classes != reference)) if classes.size else math.nan
