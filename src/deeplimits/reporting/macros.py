r"""The LaTeX macros through which the report quotes measured numbers.

``macros.tex`` defines one command, ``\dl{KEY}``, which expands to the value stored under
KEY (built with ``\csname``, so keys may contain ``-`` and ``_``) and stops the LaTeX run
with ``\PackageError`` for a key it does not define. The expansion is plain text and
``\ensuremath`` numbers, so ``\dl`` also works inside ``\edef`` (the report compares
verdicts that way). Every key of :func:`macro_keys` is always defined: a value whose
inputs are missing is ``n/a``. The claim ids C1..C9 are those of
:data:`deeplimits.analysis.claims.CLAIMS`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from pathlib import Path

from ..analysis.rates import fit_order
from ..artifacts import atomic_path, read_json
from .latex import MISSING, escape_latex, format_interval, format_number, format_order
from .loading import STUDIES, ResultsTree, lowest_branch, recovery_fit

logger = logging.getLogger(__name__)

__all__ = ["CLAIM_IDS", "GLOBAL_KEYS", "DATASET_KEYS", "macro_keys", "macro_values", "render_macros", "write_macros"]

CLAIM_IDS = tuple(f"C{index}" for index in range(1, 10))
DATASET_KEYS = (
    "einf", "einf-error", "energy-order", "energy-order-ci", "distance-order",
    "forward-order", "recovery-order", "branches", "accuracy-limit",
)
GLOBAL_KEYS = (
    "depth-min", "depth-max", "depths", "restarts", "tolerance", "alpha", "beta", "gamma", "degree",
    "steps", "datasets", "reproduced-count", "total-wall-time", "n-models",
)

# Characters a data set name may have to be part of a \csname key and of a file name.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.]+$")

REPRODUCED = "REPRODUCED"


def macro_keys(datasets: Sequence[str]) -> list[str]:
    """Return every key that ``macros.tex`` defines for ``datasets``, in file order."""
    keys = [f"{claim}-{part}" for part in ("verdict", "evidence") for claim in CLAIM_IDS]
    keys += [f"{name}-{key}" for name in datasets for key in DATASET_KEYS]
    keys += list(GLOBAL_KEYS)
    return keys


def macro_values(tree: ResultsTree, datasets: Sequence[str]) -> dict[str, str]:
    """Compute the LaTeX text of every macro key from the results folder.

    Per data set, the numbers are those of the baseline study: E_inf and its estimated
    error, the orders of the energy gap and of the L^2 distance on the lowest-energy
    branch, the order of the state error at fixed smooth parameters (C1), of the
    recovery-sequence gap of the lowest-energy branch's continuum minimiser (C2), the
    number of branches and the test accuracy of the lowest-energy limit classifier.
    Orders are fitted over the verdicts' ``fit_min_depth``.

    Raises
    ------
    ValueError
        If a data set name contains characters other than letters, digits, ``_`` and ``.``.
    """
    for name in datasets:
        if not _NAME_PATTERN.match(name):
            raise ValueError(f"data set name {name!r} cannot be a LaTeX macro key; use letters, digits, '_' and '.' only")

    values = _claim_values(tree)
    for name in datasets:
        for key, value in _dataset_values(tree, name).items():
            values[f"{name}-{key}"] = value
    values.update(_global_values(tree, datasets))

    keys = macro_keys(datasets)
    missing = [key for key in keys if values.get(key) in (None, MISSING)]
    if missing:
        logger.warning("macros without a value (written as %s): %s", MISSING, ", ".join(missing))
    return {key: values.get(key) or MISSING for key in keys}


def _claim_values(tree: ResultsTree) -> dict[str, str]:
    values = {}
    claims = tree.claims()
    rows = {} if claims is None else {str(row["id"]): row for _, row in claims.iterrows()}
    for claim in CLAIM_IDS:
        row = rows.get(claim)
        values[f"{claim}-verdict"] = escape_latex(row["verdict"]) if row is not None else MISSING
        values[f"{claim}-evidence"] = escape_latex(row["evidence"]) if row is not None else MISSING
    return values


def _dataset_values(tree: ResultsTree, name: str) -> dict[str, str]:
    rates = tree.rates(name, "baseline")
    branch = lowest_branch(rates)
    values = {
        "branches": str(len(rates.get("branches", []))) if rates and rates.get("has_limit", True) else MISSING,
        "forward-order": _forward_order(tree, name),
    }
    if branch is None:
        logger.info("macros: no baseline branch of %s, so its limit numbers are %s", name, MISSING)
        return values

    energy = tree.fit(branch.get("rates", {}).get("energy_gap"))
    values.update({
        "einf": format_number(branch.get("limit_energy"), 4),
        "einf-error": format_number(branch.get("energy_error_estimate"), 2),
        "energy-order": _order(energy),
        "energy-order-ci": _interval(energy),
        "distance-order": _order_with_interval(tree.fit(branch.get("rates", {}).get("l2_distance"))),
        "recovery-order": _recovery_order(tree, name, branch),
        "accuracy-limit": format_number(_limit_accuracy(tree, name, branch), 3),
    })
    return values


def _forward_order(tree: ResultsTree, name: str) -> str:
    arrays = tree.consistency(name)
    if arrays is None:
        return MISSING
    return _order_with_interval(fit_order(arrays["depth"], arrays["state_error"], tree.fit_min_depth("forward_fit_min_depth") or 1).to_dict())


def _recovery_order(tree: ResultsTree, name: str, branch: dict) -> str:
    recoveries = tree.recoveries(name)
    for restart in branch.get("restarts", []):
        if int(restart) in recoveries:
            fit = recovery_fit(recoveries[int(restart)], branch.get("energy_error_estimate"), tree.fit_min_depth())
            return _order_with_interval(fit)
    return MISSING


def _limit_accuracy(tree: ResultsTree, name: str, branch: dict):
    branches = tree.branches(name, "baseline")
    if branches is not None and "test_accuracy" in branches.columns:
        row = branches[branches["branch"] == branch["branch"]]
        if not row.empty and not math.isnan(float(row.iloc[0]["test_accuracy"])):
            return float(row.iloc[0]["test_accuracy"])
    metrics = tree.limit_metrics(name, "baseline").get(int(branch["restarts"][0]), {})
    return metrics.get("test_accuracy")


def _global_values(tree: ResultsTree, datasets: Sequence[str]) -> dict[str, str]:
    depths, restarts = set(), 0
    for name in datasets:
        rates = tree.rates(name, "baseline")
        if rates:
            depths.update(int(depth) for depth in rates.get("depths", []))
            restarts = max(restarts, int(rates.get("restarts", 0)))

    model = _first_metrics(tree.root / "models", datasets, "N*/restart*.json")
    limit = _first_metrics(tree.root / "limit", datasets, "restart*.json")
    settings = (model or limit or {}).get("settings", {})
    continuum = (limit or {}).get("continuum", {})
    claims = tree.claims()
    model_count = sum(len(tree.model_metrics(name, study)) for name in datasets for study in STUDIES)

    return {
        "depth-min": str(min(depths)) if depths else MISSING,
        "depth-max": str(max(depths)) if depths else MISSING,
        "depths": ", ".join(str(depth) for depth in sorted(depths)) if depths else MISSING,
        "restarts": str(restarts) if restarts else MISSING,
        "tolerance": format_number((model or {}).get("optimiser", {}).get("tolerance"), 3, trim=True),
        "alpha": format_number(settings.get("alpha"), 3, trim=True),
        "beta": format_number(settings.get("beta"), 3, trim=True),
        "gamma": format_number(settings.get("gamma"), 3, trim=True),
        "degree": format_number(continuum.get("degree")),
        "steps": format_number(continuum.get("steps")),
        "datasets": ", ".join(escape_latex(name) for name in datasets),
        "reproduced-count": str(int((claims["verdict"] == REPRODUCED).sum())) if claims is not None else MISSING,
        "total-wall-time": _duration(tree, datasets),
        "n-models": str(model_count),
    }


def _first_metrics(folder: Path, datasets: Sequence[str], pattern: str) -> dict | None:
    """Return the first metrics JSON of the baseline study over ``datasets``, or None."""
    for name in datasets:
        for path in sorted((folder / name / "baseline").glob(pattern)):
            return read_json(path)
    return None


def _duration(tree: ResultsTree, datasets: Sequence[str]) -> str:
    """Return the summed wall time of the benchmarked jobs with its unit, e.g. ``12.3~min``."""
    benchmarks = tree.benchmarks()
    if benchmarks.empty:
        return MISSING
    benchmarks = benchmarks[(benchmarks["dataset"] == "") | benchmarks["dataset"].isin(datasets)]
    seconds = float(benchmarks["s"].sum())
    if seconds < 120:
        return f"{seconds:.0f}~s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}~min"
    return f"{seconds / 3600:.1f}~h"


def _order(fit: dict | None) -> str:
    if not fit or not fit.get("sufficient"):
        return MISSING
    return format_order(fit["order"])


def _interval(fit: dict | None) -> str:
    if not fit or not fit.get("sufficient"):
        return MISSING
    return format_interval(fit["ci_low"], fit["ci_high"])


def _order_with_interval(fit: dict | None) -> str:
    if not fit or not fit.get("sufficient"):
        return MISSING
    return f"{_order(fit)} {_interval(fit)}"


def render_macros(values: dict[str, str]) -> str:
    r"""Return the text of ``macros.tex``: the ``\dl`` command and one definition per key."""
    lines = [
        "% Generated by `deeplimits macros` from the results folder; do not edit.",
        r"% \dl{KEY} expands to the value stored under KEY; an unknown KEY stops the LaTeX run.",
        r"\providecommand*{\dl}[1]{%",
        r"  \ifcsname dl@#1\endcsname",
        r"    \csname dl@#1\endcsname",
        r"  \else",
        r"    \PackageError{deeplimits}{No result macro named `#1'}"
        r"{The key is not defined in results/tables/macros.tex. Check its spelling, or rebuild the file with `deeplimits macros'.}%",
        r"  \fi}",
    ]
    for key, value in values.items():
        lines.append(rf"\expandafter\def\csname dl@{key}\endcsname{{{value}}}")
    return "\n".join(lines) + "\n"


def write_macros(results: str | Path, datasets: Sequence[str], out: str | Path) -> Path:
    """Compute every macro from the results folder and write ``out`` (``macros.tex``) atomically.

    Raises
    ------
    ValueError
        If ``datasets`` is empty or a name cannot be a macro key.
    """
    if not datasets:
        raise ValueError("no data sets given; pass --datasets with at least one name")
    values = macro_values(ResultsTree(Path(results)), list(datasets))
    out = Path(out)
    with atomic_path(out, suffix=".tex") as temporary:
        temporary.write_text(render_macros(values))
    logger.info("wrote %s (%d keys)", out, len(values))
    return out
