"""Tests of ``deeplimits claims`` (deeplimits.analysis.claims) on crafted analysis files.

Each scenario writes the files ``deeplimits analyse`` and ``deeplimits forward-check``
would write, with series of known orders, through the same writers
(:func:`deeplimits.analysis.study.rates_document`), so the verdicts are known in advance.
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from deeplimits.analysis.branches import Branch
from deeplimits.analysis.claims import CLAIM_COLUMNS, CLAIMS, evaluate_claims
from deeplimits.analysis.commands import write_csv
from deeplimits.analysis.measures import LimitSolution
from deeplimits.analysis.study import BRANCH_COLUMNS, MODEL_COLUMNS, branch_row, rates_document
from deeplimits.analysis.thresholds import load_thresholds
from deeplimits.analysis.verdicts import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from deeplimits.artifacts import write_json, write_npz
from deeplimits.cli import main
from deeplimits.limit import ContinuumParameters

DEPTHS = [4, 8, 16, 32, 64, 128, 256]
LIMIT_ENERGY = 0.1
ACCURACY = {"train_accuracy": 0.95, "test_accuracy": 0.9}
ESTIMATE = {"energy": 1e-12, "theta_l2": 1e-7, "theta_linf": 1e-7, "classifier": 1e-8}


def limit_solution(restart: int, energy: float, estimate: dict) -> LimitSolution:
    params = ContinuumParameters(torch.zeros(3, 6), torch.zeros(2, 2), torch.zeros(2), 2)
    metrics = {"energy": {"total": energy}, "converged": True, "refinement": {"estimate": estimate}, **ACCURACY}
    return LimitSolution(restart, params, metrics)


def model_rows(study: str, restarts: int, values) -> list[dict]:
    """Rows of ``{study}.csv``; ``values(depth, restart)`` returns the measured columns."""
    rows = []
    for depth in DEPTHS:
        for restart in range(restarts):
            row = {column: None for column in MODEL_COLUMNS}
            row.update(dataset="moons", study=study, depth=depth, restart=restart, converged=True, branch=-1, **ACCURACY)
            row.update(values(depth, restart))
            rows.append(row)
    return rows


def converging(depth: int, restart: int) -> dict:
    """A minimiser at distance 1/N from the limit of energy 0.1, regular and bounded."""
    return {
        "energy": LIMIT_ENERGY - 0.01 / depth,
        "branch": 0,
        "limit_energy": LIMIT_ENERGY,
        "energy_gap": 0.01 / depth,
        "l2_distance": 1 / depth,
        "linf_distance": 1.5 / depth,
        "l2_distance_linear": 1 / depth,
        "classifier_distance": 0.5 / depth,
        "cauchy_l2": 0.5 / depth if depth < DEPTHS[-1] else None,
        "seminorm": 0.3 * (1 + 0.01 / depth),
        "max_second_difference": 2 - 1 / depth,
        "disagreement": 0.0,
    }


def growing(depth: int, restart: int) -> dict:
    """A minimiser without limit whose seminorm grows like N^(1/2) and whose Cauchy differences do not decay."""
    return {"energy": 0.07, "seminorm": 0.3 * math.sqrt(depth), "max_second_difference": depth, "cauchy_l2": 1.0 if depth < DEPTHS[-1] else None}


def write_study(root, study: str, rows: list[dict], limit_energies: list[float] | None, estimate: dict = ESTIMATE) -> None:
    """Write ``{study}.csv``, ``_branches.csv`` and ``_rates.json`` as ``deeplimits analyse`` does."""
    restarts = max(row["restart"] for row in rows) + 1
    branches = []
    if limit_energies is not None:
        for index, energy in enumerate(limit_energies):
            solution = limit_solution(index, energy, estimate)
            branch = Branch(index, [solution], solution)
            branch.members = sum(row["branch"] == index for row in rows)
            branches.append(branch)
    prefix = root / "analysis" / "moons" / study
    write_csv(prefix.with_name(study + ".csv"), rows, MODEL_COLUMNS)
    write_csv(prefix.with_name(study + "_branches.csv"), [branch_row(branch) for branch in branches], BRANCH_COLUMNS)
    write_json(prefix.with_name(study + "_rates.json"), rates_document("moons", study, DEPTHS, restarts, 16, rows, branches))


def write_forward(root, state_order: float = 1.0, depths=DEPTHS) -> None:
    depths = np.asarray(depths)
    folder = root / "forward" / "moons"
    write_npz(folder / "consistency.npz", {
        "depth": depths, "state_error": 0.5 * depths**-state_order, "energy_gap": 0.02 / depths,
    })
    write_npz(folder / "recovery_restart0.npz", {"depth": depths, "energy_gap": 0.004 / depths})


def write_everything(root, baseline=converging, alpha_zero=growing, estimate=ESTIMATE) -> None:
    """A complete set of files in which every claim holds, unless a part is replaced."""
    write_forward(root)
    write_study(root, "baseline", model_rows("baseline", 2, baseline), [LIMIT_ENERGY], estimate)
    for study in ("no_derivative_penalty", "no_derivative_penalty_iid", "scaling_q0"):
        write_study(root, study, model_rows(study, 2, alpha_zero), None)

    def constant(depth, restart):
        values = converging(depth, restart)
        values["seminorm"] = 1 / depth
        return values

    write_study(root, "scaling_q2", model_rows("scaling_q2", 2, constant), [LIMIT_ENERGY])


def verdicts_of(root, **overrides) -> dict:
    thresholds = load_thresholds(None)
    thresholds.update(overrides)
    return {verdict.id: verdict for verdict in evaluate_claims(root / "analysis", root / "forward", ["moons"], thresholds)}


def assert_numbers_match_verdict(row: dict) -> None:
    """The numbers of a row must imply its verdict."""
    low = -math.inf if row["threshold_low"] is None else row["threshold_low"]
    high = math.inf if row["threshold_high"] is None else row["threshold_high"]
    if row["order"] is not None and row["ci_low"] is not None:
        inside = low <= row["ci_low"] and row["ci_high"] <= high
        outside = row["ci_high"] < low or row["ci_low"] > high
    elif row["value"] is not None:
        inside = low <= row["value"] <= high
        outside = not inside
    else:
        assert row["verdict"] == INCONCLUSIVE, row
        return
    if row["verdict"] == REPRODUCED:
        assert inside, row
    elif row["verdict"] == NOT_REPRODUCED:
        assert outside, row


# --- the three verdicts -----------------------------------------------------------------


def test_all_claims_reproduced(tmp_path):
    write_everything(tmp_path)
    verdicts = verdicts_of(tmp_path)
    assert list(verdicts) == list(CLAIMS)
    for claim, verdict in verdicts.items():
        assert verdict.verdict == REPRODUCED, f"{claim}: {verdict.evidence}"
        assert_numbers_match_verdict(verdict.row())


def test_c1_state_error_order_too_low(tmp_path):
    write_everything(tmp_path)
    write_forward(tmp_path, state_order=0.3)
    verdict = verdicts_of(tmp_path)["C1"]
    row = verdict.row()

    assert verdict.verdict == NOT_REPRODUCED
    assert row["measure"] == "moons: state error order"
    assert row["order"] == pytest.approx(0.3, abs=1e-9)
    assert row["ci_high"] < row["threshold_low"] == 0.8
    assert "state error order 0.3" in verdict.evidence
    assert_numbers_match_verdict(row)


def test_c1_too_few_depths(tmp_path):
    write_everything(tmp_path)
    write_forward(tmp_path, depths=[4, 8, 16, 32, 64, 128])
    verdict = verdicts_of(tmp_path)["C1"]
    assert verdict.verdict == INCONCLUSIVE
    assert "2 usable depths at or above 64" in verdict.evidence


def test_c1_energy_gap_fitted_past_cancellation(tmp_path):
    # As on iris: the data and penalty errors cancel near N = 8, and the energy gap
    # reaches its order 1 only from N = 64 on. The forward fits start at
    # forward_fit_min_depth, not at the trained grid's fit_min_depth.
    write_everything(tmp_path)
    depths = np.asarray([*DEPTHS, 512, 1024])
    gap = np.abs(0.02 / depths - 0.3 / depths**2)
    write_npz(tmp_path / "forward" / "moons" / "consistency.npz", {"depth": depths, "state_error": 0.5 / depths, "energy_gap": gap})

    assert verdicts_of(tmp_path)["C1"].verdict == REPRODUCED
    assert verdicts_of(tmp_path, forward_fit_min_depth=16)["C1"].verdict != REPRODUCED


def test_c1_interval_straddling_threshold(tmp_path):
    write_everything(tmp_path)
    depths = np.asarray(DEPTHS)
    noisy = 0.5 / depths * np.exp(0.3 * np.array([0.0, 0.0, 1.0, -1.0, 1.0, -1.0, 1.0]))
    write_npz(tmp_path / "forward" / "moons" / "consistency.npz", {"depth": depths, "state_error": noisy, "energy_gap": 0.02 / depths})
    verdict = verdicts_of(tmp_path)["C1"]
    assert verdict.verdict == INCONCLUSIVE
    assert "straddles the threshold" in verdict.evidence


def test_c5_growing_seminorm_not_reproduced(tmp_path):
    def rough(depth, restart):
        return {**converging(depth, restart), "seminorm": 0.3 * math.sqrt(depth)}

    write_everything(tmp_path, baseline=rough)
    verdict = verdicts_of(tmp_path)["C5"]
    row = verdict.row()
    assert verdict.verdict == NOT_REPRODUCED
    assert row["value"] == pytest.approx(4.0)  # sqrt(256 / 16)
    assert row["threshold_high"] == 1.5
    assert_numbers_match_verdict(row)


def test_non_converged_models_make_c5_inconclusive(tmp_path):
    def stalled(depth, restart):
        return {**converging(depth, restart), "converged": depth < 64}

    write_everything(tmp_path, baseline=stalled)
    verdict = verdicts_of(tmp_path)["C5"]
    assert verdict.verdict == INCONCLUSIVE
    assert "minimisers at 2 depths >= 16" in verdict.evidence


def test_unresolved_limit_makes_c3_inconclusive(tmp_path):
    # Gaps of 0.01/N fall below 10 x 1e-4 from N = 16 on, so no depth of the fit range is resolved.
    write_everything(tmp_path, estimate={**ESTIMATE, "energy": 1e-4})
    verdict = verdicts_of(tmp_path)["C3"]
    assert verdict.verdict == INCONCLUSIVE
    assert "energy error estimate" in verdict.evidence


def test_missed_continuum_branch_makes_c3_inconclusive(tmp_path):
    def with_lower(depth, restart):
        values = converging(depth, restart)
        if restart == 1:
            values.update(energy=0.09, energy_gap=0.01, l2_distance=3.0, linf_distance=3.0, l2_distance_linear=3.0)
        return values

    write_everything(tmp_path, baseline=with_lower)
    verdicts = verdicts_of(tmp_path)
    assert verdicts["C3"].verdict == INCONCLUSIVE
    assert "the continuum solves missed a lower branch" in verdicts["C3"].evidence
    # Branch by branch the minimisers still converge.
    assert verdicts["C4"].verdict == REPRODUCED


def test_converging_alpha_zero_does_not_reproduce_c6(tmp_path):
    def regular(depth, restart):
        return {**converging(depth, restart), "branch": -1}

    write_everything(tmp_path, alpha_zero=regular)
    verdict = verdicts_of(tmp_path)["C6"]
    assert verdict.verdict == NOT_REPRODUCED
    for leaf in verdict.check.leaves():
        assert_numbers_match_verdict({**dict.fromkeys(("order", "ci_low", "ci_high", "value", "threshold_low", "threshold_high")), **leaf.numbers, "verdict": leaf.verdict})


def test_missing_study_is_inconclusive(tmp_path):
    write_everything(tmp_path)
    for path in (tmp_path / "analysis" / "moons").glob("scaling_q0*"):
        path.unlink()
    verdict = verdicts_of(tmp_path)["C7"]
    assert verdict.verdict == INCONCLUSIVE
    assert "no analysis of study 'scaling_q0'" in verdict.evidence


def test_missing_forward_files_are_inconclusive(tmp_path):
    write_everything(tmp_path)
    for path in (tmp_path / "forward" / "moons").iterdir():
        path.unlink()
    verdicts = verdicts_of(tmp_path)
    assert verdicts["C1"].verdict == INCONCLUSIVE
    assert "consistency.npz not found" in verdicts["C1"].evidence
    assert verdicts["C2"].verdict == INCONCLUSIVE


def test_fit_min_depth_threshold_refits(tmp_path):
    write_everything(tmp_path)
    verdict = verdicts_of(tmp_path, fit_min_depth=128)["C4"]
    assert verdict.verdict == INCONCLUSIVE
    assert "2 usable depths at or above 128" in verdict.evidence


# --- the command line and the thresholds ----------------------------------------------------


def claims_command(root, *extra: str) -> int:
    return main([
        "--log-level", "WARNING", "claims", "--analysis-dir", str(root / "analysis"), "--forward-dir", str(root / "forward"),
        "--datasets", "moons", "--out-prefix", str(root / "analysis" / "claims"), *extra,
    ])


def test_command_writes_csv_and_json(tmp_path):
    write_everything(tmp_path)
    thresholds = tmp_path / "thresholds.yaml"
    thresholds.write_text(yaml.safe_dump({"energy_order_min": 0.6}))
    assert claims_command(tmp_path, "--thresholds", str(thresholds)) == 0

    table = pd.read_csv(tmp_path / "analysis" / "claims.csv", keep_default_na=False)
    assert list(table.columns) == list(CLAIM_COLUMNS)
    assert list(table["id"]) == list(CLAIMS)
    assert set(table["verdict"]) == {REPRODUCED}
    document = json.loads((tmp_path / "analysis" / "claims.json").read_text())
    assert document["thresholds"]["energy_order_min"] == 0.6
    assert document["thresholds"]["fit_min_depth"] == 16
    assert [claim["id"] for claim in document["claims"]] == list(CLAIMS)
    assert document["claims"][2]["detail"]["parts"]


def test_command_reports_invalid_thresholds(tmp_path, caplog):
    write_everything(tmp_path)
    path = tmp_path / "thresholds.yaml"
    path.write_text("seminorm_ratio_max: 0.5\n")
    with caplog.at_level(logging.ERROR):
        assert claims_command(tmp_path, "--thresholds", str(path)) == 1
    assert "seminorm_ratio_max: 0.5 is less than the minimum of 1" in caplog.text
    assert not (tmp_path / "analysis" / "claims.csv").exists()
