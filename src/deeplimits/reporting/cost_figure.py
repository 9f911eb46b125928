"""The compute-cost figure: wall time of training against the depth N, and of continuum solves.

The left panel shows the optimiser's own wall time of each model (metrics JSON, one
value per restart). The right one shows the wall time of each Snakemake job (benchmark
files, one job per data set, study and depth with all restarts, including start-up). Continuum solves
have no depth and appear as dashed levels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .loading import LIMIT_STUDIES, STUDIES, ResultsTree
from .style import (
    STUDY_COLOURS,
    STUDY_LABELS,
    add_slope_triangle,
    new_figure,
    note_on_axes,
    panel_legend,
    set_depth_axis,
)

logger = logging.getLogger(__name__)

__all__ = ["plot_compute_cost", "TRAIN_RULE", "LIMIT_RULE"]

# Rule names of the workflow whose benchmark files the right panel reads.
TRAIN_RULE = "train_resnet"
LIMIT_RULE = "solve_limit"


def plot_compute_cost(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot wall time against N for training, per study, with continuum solves as levels.

    Each line is the mean over data sets and restarts (left) or over data sets (right),
    with the range from the fastest to the slowest as a band. A triangle of slope 1 shows
    the linear growth expected when the iteration count does not depend on N.
    """
    models = pd.concat([tree.model_metrics(name, study) for name in datasets for study in STUDIES], ignore_index=True)
    limits = pd.DataFrame([
        {"dataset": name, "study": study, "restart": restart, "wall_time": metrics.get("wall_time")}
        for name in datasets for study in LIMIT_STUDIES
        for restart, metrics in tree.limit_metrics(name, study).items()
    ], columns=["dataset", "study", "restart", "wall_time"])
    benchmarks = tree.benchmarks()
    if not benchmarks.empty:
        benchmarks = benchmarks[benchmarks["dataset"].isin(datasets)]
    if models.empty and limits.empty and benchmarks.empty:
        logger.info("compute_cost: no model metrics, continuum metrics or benchmark files for %s", list(datasets))
        return None

    figure, axes = new_figure(1, 2)
    _plot_panel(axes[0, 0], models, "depth", "wall_time", limits, "wall_time",
                "optimiser wall time per model (s)", "no model metrics found")
    train_jobs = benchmarks[benchmarks["rule"] == TRAIN_RULE] if not benchmarks.empty else benchmarks
    limit_jobs = benchmarks[benchmarks["rule"] == LIMIT_RULE] if not benchmarks.empty else benchmarks
    _plot_panel(axes[0, 1], train_jobs, "depth", "s", limit_jobs, "s",
                "Snakemake job wall time (s)", f"no benchmark files of rule {TRAIN_RULE} found")
    figure.suptitle("Compute cost of training (lines) and of continuum solves (dashed levels)", fontsize=9)
    return figure


def _plot_panel(panel: Axes, training: pd.DataFrame, depth_key: str, time_key: str, solves: pd.DataFrame,
                solve_key: str, label: str, empty_message: str) -> None:
    if training.empty and solves.empty:
        note_on_axes(panel, empty_message)
        return

    depths, times = [], []
    for study in STUDIES:
        rows = training[training["study"] == study].dropna(subset=[time_key]) if not training.empty else training
        if rows.empty:
            continue
        rows = rows.astype({depth_key: int, time_key: float})
        summary = rows.groupby(depth_key)[time_key].agg(["mean", "min", "max"]).sort_index()
        colour = STUDY_COLOURS.get(study)
        panel.plot(summary.index, summary["mean"], marker="o", color=colour, label=STUDY_LABELS.get(study, study))
        panel.fill_between(summary.index, summary["min"], summary["max"], color=colour, alpha=0.1, linewidth=0)
        depths += list(summary.index)
        times += list(summary["mean"])

    for study in LIMIT_STUDIES:
        rows = solves[solves["study"] == study].dropna(subset=[solve_key]) if not solves.empty else solves
        if not rows.empty:
            panel.axhline(float(rows[solve_key].mean()), color=STUDY_COLOURS.get(study), linestyle="--", linewidth=0.9,
                          label=f"continuum solve, {study}")

    if depths:
        set_depth_axis(panel, depths)
        # A slope of -order = +1: the wall time grows linearly in N.
        add_slope_triangle(panel, -1.0, depths, [value if value > 0 else np.nan for value in times], label="1")
    panel.set_yscale("log")
    panel.set_ylabel(label)
    panel_legend(panel)
