"""Minimisation of the discrete energy E_N from one start, with checkpoints.

The unknowns are the layer parameters in preconditioned coordinates ``phi = L^T theta``
(see :mod:`deeplimits.metric`) followed by the classifier (W, c) in its own coordinates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .artifacts import UnreadableArtifactError, read_npz, write_npz
from .metric import SobolevMetric, metric_weights
from .optimise import LBFGSState, OptimisationResult, minimise, start
from .regularisers import split_parameters
from .resnet import DiscreteParameters, EnergyTerms, classify, discrete_energy, forward
from .settings import EnergySettings

logger = logging.getLogger(__name__)

__all__ = ["OptimiserSettings", "DiscreteProblem", "TrainingResult", "minimise_with_checkpoints", "accuracy", "train", "run_fingerprint"]


@dataclass(frozen=True)
class OptimiserSettings:
    """Stopping rule and preconditioner of L-BFGS.

    Parameters
    ----------
    tolerance : float, default 1e-6
        Stop when the gradient's norm in the dual of the Sobolev metric is at most this.
        About 1e-7 is the smallest that float64 reaches reliably.
    max_iter : int, default 3000
        Iteration cap; a run that hits it is reported as not converged.
    history_size : int, default 20
        Curvature pairs kept by L-BFGS.
    alpha_floor : float, default 0.0
        Lower bound on the derivative weight of the metric (not of the energy); see
        :func:`deeplimits.metric.metric_weights`.
    initial_step : float, default 1.0
        Length of the first, steepest-descent step in preconditioned coordinates.
    """

    tolerance: float = 1e-6
    max_iter: int = 3000
    history_size: int = 20
    alpha_floor: float = 0.0
    initial_step: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tolerance) and self.tolerance > 0):
            raise ValueError(f"tolerance must be a finite number > 0, got {self.tolerance!r}")
        for name in ("max_iter", "history_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not (math.isfinite(self.alpha_floor) and self.alpha_floor >= 0):
            raise ValueError(f"alpha_floor must be a finite number >= 0, got {self.alpha_floor!r}")
        if not (math.isfinite(self.initial_step) and self.initial_step > 0):
            raise ValueError(f"initial_step must be a finite number > 0, got {self.initial_step!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def trajectory_settings(self) -> dict:
        """Return the settings that change the iterates, to identify checkpoints.

        ``tolerance`` and ``max_iter`` only decide where the iteration stops, so a run may
        resume from a checkpoint with a tighter tolerance or a higher cap.
        """
        return {"history_size": self.history_size, "alpha_floor": self.alpha_floor, "initial_step": self.initial_step}


class DiscreteProblem:
    """The energy E_N of one data set at one depth, as a function of a flat unknown vector.

    Parameters
    ----------
    x : Tensor, shape (S, n)
        Padded training inputs, float64.
    y : Tensor, shape (S,), int64
    n_classes : int
    settings : EnergySettings
    depth : int
        Number of layers N >= 1.
    optimiser : OptimiserSettings
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        n_classes: int,
        settings: EnergySettings,
        depth: int,
        optimiser: OptimiserSettings,
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
        self.x, self.y = x, y
        self.n_classes = n_classes
        self.settings = settings
        self.depth = depth
        mass, stiffness = metric_weights(settings.alpha, settings.beta, settings.q, depth, optimiser.alpha_floor)
        self.metric = SobolevMetric.discrete(depth, mass, stiffness, dtype=x.dtype, device=x.device)

        n = settings.state_dim
        self.width = n * n + n
        self.layer_size = depth * self.width

    def pack(self, params: DiscreteParameters) -> torch.Tensor:
        """Return the flat unknown vector ``(phi, W, c)`` of ``params``."""
        phi = self.metric.coordinates_from(params.theta)
        return torch.cat([phi.flatten(), params.W.flatten(), params.c]).detach()

    def unpack(self, unknowns: torch.Tensor) -> DiscreteParameters:
        """Return the parameters of a flat unknown vector; differentiable."""
        phi = unknowns[: self.layer_size].reshape(self.depth, self.width)
        K, b = split_parameters(self.metric.parameters_from(phi), self.settings.state_dim)
        classifier = unknowns[self.layer_size :]
        W = classifier[: self.n_classes * self.settings.state_dim].reshape(self.n_classes, self.settings.state_dim)
        c = classifier[self.n_classes * self.settings.state_dim :]
        return DiscreteParameters(K, b, W, c)

    def energy(self, params: DiscreteParameters) -> EnergyTerms:
        return discrete_energy(params, self.x, self.y, self.settings)

    def objective(self, unknowns: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Return E_N and its gradient with respect to the flat unknowns."""
        unknowns = unknowns.detach().requires_grad_(True)
        total = self.energy(self.unpack(unknowns)).total
        (gradient,) = torch.autograd.grad(total, unknowns)
        return float(total.detach()), gradient

    def fingerprint(self, extra: dict) -> str:
        """Return a hash of the data, the settings, the depth and ``extra``, to match checkpoints to runs."""
        return run_fingerprint(self.x, self.y, {"settings": self.settings.to_dict(), "depth": self.depth, **extra})


def run_fingerprint(x: torch.Tensor, y: torch.Tensor, payload: dict) -> str:
    """Return a SHA-256 hex digest of the training data and a JSON-encodable ``payload``."""
    digest = hashlib.sha256()
    digest.update(x.detach().cpu().numpy().tobytes())
    digest.update(y.detach().cpu().numpy().tobytes())
    digest.update(json.dumps(payload, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass
class TrainingResult:
    """A minimiser of one problem from one start, with how it was reached."""

    params: DiscreteParameters
    terms: EnergyTerms
    optimisation: OptimisationResult
    wall_time: float
    resumed_from_iteration: int


def accuracy(params: DiscreteParameters, x: torch.Tensor, y: torch.Tensor, activation: str) -> float:
    """Return the fraction of samples whose highest class score is their label."""
    with torch.no_grad():
        scores = classify(forward(params.K, params.b, x, activation), params.W, params.c)
    return float((scores.argmax(dim=1) == y).double().mean())


def minimise_with_checkpoints(
    objective,
    initial: torch.Tensor,
    optimiser: OptimiserSettings,
    fingerprint: str,
    checkpoint: Path | None = None,
    checkpoint_seconds: float = 30.0,
    checkpoint_iterations: int | None = None,
    description: str = "L-BFGS",
    progress: bool = True,
) -> tuple[OptimisationResult, int]:
    """Run :func:`deeplimits.optimise.minimise`, saving the L-BFGS state as it goes.

    A checkpoint is written every ``checkpoint_seconds`` seconds, or every
    ``checkpoint_iterations`` iterations when that is given, and once more at the end. A
    checkpoint whose fingerprint matches is resumed; one that does not is ignored with a
    warning, because it belongs to other data or settings.

    Returns
    -------
    result : OptimisationResult
    resumed_from : int
        The iteration the run resumed from, 0 for a fresh start.
    """
    state = _load_checkpoint(checkpoint, fingerprint, initial.device) if checkpoint else None
    resumed_from = state.iteration if state is not None else 0
    if state is None:
        state = start(objective, initial)

    last_save = time.monotonic()
    bar = tqdm(total=optimiser.max_iter, initial=state.iteration, desc=description, disable=not progress, leave=False)

    def after_iteration(current: LBFGSState) -> None:
        nonlocal last_save
        bar.update(1)
        bar.set_postfix(energy=f"{current.value:.8g}", grad=f"{current.gradient_norm:.2e}", refresh=False)
        due = (
            current.iteration % checkpoint_iterations == 0
            if checkpoint_iterations
            else time.monotonic() - last_save >= checkpoint_seconds
        )
        if checkpoint and due:
            _save_checkpoint(checkpoint, current, fingerprint)
            last_save = time.monotonic()

    try:
        result = minimise(
            objective,
            state,
            tolerance=optimiser.tolerance,
            max_iter=optimiser.max_iter,
            history_size=optimiser.history_size,
            initial_step=optimiser.initial_step,
            callback=after_iteration,
        )
    finally:
        bar.close()

    if checkpoint:
        _save_checkpoint(checkpoint, result.state, fingerprint)
    return result, resumed_from


def _save_checkpoint(path: Path, state: LBFGSState, fingerprint: str) -> None:
    write_npz(path, {**state.to_arrays(), "fingerprint": np.str_(fingerprint)})
    logger.debug("checkpoint %s at iteration %d", path, state.iteration)


def _load_checkpoint(path: Path, fingerprint: str, device) -> LBFGSState | None:
    if not path.exists():
        return None

    try:
        arrays = read_npz(path)
    except UnreadableArtifactError as error:
        # Checkpoints are written atomically, so this one was damaged afterwards. The run
        # can always start over, which loses time and nothing else.
        logger.warning("ignoring checkpoint %s and starting from the beginning: %s", path, error)
        return None
    if str(arrays.get("fingerprint")) != fingerprint:
        logger.warning("ignoring checkpoint %s: it was written for other data or settings", path)
        return None

    state = LBFGSState.from_arrays(arrays, device=device)
    logger.info("resuming from checkpoint %s at iteration %d", path, state.iteration)
    return state


def train(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    n_classes: int,
    settings: EnergySettings,
    depth: int,
    start_layers: np.ndarray,
    start_W: np.ndarray,
    start_c: np.ndarray,
    optimiser: OptimiserSettings,
    fingerprint_extra: dict,
    checkpoint: Path | None = None,
    checkpoint_seconds: float = 30.0,
    checkpoint_iterations: int | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Minimise E_N at one depth from one start and return the minimiser.

    Parameters
    ----------
    x_train : Tensor, shape (S, n)
        Padded inputs on the device and dtype of the computation.
    y_train : Tensor, shape (S,)
    n_classes : int
    settings : EnergySettings
    depth : int
    start_layers : ndarray, shape (N, n*n + n)
        Starting theta_k, for example :meth:`deeplimits.initialisation.InitialFunction.layers`.
    start_W : ndarray, shape (C, n)
    start_c : ndarray, shape (C,)
    optimiser : OptimiserSettings
    fingerprint_extra : dict
        Whatever else identifies the run (start, restart), hashed into the checkpoint.
    checkpoint : Path, optional
        Where to keep the L-BFGS state; an existing matching checkpoint is resumed.
    checkpoint_seconds, checkpoint_iterations
        How often to write the checkpoint.
    progress : bool, default True
        Show a tqdm progress bar.

    Raises
    ------
    NonFiniteEnergyError
        If the energy becomes NaN or infinite.
    """
    problem = DiscreteProblem(x_train, y_train, n_classes, settings, depth, optimiser)
    as_tensor = lambda value: torch.as_tensor(value, dtype=x_train.dtype, device=x_train.device)
    K, b = split_parameters(as_tensor(start_layers), settings.state_dim)
    initial = problem.pack(DiscreteParameters(K, b, as_tensor(start_W), as_tensor(start_c)))

    started = time.perf_counter()
    result, resumed_from = minimise_with_checkpoints(
        problem.objective,
        initial,
        optimiser,
        problem.fingerprint({"optimiser": optimiser.trajectory_settings(), **fingerprint_extra}),
        checkpoint=checkpoint,
        checkpoint_seconds=checkpoint_seconds,
        checkpoint_iterations=checkpoint_iterations,
        description=f"N={depth}",
        progress=progress,
    )
    wall_time = time.perf_counter() - started

    with torch.no_grad():
        params = problem.unpack(result.x)
        params = DiscreteParameters(*(value.detach().clone() for value in (params.K, params.b, params.W, params.c)))
        terms = problem.energy(params)
    return TrainingResult(params, terms, result, wall_time, resumed_from)
