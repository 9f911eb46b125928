"""Figures that compare minimisers across depths and studies: claims C5 to C9.

Each function takes the results tree and the data set names and returns the figure, or
None when no data set has the inputs. Panels of data sets without them are left out with
a logged note. Hollow markers are models whose optimiser did not converge, and in legends
an order is the fitted slope of the rates document (negated, so a growing quantity has a
negative order).

The claim ids are those of :data:`deeplimits.analysis.claims.CLAIMS`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .loading import ResultsTree, lowest_branch, lowest_models
from .style import (
    STUDY_COLOURS,
    STUDY_LABELS,
    category_colours,
    new_figure,
    order_text,
    panel_legend,
    plot_series,
    set_depth_axis,
)

logger = logging.getLogger(__name__)

__all__ = [
    "SEMINORM_LABEL",
    "SECOND_DIFFERENCE_LABEL",
    "plot_regularity",
    "plot_no_derivative_penalty",
    "plot_regulariser_scaling",
    "plot_generalisation",
]

SEMINORM_LABEL = r"$(N^{p-1} \sum_k |\theta_{k+1} - \theta_k|^p)^{1/p}$"
SECOND_DIFFERENCE_LABEL = r"$\max_k N^2 |\theta_{k+1} - 2\theta_k + \theta_{k-1}|$"
CAUCHY_LABEL = r"$\|\theta_N - \theta_{2N}\|_{L^2(0,1)}$"


def plot_regularity(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot the discrete W^{1,p} seminorm and the max scaled second difference of the baseline minimisers (C5, C9).

    Two panels, one colour per data set. Every model is drawn as a thin line per restart,
    and the lowest-energy model per depth as a thick line with its fitted order. A dotted
    level through its value at the smallest depth is the reference slope 0 of a bounded
    quantity.
    """
    available = _studies_available(tree, datasets, ["baseline"], "regularity")
    if not available:
        return None

    colours = category_colours(list(available))
    figure, axes = new_figure(1, 2)
    for column, (quantity, label) in enumerate((("seminorm", SEMINORM_LABEL), ("max_second_difference", SECOND_DIFFERENCE_LABEL))):
        panel = axes[0, column]
        depths = []
        for name, studies in available.items():
            table, rates = studies["baseline"]
            _plot_restarts(panel, table, quantity, colours[name])
            lowest = lowest_models(table, rates)
            fit = tree.fit((rates or {}).get("lowest", {}).get("rates", {}).get(quantity))
            plot_series(panel, lowest["depth"], lowest[quantity], colours[name], f"{name}: {order_text(fit)}",
                        lowest["depth"][lowest["converged"]], linewidth=2.0)
            _add_level_reference(panel, lowest[quantity], colours[name])
            depths += list(table["depth"])
        set_depth_axis(panel, depths)
        panel.set_yscale("log")
        panel.set_ylabel(label)
        panel_legend(panel)
    figure.suptitle("C5, C9: regularity of the minimisers (baseline); dotted: slope 0, a bounded quantity", fontsize=9)
    return figure


def plot_no_derivative_penalty(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Compare seminorm and Cauchy differences with and without the derivative penalty (C6).

    One row per data set, with the columns seminorm and
    ``||theta_N - theta_2N||_{L^2(0,1)}``, and one colour per study (baseline, alpha = 0 from the smooth start, alpha = 0 from i.i.d.
    starts), one thin line per restart.
    """
    studies = ["baseline", "no_derivative_penalty", "no_derivative_penalty_iid"]
    available = _studies_available(tree, datasets, studies, "no_derivative_penalty")
    if not available:
        return None

    figure, axes = new_figure(len(available), 2)
    for row, (name, found) in enumerate(available.items()):
        for column, (quantity, label) in enumerate((("seminorm", SEMINORM_LABEL), ("cauchy_l2", CAUCHY_LABEL))):
            panel = axes[row, column]
            _plot_studies(panel, tree, found, quantity)
            panel.set_ylabel(label)
            panel.set_title(name)
    figure.suptitle("C6: minimisers without the derivative penalty ($\\alpha = 0$); hollow: not converged", fontsize=9)
    return figure


def plot_regulariser_scaling(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot the variation in t and min E_N against N for q = 0, 1, 2 (C7).

    One row per data set. Left: the discrete W^{1,p} seminorm, the variation of the
    parameters in t, per study. Right: the lowest energy over the restarts at each depth,
    with the minima of the ODE-constrained problem (baseline limit) and of the
    constant-parameter problem (limit of the ``scaling_q2`` study) as dashed levels.
    """
    studies = ["scaling_q0", "baseline", "scaling_q2"]
    available = _studies_available(tree, datasets, studies, "regulariser_scaling")
    if not available:
        return None

    figure, axes = new_figure(len(available), 2)
    for row, (name, found) in enumerate(available.items()):
        _plot_studies(axes[row, 0], tree, found, "seminorm")
        axes[row, 0].set_ylabel(SEMINORM_LABEL)
        axes[row, 0].set_title(name)
        _plot_minimum_energies(axes[row, 1], tree, name, found)
        axes[row, 1].set_title(name)
    figure.suptitle("C7: scaling $N^q$ of the derivative penalty ($p = 2$)", fontsize=9)
    return figure


def plot_generalisation(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot accuracies and the disagreement with the limit classifier against N (C8).

    Left: training (solid) and test (dashed) accuracy of the lowest-energy baseline model
    per depth, with the limit's accuracies (lowest-energy branch) as dotted levels. Right:
    the fraction of test points whose predicted class differs from the limit classifier
    of the model's branch. Points are models, and the line is the lowest-energy model per
    depth.
    """
    available = _studies_available(tree, datasets, ["baseline"], "generalisation")
    if not available:
        return None

    colours = category_colours(list(available))
    figure, axes = new_figure(1, 2)
    accuracy_panel, disagreement_panel = axes[0, 0], axes[0, 1]
    depths = []
    for name, found in available.items():
        table, rates = found["baseline"]
        lowest = lowest_models(table, rates)
        converged = lowest["depth"][lowest["converged"]]
        colour = colours[name]
        plot_series(accuracy_panel, lowest["depth"], lowest["train_accuracy"], colour, f"{name}: train", converged, log_values=False)
        plot_series(accuracy_panel, lowest["depth"], lowest["test_accuracy"], colour, f"{name}: test", converged,
                    log_values=False, linestyle="--", marker="s")
        _add_limit_accuracies(accuracy_panel, tree, name, rates, colour)
        if "disagreement" in table.columns and table["disagreement"].notna().any():
            disagreement_panel.scatter(table["depth"], table["disagreement"], s=8, alpha=0.35, color=colour, linewidths=0)
            plot_series(disagreement_panel, lowest["depth"], lowest["disagreement"], colour, name, converged, log_values=False)
        else:
            logger.info("generalisation: no disagreement column for %s (study without a limit?)", name)
        depths += list(table["depth"])
    for panel, label in ((accuracy_panel, "accuracy"), (disagreement_panel, "disagreement with the limit classifier")):
        set_depth_axis(panel, depths)
        panel.set_ylabel(label)
        panel_legend(panel)
    disagreement_panel.set_ylim(bottom=0)
    figure.suptitle("C8: predictions of the baseline networks against the limit classifier", fontsize=9)
    return figure


# --- shared steps --------------------------------------------------------------------


def _studies_available(tree: ResultsTree, datasets, studies, figure: str) -> dict[str, dict[str, tuple[pd.DataFrame, dict | None]]]:
    """Return, per data set with at least one of ``studies`` analysed, the tables and rates found."""
    available = {}
    for name in datasets:
        found = {}
        for study in studies:
            table = tree.analysis(name, study)
            if table is None or table.empty:
                logger.info("%s: no analysis of study %s on %s, so it is left out", figure, study, name)
                continue
            found[study] = (table, tree.rates(name, study))
        if found:
            available[name] = found
        else:
            logger.info("%s: no analysed study for %s, so its panel is left out", figure, name)
    return available


def _plot_restarts(panel: Axes, table: pd.DataFrame, quantity: str, colour, label: str | None = None) -> None:
    """Draw one thin line per restart, with hollow markers for models that did not converge."""
    for restart, group in table.sort_values("depth").groupby("restart"):
        plot_series(panel, group["depth"], group[quantity], colour, label, group["depth"][group["converged"]],
                    linewidth=0.6, alpha=0.6, markersize=3)
        label = None


def _plot_studies(panel: Axes, tree: ResultsTree, found: dict, quantity: str) -> None:
    """Draw each study's restarts in the study's colour, labelled with an order of its rates."""
    depths = []
    for study, (table, rates) in found.items():
        if quantity not in table.columns or table[quantity].isna().all():
            continue
        fit = tree.fit(_representative_fit(rates, quantity))
        _plot_restarts(panel, table, quantity, STUDY_COLOURS.get(study), f"{STUDY_LABELS.get(study, study)}: {order_text(fit)}")
        depths += list(table["depth"])
    set_depth_axis(panel, depths)
    panel.set_yscale("log")
    panel_legend(panel)


def _representative_fit(rates: dict | None, quantity: str) -> dict | None:
    """Return the fit of the lowest-energy series, or of the first restart with a sufficient fit."""
    if not rates:
        return None
    fit = rates.get("lowest", {}).get("rates", {}).get(quantity)
    if fit and fit.get("sufficient"):
        return fit
    for restart in rates.get("restart_rates", []):
        candidate = restart.get("rates", {}).get(quantity)
        if candidate and candidate.get("sufficient"):
            return candidate
    return fit


def _plot_minimum_energies(panel: Axes, tree: ResultsTree, name: str, found: dict) -> None:
    depths = []
    for study, (table, rates) in found.items():
        lowest = lowest_models(table, rates)
        plot_series(panel, lowest["depth"], lowest["energy"], STUDY_COLOURS.get(study), STUDY_LABELS.get(study, study),
                    lowest["depth"][lowest["converged"]], log_values=False)
        depths += list(table["depth"])

    levels = (("baseline", r"$\min E_\infty$ (ODE limit)"), ("scaling_q2", "min of the constant-parameter problem"))
    for study, label in levels:
        branch = lowest_branch(tree.rates(name, study))
        if branch is not None and branch.get("limit_energy") is not None:
            panel.axhline(branch["limit_energy"], color=STUDY_COLOURS.get(study), linestyle="--", linewidth=0.9, label=label)
    set_depth_axis(panel, depths)
    panel.set_ylabel(r"$\min E_N$ over restarts")
    panel_legend(panel)


def _add_limit_accuracies(panel: Axes, tree: ResultsTree, name: str, rates: dict | None, colour) -> None:
    branch = lowest_branch(rates)
    if branch is None:
        return
    branches = tree.branches(name, "baseline")
    row = None if branches is None else branches[branches["branch"] == branch["branch"]]
    for key, style, label in (("train_accuracy", ":", "limit train"), ("test_accuracy", "-.", "limit test")):
        value = None
        if row is not None and not row.empty and key in row.columns:
            value = row.iloc[0][key]
        if value is None or not math.isfinite(float(value)):
            metrics = tree.limit_metrics(name, "baseline").get(branch["restarts"][0], {})
            value = metrics.get(key)
        if value is not None:
            panel.axhline(float(value), color=colour, linestyle=style, linewidth=0.8, alpha=0.8, label=f"{name}: {label}")


def _add_level_reference(panel: Axes, values, colour) -> None:
    values = [float(value) for value in values if value is not None and np.isfinite(value) and value > 0]
    if values:
        panel.axhline(values[0], color=colour, linestyle=":", linewidth=0.8)
