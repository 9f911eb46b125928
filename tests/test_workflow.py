"""Tests of the Snakemake workflow (Snakefile, workflow/, config/) through the snakemake CLI.

Every test works on a copy of the workflow in a temporary folder, so the repository gets
no results, no .snakemake folder and no lock. The smoke configuration runs once per
session (the ``smoke_run`` fixture); the tests of its outputs, of reruns and of the
report share that run.
"""

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from deeplimits.reporting.names import FIGURE_NAMES, TABLE_NAMES
from workflow_runs import SMOKE_CONFIG, SMOKE_TIMEOUT_S, check_success, copy_workflow, snakemake, tool_environment

# The workflow lists these names again in workflow/rules/common.smk; the planned-jobs
# tests below fail when the two lists differ.
FIGURES = FIGURE_NAMES
TABLES = TABLE_NAMES
CLAIM_IDS = [f"C{number}" for number in range(1, 10)]
VERDICTS = ("REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE")

PDF_SIGNATURE = b"%PDF"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

JOB_HEADER = re.compile(r"^(?:local)?rule (\w+):$")
WILDCARDS_LINE = re.compile(r"^\s+wildcards: (.*)$", re.MULTILINE)
STATS_LINE = re.compile(r"^(\w+)\s+(\d+)$")


# --- reading Snakemake's output ----------------------------------------------


def job_counts(output: str) -> Counter:
    """Return the number of jobs per rule from the "Job stats" table of a dry run."""
    lines = output.splitlines()
    start = lines.index("Job stats:")
    counts = Counter()
    for line in lines[start + 3:]:
        match = STATS_LINE.match(line.strip())
        if not match or match.group(1) == "total":
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def job_blocks(output: str) -> list[tuple[str, str]]:
    """Return (rule, description) of every job that a Snakemake run or dry run lists.

    A job's description runs from its "rule NAME:" line to the next blank line.
    """
    blocks = []
    current = None
    for line in output.splitlines():
        header = JOB_HEADER.match(line)
        if header:
            current = (header.group(1), [])
            blocks.append(current)
        elif current is not None and line.strip():
            current[1].append(line)
        else:
            current = None
    return [(rule, "\n".join(lines)) for rule, lines in blocks]


def planned_jobs(output: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Return (rule, sorted wildcard pairs) of every job that a dry run lists."""
    jobs = set()
    for rule, description in job_blocks(output):
        wildcards = WILDCARDS_LINE.search(description)
        pairs = ()
        if wildcards:
            pairs = tuple(sorted(tuple(pair.split("=", 1)) for pair in wildcards.group(1).split(", ")))
        jobs.add((rule, pairs))
    return jobs


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# --- expectations computed from a config -------------------------------------


def load_config(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def limit_studies(config: dict) -> list[str]:
    return sorted(study for study, settings in config["studies"].items() if settings["limit"] != "none")


def expected_job_counts(config: dict) -> Counter:
    """Return the number of jobs of each rule that a fresh run of ``config`` plans."""
    datasets, studies = len(config["datasets"]), len(config["studies"])
    depths, restarts = len(config["depths"]), config["restarts"]
    counts = Counter({
        "make_data": datasets,
        "train_resnet": datasets * studies * depths,
        "solve_limit": datasets * len(limit_studies(config)) * restarts,
        "solve_limit_from_deepest": datasets * len(limit_studies(config)) * restarts,
        "check_forward": datasets,
        "check_recovery": datasets * restarts,
        "analyse_study": datasets * studies,
        "write_thresholds": 1,
        "evaluate_claims": 1,
        "write_macros": 1,
        "all": 1,
    })  # fmt: skip
    counts.update({f"plot_{figure}": 1 for figure in FIGURES})
    counts.update({f"tabulate_{table}": 1 for table in TABLES})
    return counts


# --- lint and dry runs -------------------------------------------------------


def test_lint_is_clean(tmp_path):
    # paper/ goes along so that the report's rule is linted as well.
    workdir = copy_workflow(tmp_path / "lint", extra=("paper",))
    result = snakemake(workdir, "--lint")
    output = check_success(result)
    assert "Lints for" not in output, output
    warnings = [line for line in output.splitlines() if re.match(r"^\s*warning", line, re.IGNORECASE)]
    assert not warnings, output


@pytest.mark.parametrize("config_file", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_plans_expected_jobs(tmp_path, config_file):
    workdir = copy_workflow(tmp_path / "dry")
    output = check_success(snakemake(workdir, "-n", "--configfile", config_file))
    counts = job_counts(output)
    # The report's own rule depends on a TeX installation and paper/, which this copy lacks.
    counts.pop("paper", None)
    assert counts == expected_job_counts(load_config(workdir / config_file))


def test_default_config_is_the_default(tmp_path):
    workdir = copy_workflow(tmp_path / "dry")
    default = job_counts(check_success(snakemake(workdir, "-n")))
    explicit = job_counts(check_success(snakemake(workdir, "-n", "--configfile", "config/config.yaml")))
    assert default == explicit


def test_smoke_config_plans_expected_jobs(tmp_path):
    workdir = copy_workflow(tmp_path / "dry")
    counts = job_counts(check_success(snakemake(workdir, "-n", "--configfile", SMOKE_CONFIG)))
    counts.pop("paper", None)
    assert counts == expected_job_counts(load_config(workdir / SMOKE_CONFIG))


def test_gpu_resource_follows_device(tmp_path):
    workdir = copy_workflow(tmp_path / "dry")
    (workdir / "cuda.yaml").write_text("device: cuda\n")
    output = check_success(snakemake(workdir, "-n", "--configfile", SMOKE_CONFIG, "cuda.yaml"))
    blocks = job_blocks(output)
    for rule in ("train_resnet", "solve_limit"):
        descriptions = [description for name, description in blocks if name == rule]
        assert descriptions, f"the dry run lists no {rule} job"
        assert all("gpu=1" in description for description in descriptions), rule
    for rule in ("make_data", "check_forward", "analyse_study"):
        descriptions = [description for name, description in blocks if name == rule]
        assert descriptions, f"the dry run lists no {rule} job"
        assert not any("gpu=" in description for description in descriptions), rule


# --- invalid configs ---------------------------------------------------------


INVALID_CONFIGS = {
    "unknown top-level key": ("epochs: 10\n", r"invalid config at the top level: .*'epochs' was unexpected\); the valid keys here are \[.*'depths'"),
    "unknown energy key": ("energy: {alpah: 0.1}\n", r"invalid config at energy: .*'alpah' was unexpected\); the valid keys here are \[.*'alpha'"),
    "negative depth": ("depths: [-4, 8]\n", r"invalid config at depths.0: -4 is less than the minimum of 1"),
    "zero restarts": ("restarts: 0\n", r"invalid config at restarts: 0 is less than the minimum of 1"),
    "unknown data set": ("datasets: {mnist: {n_samples: 10}}\n", r"'mnist' is not one of"),
    "unknown study": ("studies: {dropout: {limit: none}}\n", r"'dropout' was unexpected"),
    "unknown limit": ("studies: {baseline: {limit: exact}}\n", r"'exact' is not one of"),
    "unknown claims key": ("claims: {energy_order: 2}\n", r"invalid config at claims: .*'energy_order' was unexpected"),
    "override of a depth outside the grid": (
        "depth_overrides: {32: {optimiser: {max_iter: 5}}}\n",
        r"depth_overrides has depths \[32\]",
    ),
    "state dimension below the features": ("datasets: {moons: {state_dim: 1}}\n", r"datasets.moons.state_dim is 1, less than the 2 features"),
    "more principal components than features": ("datasets: {moons: {pca_dim: 5}}\n", r"datasets.moons.pca_dim is 5, but moons has 2 features"),
    "reversed range": ("claims: {forward_order: [1.2, 0.8]}\n", r"claims.forward_order is \[1.2, 0.8\], but it must be \[low, high\] with low < high"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(INVALID_CONFIGS))
def test_invalid_config_is_rejected(tmp_path, case):
    text, message = INVALID_CONFIGS[case]
    workdir = copy_workflow(tmp_path / "invalid")
    (workdir / "invalid.yaml").write_text(text)
    result = snakemake(workdir, "-n", "--configfile", SMOKE_CONFIG, "invalid.yaml")
    assert result.returncode != 0, f"{case}: accepted\n{result.stdout[-2000:]}"
    assert re.search(message, result.stdout), f"{case}: message does not name {message}:\n{result.stdout[-2000:]}"
    assert "Job stats" not in result.stdout


@pytest.mark.parametrize("text, message", [
    ("claims: {fit_min_depth: 64}\n", r"claims.fit_min_depth is 64, but only \[\] of depths \[4, 8, 16\]"),
    ("forward: {depths: [4, 8, 16]}\n", r"claims.forward_fit_min_depth is 64, but only \[\] of forward.depths"),
], ids=["trained depths", "forward depths"])
def test_short_fit_range_warns(tmp_path, text, message):
    # Too few depths for an order fit is a valid run whose verdicts will be INCONCLUSIVE.
    workdir = copy_workflow(tmp_path / "short")
    (workdir / "short.yaml").write_text(text)
    output = check_success(snakemake(workdir, "-n", "--configfile", SMOKE_CONFIG, "short.yaml"))
    assert re.search(message, output), output[-2000:]


# --- the smoke run -----------------------------------------------------------


@pytest.mark.slow
def test_smoke_run_leaves_no_lock(smoke_run):
    workdir, _ = smoke_run
    locks = list((workdir / ".snakemake" / "locks").glob("*"))
    assert not locks, f"Snakemake left locks: {locks}"


@pytest.mark.slow
def test_smoke_figures_are_images(smoke_run):
    workdir, _ = smoke_run
    for figure in FIGURES:
        pdf = workdir / "results" / "figures" / f"{figure}.pdf"
        png = workdir / "results" / "figures" / f"{figure}.png"
        assert pdf.read_bytes().startswith(PDF_SIGNATURE), f"{pdf} is not a PDF"
        assert png.read_bytes().startswith(PNG_SIGNATURE), f"{png} is not a PNG"
        # A PNG signature and its header chunk alone take 33 bytes; a drawn figure is larger.
        assert png.stat().st_size > 1000, f"{png} is nearly empty"


@pytest.mark.slow
def test_smoke_logs_and_benchmarks_exist(smoke_run):
    workdir, config = smoke_run
    for dataset in config["datasets"]:
        for study in config["studies"]:
            for depth in config["depths"]:
                log = workdir / f"results/logs/train_resnet/{dataset}/{study}/N{depth}.log"
                benchmark = workdir / f"results/benchmarks/train_resnet/{dataset}/{study}/N{depth}.tsv"
                assert log.stat().st_size > 0, f"{log} is empty"
                assert benchmark.is_file(), f"{benchmark} is missing"


@pytest.mark.slow
def test_smoke_claims_table_has_every_claim(smoke_run):
    workdir, _ = smoke_run
    rows = read_csv(workdir / "results/tables/claims.csv")
    assert [row["id"] for row in rows] == CLAIM_IDS
    for row in rows:
        assert row["verdict"] in VERDICTS, row
        assert row["evidence"], f"{row['id']} has no evidence"
    assert r"\midrule" in (workdir / "results/tables/claims.tex").read_text()


def interval_verdicts(low, high, ci_low, ci_high):
    """Return (inside, disjoint) of a confidence interval against [low, high]."""
    low = -math.inf if low is None else low
    high = math.inf if high is None else high
    return low <= ci_low and ci_high <= high, ci_high < low or ci_low > high


def check_leaf(check: dict) -> None:
    """Assert that a leaf check's verdict follows from its numbers and thresholds."""
    numbers, verdict = check["numbers"], check["verdict"]
    low, high = numbers.get("threshold_low"), numbers.get("threshold_high")
    if numbers.get("ci_low") is not None and numbers.get("ci_high") is not None:
        inside, disjoint = interval_verdicts(low, high, numbers["ci_low"], numbers["ci_high"])
        if verdict == "REPRODUCED":
            assert inside, check
        elif verdict == "NOT REPRODUCED":
            assert disjoint, check
        elif "straddles" in check["evidence"]:
            assert not inside, check
            assert not disjoint, check
    elif numbers.get("value") is not None:
        inside, _ = interval_verdicts(low, high, numbers["value"], numbers["value"])
        assert verdict == ("REPRODUCED" if inside else "NOT REPRODUCED"), check
    else:
        assert verdict == "INCONCLUSIVE", check


def check_tree(check: dict) -> None:
    """Assert the verdicts of a check and of all its parts: leaves by numbers, nodes by logic."""
    assert check["verdict"] in VERDICTS, check
    if not check["parts"]:
        check_leaf(check)
        return
    for part in check["parts"]:
        check_tree(part)
    verdicts = {part["verdict"] for part in check["parts"]}
    # "all of" fails on any failure, "any of" holds on any success; with mixed parts the
    # two differ, so the node's verdict must equal one of them.
    all_of = next(v for v in ("NOT REPRODUCED", "INCONCLUSIVE", "REPRODUCED") if v in verdicts)
    any_of = next(v for v in ("REPRODUCED", "INCONCLUSIVE", "NOT REPRODUCED") if v in verdicts)
    assert check["verdict"] in (all_of, any_of), check


@pytest.mark.slow
def test_smoke_claim_verdicts_follow_numbers(smoke_run):
    workdir, config = smoke_run
    document = json.loads((workdir / "results/analysis/claims.json").read_text())
    assert sorted(document["datasets"]) == sorted(config["datasets"])
    assert [claim["id"] for claim in document["claims"]] == CLAIM_IDS
    table = {row["id"]: row for row in read_csv(workdir / "results/analysis/claims.csv")}
    for claim in document["claims"]:
        assert claim["verdict"] in VERDICTS, claim["id"]
        assert claim["verdict"] == claim["detail"]["verdict"], claim["id"]
        assert table[claim["id"]]["verdict"] == claim["verdict"], claim["id"]
        check_tree(claim["detail"])


@pytest.mark.slow
def test_smoke_thresholds_come_from_config(smoke_run):
    workdir, config = smoke_run
    document = json.loads((workdir / "results/analysis/claims.json").read_text())
    for key, value in config["claims"].items():
        assert document["thresholds"][key] == value, key


@pytest.mark.slow
def test_smoke_branch_tables_match_analyses(smoke_run):
    workdir, config = smoke_run
    studies = limit_studies(config)
    branches = read_csv(workdir / "results/tables/branches.csv")
    convergence = read_csv(workdir / "results/tables/convergence.csv")
    refinement = read_csv(workdir / "results/tables/refinement.csv")
    for dataset in config["datasets"]:
        for study in studies:
            analysed = read_csv(workdir / f"results/analysis/{dataset}/{study}_branches.csv")
            assert analysed, f"no branch of {dataset}/{study}"
            listed = [row for row in branches if (row["dataset"], row["study"]) == (dataset, study)]
            assert len(listed) == len(analysed), (dataset, study)
            # One row per branch, plus one for the lowest energy over all branches.
            rows = [row for row in convergence if (row["dataset"], row["study"]) == (dataset, study)]
            assert len(rows) == len(analysed) + 1, (dataset, study)
            solutions = [row for row in refinement if (row["dataset"], row["study"]) == (dataset, study)]
            assert sorted(int(row["restart"]) for row in solutions) == list(range(config["restarts"]))


@pytest.mark.slow
def test_smoke_analysis_has_every_model(smoke_run):
    workdir, config = smoke_run
    expected = {(depth, restart) for depth in config["depths"] for restart in range(config["restarts"])}
    for dataset in config["datasets"]:
        for study in config["studies"]:
            rows = read_csv(workdir / f"results/analysis/{dataset}/{study}.csv")
            assert {(int(row["depth"]), int(row["restart"])) for row in rows} == expected, (dataset, study)
            assert {row["study"] for row in rows} == {study}


@pytest.mark.slow
def test_smoke_compute_cost_lists_compute_rules(smoke_run):
    workdir, config = smoke_run
    rows = read_csv(workdir / "results/tables/compute_cost.csv")
    studies_of = {}
    for row in rows:
        studies_of.setdefault(row["rule"], set()).add(row["study"])
    assert studies_of["train_resnet"] == set(config["studies"])
    assert studies_of["solve_limit"] == set(limit_studies(config))
    assert {"check_forward", "check_recovery"} <= set(studies_of)


@pytest.mark.slow
def test_smoke_macros_quote_every_claim(smoke_run):
    workdir, config = smoke_run
    macros = (workdir / "results/tables/macros.tex").read_text()
    for claim in CLAIM_IDS:
        assert f"{claim}-verdict" in macros, claim
    for dataset in config["datasets"]:
        assert f"{dataset}-energy-order" in macros, dataset


@pytest.mark.slow
def test_smoke_rerun_is_up_to_date(smoke_run):
    workdir, _ = smoke_run
    output = check_success(snakemake(workdir, "-n", "--configfile", SMOKE_CONFIG))
    assert "Nothing to be done" in output, output[-2000:]


def rerun_plan(workdir: Path, change: str) -> dict[str, set]:
    """Dry-run the smoke config with ``change`` on top; return the planned wildcards per rule."""
    (workdir / "change.yaml").write_text(change)
    try:
        output = check_success(
            snakemake(workdir, "-n", "--rerun-triggers", "params", "--configfile", SMOKE_CONFIG, "change.yaml")
        )
    finally:
        (workdir / "change.yaml").unlink()
    plan = {}
    for rule, wildcards in planned_jobs(output):
        plan.setdefault(rule, set()).add(wildcards)
    return plan


def downstream_rules() -> set[str]:
    """Rules that read every analysis, so any change of a model reruns them."""
    return {"evaluate_claims", "write_macros", "all"} | {f"plot_{f}" for f in FIGURES} | {f"tabulate_{t}" for t in TABLES}


@pytest.mark.slow
def test_changed_depth_reruns_only_that_depth(smoke_run):
    workdir, config = smoke_run
    depth = config["depths"][1]
    plan = rerun_plan(workdir, f"depth_overrides: {{{depth}: {{optimiser: {{max_iter: 299}}}}}}\n")

    expected_training = {
        (("dataset", dataset), ("depth", str(depth)), ("study", study))
        for dataset in config["datasets"]
        for study in config["studies"]
    }
    assert plan.pop("train_resnet") == expected_training
    expected_analyses = {
        (("dataset", dataset), ("study", study)) for dataset in config["datasets"] for study in config["studies"]
    }
    assert plan.pop("analyse_study") == expected_analyses
    # Data, continuum solutions and forward checks do not depend on the training settings
    # of this depth, which is not the deepest (the solves from the deepest network read it).
    assert set(plan) == downstream_rules(), sorted(plan)


@pytest.mark.slow
def test_changed_study_alpha_reruns_only_that_study(smoke_run):
    workdir, config = smoke_run
    study = "scaling_q2"
    alpha = config["energy"]["alpha"] * 2
    plan = rerun_plan(workdir, f"studies: {{{study}: {{energy: {{alpha: {alpha}}}}}}}\n")

    assert plan.pop("train_resnet") == {
        (("dataset", dataset), ("depth", str(depth)), ("study", study))
        for dataset in config["datasets"]
        for depth in config["depths"]
    }
    solves = {
        (("dataset", dataset), ("restart", str(restart)), ("study", study))
        for dataset in config["datasets"]
        for restart in range(config["restarts"])
    }
    assert plan.pop("solve_limit") == solves
    assert plan.pop("solve_limit_from_deepest") == solves
    assert plan.pop("analyse_study") == {(("dataset", dataset), ("study", study)) for dataset in config["datasets"]}
    assert set(plan) == downstream_rules(), sorted(plan)


@pytest.mark.slow
def test_changed_threshold_reruns_only_claims(smoke_run):
    workdir, _ = smoke_run
    plan = rerun_plan(workdir, "claims: {disagreement_max: 0.1}\n")
    assert set(plan) == downstream_rules() | {"write_thresholds"}, sorted(plan)


# --- a killed run ---------------------------------------------------------------


@pytest.mark.slow
def test_killed_run_resumes_from_checkpoint(tmp_path):
    # README: after a killed Snakemake, `--unlock`, then the same command with
    # --rerun-incomplete. The kill lands after restart 0 of the training job is written
    # and while restart 1 has a checkpoint; circles at N = 512 takes hundreds of L-BFGS
    # iterations per restart, about 10 s each here.
    workdir = copy_workflow(tmp_path / "killed")
    config = yaml.safe_load((workdir / SMOKE_CONFIG).read_text())
    config.update(datasets={"circles": {"n_samples": 200, "noise": 0.05, "state_dim": 3}}, depths=[512], restarts=2, checkpoint_seconds=1)
    config["optimiser"].update(tolerance=1e-12, max_iter=200)
    (workdir / "killed.yaml").write_text(yaml.safe_dump(config))
    models = workdir / "results/models/circles/baseline/N512"
    checkpoint = workdir / "results/checkpoints/circles/baseline/N512/restart1.npz"
    arguments = (f"{models.relative_to(workdir)}/restart1.npz", "--cores", "1", "--configfile", "killed.yaml")

    run = subprocess.Popen(
        [sys.executable, "-m", "snakemake", *arguments], cwd=workdir, env=tool_environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + SMOKE_TIMEOUT_S
    while not ((models / "restart0.npz").exists() and checkpoint.exists()):
        assert run.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "restart 1 wrote no checkpoint"
        time.sleep(0.1)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert not (models / "restart1.npz").exists()

    check_success(snakemake(workdir, "--unlock", *arguments))
    check_success(snakemake(workdir, "--rerun-incomplete", *arguments, timeout=SMOKE_TIMEOUT_S))

    metrics = json.loads((models / "restart1.json").read_text())
    assert metrics["resumed_from_iteration"] > 0
    assert metrics["iterations"] > metrics["resumed_from_iteration"]


# --- the Snakemake report ----------------------------------------------------


@pytest.mark.slow
def test_report_contains_figures_and_tables(smoke_run):
    workdir, _ = smoke_run
    report = workdir / "results" / "report.html"
    check_success(snakemake(workdir, "--configfile", SMOKE_CONFIG, "--report", str(report.relative_to(workdir))))
    html = report.read_text(errors="replace")
    for figure in FIGURES:
        assert f"{figure}.pdf" in html, f"the report lacks figure {figure}"
    for table in TABLES:
        assert f"{table}.csv" in html, f"the report lacks table {table}"
