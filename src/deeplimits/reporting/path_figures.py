"""Figures of the trained parameters and of the flow they define: weight paths and feature flow.

The claim ids C4, C8 and C9 are those of :data:`deeplimits.analysis.claims.CLAIMS`.

``weight_paths`` (C4, C9) shows the entries K_ij(t) and b_i(t) of the baseline minimisers
of every depth, piecewise constant on the layers, over the continuum minimiser of the
same branch. ``feature_flow`` (C8) shows, for data sets with two features, the paths of
the training points through the layers of the deepest baseline network and the decision
regions of that network and of its limit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..analysis.measures import (
    Geometry,
    TrainedModel,
    limit_predicted_classes,
    load_limit,
    load_model,
    predicted_classes,
)
from ..artifacts import read_npz
from ..interpolation import PiecewiseConstant, align
from ..resnet import forward
from .loading import ResultsTree, lowest_branch
from .style import category_colours, depth_colours, new_figure

logger = logging.getLogger(__name__)

__all__ = ["plot_weight_paths", "plot_feature_flow", "REGION_GRID_POINTS"]

# Points per axis of the grid on which decision regions are evaluated. The limit
# classifier integrates the ODE adaptively at every grid point, so the cost grows with the
# square of this number. With 80 points a decision boundary is placed to within 1/80 of
# the plotted range.
REGION_GRID_POINTS = 80

# Margin around the data in the decision-region panels, in standardised feature units.
REGION_MARGIN = 0.5


def plot_weight_paths(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot one entry K_ij(t) and one entry b_i(t) of the baseline minimisers over the limit (C4, C9).

    One column per data set: the top panel shows the entry of K, the bottom one the entry
    of b, each chosen as the entry whose continuum curve varies most in t. The minimisers
    are those of the lowest-energy branch (one per depth, as in its rates series), drawn
    piecewise constant and coloured by depth after alignment modulo the padded-coordinate
    symmetries, over the continuum minimiser sampled on its grid.
    """
    panels = {}
    for name in datasets:
        collected = _weight_path_inputs(tree, name)
        if collected is not None:
            panels[name] = collected
    if not panels:
        return None

    all_depths = sorted({depth for _, models, _ in panels.values() for depth in models})
    colours = depth_colours(all_depths)
    figure, axes = new_figure(2, len(panels), sharex=True)
    for column, (name, (grid, models, n)) in enumerate(panels.items()):
        (i, j), k = _entries_of_largest_range(grid["K"], grid["b"])
        _draw_paths(axes[0, column], grid["t"], grid["K"][:, i, j], models, i * n + j, colours)
        _draw_paths(axes[1, column], grid["t"], grid["b"][:, k], models, n * n + k, colours)
        axes[0, column].set_title(name)
        axes[0, column].set_ylabel(rf"$K_{{{i + 1}{j + 1}}}(t)$")
        axes[1, column].set_ylabel(rf"$b_{{{k + 1}}}(t)$")
        axes[1, column].set_xlabel("layer time $t$")
    # One legend for all panels: each depth (and each depth drawn unconverged) once.
    entries = {}
    for panel in axes[0]:
        for handle, label in zip(*panel.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    figure.legend(list(entries.values()), list(entries), loc="outside lower center", ncols=min(len(entries), 6))
    figure.suptitle("C4, C9: trained parameters by depth over the continuum minimiser", fontsize=9)
    return figure


def plot_feature_flow(tree: ResultsTree, datasets: Sequence[str]) -> Figure | None:
    """Plot feature flow and decision regions of the deepest baseline network, for 2-D data (C8).

    One row per data set with two features: the paths of the training points through the
    states X_0 .. X_N (in 3-D when the state has a padded third coordinate), the decision
    regions of the network with the limit's boundary in black, and the decision regions
    of the limit classifier of the network's branch. Data sets with another number of
    features are left out with a logged note.
    """
    rows = {}
    for name in datasets:
        collected = _feature_flow_inputs(tree, name)
        if collected is not None:
            rows[name] = collected
    if not rows:
        return None

    figure, axes = new_figure(len(rows), 3)
    for row, (name, (dataset, model, limit)) in enumerate(rows.items()):
        classes = sorted(set(dataset.y_train.tolist()) | set(dataset.y_test.tolist()))
        colours = category_colours([str(label) for label in classes])
        _draw_trajectories(figure, axes[row, 0], name, dataset, model, colours)
        grid_x, grid_y, points = _region_grid(dataset, model.settings.state_dim)
        model_classes = predicted_classes(model, points).reshape(grid_x.shape)
        limit_classes = None if limit is None else limit_predicted_classes(limit, points).reshape(grid_x.shape)

        _draw_regions(axes[row, 1], grid_x, grid_y, model_classes, dataset, colours, boundary=limit_classes)
        axes[row, 1].set_title(f"{name}: network N = {model.depth}, restart {model.restart}")
        if limit_classes is None:
            axes[row, 2].set_axis_off()
            axes[row, 2].text(0.5, 0.5, "no continuum minimiser", ha="center", va="center", transform=axes[row, 2].transAxes)
        else:
            _draw_regions(axes[row, 2], grid_x, grid_y, limit_classes, dataset, colours)
            axes[row, 2].set_title(f"{name}: limit (restart {limit.restart})")
    figure.suptitle("C8: feature flow and decision regions; black line: boundary of the limit classifier", fontsize=9)
    return figure


# --- weight paths --------------------------------------------------------------------


def _weight_path_inputs(tree: ResultsTree, name: str):
    """Return (limit grid, {depth: (aligned theta, converged)}, n) for one data set, or None with a note."""
    rates = tree.rates(name, "baseline")
    branch = lowest_branch(rates)
    dataset = tree.dataset(name)
    if branch is None or dataset is None:
        logger.info("weight_paths: no baseline limit analysis or data set for %s, so its panel is left out", name)
        return None

    limit_restart = int(branch["restarts"][0])
    limit = load_limit(tree.limit_dir(name, "baseline"), limit_restart)
    grid = read_npz(tree.limit_dir(name, "baseline") / f"restart{limit_restart}.npz", required=("t", "K", "b"))
    geometry = Geometry.of(dataset, limit.settings)

    models = {}
    for depth, restart in _branch_restarts(tree, name, branch).items():
        model = load_model(tree.root / "models" / name / "baseline", depth, restart)
        theta, _, _ = align(model.theta, model.W, PiecewiseConstant, limit.function, limit.W,
                            geometry.data_dim, geometry.state_dim, geometry.odd)
        models[int(depth)] = (theta, model.converged)
    if not models:
        logger.info("weight_paths: no baseline model in the lowest branch of %s, so its panel is left out", name)
        return None
    return grid, models, geometry.state_dim


def _branch_restarts(tree: ResultsTree, name: str, branch: dict) -> dict[int, int]:
    """Return the restart to draw at each depth for a branch.

    That is the model of the branch's rates series (the converged member nearest the
    continuum minimiser). At a depth where the branch has no converged member, the
    nearest member of any convergence status is drawn instead, with a logged note.
    """
    series = branch.get("series", {})
    chosen = {int(depth): int(restart) for depth, restart in zip(series.get("depth", []), series.get("restart", []))
              if restart is not None}
    table = tree.analysis(name, "baseline")
    if table is None:
        return chosen
    members = table[table["branch"] == branch["branch"]]
    for depth, group in members.groupby("depth"):
        if int(depth) not in chosen:
            nearest = group.loc[group["l2_distance"].idxmin()]
            chosen[int(depth)] = int(nearest["restart"])
            logger.info("weight_paths: %s has no converged model of the lowest branch at depth %d, so restart %d, "
                        "not converged, is drawn", name, depth, chosen[int(depth)])
    return dict(sorted(chosen.items()))


def _entries_of_largest_range(K: np.ndarray, b: np.ndarray) -> tuple[tuple[int, int], int]:
    """Return the index (i, j) of K and i of b whose curves have the largest range in t.

    For constant curves (range 0 everywhere) the entries of largest magnitude are taken.
    """
    def score(values: np.ndarray) -> np.ndarray:
        spread = values.max(axis=0) - values.min(axis=0)
        return spread if np.any(spread > 0) else np.abs(values).max(axis=0)

    K_index = np.unravel_index(int(np.argmax(score(K))), K.shape[1:])
    b_index = int(np.argmax(score(b)))
    return (int(K_index[0]), int(K_index[1])), b_index


def _draw_paths(panel: Axes, grid_t, limit_values, models: dict, component: int, colours) -> None:
    """Draw column ``component`` of each depth's theta as steps (dashed if not converged) over the limit."""
    for depth, (theta, converged) in sorted(models.items()):
        edges = np.linspace(0.0, 1.0, depth + 1)
        label = f"N = {depth}" if converged else f"N = {depth} (not converged)"
        panel.stairs(theta[:, component], edges, color=colours[depth], linewidth=1.0, label=label, baseline=None,
                     linestyle="-" if converged else "--")
    panel.plot(grid_t, limit_values, color="black", linewidth=1.6, label="continuum", zorder=5)


# --- feature flow --------------------------------------------------------------------


def _feature_flow_inputs(tree: ResultsTree, name: str):
    """Return (data set, deepest model, its limit or None) for one data set, or None with a note."""
    dataset = tree.dataset(name)
    if dataset is None:
        logger.info("feature_flow: data/%s.npz not found, so its row is left out", name)
        return None
    if dataset.n_features != 2:
        logger.info("feature_flow: %s has %d features, and the flow is drawn for 2 only, so its row is left out",
                    name, dataset.n_features)
        return None
    table = tree.analysis(name, "baseline")
    if table is None or table.empty:
        logger.info("feature_flow: no baseline analysis for %s, so its row is left out", name)
        return None

    deepest = table[table["depth"] == table["depth"].max()]
    candidates = deepest[deepest["converged"]] if deepest["converged"].any() else deepest
    chosen = candidates.loc[candidates["energy"].idxmin()]
    model = load_model(tree.root / "models" / name / "baseline", int(chosen["depth"]), int(chosen["restart"]))

    limit = None
    branches = tree.branches(name, "baseline")
    if branches is not None and chosen.get("branch", -1) >= 0:
        row = branches[branches["branch"] == chosen["branch"]]
        if not row.empty:
            restart = int(str(row.iloc[0]["restarts"]).split(";")[0])
            limit = load_limit(tree.limit_dir(name, "baseline"), restart)
    if limit is None:
        logger.info("feature_flow: no continuum minimiser for the branch of %s N=%d, so the limit panel is empty",
                    name, model.depth)
    return dataset, model, limit


def _draw_trajectories(figure: Figure, panel: Axes, name: str, dataset, model: TrainedModel, colours) -> None:
    """Draw the states X_0..X_N of every training point, coloured by class."""
    n = model.settings.state_dim
    x = torch.as_tensor(dataset.padded(n).x_train, dtype=torch.float64)
    with torch.no_grad():
        states = forward(model.params.K, model.params.b, x, model.settings.activation, return_states=True).numpy()

    if n == 3:
        # A padded third coordinate is what lets the flow separate classes that are not
        # separable in the plane, so it is drawn rather than projected away.
        spec = panel.get_subplotspec()
        panel.remove()
        panel = figure.add_subplot(spec, projection="3d")
    plotted_axes = 3 if n == 3 else 2
    for sample, label in enumerate(dataset.y_train):
        path = [states[:, sample, axis] for axis in range(plotted_axes)]
        panel.plot(*path, color=colours[str(label)], linewidth=0.4, alpha=0.5)
    for label in np.unique(dataset.y_train):
        chosen = dataset.y_train == label
        ends = [states[-1, chosen, axis] for axis in range(plotted_axes)]
        panel.scatter(*ends, color=colours[str(label)], s=6, label=f"class {label}")
    panel.set_xlabel("$X_1$")
    panel.set_ylabel("$X_2$")
    if n == 3:
        panel.set_zlabel("$X_3$")
    title = f"{name}: flow through N = {model.depth} layers"
    if n > 3:
        title += f" (first 2 of {n} coordinates)"
    panel.set_title(title)
    panel.legend(loc="best")


def _region_grid(dataset, state_dim: int):
    """Return a grid over the data's bounding box and its points padded to the state dimension."""
    features = np.concatenate([dataset.x_train, dataset.x_test])
    low = features.min(axis=0) - REGION_MARGIN
    high = features.max(axis=0) + REGION_MARGIN
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], REGION_GRID_POINTS),
                                 np.linspace(low[1], high[1], REGION_GRID_POINTS))
    points = np.zeros((grid_x.size, state_dim))
    points[:, 0], points[:, 1] = grid_x.ravel(), grid_y.ravel()
    return grid_x, grid_y, torch.as_tensor(points, dtype=torch.float64)


def _draw_regions(panel: Axes, grid_x, grid_y, classes, dataset, colours, boundary=None) -> None:
    """Shade the predicted class of each grid point and draw the test points on top."""
    labels = sorted(int(label) for label in colours)
    light = ListedColormap([_lighten(colours[str(label)]) for label in labels])
    panel.pcolormesh(grid_x, grid_y, classes, cmap=light, vmin=labels[0] - 0.5, vmax=labels[-1] + 0.5, shading="auto")
    if boundary is not None:
        # One contour per class indicator: contours of the label itself at half-integers
        # would draw two lines where classes 0 and 2 meet.
        for label in labels:
            indicator = (boundary == label).astype(np.float64)
            if 0 < indicator.sum() < indicator.size:
                panel.contour(grid_x, grid_y, indicator, levels=[0.5], colors="black", linewidths=1.0)
    for label in labels:
        chosen = dataset.y_test == label
        panel.scatter(dataset.x_test[chosen, 0], dataset.x_test[chosen, 1], color=colours[str(label)], s=8,
                      edgecolors="white", linewidths=0.3, label=f"test, class {label}")
    panel.set_xlabel("$x_1$")
    panel.set_ylabel("$x_2$")
    panel.grid(False)


def _lighten(colour, saturation: float = 0.4) -> tuple:
    """Return ``colour`` mixed with white, keeping ``saturation`` of its distance from white."""
    return tuple(1 - saturation * (1 - channel) for channel in colour[:3])
