"""Shared test settings and fixtures.

Every test runs in float64 with fixed seeds, so that its numbers are reproducible. The
smoke run of the workflow runs once per session, for the workflow, report and cluster tests.
"""

import numpy as np
import pytest
import torch
import yaml

from workflow_runs import SMOKE_CONFIG, copy_workflow, run_smoke


@pytest.fixture(autouse=True)
def float64_and_seeds():
    """Run every test in float64 with torch and numpy seeded."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Run the smoke configuration end to end once per session; return (workdir, config).

    The workflow, report and cluster tests share this run. Tests that change files in
    its folder work on a copy of it.
    """
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke") / "workflow")
    run_smoke(workdir)
    return workdir, yaml.safe_load((workdir / SMOKE_CONFIG).read_text())
