"""The figures of the report by name, and :func:`make_figure`, which draws and saves one.

Names and the claims they show: ``forward_consistency`` (C1), ``recovery_sequence`` (C2),
``energy_convergence`` (C3), ``parameter_convergence`` (C4), ``weight_paths`` (C4, C9),
``regularity`` (C5, C9), ``no_derivative_penalty`` (C6), ``regulariser_scaling`` (C7),
``generalisation`` (C8), ``feature_flow`` (C8) and ``compute_cost``. The claim ids are
those of :data:`deeplimits.analysis.claims.CLAIMS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from .convergence_figures import (
    plot_energy_convergence,
    plot_forward_consistency,
    plot_parameter_convergence,
    plot_recovery_sequence,
)
from .cost_figure import plot_compute_cost
from .loading import ResultsTree
from .path_figures import plot_feature_flow, plot_weight_paths
from .study_figures import plot_generalisation, plot_no_derivative_penalty, plot_regularity, plot_regulariser_scaling
from .style import apply_style, no_data_figure, save_figure

logger = logging.getLogger(__name__)

__all__ = ["FIGURES", "FIGURE_INPUTS", "make_figure"]

FIGURES: dict[str, Callable[[ResultsTree, Sequence[str]], Figure | None]] = {
    "forward_consistency": plot_forward_consistency,
    "recovery_sequence": plot_recovery_sequence,
    "energy_convergence": plot_energy_convergence,
    "parameter_convergence": plot_parameter_convergence,
    "weight_paths": plot_weight_paths,
    "regularity": plot_regularity,
    "feature_flow": plot_feature_flow,
    "no_derivative_penalty": plot_no_derivative_penalty,
    "regulariser_scaling": plot_regulariser_scaling,
    "generalisation": plot_generalisation,
    "compute_cost": plot_compute_cost,
}

# Inputs of each figure, quoted in the figure and in the warning when none of them exists.
FIGURE_INPUTS = {
    "forward_consistency": "forward/{dataset}/consistency.npz",
    "recovery_sequence": "forward/{dataset}/recovery_restart{r}.npz",
    "energy_convergence": "analysis/{dataset}/baseline.csv and _rates.json with a limit",
    "parameter_convergence": "analysis/{dataset}/baseline.csv and _rates.json with a limit",
    "weight_paths": "analysis/{dataset}/baseline_rates.json, models/ and limit/",
    "regularity": "analysis/{dataset}/baseline.csv",
    "feature_flow": "a data set with 2 features and analysis/{dataset}/baseline.csv",
    "no_derivative_penalty": "analysis/{dataset}/{baseline,no_derivative_penalty,no_derivative_penalty_iid}.csv",
    "regulariser_scaling": "analysis/{dataset}/{scaling_q0,baseline,scaling_q2}.csv",
    "generalisation": "analysis/{dataset}/baseline.csv",
    "compute_cost": "models/**/*.json, limit/**/*.json or benchmarks/**/*.tsv",
}


def make_figure(name: str, results: str | Path, datasets: Sequence[str], out_prefix: str | Path) -> list[Path]:
    """Draw figure ``name`` from the results folder and write ``out_prefix.pdf`` and ``.png``.

    Parameters
    ----------
    name : str
        One of :data:`FIGURES`.
    results : str or Path
        The workflow's ``results/`` folder.
    datasets : sequence of str
        Data set names to draw. Each gets its panels, or a logged note where its inputs
        are missing.
    out_prefix : str or Path
        Output path without suffix.

    Returns
    -------
    list of Path
        The PDF and the PNG written.

    Raises
    ------
    ValueError
        If ``name`` is not a known figure or ``datasets`` is empty.

    Notes
    -----
    When no data set has the figure's inputs, a figure that names the missing inputs is
    written and a warning is logged, so that a workflow that requests every figure still
    completes.
    """
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; choose one of {sorted(FIGURES)}")
    if not datasets:
        raise ValueError("no data sets given; pass --datasets with at least one name")
    tree = ResultsTree(Path(results))
    if not tree.root.is_dir():
        logger.warning("results folder %s not found", tree.root)

    apply_style()
    figure = FIGURES[name](tree, list(datasets))
    if figure is None:
        reason = f"none of {', '.join(datasets)} has {FIGURE_INPUTS[name]} under {tree.root}"
        logger.warning("figure %s has no data: %s. The figure written states this.", name, reason)
        figure = no_data_figure(name, reason)
    return save_figure(figure, out_prefix)
