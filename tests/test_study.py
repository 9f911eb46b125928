"""Tests of ``deeplimits analyse`` (deeplimits.analysis.study) on models trained by the core library.

A module-scoped fixture trains moons (40 samples) at depths 4, 8, 16 from two restarts,
with and without the derivative penalty. It solves the continuum problem at degree 4 with
its refinement estimate. All of it runs through the ``deeplimits`` command line, in about
10 s of CPU time.
"""

from __future__ import annotations

import json
import logging
import math

import pandas as pd
import pytest

from deeplimits.analysis.study import BRANCH_COLUMNS, MODEL_COLUMNS, analyse_study
from deeplimits.cli import main
from deeplimits.datasets import load_dataset

# The fixture trains and solves for about 10 s of CPU time, more on a loaded 2-core machine.
pytestmark = pytest.mark.slow

DEPTHS = [4, 8, 16]
RESTARTS = 2

# The columns results/README.md documents for analysis/{dataset}/{study}.csv, in order.
DOCUMENTED_COLUMNS = [
    "dataset", "study", "depth", "restart",
    "energy", "energy_data", "energy_derivative", "energy_magnitude", "energy_classifier",
    "gradient_norm", "iterations", "converged", "wall_time",
    "train_accuracy", "test_accuracy",
    "branch", "limit_energy", "energy_gap",
    "l2_distance", "linf_distance", "l2_distance_linear", "classifier_distance",
    "cauchy_l2", "cauchy_linf",
    "seminorm", "max_second_difference", "disagreement",
]
LIMIT_COLUMNS = ["limit_energy", "energy_gap", "l2_distance", "linf_distance", "l2_distance_linear", "classifier_distance", "disagreement"]


def run(*arguments: str) -> None:
    assert main(["--log-level", "WARNING", *arguments]) == 0, f"deeplimits {arguments[0]} failed"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Data, models of two studies and the baseline's continuum minimisers in one folder."""
    root = tmp_path_factory.mktemp("study")
    data = root / "data" / "moons.npz"
    run("make-data", "--dataset", "moons", "--n-samples", "40", "--out", str(data))
    common = ["--data", str(data), "--threads", "1", "--no-progress", "--device", "cpu"]
    for depth in DEPTHS:
        run("train", *common, "--depth", str(depth), "--restarts", str(RESTARTS), "--out-dir", str(root / "models" / "baseline" / f"N{depth}"))
        # Minimisers without the derivative penalty converge slowly; 60 iterations give
        # models enough for the table's columns, reported as not converged.
        run("train", *common, "--depth", str(depth), "--restarts", str(RESTARTS), "--alpha", "0", "--alpha-floor", "1e-2",
            "--max-iter", "60", "--out-dir", str(root / "models" / "no_derivative_penalty" / f"N{depth}"))
    run("solve-limit", *common, "--restarts", str(RESTARTS), "--degree", "4", "--steps", "16", "--rtol", "1e-9", "--atol", "1e-9",
        "--out-dir", str(root / "limit" / "baseline"))
    return root


def analyse(root, study: str, limit: bool, fit_min_depth: int = 4) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    prefix = root / "analysis" / "moons" / study
    arguments = [
        "analyse", "--data", str(root / "data" / "moons.npz"), "--models-dir", str(root / "models" / study),
        "--depths", *map(str, DEPTHS), "--restarts", str(RESTARTS), "--study", study,
        "--out-prefix", str(prefix), "--fit-min-depth", str(fit_min_depth), "--no-progress",
    ]
    if limit:
        arguments += ["--limit-dir", str(root / "limit" / study)]
    run(*arguments)
    branches = pd.read_csv(prefix.with_name(study + "_branches.csv"))
    return pd.read_csv(prefix.with_name(study + ".csv")), branches, json.loads(prefix.with_name(study + "_rates.json").read_text())


@pytest.fixture(scope="module")
def baseline(trained):
    return analyse(trained, "baseline", limit=True)


def test_columns_match_documentation(baseline):
    rows, branches, _ = baseline
    assert list(rows.columns) == DOCUMENTED_COLUMNS
    assert list(MODEL_COLUMNS) == DOCUMENTED_COLUMNS
    assert list(branches.columns) == list(BRANCH_COLUMNS)
    assert list(branches.columns[:7]) == ["branch", "restarts", "limit_energy", "energy_error_estimate", "theta_error_estimate", "lowest", "members"]


def test_one_row_per_model(baseline):
    rows, _, _ = baseline
    assert len(rows) == len(DEPTHS) * RESTARTS
    assert sorted(zip(rows["depth"], rows["restart"])) == [(depth, restart) for depth in DEPTHS for restart in range(RESTARTS)]
    assert set(rows["dataset"]) == {"moons"}
    assert rows["converged"].dtype == bool


def test_every_model_is_assigned_to_a_branch(baseline):
    rows, branches, _ = baseline
    assert set(rows["branch"]) <= set(branches["branch"])
    assert branches["members"].sum() == len(rows)
    assert branches["lowest"].sum() == 1
    lowest = branches.loc[branches["lowest"], "limit_energy"].item()
    assert lowest == branches["limit_energy"].min()
    restarts = sorted(int(restart) for value in branches["restarts"] for restart in str(value).split(";"))
    assert restarts == list(range(RESTARTS))


def test_limit_columns_match_branch(baseline):
    rows, branches, _ = baseline
    energies = dict(zip(branches["branch"], branches["limit_energy"]))
    for row in rows.to_dict("records"):
        assert row["limit_energy"] == energies[row["branch"]]
        assert row["energy_gap"] == pytest.approx(abs(row["energy"] - row["limit_energy"]), rel=1e-12)
        assert 0.0 <= row["disagreement"] <= 1.0
        # The L^inf norm on [0, 1] bounds the L^2 norm.
        assert row["l2_distance"] <= row["linf_distance"] * (1 + 1e-12)


def test_distances_shrink_with_depth(baseline):
    rows, _, rates = baseline
    branch = rates["branches"][0]
    series = [value for value in branch["rates"]["l2_distance"]["values"] if value is not None]
    assert len(series) == len(DEPTHS)
    assert series[0] > series[1] > series[2]
    gaps = [value for value in branch["rates"]["energy_gap"]["values"] if value is not None]
    assert gaps[0] > gaps[2]


def test_cauchy_pairs_n_with_2n(baseline):
    rows, _, _ = baseline
    deepest = rows[rows["depth"] == max(DEPTHS)]
    assert deepest["cauchy_l2"].isna().all()
    assert deepest["cauchy_linf"].isna().all()
    assert rows.loc[rows["depth"] < max(DEPTHS), "cauchy_l2"].notna().all()


def test_rates_document_structure(baseline):
    _, branches, rates = baseline
    assert rates["has_limit"] is True
    assert rates["depths"] == DEPTHS
    assert rates["fit_min_depth"] == 4
    assert len(rates["branches"]) == len(branches)
    for quantity in ("energy_gap", "l2_distance", "linf_distance", "classifier_distance", "cauchy_l2"):
        assert quantity in rates["branches"][0]["rates"]
        assert quantity in rates["lowest"]["rates"]
    fit = rates["branches"][0]["rates"]["l2_distance"]
    assert set(fit) >= {"order", "ci_low", "ci_high", "depths", "fit_depths", "successive"}
    assert len(rates["restart_rates"]) == RESTARTS


def test_study_without_limit_leaves_limit_columns_empty(trained):
    rows, branches, rates = analyse(trained, "no_derivative_penalty", limit=False)
    assert (rows["branch"] == -1).all()
    for column in LIMIT_COLUMNS:
        assert rows[column].isna().all(), column
    assert rows["seminorm"].notna().all()
    assert branches.empty
    assert list(branches.columns) == list(BRANCH_COLUMNS)
    assert rates["has_limit"] is False
    assert rates["branches"] == []
    assert set(rates["lowest"]["rates"]) == {"cauchy_l2", "seminorm", "max_second_difference"}


def test_missing_model_is_reported(trained, caplog):
    arguments = [
        "analyse", "--data", str(trained / "data" / "moons.npz"), "--models-dir", str(trained / "models" / "baseline"),
        "--depths", "4", "32", "--restarts", "1", "--study", "baseline", "--out-prefix", str(trained / "missing" / "baseline"),
    ]
    with caplog.at_level(logging.ERROR):
        assert main(arguments) == 1
    assert "N32/restart0.npz not found" in caplog.text
    assert not (trained / "missing" / "baseline.csv").exists()


def test_mismatched_limit_settings_are_rejected(trained):
    dataset = load_dataset(trained / "data" / "moons.npz")
    with pytest.raises(ValueError, match="solved with other energy settings than the models"):
        analyse_study(dataset, trained / "models" / "no_derivative_penalty", DEPTHS, RESTARTS, "no_derivative_penalty",
                      limit_dir=trained / "limit" / "baseline", progress=False)


@pytest.mark.parametrize(
    ("depths", "restarts", "message"),
    [([], 1, "no depths given"), ([4, 4], 1, "depths must be distinct"), ([4], 0, "restarts must be >= 1")],
)
def test_invalid_arguments_are_rejected(trained, depths, restarts, message):
    dataset = load_dataset(trained / "data" / "moons.npz")
    with pytest.raises(ValueError, match=message):
        analyse_study(dataset, trained / "models" / "baseline", depths, restarts, "baseline", progress=False)


def test_refinement_estimates_are_recorded(baseline):
    _, branches, _ = baseline
    for value in branches["energy_error_estimate"]:
        assert math.isfinite(value)
        assert value >= 0


def test_claims_run_on_analysis(trained, baseline):
    # The real files of the fixture, with a forward check, go through `deeplimits claims`.
    data = str(trained / "data" / "moons.npz")
    run("forward-check", "--data", data, "--depths", *map(str, DEPTHS), "--out", str(trained / "forward" / "moons" / "consistency.npz"),
        "--no-progress", "--device", "cpu", "--degree", "4", "--rtol", "1e-9", "--atol", "1e-9")
    thresholds = trained / "thresholds.json"
    thresholds.write_text(json.dumps({"fit_min_depth": 4, "forward_fit_min_depth": 4}))
    run("claims", "--analysis-dir", str(trained / "analysis"), "--forward-dir", str(trained / "forward"), "--datasets", "moons",
        "--thresholds", str(thresholds), "--out-prefix", str(trained / "analysis" / "claims"))

    table = pd.read_csv(trained / "analysis" / "claims.csv")
    assert list(table["id"]) == [f"C{number}" for number in range(1, 10)]
    assert set(table["verdict"]) <= {"REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE"}
    claims = dict(zip(table["id"], table["verdict"]))
    # The study scaling_q2 was not analysed, so C7 cannot be judged.
    assert claims["C7"] == "INCONCLUSIVE"
    # With the state error of an Euler method, order 1 at depths 4, 8, 16 is clear.
    assert claims["C1"] == "REPRODUCED"
