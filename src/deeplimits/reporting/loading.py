"""Read the workflow's ``results/`` folder into pandas tables, dictionaries and arrays.

The file formats are those of results/README.md. A reader returns None (or an empty
table) when its file is missing and logs a note, so that a figure or table can leave out
the part that needs it. A file that exists but is malformed raises.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.rates import fit_order, refit
from ..analysis.study import RESOLUTION_FACTOR
from ..artifacts import read_json, read_npz
from ..datasets import Dataset, load_dataset

logger = logging.getLogger(__name__)

__all__ = [
    "STUDIES",
    "LIMIT_STUDIES",
    "BENCHMARK_COLUMNS",
    "ResultsTree",
    "read_benchmark",
    "lowest_models",
    "lowest_branch",
    "recovery_fit",
    "branch_estimates",
]

STUDIES = ("baseline", "no_derivative_penalty", "no_derivative_penalty_iid", "scaling_q0", "scaling_q2")
# Studies whose config has a continuum limit: the ODE problem, and the constant-parameter problem.
LIMIT_STUDIES = ("baseline", "scaling_q2")

# Columns of a Snakemake benchmark file that the tables use, in seconds and megabytes.
BENCHMARK_COLUMNS = ("s", "max_rss")

_BOOLEAN_COLUMNS = ("converged", "lowest")
_DEPTH_PATTERN = re.compile(r"^N(\d+)$")
_RESTART_PATTERN = re.compile(r"^restart(\d+)$")


@dataclass
class ResultsTree:
    """The ``results/`` folder of one workflow run, read lazily and cached.

    Parameters
    ----------
    root : Path
        The folder that contains ``data/``, ``models/``, ``limit/``, ``forward/``,
        ``analysis/`` and ``benchmarks/``.
    """

    root: Path
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def _cached(self, key, reader):
        if key not in self._cache:
            self._cache[key] = reader()
        return self._cache[key]

    # --- data sets --------------------------------------------------------------------

    def dataset(self, name: str) -> Dataset | None:
        """Return the data set ``data/{name}.npz``, or None if it is missing."""
        path = self.root / "data" / f"{name}.npz"
        return self._cached(("dataset", name), lambda: _optional(path, load_dataset))

    # --- analysis ---------------------------------------------------------------------

    def analysis(self, dataset: str, study: str) -> pd.DataFrame | None:
        """Return the model table ``analysis/{dataset}/{study}.csv``, or None if it is missing."""
        path = self.root / "analysis" / dataset / f"{study}.csv"
        return self._cached(("analysis", dataset, study), lambda: _optional(path, _read_csv))

    def branches(self, dataset: str, study: str) -> pd.DataFrame | None:
        """Return ``analysis/{dataset}/{study}_branches.csv``, or None if it is missing or has no rows."""
        path = self.root / "analysis" / dataset / f"{study}_branches.csv"
        table = self._cached(("branches", dataset, study), lambda: _optional(path, _read_csv))
        return None if table is None or table.empty else table

    def rates(self, dataset: str, study: str) -> dict | None:
        """Return the rates document ``analysis/{dataset}/{study}_rates.json``, or None."""
        path = self.root / "analysis" / dataset / f"{study}_rates.json"
        return self._cached(("rates", dataset, study), lambda: _optional(path, read_json))

    def claims(self) -> pd.DataFrame | None:
        """Return ``analysis/claims.csv``, or None if it is missing."""
        path = self.root / "analysis" / "claims.csv"
        return self._cached(("claims",), lambda: _optional(path, _read_csv))

    def claims_document(self) -> dict | None:
        """Return ``analysis/claims.json`` (data sets, thresholds, claims), or None."""
        path = self.root / "analysis" / "claims.json"
        return self._cached(("claims_document",), lambda: _optional(path, read_json))

    def fit_min_depth(self, key: str = "fit_min_depth") -> int | None:
        """Return the smallest depth of the fit range that the claim verdicts used, if known.

        ``key`` is ``"fit_min_depth"`` for the trained models or ``"forward_fit_min_depth"``
        for the forward check at fixed parameters.
        """
        document = self.claims_document()
        if document and key in (document.get("thresholds") or {}):
            return int(document["thresholds"][key])
        return None

    def fit(self, fit: dict | None) -> dict | None:
        """Return a rate fit over the range the claim verdicts used.

        ``deeplimits claims`` refits every order from its stored series with the
        thresholds' ``fit_min_depth``, so refitting here keeps the slopes in figures and
        tables equal to the ones the verdicts rest on.
        """
        if not fit:
            return None
        fit_min_depth = self.fit_min_depth()
        if fit_min_depth is None or fit_min_depth == fit.get("fit_min_depth"):
            return fit
        return refit(fit, fit_min_depth).to_dict()

    # --- forward checks ---------------------------------------------------------------

    def consistency(self, dataset: str) -> dict[str, np.ndarray] | None:
        """Return the arrays of ``forward/{dataset}/consistency.npz``, or None."""
        path = self.root / "forward" / dataset / "consistency.npz"
        return self._cached(("consistency", dataset), lambda: _optional(path, _read_forward))

    def recoveries(self, dataset: str) -> dict[int, dict[str, np.ndarray]]:
        """Return the arrays of every ``forward/{dataset}/recovery_restart{r}.npz``, keyed by r."""
        def read() -> dict[int, dict[str, np.ndarray]]:
            found = {}
            for path in sorted((self.root / "forward" / dataset).glob("recovery_restart*.npz")):
                match = re.fullmatch(r"recovery_restart(\d+)", path.stem)
                if match:
                    found[int(match.group(1))] = _read_forward(path)
            if not found:
                logger.info("no recovery-sequence files in %s", self.root / "forward" / dataset)
            return found
        return self._cached(("recoveries", dataset), read)

    # --- models and continuum solutions -----------------------------------------------

    def model_path(self, dataset: str, study: str, depth: int, restart: int) -> Path:
        """Return the stem ``models/{dataset}/{study}/N{depth}/restart{restart}`` (no suffix)."""
        return self.root / "models" / dataset / study / f"N{depth}" / f"restart{restart}"

    def limit_dir(self, dataset: str, study: str) -> Path:
        """Return the folder ``limit/{dataset}/{study}``."""
        return self.root / "limit" / dataset / study

    def model_metrics(self, dataset: str, study: str) -> pd.DataFrame:
        """Return one row per trained model of a study: depth, restart, wall time, converged.

        Read from the metrics JSON files, so it works before ``deeplimits analyse`` ran.
        """
        def read() -> pd.DataFrame:
            rows = []
            for path in sorted((self.root / "models" / dataset / study).glob("N*/restart*.json")):
                depth, restart = _DEPTH_PATTERN.match(path.parent.name), _RESTART_PATTERN.match(path.stem)
                if not depth or not restart:
                    continue
                metrics = read_json(path)
                rows.append({
                    "dataset": dataset,
                    "study": study,
                    "depth": int(depth.group(1)),
                    "restart": int(restart.group(1)),
                    "wall_time": metrics.get("wall_time"),
                    "iterations": metrics.get("iterations"),
                    "converged": bool(metrics.get("converged", False)),
                })
            return pd.DataFrame(rows, columns=["dataset", "study", "depth", "restart", "wall_time", "iterations", "converged"])
        return self._cached(("model_metrics", dataset, study), read)

    def limit_metrics(self, dataset: str, study: str) -> dict[int, dict]:
        """Return the metrics JSON of every continuum solution of a study, keyed by restart."""
        def read() -> dict[int, dict]:
            found = {}
            for path in sorted(self.limit_dir(dataset, study).glob("restart*.json")):
                match = _RESTART_PATTERN.match(path.stem)
                if match:
                    found[int(match.group(1))] = read_json(path)
            return found
        return self._cached(("limit_metrics", dataset, study), read)

    # --- benchmarks -------------------------------------------------------------------

    def benchmarks(self) -> pd.DataFrame:
        """Return one row per Snakemake benchmark file under ``benchmarks/``.

        Columns: ``rule`` (the first folder), ``dataset``, ``study`` and ``depth`` where the
        path names them (empty otherwise), ``path`` relative to ``benchmarks/``, ``s``
        (wall time in seconds) and ``max_rss`` (MB). A file with several rows (a
        benchmark repeated with ``repeat()``) contributes the mean of its rows.
        """
        return self._cached(("benchmarks",), lambda: _read_benchmarks(self.root / "benchmarks"))


def lowest_models(table: pd.DataFrame, rates: dict | None) -> pd.DataFrame:
    """Return the model of lowest energy at each depth, one row per depth, sorted by depth.

    The rows are those of the rates document's ``lowest`` series (the lowest-energy
    converged model per depth) when it names one. At a depth where it names none, the
    lowest-energy model of any convergence status is taken.
    """
    if table is None or table.empty:
        return pd.DataFrame()
    series = (rates or {}).get("lowest", {}).get("series", {})
    chosen = {
        int(depth): int(restart)
        for depth, restart in zip(series.get("depth", []), series.get("restart", []))
        if restart is not None
    }
    rows = []
    for depth, group in table.groupby("depth"):
        if int(depth) in chosen and (group["restart"] == chosen[int(depth)]).any():
            rows.append(group[group["restart"] == chosen[int(depth)]].iloc[0])
        else:
            rows.append(group.loc[group["energy"].idxmin()])
    return pd.DataFrame(rows).infer_objects().sort_values("depth").reset_index(drop=True)


def lowest_branch(rates: dict | None) -> dict | None:
    """Return the lowest-energy branch of a rates document, or None for a study without a limit."""
    branches = (rates or {}).get("branches") or []
    marked = [branch for branch in branches if branch.get("lowest")]
    if marked:
        return marked[0]
    return min(branches, key=lambda branch: branch["limit_energy"]) if branches else None


def recovery_fit(arrays: dict[str, np.ndarray], energy_error_estimate, fit_min_depth: int | None) -> dict:
    """Fit the order of a recovery-sequence gap as the verdict of claim C2 does.

    Depths whose gap is not above RESOLUTION_FACTOR times the continuum energy's error
    estimate are excluded: there the gap measures the reference's error, not the depth's.
    """
    exclude = {}
    if energy_error_estimate is not None and math.isfinite(float(energy_error_estimate)):
        bound = RESOLUTION_FACTOR * float(energy_error_estimate)
        exclude = {
            int(depth): f"{gap:.3g} is not above {RESOLUTION_FACTOR:g} x the energy error estimate"
            for depth, gap in zip(arrays["depth"], arrays["energy_gap"])
            if math.isfinite(float(gap)) and gap <= bound
        }
    return fit_order(arrays["depth"], arrays["energy_gap"], fit_min_depth or 1, exclude).to_dict()


def branch_estimates(branches: pd.DataFrame | None) -> dict[int, float]:
    """Return the energy error estimate of each restart's branch, from a branches table."""
    if branches is None or "energy_error_estimate" not in branches.columns:
        return {}
    return {
        int(restart): float(row["energy_error_estimate"])
        for _, row in branches.iterrows()
        for restart in str(row["restarts"]).split(";") if restart.strip()
    }


def read_benchmark(path: Path) -> dict[str, float]:
    """Read a Snakemake benchmark TSV and return the mean of its ``s`` and ``max_rss`` columns.

    Raises
    ------
    ValueError
        If the file lacks the ``s`` column. A missing ``max_rss`` (written as ``-`` or
        ``NA`` when Snakemake could not measure it) gives NaN instead.
    """
    table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
    if "s" not in table.columns:
        raise ValueError(f"{path}: no column 's' in the benchmark file; columns are {list(table.columns)}")
    values = {}
    for column in BENCHMARK_COLUMNS:
        series = pd.to_numeric(table[column], errors="coerce") if column in table.columns else pd.Series(dtype=float)
        values[column] = float(series.mean()) if series.notna().any() else math.nan
    return values


def _read_benchmarks(folder: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(folder.rglob("*.tsv")):
        relative = path.relative_to(folder)
        parts = relative.with_suffix("").parts
        if len(parts) < 2:
            logger.info("benchmark file %s is not inside a rule's folder, so it is left out", path)
            continue
        row = {"rule": parts[0], "dataset": "", "study": "", "depth": math.nan, "path": str(relative)}
        row["study"] = next((part for part in parts[1:] if part in STUDIES), "")
        depth = next((_DEPTH_PATTERN.match(part) for part in parts[1:] if _DEPTH_PATTERN.match(part)), None)
        if depth:
            row["depth"] = int(depth.group(1))
        if parts[1] not in STUDIES and not _DEPTH_PATTERN.match(parts[1]):
            row["dataset"] = parts[1]
        row.update(read_benchmark(path))
        rows.append(row)
    if not rows:
        logger.info("no benchmark files under %s", folder)
    return pd.DataFrame(rows, columns=["rule", "dataset", "study", "depth", "path", *BENCHMARK_COLUMNS])


def _optional(path: Path, reader):
    if not path.exists():
        logger.debug("%s not found, so the parts that need it are left out", path)
        return None
    return reader(path)


def _read_csv(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        return pd.DataFrame()
    table = pd.read_csv(path)
    for column in _BOOLEAN_COLUMNS:
        if column in table.columns:
            table[column] = table[column].map(_as_bool)
    return table


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


def _read_forward(path: Path) -> dict[str, np.ndarray]:
    return read_npz(path, required=("depth", "state_error", "energy_gap"))
