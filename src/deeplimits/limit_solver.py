"""Minimisation of the continuum energy E_inf and the refinement estimate of its error."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .interpolation import LegendreFunction, distances
from .legendre import project
from .limit import ContinuumParameters, ContinuumProblem, ContinuumSettings
from .optimise import OptimisationResult
from .resnet import EnergyTerms
from .settings import EnergySettings
from .training import OptimiserSettings, minimise_with_checkpoints, run_fingerprint

logger = logging.getLogger(__name__)

__all__ = ["ContinuumResult", "solve_continuum", "refinement_errors"]


@dataclass
class ContinuumResult:
    """A continuum minimiser from one start.

    ``terms`` is the energy of record (adaptive solver); ``terms_rk4`` the energy that the
    optimiser minimised (fixed-grid RK4).
    """

    params: ContinuumParameters
    terms: EnergyTerms
    terms_rk4: EnergyTerms
    optimisation: OptimisationResult
    wall_time: float
    resumed_from_iteration: int


def solve_continuum(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    n_classes: int,
    settings: EnergySettings,
    continuum: ContinuumSettings,
    optimiser: OptimiserSettings,
    start: ContinuumParameters | tuple,
    fingerprint_extra: dict,
    checkpoint: Path | None = None,
    checkpoint_seconds: float = 30.0,
    progress: bool = True,
) -> ContinuumResult:
    """Minimise E_inf in the Legendre basis of ``continuum.degree`` from one start.

    Parameters
    ----------
    start : ContinuumParameters or (callable, W, c)
        Starting parameters, or a function of t (as
        :meth:`deeplimits.initialisation.InitialFunction.theta`) with a classifier; the
        function is projected onto the basis in L^2(0,1).

    Other parameters are as in :func:`deeplimits.training.train`.
    """
    problem = ContinuumProblem(x_train, y_train, n_classes, settings, continuum, optimiser.alpha_floor)
    if not isinstance(start, ContinuumParameters):
        function, W, c = start
        as_tensor = lambda value: torch.as_tensor(value, dtype=x_train.dtype, device=x_train.device)
        start = ContinuumParameters(as_tensor(project(function, continuum.degree)), as_tensor(W), as_tensor(c), settings.state_dim)

    started = time.perf_counter()
    digest_extra = {"optimiser": optimiser.trajectory_settings(), "continuum": continuum.to_dict(), **fingerprint_extra}
    result, resumed_from = minimise_with_checkpoints(
        problem.objective,
        problem.pack(start),
        optimiser,
        run_fingerprint(x_train, y_train, {"settings": settings.to_dict(), **digest_extra}),
        checkpoint=checkpoint,
        checkpoint_seconds=checkpoint_seconds,
        description=f"limit D={continuum.degree}",
        progress=progress,
    )

    with torch.no_grad():
        params = problem.unpack(result.x)
        params = replace(params, coefficients=params.coefficients.detach().clone())
        terms_rk4 = problem.energy(params)
        terms = problem.energy(params, adaptive=True)
    wall_time = time.perf_counter() - started

    logger.info(
        "continuum degree %d: E_inf = %.12g (RK4 %.12g), gradient norm %.2e after %d iterations",
        continuum.degree,
        float(terms.total),
        float(terms_rk4.total),
        result.gradient_norm,
        result.iterations,
    )
    return ContinuumResult(params, terms, terms_rk4, result, wall_time, resumed_from)


def refinement_errors(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    n_classes: int,
    settings: EnergySettings,
    continuum: ContinuumSettings,
    optimiser: OptimiserSettings,
    solution: ContinuumResult,
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    """Estimate the error of E_inf and theta_inf by re-solving on refined discretisations.

    Three variants start from ``solution`` and are minimised again: the basis degree
    raised by 2 (skipped for degree 0, the constant-parameter problem), the RK4 step halved, and the gradient tolerance divided by 10 with the
    adaptive tolerances divided by 100. Each reports ``energy`` (absolute change of the
    energy of record), ``theta_l2`` and ``theta_linf`` (distance of theta) and
    ``classifier`` (Frobenius distance of (W, c)). ``estimate`` is the maximum over the
    variants of each quantity: an estimate, not a bound.
    """
    variants = {
        "degree": (replace(continuum, degree=continuum.degree + 2), optimiser),
        "step": (replace(continuum, steps=2 * continuum.steps), optimiser),
        "tolerance": (
            replace(continuum, rtol=continuum.rtol / 100, atol=continuum.atol / 100),
            replace(optimiser, tolerance=optimiser.tolerance / 10),
        ),
    }

    if continuum.degree == 0:
        # Degree 0 is the constant-parameter problem itself, not a truncation of the ODE
        # problem: raising the degree would solve a different problem.
        del variants["degree"]

    reference = solution.params
    errors = {}
    for name, (refined, refined_optimiser) in variants.items():
        start = reference.elevated(refined.degree)
        variant = solve_continuum(
            x_train, y_train, n_classes, settings, refined, refined_optimiser, start, {"variant": name}, progress=progress
        )
        theta_distance = distances(
            LegendreFunction(variant.params.coefficients.cpu().numpy()),
            LegendreFunction(start.coefficients.cpu().numpy()),
        )
        classifier = torch.cat([(variant.params.W - reference.W).flatten(), variant.params.c - reference.c])
        errors[name] = {
            "energy": abs(float(variant.terms.total) - float(solution.terms.total)),
            "theta_l2": theta_distance["l2"],
            "theta_linf": theta_distance["linf"],
            "classifier": float(torch.linalg.vector_norm(classifier)),
            "converged": variant.optimisation.converged,
        }
        logger.info("refinement by %s: |dE| = %.2e, theta L2 change %.2e", name, errors[name]["energy"], errors[name]["theta_l2"])

    keys = ("energy", "theta_l2", "theta_linf", "classifier")
    errors["estimate"] = {key: max(errors[name][key] for name in variants) for key in keys}
    return errors
