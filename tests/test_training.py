"""Tests of training: mesh-independent convergence, checkpoints and failures."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from deeplimits.artifacts import read_npz
from deeplimits.datasets import make_dataset, save_dataset
from deeplimits.initialisation import InitialFunction, InitialisationSettings
from deeplimits.settings import EnergySettings
from deeplimits.training import OptimiserSettings, train
from problems import moons


def train_moons(depth, optimiser=OptimiserSettings(), **options):
    x, y = moons(samples=200)
    start = InitialFunction(InitialisationSettings(), restart=0, state_dim=2, n_classes=2)
    return train(x, y, 2, EnergySettings(), depth, start.layers(depth), start.W, start.c, optimiser, {}, progress=False, **options)


@pytest.mark.slow
def test_iterations_do_not_grow_with_depth():
    shallow = train_moons(16)
    deep = train_moons(512)

    assert shallow.optimisation.converged
    assert deep.optimisation.converged
    assert deep.optimisation.gradient_norm <= 1e-6
    assert deep.optimisation.iterations <= 2 * shallow.optimisation.iterations


def test_iteration_cap_reports_not_converged():
    result = train_moons(8, OptimiserSettings(max_iter=5))

    assert not result.optimisation.converged
    assert result.optimisation.message == "iteration cap 5 reached"


def test_checkpoint_resume_in_process(tmp_path):
    checkpoint = tmp_path / "restart0.npz"
    uninterrupted = train_moons(32)

    train_moons(32, OptimiserSettings(max_iter=20), checkpoint=checkpoint, checkpoint_iterations=5)
    resumed = train_moons(32, checkpoint=checkpoint, checkpoint_iterations=5)

    assert resumed.resumed_from_iteration == 20
    for name in ("K", "b", "W", "c"):
        assert torch.equal(getattr(resumed.params, name), getattr(uninterrupted.params, name)), name


def test_unreadable_checkpoint_is_ignored(tmp_path, caplog):
    # A checkpoint damaged after it was written must not block the run: it starts over.
    checkpoint = tmp_path / "restart0.npz"
    checkpoint.write_text("garbage")
    uninterrupted = train_moons(8)

    with caplog.at_level("WARNING", logger="deeplimits.training"):
        restarted = train_moons(8, checkpoint=checkpoint, checkpoint_iterations=5)

    assert restarted.resumed_from_iteration == 0
    assert "ignoring checkpoint" in caplog.text
    assert torch.equal(restarted.params.K, uninterrupted.params.K)


@pytest.fixture
def moons_file(tmp_path):
    path = tmp_path / "moons.npz"
    save_dataset(make_dataset("moons", n_samples=200, seed=0), path)
    return path


def run_train(data, out_dir, *options, checkpoint_dir=None):
    command = [sys.executable, "-m", "deeplimits.cli", "train", "--data", str(data), "--out-dir", str(out_dir), "--no-progress", "--threads", "1", *options]
    if checkpoint_dir is not None:
        command += ["--checkpoint-dir", str(checkpoint_dir), "--checkpoint-iterations", "5"]
    return command


@pytest.mark.slow
def test_killed_training_resumes_bitwise(tmp_path, moons_file):
    options = ("--depth", "256")
    subprocess.run(run_train(moons_file, tmp_path / "reference", *options), check=True, capture_output=True)

    checkpoints = tmp_path / "checkpoints"
    process = subprocess.Popen(run_train(moons_file, tmp_path / "resumed", *options, checkpoint_dir=checkpoints), stderr=subprocess.DEVNULL)
    checkpoint = checkpoints / "restart0.npz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoint.exists() and int(read_npz(checkpoint)["iteration"]) >= 10:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "training finished before it could be killed"
    assert not (tmp_path / "resumed" / "restart0.npz").exists()

    subprocess.run(run_train(moons_file, tmp_path / "resumed", *options, checkpoint_dir=checkpoints), check=True, capture_output=True)

    reference = read_npz(tmp_path / "reference" / "restart0.npz")
    resumed = read_npz(tmp_path / "resumed" / "restart0.npz")
    for name in ("K", "b", "W", "c"):
        assert np.array_equal(reference[name], resumed[name]), name
    metrics = (tmp_path / "resumed" / "restart0.json").read_text()
    assert '"resumed_from_iteration": 0' not in metrics


def test_nan_raises_and_leaves_no_artifact(tmp_path, moons_file):
    # relu lets the states grow like exp(|K|); a start of scale 1e200 overflows to inf.
    completed = subprocess.run(
        run_train(moons_file, tmp_path / "out", "--depth", "4", "--activation", "relu", "--init-scale", "1e200"),
        capture_output=True,
        text=True,
    )

    assert completed.returncode == 1
    assert "train failed: the energy is" in completed.stderr
    assert "not finite" in completed.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
