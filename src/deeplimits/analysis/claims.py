"""Verdicts of the claims C1..C9, computed from the analysis and forward-check files.

Each claim is judged on every data set by checks of measured orders and ratios against the
thresholds (:mod:`deeplimits.analysis.thresholds`). A claim holds when it holds on every
data set (:func:`deeplimits.analysis.verdicts.all_of`). Orders are refitted from the stored
series with the thresholds' ``fit_min_depth``, so the verdicts never depend on the range
that ``deeplimits analyse`` happened to use.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..artifacts import read_json, read_npz
from .rates import MIN_FIT_POINTS, fit_order, refit
from .study import RESOLUTION_FACTOR
from .verdicts import (
    REPRODUCED,
    Check,
    all_of,
    any_of,
    inconclusive,
    order_check,
    value_check,
)

logger = logging.getLogger(__name__)

__all__ = ["CLAIMS", "CLAIM_COLUMNS", "StudyResults", "ClaimVerdict", "evaluate_claims"]

CLAIMS = {
    "C1": "at fixed smooth parameters the ResNet converges to the ODE",
    "C2": "recovery sequence: E_N of the sampled continuum minimiser converges to E_inf",
    "C3": "minimum values converge: min E_N -> min E_inf",
    "C4": "minimisers converge: theta_N -> theta_inf and (W_N, c_N) -> (W_inf, c_inf)",
    "C5": "compactness: bounded energy bounds the discrete W^{1,p} seminorm",
    "C6": "without the derivative penalty (alpha = 0) C1 holds but minimisers need not converge",
    "C7": "q = p - 1 is the scaling of this limit: q > p - 1 forces constant parameters, q < p - 1 behaves like alpha = 0",
    "C8": "predictions converge: accuracies and predicted classes approach those of the limit",
    "C9": "minimisers are regular: N^2 |theta_{k+1} - 2 theta_k + theta_{k-1}| stays bounded for alpha > 0",
}

CLAIM_COLUMNS = (
    "id", "claim", "verdict", "evidence",
    "dataset", "measure", "order", "ci_low", "ci_high", "value", "threshold_low", "threshold_high",
    "checks", "checks_reproduced",
)

ALPHA_ZERO_STUDIES = ("no_derivative_penalty", "no_derivative_penalty_iid")


@dataclass
class StudyResults:
    """The three files ``deeplimits analyse`` wrote for one data set and study."""

    dataset: str
    study: str
    rows: pd.DataFrame
    branches: pd.DataFrame
    rates: dict

    @classmethod
    def load(cls, analysis_dir: Path, dataset: str, study: str) -> "StudyResults | None":
        """Read ``analysis_dir/dataset/study{.csv, _branches.csv, _rates.json}``; None if the table or rates are missing."""
        prefix = Path(analysis_dir) / dataset / study
        table = prefix.with_name(study + ".csv")
        rates = prefix.with_name(study + "_rates.json")
        if not (table.exists() and rates.exists()):
            logger.info("no analysis of %s/%s at %s", dataset, study, prefix)
            return None
        rows = pd.read_csv(table)
        branches_path = prefix.with_name(study + "_branches.csv")
        branches = pd.read_csv(branches_path) if branches_path.exists() else pd.DataFrame()
        return cls(dataset, study, rows, branches, read_json(rates))

    def branch_row(self, index: int) -> dict | None:
        if self.branches.empty:
            return None
        matches = self.branches[self.branches["branch"] == index]
        return None if matches.empty else matches.iloc[0].to_dict()

    def model_row(self, depth: int, restart: int) -> dict | None:
        matches = self.rows[(self.rows["depth"] == depth) & (self.rows["restart"] == restart)]
        return None if matches.empty else matches.iloc[0].to_dict()


@dataclass
class ClaimVerdict:
    """The verdict of one claim, with the checks it rests on."""

    id: str
    claim: str
    check: Check

    @property
    def verdict(self) -> str:
        return self.check.verdict

    @property
    def evidence(self) -> str:
        return self.check.evidence

    def row(self) -> dict:
        """Return the CSV row: the verdict and the numbers of the check that decided it."""
        deciding = self.check.deciding()
        leaves = self.check.leaves()
        numbers = deciding.numbers
        return {
            "id": self.id,
            "claim": self.claim,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "dataset": deciding.dataset,
            "measure": deciding.name,
            **{key: numbers.get(key) for key in ("order", "ci_low", "ci_high", "value", "threshold_low", "threshold_high")},
            "checks": len(leaves),
            "checks_reproduced": sum(leaf.verdict == REPRODUCED for leaf in leaves),
        }

    def to_dict(self) -> dict:
        return {**self.row(), "detail": self.check.to_dict()}


def evaluate_claims(analysis_dir: Path, forward_dir: Path, datasets: list[str], thresholds: dict) -> list[ClaimVerdict]:
    """Judge the claims C1..C9 on ``datasets`` against ``thresholds``.

    Parameters
    ----------
    analysis_dir : Path
        Folder with ``{dataset}/{study}.csv``, ``_branches.csv`` and ``_rates.json``.
    forward_dir : Path
        Folder with ``{dataset}/consistency.npz`` and ``recovery_restart{r}.npz``.
    datasets : list of str
    thresholds : dict
        Validated thresholds, as returned by :func:`deeplimits.analysis.thresholds.load_thresholds`.

    Returns
    -------
    list of ClaimVerdict
        One per claim, in order C1..C9. A missing analysis or forward-check file makes
        the checks that need it INCONCLUSIVE instead of raising.
    """
    if not datasets:
        raise ValueError("no data sets given; pass --datasets with at least one name")

    per_claim: dict[str, list[Check]] = {claim: [] for claim in CLAIMS}
    for dataset in datasets:
        judge = _DatasetJudge(Path(analysis_dir), Path(forward_dir), dataset, thresholds)
        for claim in CLAIMS:
            per_claim[claim].append(getattr(judge, claim.lower())())

    return [ClaimVerdict(claim, CLAIMS[claim], all_of(claim, None, checks)) for claim, checks in per_claim.items()]


class _DatasetJudge:
    """The checks of every claim on one data set."""

    def __init__(self, analysis_dir: Path, forward_dir: Path, dataset: str, thresholds: dict) -> None:
        self.analysis_dir = analysis_dir
        self.forward_dir = Path(forward_dir) / dataset
        self.dataset = dataset
        self.thresholds = thresholds
        self.fit_min_depth = int(thresholds["fit_min_depth"])
        self.forward_fit_min_depth = int(thresholds["forward_fit_min_depth"])
        self._studies: dict[str, StudyResults | None] = {}

    def study(self, name: str) -> StudyResults | None:
        if name not in self._studies:
            self._studies[name] = StudyResults.load(self.analysis_dir, self.dataset, name)
        return self._studies[name]

    def _missing(self, claim: str, study: str) -> Check:
        return inconclusive(f"{self.dataset}: {claim}", self.dataset, f"no analysis of study {study!r} (run deeplimits analyse)")

    # --- C1, C2: fixed parameters -------------------------------------------------------

    def c1(self) -> Check:
        path = self.forward_dir / "consistency.npz"
        if not path.exists():
            return inconclusive(f"{self.dataset}: forward consistency", self.dataset, f"{path} not found (run deeplimits forward-check)")
        arrays = read_npz(path, required=("depth", "state_error", "energy_gap"))
        low, high = self.thresholds["forward_order"]
        state = fit_order(arrays["depth"], arrays["state_error"], self.forward_fit_min_depth)
        energy = fit_order(arrays["depth"], arrays["energy_gap"], self.forward_fit_min_depth)
        return all_of(f"{self.dataset}: C1", self.dataset, [
            order_check(f"{self.dataset}: state error order", self.dataset, state, low, high),
            # The claim is convergence at the Euler rate. A faster energy gap does not
            # contradict it: the data and penalty errors partly cancel before N^-1 dominates.
            order_check(f"{self.dataset}: energy gap order at fixed theta", self.dataset, energy, low),
        ])

    def c2(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None or baseline.branches.empty:
            return self._missing("recovery sequence", "baseline")
        checks = []
        for branch in baseline.branches.to_dict("records"):
            restarts = [int(value) for value in str(branch["restarts"]).split(";")]
            paths = [self.forward_dir / f"recovery_restart{restart}.npz" for restart in restarts]
            path = next((path for path in paths if path.exists()), None)
            name = f"{self.dataset}: branch {branch['branch']} recovery energy gap order"
            if path is None:
                checks.append(inconclusive(name, self.dataset, f"none of {[str(path) for path in paths]} found (run deeplimits forward-check --limit)"))
                continue
            reason = _limit_problem(branch, "energy_error_estimate")
            if reason:
                checks.append(inconclusive(name, self.dataset, reason))
                continue
            arrays = read_npz(path, required=("depth", "energy_gap"))
            exclude = _unresolved(arrays["depth"], arrays["energy_gap"], branch["energy_error_estimate"])
            fit = fit_order(arrays["depth"], arrays["energy_gap"], self.fit_min_depth, exclude)
            checks.append(order_check(name, self.dataset, fit, self.thresholds["recovery_order_min"]))
        return all_of(f"{self.dataset}: C2", self.dataset, checks)

    # --- C3, C4: minimum values and minimisers ------------------------------------------

    def c3(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None or not baseline.rates["has_limit"]:
            return self._missing("minimum values", "baseline")
        order_min = self.thresholds["energy_order_min"]
        checks = [self._lowest_energy_check(baseline, order_min)]
        checks += self._branch_checks(baseline, "energy_gap", "energy gap order", order_min, "energy_error_estimate")
        return all_of(f"{self.dataset}: C3", self.dataset, checks)

    def c4(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None or not baseline.rates["has_limit"]:
            return self._missing("minimisers", "baseline")
        distance_min = self.thresholds["distance_order_min"]
        checks = self._branch_checks(baseline, "l2_distance", "L2 distance order", distance_min, "theta_error_estimate")
        checks += self._branch_checks(baseline, "classifier_distance", "classifier distance order", distance_min, "classifier_error_estimate")
        checks += self._branch_checks(baseline, "cauchy_l2", "Cauchy difference order", self.thresholds["cauchy_order_min"], None)
        return all_of(f"{self.dataset}: C4", self.dataset, checks)

    def _branch_checks(self, results: StudyResults, quantity: str, label: str, low: float, estimate_key: str | None) -> list[Check]:
        """Order checks of one quantity, one per branch with enough usable depths of the fit range.

        Some branches have too few usable depths of the fit range: restarts reach them at
        fewer than MIN_FIT_POINTS depths, or exclusions remove points (a restart that
        changes branch between N and 2N, a value within the limit's error). Such a branch
        is skipped with a log line while another branch gives a fit. Without any such
        branch the check is INCONCLUSIVE.
        """
        checks, skipped = [], []
        for branch in results.rates["branches"]:
            name = f"{self.dataset} {results.study}: branch {branch['branch']} {label}"
            fit = refit(branch["rates"][quantity], self.fit_min_depth)
            reason = _limit_problem(branch, estimate_key)
            if not fit.sufficient:
                skipped.append(order_check(name, self.dataset, fit, low))
            elif reason:
                checks.append(inconclusive(name, self.dataset, reason))
            else:
                checks.append(order_check(name, self.dataset, fit, low))
        return self._unless_all_skipped(results, label, checks, skipped)

    def _branch_ratio_checks(self, results: StudyResults, quantity: str, label: str, bound: float) -> list[Check]:
        """Check that max/min of one quantity over each branch's minimisers of the fit range is at most ``bound``.

        Per branch rather than per restart: a restart that changes branch between depths
        changes its seminorm too, with every minimiser's seminorm bounded. Branches are
        skipped as in :meth:`_branch_checks`.
        """
        checks, skipped = [], []
        for branch in results.rates["branches"]:
            name = f"{self.dataset} {results.study}: branch {branch['branch']} {label}"
            fit = branch["rates"][quantity]
            points = [
                (depth, value)
                for depth, value in zip(fit["depths"], fit["values"])
                if depth >= self.fit_min_depth and value is not None and value > 0
            ]
            if len(points) < MIN_FIT_POINTS:
                skipped.append(inconclusive(name, self.dataset, (
                    f"minimisers at {len(points)} depth{'' if len(points) == 1 else 's'} >= {self.fit_min_depth}; "
                    f"a ratio needs {MIN_FIT_POINTS}"
                )))
                continue
            values = [value for _, value in points]
            checks.append(value_check(name, self.dataset, max(values) / min(values), -math.inf, bound, depths=[depth for depth, _ in points]))
        return self._unless_all_skipped(results, label, checks, skipped)

    def _unless_all_skipped(self, results: StudyResults, label: str, checks: list[Check], skipped: list[Check]) -> list[Check]:
        """Return ``checks``, or the skipped branches' INCONCLUSIVE checks when no branch was checked."""
        for check in skipped:
            logger.info("skipped, too few usable depths: %s", check.evidence)
        if checks:
            return checks
        if skipped:
            return skipped
        return [inconclusive(f"{self.dataset} {results.study}: {label}", self.dataset, "the analysis has no branch")]

    def _lowest_energy_check(self, results: StudyResults, order_min: float) -> Check:
        """Order check of ``|min E_N - min E_inf|`` over the depths where the searches agree.

        The lowest discrete energy at the largest depth may lie below the lowest continuum
        energy by more than RESOLUTION_FACTOR times the branch gaps there. Then the
        continuum solves missed the branch that the discrete minimisers found, the computed
        min E_inf is not the minimum, and the check is INCONCLUSIVE. Depths where
        no converged discrete minimiser is nearest the lowest continuum branch are left
        out of the fit, because there min E_N is not the discrete minimum.
        """
        name = f"{self.dataset} {results.study}: lowest energy gap order"
        lowest = results.rates["lowest"]
        series = lowest["series"]
        reached = [(depth, energy, restart) for depth, energy, restart in zip(series["depth"], series["energy"], series["restart"]) if energy is not None]
        if not reached:
            return inconclusive(name, self.dataset, "no converged minimiser at any depth")

        depth, energy, restart = reached[-1]
        margin = RESOLUTION_FACTOR * max(_branch_gaps_at(results, depth) + [lowest.get("energy_error_estimate") or 0.0])
        deficit = lowest["limit_energy"] - energy
        if deficit > margin:
            return inconclusive(name, self.dataset, (
                f"min E_N = {energy:.6g} (restart {restart}, N={depth}) lies {deficit:.3g} below min E_inf = "
                f"{lowest['limit_energy']:.6g}, more than {RESOLUTION_FACTOR:g} x the largest branch gap or error "
                f"estimate there ({margin / RESOLUTION_FACTOR:.3g}): the continuum solves missed a lower branch"
            ))

        lowest_branch = results.rates["branches"][0]["series"]
        missed = {
            depth: "no converged minimiser is nearest the lowest continuum branch"
            for depth, restart in zip(lowest_branch["depth"], lowest_branch["restart"])
            if restart is None
        }
        return order_check(name, self.dataset, refit(lowest["rates"]["energy_gap"], self.fit_min_depth, missed), order_min)

    # --- C5, C9: regularity of baseline minimisers --------------------------------------

    def c5(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None:
            return self._missing("compactness", "baseline")
        checks = self._branch_ratio_checks(baseline, "seminorm", "seminorm max/min ratio", self.thresholds["seminorm_ratio_max"])
        return all_of(f"{self.dataset}: C5", self.dataset, checks)

    def c9(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None:
            return self._missing("regularity", "baseline")
        checks = self._branch_ratio_checks(
            baseline, "max_second_difference", "max second difference max/min ratio", self.thresholds["second_difference_ratio_max"],
        )
        return all_of(f"{self.dataset}: C9", self.dataset, checks)

    def _growth_checks(self, results: StudyResults) -> list[Check]:
        """Check per restart that the seminorm grows: last over first value of its converged models of the fit range.

        Per restart rather than per branch, because without the ODE limit there are no branches.
        """
        bound = self.thresholds["growth_ratio_min"]
        checks = []
        for entry in results.rates["restart_rates"]:
            name = f"{self.dataset} {results.study}: restart {entry['restart']} seminorm growth ratio"
            fit = entry["rates"]["seminorm"]
            points = [
                (depth, value)
                for depth, value, converged in zip(fit["depths"], fit["values"], entry["converged"])
                if depth >= self.fit_min_depth and converged and value is not None and value > 0
            ]
            if len(points) < MIN_FIT_POINTS:
                excluded = sum(depth >= self.fit_min_depth and not converged for depth, converged in zip(fit["depths"], entry["converged"]))
                checks.append(inconclusive(name, self.dataset, (
                    f"{len(points)} depth{'' if len(points) == 1 else 's'} >= {self.fit_min_depth} with a converged minimiser and a positive value "
                    f"({excluded} not converged); a ratio needs {MIN_FIT_POINTS}"
                )))
                continue
            values = [value for _, value in points]
            checks.append(value_check(name, self.dataset, values[-1] / values[0], bound, math.inf, depths=[depth for depth, _ in points]))
        return checks

    # --- C6, C7: settings without the ODE limit -----------------------------------------

    def c6(self) -> Check:
        studies = []
        for study in ALPHA_ZERO_STUDIES:
            results = self.study(study)
            studies.append(self._missing(f"alpha = 0 ({study})", study) if results is None else self._not_converging(results))
        return all_of(f"{self.dataset}: C6", self.dataset, [
            any_of(f"{self.dataset}: alpha = 0 minimisers do not converge", self.dataset, studies),
            self.c1(),
        ])

    def _not_converging(self, results: StudyResults) -> Check:
        """Check for seminorm growth or non-decaying Cauchy differences, in any restart."""
        growth = self._growth_checks(results)
        cauchy = []
        for entry in results.rates["restart_rates"]:
            name = f"{self.dataset} {results.study}: restart {entry['restart']} Cauchy difference order"
            fit = refit(entry["rates"]["cauchy_l2"], self.fit_min_depth)
            cauchy.append(order_check(name, self.dataset, fit, -math.inf, self.thresholds["cauchy_order_max"]))
        return any_of(f"{self.dataset} {results.study}: minimisers do not converge", self.dataset, growth + cauchy)

    def c7(self) -> Check:
        q2, q0 = self.study("scaling_q2"), self.study("scaling_q0")
        parts = []
        if q2 is None:
            parts.append(self._missing("q = 2", "scaling_q2"))
        else:
            parts.append(self._constant_limit(q2))
        if q0 is None:
            parts.append(self._missing("q = 0", "scaling_q0"))
        else:
            parts.append(self._like_alpha_zero(q0))
        return all_of(f"{self.dataset}: C7", self.dataset, parts)

    def _constant_limit(self, q2: StudyResults) -> Check:
        """Check that for q = 2 the variation in t shrinks and the energy approaches the constant-parameter minimum."""
        variation_min = self.thresholds["variation_order_min"]
        if q2.rates["has_limit"]:
            # Per branch of the constant-parameter problem, as for the baseline's C5 and C9:
            # a restart that changes branch between depths changes its variation too.
            variation = self._branch_checks(q2, "seminorm", "seminorm order", variation_min, None)

            # The claim is about min E_N against the constant-parameter problem's minimum.
            energy = [self._lowest_energy_check(q2, self.thresholds["constant_energy_order_min"])]
        else:
            variation = []
            for entry in q2.rates["restart_rates"]:
                name = f"{self.dataset} scaling_q2: restart {entry['restart']} seminorm order"
                variation.append(order_check(name, self.dataset, refit(entry["rates"]["seminorm"], self.fit_min_depth), variation_min))
            energy = [inconclusive(f"{self.dataset} scaling_q2: energy gap", self.dataset, "no constant-parameter limit (analyse with --limit-dir)")]
        return all_of(f"{self.dataset}: q = 2 forces constant parameters", self.dataset, variation + energy)

    def _like_alpha_zero(self, q0: StudyResults) -> Check:
        """Check that for q = 0 seminorms grow, or min E_N stays below the baseline's min E_inf by a margin."""
        growth = self._growth_checks(q0)
        baseline = self.study("baseline")
        name = f"{self.dataset} scaling_q0: energy deficit below the baseline limit"
        if baseline is None or not baseline.rates["has_limit"]:
            deficit = inconclusive(name, self.dataset, "no baseline analysis with a limit")
        else:
            series = q0.rates["lowest"]["series"]
            reached = [(depth, energy) for depth, energy in zip(series["depth"], series["energy"]) if energy is not None]
            limit_energy = baseline.rates["lowest"]["limit_energy"]
            if not reached:
                deficit = inconclusive(name, self.dataset, "no converged q = 0 minimiser")
            else:
                depth, energy = reached[-1]
                relative = (limit_energy - energy) / abs(limit_energy)
                deficit = value_check(name, self.dataset, relative, self.thresholds["q0_energy_deficit_min"], math.inf, depth=depth)
        return any_of(f"{self.dataset}: q = 0 behaves like alpha = 0", self.dataset, growth + [deficit])

    # --- C8: predictions ----------------------------------------------------------------

    def c8(self) -> Check:
        baseline = self.study("baseline")
        if baseline is None or not baseline.rates["has_limit"]:
            return self._missing("predictions", "baseline")
        checks = []
        for branch in baseline.rates["branches"]:
            series = branch["series"]
            if series["restart"][-1] is None:
                continue
            depth, restart = series["depth"][-1], series["restart"][-1]
            model = baseline.model_row(depth, restart)
            limit = baseline.branch_row(branch["branch"])
            name = f"{self.dataset}: branch {branch['branch']} at N={depth}"
            if model is None or limit is None:
                checks.append(inconclusive(name, self.dataset, "model or branch row missing from the analysis tables"))
                continue
            gap = max(abs(model["train_accuracy"] - limit["train_accuracy"]), abs(model["test_accuracy"] - limit["test_accuracy"]))
            checks.append(value_check(f"{name} accuracy gap", self.dataset, gap, -math.inf, self.thresholds["accuracy_gap_max"], depth=depth, restart=restart))
            checks.append(value_check(f"{name} disagreement", self.dataset, model["disagreement"], -math.inf, self.thresholds["disagreement_max"], depth=depth, restart=restart))
        if not checks:
            checks.append(inconclusive(f"{self.dataset}: predictions", self.dataset, "no branch has a converged minimiser at the largest depth"))
        return all_of(f"{self.dataset}: C8", self.dataset, checks)


def _branch_gaps_at(results: StudyResults, depth: int) -> list[float]:
    """Energy gaps of the branch representatives at one depth (branches reached there only)."""
    gaps = []
    for branch in results.rates["branches"]:
        fit = branch["rates"]["energy_gap"]
        value = fit["values"][fit["depths"].index(depth)]
        if value is not None:
            gaps.append(value)
    return gaps


def _limit_problem(branch: dict, estimate_key: str | None) -> str | None:
    """Why a branch's limit cannot serve as reference: not converged, or no refinement estimate."""
    if not _truthy(branch.get("converged", True)):
        return f"the continuum solve of branch {branch['branch']} did not converge"
    if estimate_key is not None:
        estimate = branch.get(estimate_key)
        if estimate is None or (isinstance(estimate, float) and not math.isfinite(estimate)):
            return f"branch {branch['branch']} has no refinement estimate ({estimate_key}); solve the limit with --refine"
    return None


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _unresolved(depths, values, estimate: float) -> dict[int, str]:
    """Depths whose gap is not above RESOLUTION_FACTOR times the refinement estimate of E_inf."""
    bound = RESOLUTION_FACTOR * float(estimate)
    return {
        int(depth): f"{value:.3g} is not above {RESOLUTION_FACTOR:g} x the energy error estimate {estimate:.3g}"
        for depth, value in zip(np.asarray(depths), np.asarray(values, dtype=np.float64))
        if math.isfinite(value) and value <= bound
    }
