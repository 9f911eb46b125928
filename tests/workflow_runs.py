"""Running the Snakemake workflow from the tests, in temporary copies of the repository.

Each test runs the workflow in a copy, so that the repository gets no results and no
Snakemake lock. The session fixture ``smoke_run`` of conftest.py runs the smoke
configuration once with these helpers; the workflow, report and cluster tests read it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_PATHS = ("Snakefile", "workflow", "config")
SMOKE_CONFIG = "config/smoke.yaml"

# Bounds in seconds. The smoke run takes 2 minutes on 2 idle cores (config/smoke.yaml
# says how it was measured), and took 20 minutes on a 2-core machine at a load average of
# 12. A dry run of the paper grid took 30 s there.
DRY_RUN_TIMEOUT_S = 300
SMOKE_TIMEOUT_S = int(os.environ.get("DEEPLIMITS_SMOKE_TIMEOUT", "2400"))


def copy_workflow(destination: Path, extra: tuple[str, ...] = ()) -> Path:
    """Copy the files that define the workflow, and the ``extra`` paths, into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".snakemake")
    for name in WORKFLOW_PATHS + extra:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, destination / name)
    return destination


def tool_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """Return ``env`` (default: this process's) with this interpreter's scripts first on PATH.

    The jobs call the ``deeplimits`` command, installed beside the interpreter that runs
    the tests, also when its virtual environment was not activated.
    """
    env = dict(os.environ if env is None else env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def snakemake(workdir: Path, *arguments: str, timeout: int = DRY_RUN_TIMEOUT_S, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` and return the finished process, stderr merged into stdout.

    ``timeout -k`` sends SIGKILL 30 s after SIGTERM, because Snakemake waits for its
    running jobs after SIGTERM. The exit status is then 124, which fails the test here,
    or 137 after SIGKILL, which fails the caller's check of the exit status.
    """
    command = ["timeout", "-k", "30", str(timeout), sys.executable, "-m", "snakemake", *arguments]
    result = subprocess.run(
        command, cwd=workdir, env=tool_environment(env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert result.returncode != 124, f"snakemake {' '.join(arguments)} timed out after {timeout} s"
    return result


def check_success(result: subprocess.CompletedProcess) -> str:
    """Assert that Snakemake exited with 0 and return its output."""
    tail = "\n".join(result.stdout.splitlines()[-60:])
    assert result.returncode == 0, f"snakemake failed (exit {result.returncode}):\n{tail}"
    return result.stdout


def run_smoke(workdir: Path) -> str:
    """Run the smoke configuration end to end on 2 cores in ``workdir``; return Snakemake's output."""
    output = check_success(snakemake(workdir, "--cores", "2", "--configfile", SMOKE_CONFIG, timeout=SMOKE_TIMEOUT_S))
    (workdir / "snakemake.out").write_text(output)
    return output
