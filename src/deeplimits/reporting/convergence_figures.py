"""Figures of convergence against the depth N: claims C1 to C4.

Each function takes the results tree and the data set names, draws log-log panels of an
error against N with the fitted order in the legend and a reference triangle of slope
-1 (the order of the explicit Euler method), and returns the figure, or None when no data
set has the inputs. Panels of data sets whose inputs are missing are left out with a
logged note.

The claim ids are those of :data:`deeplimits.analysis.claims.CLAIMS`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..analysis.rates import fit_order
from .loading import ResultsTree, branch_estimates, recovery_fit
from .style import (
    add_slope_triangle,
    category_colours,
    new_figure,
    order_text,
    panel_legend,
    plot_fitted_line,
    plot_series,
    set_depth_axis,
)

logger = logging.getLogger(__name__)

__all__ = [
    "plot_forward_consistency",
    "plot_recovery_sequence",
    "plot_energy_convergence",
    "plot_parameter_convergence",
    "ENERGY_GAP_LABEL",
    "DISTANCE_LABELS",
]

# The order of the explicit Euler method, which the reference triangles show.
REFERENCE_ORDER = 1.0

ENERGY_GAP_LABEL = r"$|E_N - E_\infty|$"
DISTANCE_LABELS = {
    "l2_distance": r"$\|\theta_N - \theta_\infty\|_{L^2(0,1)}$",
    "linf_distance": r"$\|\theta_N - \theta_\infty\|_{L^\infty(0,1)}$",
    "classifier_distance": r"$\|(W_N, c_N) - (W_\infty, c_\infty)\|_F$",
    "cauchy_l2": r"$\|\theta_N - \theta_{2N}\|_{L^2(0,1)}$",
}


def plot_forward_consistency(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot the state error and the energy gap at fixed smooth parameters against N (C1).

    One panel per quantity, one line per data set, each with its observed order fitted
    from the depths at or above the verdicts' ``forward_fit_min_depth``.
    """
    available = {name: tree.consistency(name) for name in datasets}
    available = {name: arrays for name, arrays in available.items() if arrays is not None}
    _note_missing(datasets, available, "forward/{dataset}/consistency.npz", "forward_consistency")
    if not available:
        return None

    quantities = {
        "state_error": r"$\max_s \|X_N^s - X^s(1)\|_\infty$",
        "energy_gap": r"$|E_N(\theta) - E_\infty(\theta)|$",
    }
    colours = category_colours(list(available))
    figure, axes = new_figure(1, len(quantities))
    for column, (quantity, label) in enumerate(quantities.items()):
        panel = axes[0, column]
        all_depths, all_values = [], []
        for name, arrays in available.items():
            depths, values = arrays["depth"], arrays[quantity]
            fit = fit_order(depths, values, tree.fit_min_depth("forward_fit_min_depth") or 1).to_dict()
            plot_series(panel, depths, values, colours[name], f"{name}: {order_text(fit)}", fit.get("fit_depths"))
            plot_fitted_line(panel, fit, colours[name])
            all_depths += list(depths)
            all_values += list(values)
        _finish_panel(panel, all_depths, all_values, label)
    figure.suptitle("C1: ResNet against the ODE at fixed smooth parameters", fontsize=9)
    return figure


def plot_recovery_sequence(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot ``|E_N(theta_inf(t_k)) - E_inf(theta_inf)|`` against N for every continuum minimiser (C2).

    One panel per data set, one line per restart whose continuum minimiser was sampled.
    The restarts of the lowest-energy branch are drawn thicker. As in the verdict, depths
    whose gap is within ten times the continuum energy's error estimate are left out of
    the fit (hollow markers).
    """
    available = {name: tree.recoveries(name) for name in datasets}
    available = {name: files for name, files in available.items() if files}
    _note_missing(datasets, available, "forward/{dataset}/recovery_restart{r}.npz", "recovery_sequence")
    if not available:
        return None

    figure, axes = new_figure(1, len(available))
    for column, (name, files) in enumerate(available.items()):
        panel = axes[0, column]
        branches = tree.branches(name, "baseline")
        lowest = _lowest_restarts(branches)
        estimates = branch_estimates(branches)
        colours = category_colours([str(restart) for restart in files])
        all_depths, all_values = [], []
        for restart, arrays in files.items():
            fit = recovery_fit(arrays, estimates.get(restart), tree.fit_min_depth())
            marked = restart in lowest
            label = f"restart {restart}{' (lowest branch)' if marked else ''}: {order_text(fit)}"
            plot_series(panel, arrays["depth"], arrays["energy_gap"], colours[str(restart)], label, fit.get("fit_depths"),
                        linewidth=2.0 if marked else 1.0)
            plot_fitted_line(panel, fit, colours[str(restart)])
            all_depths += list(arrays["depth"])
            all_values += list(arrays["energy_gap"])
        _finish_panel(panel, all_depths, all_values, r"$|E_N(\theta_\infty(t_k)) - E_\infty(\theta_\infty)|$")
        panel.set_title(name)
    figure.suptitle("C2: recovery sequence of the continuum minimisers", fontsize=9)
    return figure


def plot_energy_convergence(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot the energy gap ``|E_N - E_inf|`` of the baseline minimisers against N, per branch (C3).

    One panel per data set. Every trained model is a small point coloured by its branch,
    and each branch's series (one converged model per depth) is a line with its fitted
    order. The lowest-energy branch is drawn thicker with star markers, and the gap
    between the lowest energies over all branches, ``|min E_N - min E_inf|``, is a black
    dotted line.
    """
    available = _baseline_with_limit(tree, datasets, "energy_convergence")
    if not available:
        return None

    figure, axes = new_figure(1, len(available))
    for column, (name, (table, rates)) in enumerate(available.items()):
        panel = axes[0, column]
        depths, values = _plot_branches(panel, tree, table, rates, "energy_gap")
        lowest_fit = tree.fit(rates.get("lowest", {}).get("rates", {}).get("energy_gap"))
        if lowest_fit:
            plot_series(panel, lowest_fit["depths"], lowest_fit["values"], "black",
                        rf"$|\min E_N - \min E_\infty|$: {order_text(lowest_fit)}", lowest_fit.get("fit_depths"),
                        linestyle=":", marker="D", markersize=3)
        _finish_panel(panel, depths, values, ENERGY_GAP_LABEL)
        panel.set_title(name)
    figure.suptitle("C3: minimum values per branch of minimisers (baseline)", fontsize=9)
    return figure


def plot_parameter_convergence(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot the distances of the baseline minimisers to their branch's limit against N (C4).

    One row per data set, with the columns: the L^2(0,1) and L^inf(0,1) distances of the piecewise
    constant interpolant to the continuum minimiser, the classifier distance, and the
    Cauchy difference between depths N and 2N of the same restart, all aligned modulo the
    padded-coordinate symmetries. Lines per branch as in :func:`plot_energy_convergence`.
    """
    available = _baseline_with_limit(tree, datasets, "parameter_convergence")
    if not available:
        return None

    figure, axes = new_figure(len(available), len(DISTANCE_LABELS))
    for row, (name, (table, rates)) in enumerate(available.items()):
        for column, (quantity, label) in enumerate(DISTANCE_LABELS.items()):
            panel = axes[row, column]
            depths, values = _plot_branches(panel, tree, table, rates, quantity)
            _finish_panel(panel, depths, values, label)
            panel.set_title(name)
    figure.suptitle("C4: distance of the minimisers to the continuum minimiser of their branch (baseline)", fontsize=9)
    return figure


# --- shared steps --------------------------------------------------------------------


def _plot_branches(panel: Axes, tree: ResultsTree, table: pd.DataFrame, rates: dict, quantity: str) -> tuple[list, list]:
    """Draw every model as a point and each branch's series as a line with its fitted order.

    Returns the depths and values drawn, for the reference triangle.
    """
    branches = rates.get("branches", [])
    colours = category_colours([str(branch["branch"]) for branch in branches])
    all_depths, all_values = [], []

    if quantity in table.columns:
        for branch in branches:
            members = table[table["branch"] == branch["branch"]]
            panel.scatter(members["depth"], members[quantity].where(members[quantity] > 0), s=8, alpha=0.35,
                          color=colours[str(branch["branch"])], linewidths=0, zorder=1)
            all_depths += list(members["depth"])
            all_values += list(members[quantity])

    for branch in branches:
        fit = tree.fit(branch.get("rates", {}).get(quantity))
        if not fit:
            continue
        lowest = bool(branch.get("lowest"))
        restarts = ", ".join(str(restart) for restart in branch.get("restarts", []))
        label = f"branch {branch['branch']}{' (lowest)' if lowest else ''}, restarts {restarts}: {order_text(fit)}"
        colour = colours[str(branch["branch"])]
        plot_series(panel, fit["depths"], fit["values"], colour, label, fit.get("fit_depths"),
                    linewidth=2.2 if lowest else 1.0, marker="*" if lowest else "o", markersize=7 if lowest else 4,
                    zorder=3 if lowest else 2)
        plot_fitted_line(panel, fit, colour)
        all_depths += list(fit["depths"])
        all_values += list(fit["values"])
    return all_depths, all_values


def _finish_panel(panel: Axes, depths, values, label: str) -> None:
    values = [np.nan if value is None else float(value) for value in values]
    set_depth_axis(panel, depths)
    panel.set_yscale("log")
    panel.set_ylabel(label)
    add_slope_triangle(panel, REFERENCE_ORDER, depths, values)
    panel_legend(panel)


def _baseline_with_limit(tree: ResultsTree, datasets: Sequence[str], figure: str) -> dict[str, tuple[pd.DataFrame, dict]]:
    available = {}
    for name in datasets:
        table, rates = tree.analysis(name, "baseline"), tree.rates(name, "baseline")
        if table is None or rates is None or not rates.get("branches"):
            logger.info("%s: no baseline analysis with a limit for %s, so its panel is left out", figure, name)
            continue
        available[name] = (table, rates)
    return available


def _lowest_restarts(branches: pd.DataFrame | None) -> set[int]:
    """Return the restarts of the lowest-energy branch, from the branches table."""
    if branches is None or "lowest" not in branches.columns:
        return set()
    rows = branches[branches["lowest"]]
    return {int(restart) for value in rows["restarts"] for restart in str(value).split(";") if restart.strip()}


def _note_missing(datasets, available, pattern: str, figure: str) -> None:
    for name in datasets:
        if name not in available:
            logger.info("%s: %s not found for %s, so its panel is left out", figure, pattern, name)
