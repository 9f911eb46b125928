"""One look for every figure: seaborn theme, colours, log-log axes, slope marks, saving.

Every figure of the report goes through :func:`apply_style` before it is drawn and through
:func:`save_figure` afterwards, so fonts, colours of studies and data sets, the ticks of
the depth axis and the file metadata are the same everywhere.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

# The figures are written to files by batch jobs, often on hosts without a display.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter  # noqa: E402
from matplotlib.transforms import offset_copy  # noqa: E402

from ..artifacts import atomic_path  # noqa: E402

logger = logging.getLogger(__name__)

__all__ = [
    "STUDY_LABELS",
    "STUDY_COLOURS",
    "PANEL_WIDTH",
    "PANEL_HEIGHT",
    "PNG_DPI",
    "apply_style",
    "category_colours",
    "depth_colours",
    "new_figure",
    "set_depth_axis",
    "add_slope_triangle",
    "plot_fitted_line",
    "plot_series",
    "order_text",
    "panel_legend",
    "note_on_axes",
    "no_data_figure",
    "save_figure",
]

# Size of one panel in inches, so a figure of r x c panels is c * PANEL_WIDTH wide. Four
# panels side by side fit the 160 mm text width of the report at about 70 % scale.
PANEL_WIDTH = 3.6
PANEL_HEIGHT = 2.9
PNG_DPI = 150
# Distance in points from the bottom of a panel to the top of its legend: the height of
# the tick labels and of the x label at the font sizes of :func:`apply_style`.
LEGEND_OFFSET = 30

STUDY_LABELS = {
    "baseline": r"baseline ($\alpha > 0$, $q = 1$)",
    "no_derivative_penalty": r"$\alpha = 0$, smooth start",
    "no_derivative_penalty_iid": r"$\alpha = 0$, i.i.d. start",
    "scaling_q0": r"$q = 0$",
    "scaling_q2": r"$q = 2$",
}

# Fixed colours per study, so that a study looks the same in every figure.
_STUDY_PALETTE = sns.color_palette("colorblind", 10)
STUDY_COLOURS = {
    "baseline": _STUDY_PALETTE[0],
    "no_derivative_penalty": _STUDY_PALETTE[3],
    "no_derivative_penalty_iid": _STUDY_PALETTE[1],
    "scaling_q0": _STUDY_PALETTE[4],
    "scaling_q2": _STUDY_PALETTE[2],
}


def apply_style() -> None:
    """Set the seaborn theme and the matplotlib settings shared by all figures."""
    sns.set_theme(context="paper", style="ticks", palette="colorblind", font_scale=1.0)
    plt.rcParams.update({
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.5,
        "legend.fontsize": 6.5,
        "legend.frameon": False,
        "lines.linewidth": 1.2,
        "lines.markersize": 4,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "savefig.bbox": "tight",
        # TrueType fonts embed as Type 42, which keeps the text of a PDF selectable.
        "pdf.fonttype": 42,
        "mathtext.fontset": "dejavusans",
    })


def category_colours(names: Sequence[str]) -> dict[str, tuple]:
    """Return one colour of the colour-blind palette per name, in the order given."""
    palette = sns.color_palette("colorblind", max(len(names), 1))
    return {name: palette[index % len(palette)] for index, name in enumerate(names)}


def depth_colours(depths: Sequence[int]) -> dict[int, tuple]:
    """Return a colour per depth on a sequential palette, light for shallow and dark for deep."""
    depths = sorted(set(int(depth) for depth in depths))
    palette = sns.color_palette("viridis_r", max(len(depths), 2))
    return {depth: palette[index] for index, depth in enumerate(depths)}


def new_figure(rows: int, columns: int, **options) -> tuple[Figure, np.ndarray]:
    """Create a figure of ``rows`` x ``columns`` panels and return it with a 2-D array of axes."""
    figure, axes = plt.subplots(
        rows, columns,
        figsize=(columns * PANEL_WIDTH, rows * PANEL_HEIGHT),
        squeeze=False,
        layout="constrained",
        **options,
    )
    return figure, axes


def set_depth_axis(axes: Axes, depths: Sequence[int]) -> None:
    """Make the x axis a log2 axis of the depth N with a tick at each depth."""
    depths = sorted(set(int(depth) for depth in depths))
    axes.set_xscale("log", base=2)
    axes.set_xlabel("depth $N$")
    if depths:
        axes.xaxis.set_major_locator(FixedLocator(depths))
        axes.xaxis.set_minor_locator(NullLocator())
        formatter = ScalarFormatter()
        formatter.set_scientific(False)
        axes.xaxis.set_major_formatter(formatter)
        if len(depths) > 8:
            axes.tick_params(axis="x", labelrotation=45)


def add_slope_triangle(axes: Axes, order: float, depths: Sequence[float], values: Sequence[float], label: str | None = None) -> None:
    """Draw a reference triangle of slope ``-order`` below the data on log-log axes.

    The triangle spans the last doubling (or the last factor of the depth range, if it is
    shorter) and sits half a decade below the smallest value there, so it never covers
    the data. Nothing is drawn without two positive finite values.
    """
    points = [(float(depth), float(value)) for depth, value in zip(depths, values)
              if value is not None and math.isfinite(value) and value > 0]
    if len(points) < 2:
        return
    points.sort()
    right = points[-1][0]
    left = max(points[0][0], right / 2)
    if left >= right:
        return
    base = min(value for _, value in points) / math.sqrt(10)
    top = base * (right / left) ** order
    xs = [left, right, left, left]
    ys = [base, base, top, base]
    axes.plot(xs, ys, color="0.35", linewidth=0.8, zorder=1)
    text = label if label is not None else f"{order:g}"
    axes.annotate(text, xy=(left, math.sqrt(base * top)), xytext=(-3, 0), textcoords="offset points",
                  ha="right", va="center", fontsize=6.5, color="0.35")


def plot_fitted_line(axes: Axes, fit: dict, colour) -> None:
    """Draw ``C N^(-order)`` of a rate fit over its fitted depths as a thin dashed line."""
    if not fit or not fit.get("sufficient") or not fit.get("fit_depths"):
        return
    depths = np.asarray(fit["fit_depths"], dtype=np.float64)
    values = fit["constant"] * depths ** (-fit["order"])
    axes.plot(depths, values, linestyle="--", linewidth=0.8, color=colour, zorder=1)


def plot_series(
    axes: Axes,
    depths: Sequence[int],
    values: Sequence[float | None],
    colour,
    label: str | None,
    fitted: Sequence[int] | None = None,
    log_values: bool = True,
    **options,
) -> bool:
    """Plot a series against the depth and return whether anything was drawn.

    Points at depths outside ``fitted`` (when given) are drawn hollow, so the depths that a
    slope rests on (or the converged models) stand out. With ``log_values`` the y axis is
    logarithmic and zero and negative values are left out, because it cannot show them.
    Missing values are always left out.
    """
    points = [(int(depth), float(value)) for depth, value in zip(depths, values)
              if value is not None and math.isfinite(float(value)) and (float(value) > 0 or not log_values)]
    if not points:
        return False
    xs, ys = zip(*sorted(points))
    options.setdefault("marker", "o")
    line, = axes.plot(xs, ys, color=colour, label=label, **{**options, "marker": None})
    fitted = set(int(depth) for depth in fitted) if fitted is not None else set(xs)
    filled = [(x, y) for x, y in zip(xs, ys) if x in fitted]
    hollow = [(x, y) for x, y in zip(xs, ys) if x not in fitted]
    size = options.get("markersize", plt.rcParams["lines.markersize"])
    for group, face in ((filled, colour), (hollow, "none")):
        if group:
            axes.plot(*zip(*group), linestyle="none", marker=options["marker"], markersize=size,
                      markerfacecolor=face, markeredgecolor=colour, zorder=line.get_zorder())
    if log_values:
        axes.set_yscale("log")
    return True


def order_text(fit: dict | None) -> str:
    """Return "order 1.02 [0.98, 1.05]" for a sufficient rate fit, "order n/a" otherwise."""
    if not fit or not fit.get("sufficient") or fit.get("order") is None:
        return "order n/a"
    return f"order {fit['order']:.2f} [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"


def panel_legend(axes: Axes, columns: int = 1) -> None:
    """Put the legend of a panel below it, outside the data, if the panel has labelled artists.

    Constrained layout makes room for it, so the legend never hides a point.
    """
    if not axes.get_legend_handles_labels()[0]:
        return
    # Anchored a fixed distance below the axes, clear of the tick labels and the x label
    # (more when the depth ticks are rotated), whatever height the layout gives the panel.
    rotated = any(label.get_rotation() for label in axes.get_xticklabels())
    below = offset_copy(axes.transAxes, fig=axes.figure, y=-(LEGEND_OFFSET + 12 * rotated), units="points")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncols=columns, borderaxespad=0.0)


def note_on_axes(axes: Axes, message: str) -> None:
    """Write ``message`` in the middle of an empty panel and hide its ticks."""
    axes.text(0.5, 0.5, message, transform=axes.transAxes, ha="center", va="center", fontsize=7, wrap=True)
    axes.set_xticks([])
    axes.set_yticks([])
    axes.grid(False)


def no_data_figure(name: str, reason: str) -> Figure:
    """Return a one-panel figure that states that ``name`` has no data, and why."""
    figure, axes = new_figure(1, 1)
    note_on_axes(axes[0, 0], f"{name}: no data\n{reason}")
    return figure


def save_figure(figure: Figure, prefix: str | Path) -> list[Path]:
    """Write ``prefix.pdf`` and ``prefix.png`` atomically and close the figure.

    The PDF gets no creation date and the PNG no software tag, so that a rerun on the same
    results and library versions writes the same bytes.

    Returns
    -------
    list of Path
        The two files written.
    """
    prefix = Path(prefix)
    _tidy_log_axes(figure)
    written = []
    for suffix, options in ((".pdf", {"metadata": {"CreationDate": None}}),
                            (".png", {"dpi": PNG_DPI, "metadata": {"Software": None}})):
        target = prefix.with_name(prefix.name + suffix)
        with atomic_path(target, suffix=suffix) as temporary:
            figure.savefig(temporary, format=suffix[1:], **options)
        written.append(target)
    plt.close(figure)
    logger.info("wrote %s", ", ".join(str(path) for path in written))
    return written


def _tidy_log_axes(figure: Figure) -> None:
    """Label only the decades of log y axes that span at least one, so labels do not crowd."""
    for axes in figure.get_axes():
        if axes.name != "rectilinear" or axes.get_yscale() != "log":
            continue
        low, high = axes.get_ylim()
        if low > 0 and high / low >= 10:
            axes.yaxis.set_minor_formatter(NullFormatter())
