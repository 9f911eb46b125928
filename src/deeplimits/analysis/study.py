"""Analysis of one study on one data set: a table of models, the branches and the rates.

The analysis reads every trained model and continuum solution and groups the continuum
minimisers into branches. It then measures each model against its branch, against its
deeper twin (the same restart at depth 2N) and by itself. Last, it fits observed orders
per branch, for the lowest energy over all branches, and per restart.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..datasets import Dataset
from ..settings import EnergySettings
from .branches import Branch, group_branches, nearest_branch
from .measures import (
    Geometry,
    LimitSolution,
    TrainedModel,
    cauchy_distances,
    disagreement,
    limit_predicted_classes,
    load_limit,
    load_model,
    max_second_difference,
    predicted_classes,
    seminorm,
)
from .rates import fit_order

logger = logging.getLogger(__name__)

__all__ = [
    "MODEL_COLUMNS",
    "BRANCH_COLUMNS",
    "RESOLUTION_FACTOR",
    "BRANCH_QUANTITIES",
    "REGULARITY_QUANTITIES",
    "StudyAnalysis",
    "analyse_study",
    "branch_row",
    "rates_document",
]

MODEL_COLUMNS = (
    "dataset", "study", "depth", "restart",
    "energy", "energy_data", "energy_derivative", "energy_magnitude", "energy_classifier",
    "gradient_norm", "iterations", "converged", "wall_time",
    "train_accuracy", "test_accuracy",
    "branch", "limit_energy", "energy_gap",
    "l2_distance", "linf_distance", "l2_distance_linear", "classifier_distance",
    "cauchy_l2", "cauchy_linf",
    "seminorm", "max_second_difference", "disagreement",
)

BRANCH_COLUMNS = (
    "branch", "restarts", "limit_energy", "energy_error_estimate", "theta_error_estimate",
    "lowest", "members",
    "classifier_error_estimate", "converged", "train_accuracy", "test_accuracy",
)

# A difference is compared with the limit only when the limit's refinement error estimate
# is below a tenth of it, because the reference's own error dominates smaller differences.
RESOLUTION_FACTOR = 10.0

# Quantities fitted against the limit, with the refinement estimate that resolves each.
BRANCH_QUANTITIES = {
    "energy_gap": "energy_error_estimate",
    "l2_distance": "theta_error_estimate",
    "linf_distance": "theta_error_estimate",
    "l2_distance_linear": "theta_error_estimate",
    "classifier_distance": "classifier_error_estimate",
}
# Quantities that need no limit.
REGULARITY_QUANTITIES = ("cauchy_l2", "seminorm", "max_second_difference")

_ENERGY_SETTINGS_OF_CONSTANT_LIMIT = ("beta", "gamma", "p", "activation", "loss", "state_dim")


@dataclass
class StudyAnalysis:
    """Output of ``deeplimits analyse``: model rows, branch rows and the rates document."""

    rows: list[dict]
    branch_rows: list[dict]
    rates: dict


def analyse_study(
    dataset: Dataset,
    models_dir: Path,
    depths: list[int],
    restarts: int,
    study: str,
    limit_dir: Path | None = None,
    fit_min_depth: int = 16,
    progress: bool = True,
) -> StudyAnalysis:
    """Measure every model of a study and fit the observed orders.

    Parameters
    ----------
    dataset : Dataset
        The data set the models were trained on (for the test predictions).
    models_dir : Path
        Folder with ``N{depth}/restart{r}.npz`` and ``.json`` for every depth and restart.
    depths : list of int
        Depths to analyse; Cauchy differences pair N with 2N when both are listed.
    restarts : int
        Restarts 0..R-1 to analyse.
    study : str
        Study name, copied into the rows.
    limit_dir : Path, optional
        Folder with ``restart{r}.npz`` and ``.json`` of the continuum minimisers; None for
        a study without a limit, whose limit columns stay empty.
    fit_min_depth : int, default 16
        Smallest depth of the asymptotic range of the fits.
    progress : bool, default True
        Show a progress bar over the models.

    Raises
    ------
    ValueError
        If arguments are out of range, or models and limits were computed with different
        energy settings.
    FileNotFoundError
        If a model or continuum solution is missing.
    """
    depths = _checked_depths(depths)
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    if fit_min_depth < 1:
        raise ValueError(f"fit_min_depth must be >= 1, got {fit_min_depth}")

    models = {(depth, restart): load_model(models_dir, depth, restart) for depth in depths for restart in range(restarts)}
    without_twin = sorted(_without_twin(depths))[:-1]
    if without_twin:
        logger.warning("depths %s have no depth 2N among %s, so their Cauchy differences stay empty", without_twin, depths)
    settings = _shared_settings(models)
    if settings.state_dim < dataset.n_features:
        raise ValueError(
            f"the models in {models_dir} have state dimension {settings.state_dim}, fewer than the "
            f"{dataset.n_features} features of data set {dataset.name!r}; pass the --data file they were trained on"
        )
    geometry = Geometry.of(dataset, settings)
    x_test = torch.as_tensor(dataset.padded(settings.state_dim).x_test, dtype=torch.float64)

    branches: list[Branch] = []
    limit_classes: list[np.ndarray] = []
    if limit_dir is not None:
        solutions = [load_limit(limit_dir, restart) for restart in range(restarts)]
        # Solves started from the deepest network of each restart find continuum branches
        # that the smooth starts can miss; they join the candidates under their restart.
        deepest = Path(limit_dir) / "from_deepest"
        solutions += [load_limit(deepest, restart) for restart in range(restarts) if (deepest / f"restart{restart}.npz").exists()]
        for solution in solutions:
            _check_limit_settings(solution, settings, limit_dir)
        branches = group_branches(solutions, geometry)
        limit_classes = [limit_predicted_classes(branch.representative, x_test) for branch in branches]

    rows = []
    for (depth, restart), model in tqdm(models.items(), desc=f"analyse {study}", disable=not progress, leave=False):
        row = _model_row(dataset.name, study, model)
        row.update(_regularity(model, models.get((2 * depth, restart)), geometry))
        if branches:
            row.update(_against_limit(model, branches, limit_classes, x_test, geometry))
        rows.append(row)
        logger.debug("N=%d restart %d: %s", depth, restart, row)

    branch_rows = [branch_row(branch) for branch in branches]
    rates = rates_document(dataset.name, study, depths, restarts, fit_min_depth, rows, branches)
    return StudyAnalysis(rows, branch_rows, rates)


def _checked_depths(depths: list[int]) -> list[int]:
    if not depths:
        raise ValueError("no depths given; pass --depths with at least one depth")
    if any(depth < 1 for depth in depths):
        raise ValueError(f"depths must be integers >= 1, got {depths}")
    if len(set(depths)) != len(depths):
        raise ValueError(f"depths must be distinct, got {depths}")
    return sorted(depths)


def _shared_settings(models: dict[tuple[int, int], TrainedModel]) -> EnergySettings:
    """Return the energy settings of the models, which must all agree."""
    settings = {key: model.settings for key, model in models.items()}
    first_key, first = next(iter(settings.items()))
    for key, value in settings.items():
        if value != first:
            raise ValueError(
                f"models N{key[0]}/restart{key[1]} and N{first_key[0]}/restart{first_key[1]} were trained with different "
                f"energy settings ({value.to_dict()} and {first.to_dict()}); analyse one study at a time"
            )
    return first


def _check_limit_settings(solution: LimitSolution, settings: EnergySettings, limit_dir: Path) -> None:
    """Reject a continuum solution of another energy; alpha and q do not matter for constant parameters."""
    mine, theirs = settings.to_dict(), solution.settings.to_dict()
    keys = _ENERGY_SETTINGS_OF_CONSTANT_LIMIT if solution.params.degree == 0 else tuple(mine)
    differing = {key: (mine[key], theirs[key]) for key in keys if mine[key] != theirs[key]}
    if differing:
        raise ValueError(
            f"{limit_dir}/restart{solution.restart} was solved with other energy settings than the models "
            f"(setting: (models, limit)) {differing}; solve the limit with the study's settings"
        )


def _model_row(dataset_name: str, study: str, model: TrainedModel) -> dict:
    metrics = model.metrics
    energy = metrics["energy"]
    row = {column: None for column in MODEL_COLUMNS}
    row.update({
        "dataset": dataset_name,
        "study": study,
        "depth": model.depth,
        "restart": model.restart,
        "energy": energy["total"],
        "energy_data": energy["data"],
        "energy_derivative": energy["derivative"],
        "energy_magnitude": energy["magnitude"],
        "energy_classifier": energy["classifier"],
        "gradient_norm": metrics.get("gradient_norm"),
        "iterations": metrics.get("iterations"),
        "converged": model.converged,
        "wall_time": metrics.get("wall_time"),
        "train_accuracy": metrics.get("train_accuracy"),
        "test_accuracy": metrics.get("test_accuracy"),
        "branch": -1,
    })
    return row


def _regularity(model: TrainedModel, deeper: TrainedModel | None, geometry: Geometry) -> dict:
    values = {"seminorm": seminorm(model), "max_second_difference": max_second_difference(model)}
    if deeper is not None:
        cauchy = cauchy_distances(model, deeper, geometry)
        values.update(cauchy_l2=cauchy["l2"], cauchy_linf=cauchy["linf"])
    return {key: None if value is None or not math.isfinite(value) else value for key, value in values.items()}


def _against_limit(model, branches, limit_classes, x_test, geometry) -> dict:
    index, measured = nearest_branch(model, branches, geometry)
    branch = branches[index]
    branch.members += 1
    distance = measured[index]
    return {
        "branch": branch.index,
        "limit_energy": branch.energy,
        "energy_gap": abs(model.metrics["energy"]["total"] - branch.energy),
        "l2_distance": distance["l2"],
        "linf_distance": distance["linf"],
        "l2_distance_linear": distance["l2_linear"],
        "classifier_distance": distance["classifier"],
        "disagreement": disagreement(predicted_classes(model, x_test), limit_classes[index]),
    }


def branch_row(branch: Branch) -> dict:
    """Return the row of ``{prefix}_branches.csv`` for one branch."""
    metrics = branch.representative.metrics
    return {
        "branch": branch.index,
        "restarts": ";".join(str(restart) for restart in branch.restarts),
        "limit_energy": branch.energy,
        "energy_error_estimate": _finite_or_none(branch.energy_error_estimate),
        "theta_error_estimate": _finite_or_none(branch.theta_error_estimate),
        "lowest": branch.lowest,
        "members": branch.members,
        "classifier_error_estimate": _finite_or_none(branch.classifier_error_estimate),
        "converged": branch.converged,
        "train_accuracy": metrics.get("train_accuracy"),
        "test_accuracy": metrics.get("test_accuracy"),
    }


def _finite_or_none(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# --- rates -------------------------------------------------------------------------------


def rates_document(dataset_name: str, study: str, depths: list[int], restarts: int, fit_min_depth: int, rows: list[dict], branches: list[Branch]) -> dict:
    """Return the content of ``{prefix}_rates.json``: fits per branch, for the lowest energy and per restart.

    ``rows`` are the model rows of the study (as in ``{prefix}.csv``) and ``branches`` its
    branches with their members counted. A study without a limit passes an empty list.
    """
    return {
        "dataset": dataset_name,
        "study": study,
        "has_limit": bool(branches),
        "depths": depths,
        "restarts": restarts,
        "fit_min_depth": fit_min_depth,
        "resolution_factor": RESOLUTION_FACTOR,
        "branches": [_branch_rates(branch, rows, depths, fit_min_depth) for branch in branches],
        "lowest": _lowest_rates(rows, branches, depths, fit_min_depth),
        "restart_rates": [_restart_rates(restart, rows, depths, fit_min_depth) for restart in range(restarts)],
    }


def _branch_rates(branch: Branch, rows, depths, fit_min_depth) -> dict:
    """Fit each quantity of a branch over its representative minimisers, one per depth.

    The representative at a depth is the converged model of the branch nearest to the
    continuum minimiser. Cauchy differences count only when the deeper twin is in the
    same branch, because a switch of branch is not a discretisation error.
    """
    chosen, exclude = {}, {}
    for depth in depths:
        members = [row for row in rows if row["depth"] == depth and row["branch"] == branch.index]
        converged = [row for row in members if row["converged"]]
        if converged:
            chosen[depth] = min(converged, key=lambda row: row["l2_distance"])
        else:
            exclude[depth] = "only non-converged minimisers in this branch" if members else "no minimiser in this branch"

    estimates = {
        "energy_error_estimate": branch.energy_error_estimate,
        "theta_error_estimate": branch.theta_error_estimate,
        "classifier_error_estimate": branch.classifier_error_estimate,
    }
    fits = {}
    for quantity, estimate_name in BRANCH_QUANTITIES.items():
        values = [chosen[depth][quantity] if depth in chosen else None for depth in depths]
        unresolved = _unresolved(depths, values, estimates[estimate_name], estimate_name)
        fits[quantity] = fit_order(depths, values, fit_min_depth, {**unresolved, **exclude}).to_dict()

    cauchy_exclude = {**_without_twin(depths), **exclude}
    for depth, row in chosen.items():
        deeper = [other for other in rows if other["depth"] == 2 * depth and other["restart"] == row["restart"]]
        if deeper and deeper[0]["branch"] != branch.index:
            cauchy_exclude[depth] = f"restart {row['restart']} moves to branch {deeper[0]['branch']} at depth {2 * depth}"
    values = [chosen[depth]["cauchy_l2"] if depth in chosen else None for depth in depths]
    fits["cauchy_l2"] = fit_order(depths, values, fit_min_depth, cauchy_exclude).to_dict()
    for quantity in ("seminorm", "max_second_difference"):
        values = [chosen[depth][quantity] if depth in chosen else None for depth in depths]
        fits[quantity] = fit_order(depths, values, fit_min_depth, exclude).to_dict()

    return {
        "branch": branch.index,
        "restarts": branch.restarts,
        "lowest": branch.lowest,
        "converged": branch.converged,
        "limit_energy": branch.energy,
        **{name: _finite_or_none(value) for name, value in estimates.items()},
        "series": _series(depths, chosen),
        "rates": fits,
    }


def _without_twin(depths) -> dict[int, str]:
    """Depths N without depth 2N, whose Cauchy difference is undefined."""
    return {depth: "no model at depth 2N" for depth in depths if 2 * depth not in depths}


def _unresolved(depths, values, estimate: float, estimate_name: str) -> dict[int, str]:
    """Depths whose value is not above RESOLUTION_FACTOR times the limit's refinement estimate."""
    if estimate is None or not math.isfinite(estimate):
        return {}
    bound = RESOLUTION_FACTOR * estimate
    return {
        depth: f"{value:.3g} is not above {RESOLUTION_FACTOR:g} x the {estimate_name.replace('_', ' ')} {estimate:.3g}"
        for depth, value in zip(depths, values)
        if value is not None and math.isfinite(value) and value <= bound
    }


def _series(depths, chosen: dict[int, dict]) -> dict:
    """Return the models a series rests on: restart, energy and branch at each depth (None where none)."""
    return {
        "depth": list(depths),
        "restart": [chosen[depth]["restart"] if depth in chosen else None for depth in depths],
        "energy": [chosen[depth]["energy"] if depth in chosen else None for depth in depths],
        "branch": [chosen[depth]["branch"] if depth in chosen else None for depth in depths],
    }


def _lowest_rates(rows, branches: list[Branch], depths, fit_min_depth) -> dict:
    """Fit the quantities of the lowest-energy converged model at each depth.

    Against a limit, its energy gap is ``|min E_N - min E_inf|`` and its distances are
    measured to the lowest-energy branch, whichever branch the model is nearest to.
    """
    chosen, exclude = {}, {}
    for depth in depths:
        converged = [row for row in rows if row["depth"] == depth and row["converged"]]
        if converged:
            chosen[depth] = min(converged, key=lambda row: row["energy"])
        else:
            exclude[depth] = "no converged minimiser at this depth"

    fits = {}
    document = {"series": _series(depths, chosen), "limit_energy": None}
    if branches:
        lowest = branches[0]
        document["limit_energy"] = lowest.energy
        document["energy_error_estimate"] = _finite_or_none(lowest.energy_error_estimate)
        gaps = [abs(chosen[depth]["energy"] - lowest.energy) if depth in chosen else None for depth in depths]
        unresolved = _unresolved(depths, gaps, lowest.energy_error_estimate, "energy_error_estimate")
        fits["energy_gap"] = fit_order(depths, gaps, fit_min_depth, {**unresolved, **exclude}).to_dict()
        for quantity in ("l2_distance", "linf_distance", "l2_distance_linear", "classifier_distance"):
            values = [
                chosen[depth][quantity] if depth in chosen and chosen[depth]["branch"] == lowest.index else None
                for depth in depths
            ]
            other = {
                depth: f"the lowest-energy minimiser is nearest to branch {chosen[depth]['branch']}"
                for depth in chosen
                if chosen[depth]["branch"] != lowest.index
            }
            fits[quantity] = fit_order(depths, values, fit_min_depth, {**other, **exclude}).to_dict()
    for quantity in REGULARITY_QUANTITIES:
        values = [chosen[depth][quantity] if depth in chosen else None for depth in depths]
        extra = _without_twin(depths) if quantity == "cauchy_l2" else {}
        fits[quantity] = fit_order(depths, values, fit_min_depth, {**extra, **exclude}).to_dict()
    document["rates"] = fits
    return document


def _restart_rates(restart: int, rows, depths, fit_min_depth) -> dict:
    """Fit the regularity quantities of one restart over the depths; non-converged models are excluded."""
    own = {row["depth"]: row for row in rows if row["restart"] == restart}
    exclude = {depth: "not converged" for depth, row in own.items() if not row["converged"]}
    fits = {}
    for quantity in REGULARITY_QUANTITIES:
        extra = _without_twin(depths) if quantity == "cauchy_l2" else {}
        values = [own[depth][quantity] for depth in depths]
        fits[quantity] = fit_order(depths, values, fit_min_depth, {**extra, **exclude}).to_dict()
    return {
        "restart": restart,
        "series": _series(depths, {depth: own[depth] for depth in depths}),
        "converged": [bool(own[depth]["converged"]) for depth in depths],
        "rates": fits,
    }
