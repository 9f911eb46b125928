"""Tests of the report's figures, drawn from the results of a tiny run of the real pipeline.

:func:`build_results` runs the ``deeplimits`` subcommands that the workflow runs (make-data,
train, solve-limit, forward-check, analyse, claims) on 32 moons samples at depths 4, 8
and 16 with two restarts, and writes benchmark files in Snakemake's format. The tests of
the tables and of the macros reuse the same folder.
"""

from __future__ import annotations

import json
import logging
import struct
import time
from pathlib import Path

import pytest

from deeplimits.analysis.rates import fit_order
from deeplimits.cli import main
from deeplimits.reporting import FIGURES, TABLES, make_figure
from deeplimits.reporting.names import FIGURE_NAMES, TABLE_NAMES
from deeplimits.reporting.loading import ResultsTree

DEPTHS = (4, 8, 16)
RESTARTS = 2
DATASET = "moons"
# A data set with three features and no trained models: the figures must leave it out.
FLAT_DATASET = "iris"
DATASETS = (DATASET, FLAT_DATASET)

# Energy and optimiser options of each study, as the workflow passes them on the command line.
# Without the derivative penalty the optimiser stops at its iteration cap, whatever the cap,
# so those studies get a low one.
STUDY_OPTIONS = {
    "baseline": [],
    "no_derivative_penalty": ["--alpha", "0", "--alpha-floor", "1e-2", "--max-iter", "40"],
    "no_derivative_penalty_iid": ["--alpha", "0", "--alpha-floor", "1e-2", "--init", "iid", "--max-iter", "40"],
    "scaling_q0": ["--q", "0"],
    "scaling_q2": ["--q", "2"],
}
LIMITS = {"baseline": ["--degree", "3"], "scaling_q2": ["--degree", "0", "--q", "2"]}
# Loose enough that models of 32 samples converge in well under 300 iterations, which
# keeps the run short.
OPTIMISER = ["--tolerance", "1e-4", "--max-iter", "300"]
BENCHMARK_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*arguments: str) -> float:
    """Run one ``deeplimits`` subcommand in this process and return its wall time in seconds."""
    started = time.perf_counter()
    status = main(["--log-level", "WARNING", *arguments])
    assert status == 0, f"deeplimits {' '.join(arguments)} failed with status {status}"
    return time.perf_counter() - started


def write_benchmark(path: Path, seconds: float, max_rss: float) -> None:
    """Write a benchmark file with the columns Snakemake writes (seconds, MB)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    minutes, rest = divmod(int(seconds), 60)
    row = f"{seconds:.4f}\t0:{minutes:02d}:{rest:02d}\t{max_rss:.2f}\t900.0\t250.0\t260.0\t0.1\t0.2\t95.0\t{seconds:.2f}\n"
    path.write_text(BENCHMARK_HEADER + row)


def build_results(root: Path) -> Path:
    """Run the tiny pipeline into ``root/results`` once. Later calls reuse the finished folder."""
    results = root / "results"
    finished = root / "finished"
    if finished.exists():
        return results

    data = results / "data" / f"{DATASET}.npz"
    run_cli("make-data", "--dataset", DATASET, "--n-samples", "32", "--out", str(data))
    run_cli("make-data", "--dataset", FLAT_DATASET, "--pca-dim", "3", "--out", str(results / "data" / f"{FLAT_DATASET}.npz"))
    # One thread: for a problem this small, the second one costs more than it saves.
    common = ["--data", str(data), "--no-progress", "--threads", "1"]

    for study, options in STUDY_OPTIONS.items():
        for depth in DEPTHS:
            seconds = run_cli("train", *common, "--depth", str(depth), "--restarts", str(RESTARTS),
                              "--out-dir", str(results / "models" / DATASET / study / f"N{depth}"), *OPTIMISER, *options)
            write_benchmark(results / "benchmarks" / "train_resnet" / DATASET / study / f"N{depth}.tsv", seconds, 310.0 + depth)

    for study, options in LIMITS.items():
        for restart in range(RESTARTS):
            seconds = run_cli("solve-limit", *common, "--restart", str(restart), "--steps", "8",
                              "--out-dir", str(results / "limit" / DATASET / study), *OPTIMISER, *options)
            write_benchmark(results / "benchmarks" / "solve_limit" / DATASET / study / f"restart{restart}.tsv", seconds, 420.0)

    forward = results / "forward" / DATASET
    seconds = run_cli("forward-check", *common, "--depths", "4", "8", "16", "32", "--out", str(forward / "consistency.npz"))
    write_benchmark(results / "benchmarks" / "check_forward" / f"{DATASET}.tsv", seconds, 280.0)
    for restart in range(RESTARTS):
        run_cli("forward-check", *common, "--depths", "4", "8", "16", "32", "--degree", "3",
                "--limit", str(results / "limit" / DATASET / "baseline" / f"restart{restart}.npz"),
                "--out", str(forward / f"recovery_restart{restart}.npz"))

    depths = [str(depth) for depth in DEPTHS]
    for study in STUDY_OPTIONS:
        limit = ["--limit-dir", str(results / "limit" / DATASET / study)] if study in LIMITS else []
        run_cli("analyse", "--data", str(data), "--models-dir", str(results / "models" / DATASET / study),
                "--depths", *depths, "--restarts", str(RESTARTS), *limit, "--study", study,
                "--out-prefix", str(results / "analysis" / DATASET / study), "--fit-min-depth", "4", "--no-progress")

    thresholds = root / "thresholds.json"
    thresholds.write_text(json.dumps({"fit_min_depth": 4, "forward_fit_min_depth": 4}))
    run_cli("claims", "--analysis-dir", str(results / "analysis"), "--forward-dir", str(results / "forward"),
            "--datasets", DATASET, "--thresholds", str(thresholds), "--out-prefix", str(results / "analysis" / "claims"))

    finished.touch()
    return results


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """The results folder of the tiny pipeline run, shared by the report's test modules."""
    return build_results(tmp_path_factory.getbasetemp() / "reporting-results")


def assert_pdf_and_png(prefix: Path) -> None:
    pdf, png = prefix.with_name(prefix.name + ".pdf"), prefix.with_name(prefix.name + ".png")
    assert pdf.read_bytes()[:5] == b"%PDF-", f"{pdf} is not a PDF"
    assert pdf.read_bytes().rstrip().endswith(b"%%EOF"), f"{pdf} is truncated"
    header = png.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{png} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    # A panel is 3.6 x 2.9 inches at 150 dots per inch, so one panel alone exceeds 300 pixels.
    assert width > 300, f"{png} is only {width} pixels wide"
    assert height > 200, f"{png} is only {height} pixels high"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_written_as_pdf_and_png(results_dir, tmp_path, name):
    written = make_figure(name, results_dir, list(DATASETS), tmp_path / name)

    assert [path.name for path in written] == [f"{name}.pdf", f"{name}.png"]
    assert_pdf_and_png(tmp_path / name)


@pytest.mark.slow
def test_figure_skips_three_feature_data(results_dir, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="deeplimits.reporting"):
        make_figure("feature_flow", results_dir, list(DATASETS), tmp_path / "feature_flow")

    assert "iris has 3 features" in caplog.text
    assert "has no data" not in caplog.text
    assert_pdf_and_png(tmp_path / "feature_flow")


@pytest.mark.slow
def test_figure_pdf_is_byte_stable(results_dir, tmp_path):
    make_figure("energy_convergence", results_dir, [DATASET], tmp_path / "first")
    make_figure("energy_convergence", results_dir, [DATASET], tmp_path / "second")

    assert (tmp_path / "first.pdf").read_bytes() == (tmp_path / "second.pdf").read_bytes()
    assert (tmp_path / "first.png").read_bytes() == (tmp_path / "second.png").read_bytes()


def test_figure_fits_refitted_over_verdict_range(tmp_path):
    (tmp_path / "analysis").mkdir()
    (tmp_path / "analysis" / "claims.json").write_text(json.dumps({"thresholds": {"fit_min_depth": 8}}))
    depths = [4, 8, 16, 32, 64]
    # Exactly 3 / N from depth 8 on. Depth 4 is off the line, so a fit that kept it would
    # not give order 1.
    errors = [10.0, 3 / 8, 3 / 16, 3 / 32, 3 / 64]
    stored = fit_order(depths, errors, fit_min_depth=4).to_dict()

    fit = ResultsTree(tmp_path).fit(stored)

    assert stored["fit_depths"] == depths
    assert fit["fit_min_depth"] == 8
    assert fit["fit_depths"] == [8, 16, 32, 64]
    # The points lie on a line, so the fit is exact up to rounding of the logarithms.
    assert fit["order"] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_without_results_says_so(tmp_path, caplog, name):
    with caplog.at_level(logging.WARNING, logger="deeplimits.reporting"):
        make_figure(name, tmp_path / "empty", ["moons"], tmp_path / name)

    assert f"figure {name} has no data: none of moons has" in caplog.text
    assert_pdf_and_png(tmp_path / name)


def test_figure_unknown_name_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown figure 'weights'; choose one of"):
        make_figure("weights", tmp_path, ["moons"], tmp_path / "weights")


def test_figure_needs_datasets(tmp_path):
    with pytest.raises(ValueError, match="no data sets given; pass --datasets"):
        make_figure("regularity", tmp_path, [], tmp_path / "regularity")


def test_figure_command_writes_files(tmp_path):
    (tmp_path / "empty").mkdir()
    status = main(["figure", "compute_cost", "--results", str(tmp_path / "empty"), "--datasets", "moons",
                   "--out-prefix", str(tmp_path / "figures" / "compute_cost")])

    assert status == 0
    assert_pdf_and_png(tmp_path / "figures" / "compute_cost")


def test_figure_command_rejects_unknown_name(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["figure", "weights", "--datasets", "moons", "--out-prefix", str(tmp_path / "weights")])

    assert "invalid choice: 'weights'" in capsys.readouterr().err


def test_figure_and_table_names_match_the_registries():
    # The command line offers the names of deeplimits.reporting.names without importing
    # matplotlib; each name must have its drawing or building function, and back.
    assert sorted(FIGURES) == sorted(FIGURE_NAMES)
    assert sorted(TABLES) == sorted(TABLE_NAMES)
