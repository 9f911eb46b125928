"""Tests of the deeplimits command line on a small problem."""

import io
import json
import logging
import signal
import subprocess
import sys

import numpy as np
import pytest

from deeplimits.artifacts import read_npz
from deeplimits.cli import Terminated, main


def deeplimits(*arguments):
    return subprocess.run([sys.executable, "-m", "deeplimits.cli", *map(str, arguments)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def moons_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "moons.npz"
    assert main(["make-data", "--dataset", "moons", "--n-samples", "40", "--out", str(path)]) == 0
    return path


def test_help_names_units():
    completed = deeplimits("train", "--help")

    assert completed.returncode == 0
    assert "seconds between checkpoints" in completed.stdout
    assert "number of layers N" in completed.stdout
    assert "dual-metric gradient norm" in completed.stdout


def test_make_data_writes_summary(moons_file):
    summary = json.loads(moons_file.with_suffix(".json").read_text())

    assert summary["name"] == "moons"
    assert summary["n_train"] + summary["n_test"] == 40


def test_train_solve_and_check(tmp_path, moons_file):
    assert main(["train", "--data", str(moons_file), "--depth", "8", "--restarts", "2", "--out-dir", str(tmp_path / "models"), "--no-progress"]) == 0
    assert main(["solve-limit", "--data", str(moons_file), "--restart", "1", "--degree", "3", "--steps", "8", "--out-dir", str(tmp_path / "limit"), "--no-progress"]) == 0
    assert main(["forward-check", "--data", str(moons_file), "--depths", "4", "8", "16", "--limit", str(tmp_path / "limit" / "restart1.npz"), "--out", str(tmp_path / "recovery.npz"), "--no-progress"]) == 0

    model = read_npz(tmp_path / "models" / "restart1.npz", required=("K", "b", "W", "c", "t"))
    assert model["K"].shape == (8, 2, 2)
    metrics = json.loads((tmp_path / "models" / "restart1.json").read_text())
    assert metrics["converged"] is True
    assert metrics["energy"]["total"] == pytest.approx(sum(metrics["energy"][k] for k in ("data", "derivative", "magnitude", "classifier")))

    limit = read_npz(tmp_path / "limit" / "restart1.npz", required=("coefficients", "t", "K", "b", "W", "c"))
    assert limit["t"].shape == (4097,)
    assert limit["K"].shape == (4097, 2, 2)
    assert not (tmp_path / "limit" / "restart0.npz").exists()
    refinement = json.loads((tmp_path / "limit" / "restart1.json").read_text())["refinement"]
    assert set(refinement) == {"degree", "step", "tolerance", "estimate"}

    recovery = read_npz(tmp_path / "recovery.npz", required=("depth", "energy_gap", "state_error"))
    assert np.array_equal(recovery["depth"], [4, 8, 16])
    assert recovery["energy_gap"][-1] < recovery["energy_gap"][0]


def test_solve_limit_from_trained_model(tmp_path, moons_file):
    assert main(["train", "--data", str(moons_file), "--depth", "16", "--out-dir", str(tmp_path / "models"), "--no-progress"]) == 0
    assert main(["solve-limit", "--data", str(moons_file), "--start-from", str(tmp_path / "models" / "restart0.npz"), "--degree", "4", "--steps", "8", "--no-refine", "--out-dir", str(tmp_path / "limit"), "--no-progress"]) == 0

    metrics = json.loads((tmp_path / "limit" / "restart0.json").read_text())
    assert metrics["start_from"].endswith("restart0.npz")
    assert metrics["converged"] is True
    model_energy = json.loads((tmp_path / "models" / "restart0.json").read_text())["energy"]["total"]
    # Started from the depth-16 minimiser, the solve ends on the same branch: its energy
    # differs from E_16 by the O(1/N) gap, about 1e-3 here, not by a change of branch.
    assert metrics["energy"]["total"] == pytest.approx(model_energy, abs=5e-3)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["make-data", "--dataset", "moons", "--test-fraction", "1.5"], "test_fraction"),
        (["train", "--depth", "4", "--state-dim", "1"], "state_dim"),
        (["train", "--depth", "0"], "--depth must be >= 1, got 0"),
        (["train", "--depth", "4", "--beta", "0"], "beta must be a finite number > 0"),
        (["train", "--depth", "4", "--device", "cuda"], "no CUDA device"),
    ],
)
def test_bad_input_fails_with_message(tmp_path, moons_file, arguments, message):
    if arguments[0] == "train":
        arguments = [*arguments, "--data", moons_file, "--out-dir", tmp_path / "out"]
    else:
        arguments = [*arguments, "--out", tmp_path / "x.npz"]
    if "cuda" in arguments:
        import torch

        if torch.cuda.is_available():
            pytest.skip("a CUDA device is present")

    completed = deeplimits(*arguments)

    assert completed.returncode == 1
    assert message in completed.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_dataset_lists_choices():
    completed = deeplimits("make-data", "--dataset", "mnist", "--out", "x.npz")

    assert completed.returncode == 2
    assert "invalid choice: 'mnist'" in completed.stderr


def test_settings_file_rejects_unknown_keys(tmp_path, moons_file):
    settings = tmp_path / "settings.yaml"
    settings.write_text("energy:\n  alpah: 1.0\n")

    completed = deeplimits("train", "--data", moons_file, "--depth", "4", "--out-dir", tmp_path / "out", "--settings", settings)

    assert completed.returncode == 1
    assert "unknown keys ['alpah'] in section 'energy'" in completed.stderr


def test_settings_file_and_options_combine(tmp_path, moons_file):
    settings = tmp_path / "settings.yaml"
    settings.write_text("energy:\n  alpha: 0.5\n  gamma: 0.2\noptimiser:\n  tolerance: 1.0e-5\n")

    assert main(["train", "--data", str(moons_file), "--depth", "4", "--out-dir", str(tmp_path / "out"), "--settings", str(settings), "--gamma", "0.3", "--no-progress"]) == 0

    metrics = json.loads((tmp_path / "out" / "restart0.json").read_text())
    assert metrics["settings"]["alpha"] == 0.5
    assert metrics["settings"]["gamma"] == 0.3
    assert metrics["optimiser"]["tolerance"] == 1e-5


def test_parser_loads_no_plotting_or_data_generation_code():
    # Every job of the workflow starts the command line. Importing scikit-learn,
    # matplotlib, pandas and torchdiffeq's scipy wrapper with it would cost each of the
    # hundreds of training jobs about 1.5 s, so the subcommands that need them import them.
    code = (
        "import sys; from deeplimits.cli import build_parser; build_parser(); "
        "print(' '.join(m for m in ('sklearn', 'matplotlib', 'pandas', 'scipy', 'torchdiffeq', 'jsonschema') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


@pytest.mark.parametrize("option", ["--threads", "--checkpoint-seconds", "--checkpoint-iterations"])
def test_non_positive_counts_rejected(tmp_path, moons_file, option):
    result = deeplimits("train", "--data", moons_file, "--depth", "4", "--out-dir", tmp_path / "out", option, "0")
    assert result.returncode == 2
    assert f"argument {option}: 0 is not positive" in result.stderr


def test_out_dir_file_rejected(tmp_path, moons_file):
    result = deeplimits("train", "--data", moons_file, "--depth", "4", "--out-dir", moons_file)
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr
    assert "training N=" not in result.stderr


@pytest.mark.parametrize("command", [
    ["claims", "--datasets", "moons", "--analysis-dir", "{missing}", "--forward-dir", "{missing}", "--out-prefix", "{tmp}/claims"],
    ["figure", "regularity", "--datasets", "moons", "--results", "{missing}", "--out-prefix", "{tmp}/figure"],
    ["table", "claims", "--datasets", "moons", "--results", "{missing}", "--out-prefix", "{tmp}/table"],
    ["macros", "--datasets", "moons", "--results", "{missing}", "--out", "{tmp}/macros.tex"],
], ids=["claims", "figure", "table", "macros"])
def test_missing_input_folder_fails(tmp_path, command):
    # An empty result from a mistyped folder would look like a finished one.
    arguments = [part.format(missing=tmp_path / "missing", tmp=tmp_path) for part in command]
    assert main(arguments) == 1
    assert list(tmp_path.iterdir()) == []


def test_sigterm_ends_training_with_resume_hint(tmp_path, moons_file):
    # A batch system's time limit sends SIGTERM: one line on resuming, and no result file.
    process = subprocess.Popen(
        [sys.executable, "-m", "deeplimits.cli", "train", "--data", str(moons_file), "--depth", "1024",
         "--tolerance", "1e-12", "--max-iter", "100000", "--no-progress", "--out-dir", str(tmp_path / "out")],
        stderr=subprocess.PIPE, text=True,
    )
    for line in process.stderr:
        if "training N=1024" in line:
            break
    process.send_signal(signal.SIGTERM)
    stderr = process.communicate(timeout=120)[1]

    assert process.returncode == 143
    assert "terminated by SIGTERM; run the same command again" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_sigterm_during_logging_propagates():
    # The signal can arrive while the line that announces training is being logged.
    # Logging handlers print any Exception raised there and carry on, so Terminated must
    # not be one.
    class TerminatedStream(io.StringIO):
        def write(self, text):
            raise Terminated()

    logger = logging.getLogger("deeplimits.test_sigterm")
    handler = logging.StreamHandler(TerminatedStream())
    logger.addHandler(handler)
    try:
        with pytest.raises(Terminated):
            logger.error("training N=1024 restart 0")
    finally:
        logger.removeHandler(handler)


def test_make_data_output_must_be_npz(tmp_path):
    assert main(["make-data", "--dataset", "moons", "--out", str(tmp_path / "moons.csv")]) == 1
    assert list(tmp_path.iterdir()) == []


def test_malformed_settings_file_named(tmp_path, moons_file, caplog):
    settings = tmp_path / "settings.yaml"
    settings.write_text("energy: [1, 2\n")

    status = main(["train", "--data", str(moons_file), "--depth", "4", "--settings", str(settings), "--out-dir", str(tmp_path / "out")])

    assert status == 1
    assert f"settings file {settings} is not valid YAML" in caplog.text
