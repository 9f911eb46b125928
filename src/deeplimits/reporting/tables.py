"""The tables of the report by name, each written as CSV and as a booktabs LaTeX tabular.

* ``convergence``: one row per data set, study with a limit and branch, plus a row
  ``all`` for the lowest energy over all branches. Each row has the observed orders with
  95 % intervals of the energy gap and of the distances, E_inf and its estimated error.
* ``branches``: the branches of continuum minimisers, their energies, restarts and members.
* ``claims``: id, claim, verdict and evidence of C1..C9.
* ``refinement``: per data set, study and restart, the change of the continuum solution
  under each refinement variant and the estimate, against the smallest gap compared.
* ``compute_cost``: per rule and study, the Snakemake jobs with total and max wall time
  and max resident memory.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..analysis.study import RESOLUTION_FACTOR
from ..artifacts import atomic_path
from .latex import Column, booktabs_table, escape_latex, format_interval, format_number, format_order
from .loading import LIMIT_STUDIES, ResultsTree

logger = logging.getLogger(__name__)

__all__ = [
    "TABLES",
    "CONVERGENCE_QUANTITIES",
    "REFINEMENT_VARIANTS",
    "convergence_table",
    "branches_table",
    "claims_table",
    "refinement_table",
    "compute_cost_table",
    "make_table",
]

# Quantities whose orders the convergence table lists, with their LaTeX headers.
CONVERGENCE_QUANTITIES = {
    "energy_gap": r"$|E_N - E_\infty|$",
    "l2_distance": r"$L^2$ distance",
    "linf_distance": r"$L^\infty$ distance",
    "classifier_distance": r"$(W, c)$ distance",
    "cauchy_l2": r"Cauchy $L^2$",
}

# Refinement variants of a continuum solution (results/README.md, limit JSON).
REFINEMENT_VARIANTS = ("degree", "step", "tolerance")


def convergence_table(tree: ResultsTree, datasets: Sequence[str]) -> pd.DataFrame:
    """Return one row per data set, study with a limit and branch, plus ``all`` per study.

    Columns: ``dataset``, ``study``, ``branch`` (an index, or ``all`` for the lowest
    energy over all branches at each depth), ``restarts``, ``lowest``, ``limit_energy``,
    ``energy_error_estimate``, and for each quantity of :data:`CONVERGENCE_QUANTITIES`
    ``{quantity}_order``, ``_ci_low``, ``_ci_high`` and ``_depths`` (the fitted depths).
    """
    rows = []
    for name in datasets:
        for study in LIMIT_STUDIES:
            rates = tree.rates(name, study)
            if not rates or not rates.get("branches"):
                logger.info("convergence table: no %s analysis with a limit for %s, so it has no rows", study, name)
                continue
            for branch in rates["branches"]:
                row = {
                    "dataset": name, "study": study, "branch": str(branch["branch"]),
                    "restarts": ";".join(str(restart) for restart in branch.get("restarts", [])),
                    "lowest": bool(branch.get("lowest")),
                    "limit_energy": branch.get("limit_energy"),
                    "energy_error_estimate": branch.get("energy_error_estimate"),
                }
                row.update(_order_columns(tree, branch.get("rates", {})))
                rows.append(row)
            lowest = rates.get("lowest", {})
            row = {
                "dataset": name, "study": study, "branch": "all", "restarts": "", "lowest": True,
                "limit_energy": lowest.get("limit_energy"),
                "energy_error_estimate": lowest.get("energy_error_estimate"),
            }
            row.update(_order_columns(tree, lowest.get("rates", {})))
            rows.append(row)
    columns = ["dataset", "study", "branch", "restarts", "lowest", "limit_energy", "energy_error_estimate"]
    columns += [f"{quantity}_{part}" for quantity in CONVERGENCE_QUANTITIES for part in ("order", "ci_low", "ci_high", "depths")]
    return pd.DataFrame(rows, columns=columns)


def _order_columns(tree: ResultsTree, fits: dict) -> dict:
    values = {}
    for quantity in CONVERGENCE_QUANTITIES:
        fit = tree.fit(fits.get(quantity)) or {}
        sufficient = bool(fit.get("sufficient"))
        values[f"{quantity}_order"] = fit.get("order") if sufficient else None
        values[f"{quantity}_ci_low"] = fit.get("ci_low") if sufficient else None
        values[f"{quantity}_ci_high"] = fit.get("ci_high") if sufficient else None
        values[f"{quantity}_depths"] = " ".join(str(depth) for depth in fit.get("fit_depths", []))
    return values


def branches_table(tree: ResultsTree, datasets: Sequence[str]) -> pd.DataFrame:
    """Return the branches of every study with a limit, one row per branch.

    Columns: ``dataset``, ``study``, ``branch``, ``restarts`` (semicolon-separated),
    ``restart_count``, ``limit_energy``, ``energy_error_estimate``,
    ``theta_error_estimate``, ``lowest``, ``members`` (discrete minimisers assigned),
    ``converged``, ``train_accuracy`` and ``test_accuracy`` of the continuum minimiser.
    """
    columns = ["dataset", "study", "branch", "restarts", "restart_count", "limit_energy", "energy_error_estimate",
               "theta_error_estimate", "lowest", "members", "converged", "train_accuracy", "test_accuracy"]
    frames = []
    for name in datasets:
        for study in LIMIT_STUDIES:
            table = tree.branches(name, study)
            if table is None:
                logger.info("branches table: no branches of %s for %s, so it has no rows", study, name)
                continue
            table = table.copy()
            table.insert(0, "study", study)
            table.insert(0, "dataset", name)
            table["restarts"] = table["restarts"].astype(str)
            table["restart_count"] = table["restarts"].map(lambda value: len([part for part in value.split(";") if part]))
            frames.append(table.reindex(columns=columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def claims_table(tree: ResultsTree, datasets: Sequence[str]) -> pd.DataFrame:
    """Return ``id``, ``claim``, ``verdict`` and ``evidence`` of each claim from ``analysis/claims.csv``.

    The claims file covers the data sets it was computed on. ``datasets`` does not filter
    it, but a mismatch with the file's own list is logged.
    """
    columns = ["id", "claim", "verdict", "evidence"]
    table = tree.claims()
    if table is None:
        logger.info("claims table: analysis/claims.csv not found, so it has no rows")
        return pd.DataFrame(columns=columns)
    document = tree.claims_document() or {}
    judged = document.get("datasets")
    if judged is not None and sorted(judged) != sorted(datasets):
        logger.warning("claims table: the claims were judged on %s, not on the requested %s", judged, list(datasets))
    return table.reindex(columns=columns)


def refinement_table(tree: ResultsTree, datasets: Sequence[str]) -> pd.DataFrame:
    """Return the refinement of every continuum solution against the smallest gap it resolves.

    One row per data set, study with a limit and restart. Columns: ``degree`` and ``steps``
    of the solution. For each variant of :data:`REFINEMENT_VARIANTS`, the change of the
    energy (``{variant}_energy``) and of theta in L^2 (``{variant}_theta_l2``). Then
    ``energy_estimate`` and ``theta_estimate`` (max over variants, leaving out the degree
    variant for a degree-0 solution) and the restart's ``branch``. Then
    ``smallest_energy_gap`` and ``smallest_l2_distance`` over the converged minimisers of
    that branch. Last, ``energy_resolved`` and ``theta_resolved``: whether the estimate is
    below 1/RESOLUTION_FACTOR of that smallest gap, the condition for comparing with it.
    """
    rows = []
    for name in datasets:
        for study in LIMIT_STUDIES:
            solutions = tree.limit_metrics(name, study)
            if not solutions:
                logger.info("refinement table: no continuum solutions of %s for %s, so it has no rows", study, name)
                continue
            branch_of = _branch_of_restart(tree.branches(name, study))
            models = tree.analysis(name, study)
            for restart, metrics in sorted(solutions.items()):
                rows.append(_refinement_row(name, study, restart, metrics, branch_of.get(restart), models))
    columns = ["dataset", "study", "restart", "degree", "steps"]
    columns += [f"{variant}_{key}" for variant in REFINEMENT_VARIANTS for key in ("energy", "theta_l2")]
    columns += ["energy_estimate", "theta_estimate", "branch", "smallest_energy_gap", "smallest_l2_distance",
                "energy_resolved", "theta_resolved"]
    table = pd.DataFrame(rows, columns=columns)
    table["branch"] = table["branch"].astype("Int64")
    return table


def _refinement_row(name, study, restart, metrics, branch, models) -> dict:
    refinement = metrics.get("refinement") or {}
    continuum = metrics.get("continuum") or {}
    row = {"dataset": name, "study": study, "restart": restart, "degree": continuum.get("degree", metrics.get("degree")),
           "steps": continuum.get("steps"), "branch": branch}
    for variant in REFINEMENT_VARIANTS:
        changes = refinement.get(variant) or {}
        row[f"{variant}_energy"] = changes.get("energy")
        row[f"{variant}_theta_l2"] = changes.get("theta_l2")
    estimate = dict(refinement.get("estimate") or {})
    if row["degree"] == 0:
        # As in deeplimits.analysis.measures.LimitSolution.refinement_estimate: constant
        # parameters define the problem of degree 0, so raising the degree changes the
        # problem rather than measuring an error of its solution.
        others = [changes for variant, changes in refinement.items() if variant not in ("degree", "estimate") and changes]
        for key in ("energy", "theta_l2"):
            if others and all(key in changes for changes in others):
                estimate[key] = max(float(changes[key]) for changes in others)
    row["energy_estimate"] = estimate.get("energy")
    row["theta_estimate"] = estimate.get("theta_l2")

    gap = distance = None
    if models is not None and branch is not None and "energy_gap" in models.columns:
        members = models[(models["branch"] == branch) & models["converged"]]
        gap = _positive_min(members["energy_gap"])
        distance = _positive_min(members["l2_distance"])
    row["smallest_energy_gap"] = gap
    row["smallest_l2_distance"] = distance
    row["energy_resolved"] = _resolved(row["energy_estimate"], gap)
    row["theta_resolved"] = _resolved(row["theta_estimate"], distance)
    return row


def _branch_of_restart(branches: pd.DataFrame | None) -> dict[int, int]:
    if branches is None:
        return {}
    return {
        int(restart): int(row["branch"])
        for _, row in branches.iterrows()
        for restart in str(row["restarts"]).split(";") if restart.strip()
    }


def _positive_min(values: pd.Series):
    values = pd.to_numeric(values, errors="coerce")
    values = values[values > 0]
    return float(values.min()) if not values.empty else None


def _resolved(estimate, gap) -> bool | None:
    if estimate is None or gap is None or not math.isfinite(float(estimate)):
        return None
    return bool(float(estimate) * RESOLUTION_FACTOR <= gap)


def compute_cost_table(tree: ResultsTree, datasets: Sequence[str]) -> pd.DataFrame:
    """Return one row per Snakemake rule and study from the benchmark files.

    Columns: ``rule``, ``study`` (empty for rules without one), ``jobs``,
    ``total_wall_time`` and ``max_wall_time`` (seconds), ``max_rss`` (MB). Benchmark files
    whose path names a data set outside ``datasets`` are left out.
    """
    columns = ["rule", "study", "jobs", "total_wall_time", "max_wall_time", "max_rss"]
    benchmarks = tree.benchmarks()
    if benchmarks.empty:
        logger.info("compute_cost table: no benchmark files under %s, so it has no rows", tree.root / "benchmarks")
        return pd.DataFrame(columns=columns)
    benchmarks = benchmarks[(benchmarks["dataset"] == "") | benchmarks["dataset"].isin(datasets)]
    grouped = benchmarks.groupby(["rule", "study"], sort=True)
    table = grouped.agg(jobs=("s", "size"), total_wall_time=("s", "sum"), max_wall_time=("s", "max"),
                        max_rss=("max_rss", "max")).reset_index()
    return table.reindex(columns=columns)


# --- LaTeX ---------------------------------------------------------------------------


def _order_formatter(quantity: str) -> Callable[[pd.Series], str]:
    def render(row: pd.Series) -> str:
        order = row[f"{quantity}_order"]
        if order is None or (isinstance(order, float) and math.isnan(order)):
            return "n/a"
        return f"{format_order(order)} {format_interval(row[f'{quantity}_ci_low'], row[f'{quantity}_ci_high'])}"
    return render


def _latex_convergence(table: pd.DataFrame) -> str:
    table = table.copy()
    for quantity in ("energy_gap", "l2_distance", "linf_distance", "classifier_distance"):
        table[f"{quantity}_text"] = table.apply(_order_formatter(quantity), axis=1) if not table.empty else []
    table["branch_text"] = table.apply(lambda row: f"{row['branch']}{' (lowest)' if row['lowest'] and row['branch'] != 'all' else ''}", axis=1) if not table.empty else []
    columns = [
        Column("Data set", "dataset"),
        Column("Study", "study"),
        Column("Branch", "branch_text"),
        Column(r"$E_\infty$", "limit_energy", _number, "r"),
        Column("Error est.", "energy_error_estimate", _number, "r"),
        *[Column(f"{CONVERGENCE_QUANTITIES[quantity]} order", f"{quantity}_text", str, "l")
          for quantity in ("energy_gap", "l2_distance", "linf_distance", "classifier_distance")],
    ]
    return booktabs_table(table, columns, group_by="dataset",
                          note="Observed orders with 95 % confidence intervals; branch 'all' is the lowest energy over all branches.")


def _latex_branches(table: pd.DataFrame) -> str:
    columns = [
        Column("Data set", "dataset"),
        Column("Study", "study"),
        Column("Branch", "branch", _number, "r"),
        Column("Restarts", "restarts", lambda value: escape_latex(str(value).replace(";", ", "))),
        Column(r"$E_\infty$", "limit_energy", _number, "r"),
        Column("Energy error est.", "energy_error_estimate", _number, "r"),
        Column(r"$\theta$ error est.", "theta_error_estimate", _number, "r"),
        Column("Lowest", "lowest", format_number, "c"),
        Column("Members", "members", _number, "r"),
    ]
    return booktabs_table(table, columns, group_by="dataset")


def _latex_claims(table: pd.DataFrame) -> str:
    # Ragged-right paragraph columns: justified text in columns this narrow stretches the
    # spaces between words.
    ragged = r">{\raggedright\arraybackslash}p"
    columns = [
        Column("Claim", "id"),
        Column("Statement", "claim", escape_latex, ragged + "{4.6cm}"),
        Column("Verdict", "verdict", escape_latex, "l"),
        Column("Evidence", "evidence", escape_latex, ragged + "{7.6cm}"),
    ]
    return booktabs_table(table, columns, note="Needs the LaTeX package array, for the column type >{...}p{...}.")


def _latex_refinement(table: pd.DataFrame) -> str:
    columns = [
        Column("Data set", "dataset"),
        Column("Study", "study"),
        Column("Restart", "restart", _number, "r"),
        Column(r"$D$", "degree", _number, "r"),
        Column(r"$\Delta E$ degree", "degree_energy", _number, "r"),
        Column(r"$\Delta E$ step", "step_energy", _number, "r"),
        Column(r"$\Delta E$ tol.", "tolerance_energy", _number, "r"),
        Column("Estimate", "energy_estimate", _number, "r"),
        Column("Smallest gap", "smallest_energy_gap", _number, "r"),
        Column(f"Est. $\\leq$ gap$/{RESOLUTION_FACTOR:g}$", "energy_resolved", format_number, "c"),
        Column(r"$\theta$ estimate", "theta_estimate", _number, "r"),
        Column(r"Smallest $L^2$ dist.", "smallest_l2_distance", _number, "r"),
        Column(f"Est. $\\leq$ dist.$/{RESOLUTION_FACTOR:g}$", "theta_resolved", format_number, "c"),
    ]
    return booktabs_table(table, columns, group_by="dataset")


def _latex_compute_cost(table: pd.DataFrame) -> str:
    columns = [
        Column("Rule", "rule"),
        Column("Study", "study", lambda value: escape_latex(value) if value else "--"),
        Column("Jobs", "jobs", _number, "r"),
        Column("Total wall time (s)", "total_wall_time", _number, "r"),
        Column("Max wall time (s)", "max_wall_time", _number, "r"),
        Column("Max RSS (MB)", "max_rss", _number, "r"),
    ]
    return booktabs_table(table, columns, group_by="rule")


def _number(value) -> str:
    return format_number(value, 3)


TABLES: dict[str, tuple[Callable[[ResultsTree, Sequence[str]], pd.DataFrame], Callable[[pd.DataFrame], str]]] = {
    "convergence": (convergence_table, _latex_convergence),
    "branches": (branches_table, _latex_branches),
    "claims": (claims_table, _latex_claims),
    "refinement": (refinement_table, _latex_refinement),
    "compute_cost": (compute_cost_table, _latex_compute_cost),
}


def make_table(name: str, results: str | Path, datasets: Sequence[str], out_prefix: str | Path) -> list[Path]:
    """Build table ``name`` from the results folder and write ``out_prefix.csv`` and ``.tex``.

    Parameters
    ----------
    name : str
        One of :data:`TABLES`.
    results : str or Path
        The workflow's ``results/`` folder.
    datasets : sequence of str
        Data set names to include.
    out_prefix : str or Path
        Output path without suffix.

    Returns
    -------
    list of Path
        The CSV and the LaTeX file written. A table without rows is still written, with
        one LaTeX row "no data", and a warning is logged.

    Raises
    ------
    ValueError
        If ``name`` is not a known table or ``datasets`` is empty.
    """
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {sorted(TABLES)}")
    if not datasets:
        raise ValueError("no data sets given; pass --datasets with at least one name")
    build, render = TABLES[name]
    table = build(ResultsTree(Path(results)), list(datasets))
    if table.empty:
        logger.warning("table %s has no rows: none of its inputs was found under %s", name, results)

    prefix = Path(out_prefix)
    csv_path, tex_path = prefix.with_name(prefix.name + ".csv"), prefix.with_name(prefix.name + ".tex")
    with atomic_path(csv_path, suffix=".csv") as temporary:
        _for_csv(table).to_csv(temporary, index=False)
    text = f"% Generated by `deeplimits table {name}` from the results folder, do not edit. Needs booktabs.\n" + render(table)
    with atomic_path(tex_path, suffix=".tex") as temporary:
        temporary.write_text(text)
    logger.info("wrote %s and %s (%d rows)", csv_path, tex_path, len(table))
    return [csv_path, tex_path]


def _for_csv(table: pd.DataFrame) -> pd.DataFrame:
    """Write booleans as ``true``/``false``, as the analysis tables do."""
    table = table.copy()
    for column in table.columns:
        if table[column].map(lambda value: isinstance(value, bool)).any():
            table[column] = table[column].map(lambda value: str(value).lower() if isinstance(value, bool) else value)
    return table
