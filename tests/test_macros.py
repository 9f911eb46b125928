"""Tests of ``macros.tex``: every documented key defined, values taken from the results, LaTeX errors on unknown keys."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from deeplimits.cli import main
from deeplimits.reporting import macro_keys, write_macros
from deeplimits.reporting.macros import CLAIM_IDS, DATASET_KEYS, GLOBAL_KEYS, render_macros
from test_figures import DATASET, DATASETS, DEPTHS, RESTARTS, STUDY_OPTIONS, build_results

DEFINITION = re.compile(r"^\\expandafter\\def\\csname dl@(?P<key>[^\\]+)\\endcsname\{(?P<value>.*)\}$")

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """The results folder of the tiny pipeline run of test_figures, built once per session."""
    return build_results(tmp_path_factory.getbasetemp() / "reporting-results")


@pytest.fixture(scope="module")
def macros(results_dir, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """``macros.tex`` of the tiny run, and its definitions read back: key -> LaTeX value."""
    path = write_macros(results_dir, list(DATASETS), tmp_path_factory.mktemp("macros") / "macros.tex")
    definitions = {}
    for line in path.read_text().splitlines():
        match = DEFINITION.match(line)
        if match:
            definitions[match["key"]] = match["value"]
    return path, definitions


def compile_latex(folder: Path, body: str) -> subprocess.CompletedProcess:
    """Compile a document that inputs ``macros.tex`` (in ``folder``) and typesets ``body``."""
    (folder / "main.tex").write_text(
        "\\documentclass{article}\n\\input{macros.tex}\n\\begin{document}\n" + body + "\n\\end{document}\n")
    return subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=120)


def test_macro_keys_documented_list():
    keys = macro_keys(["moons", "breast_cancer"])

    assert len(keys) == 2 * len(CLAIM_IDS) + 2 * len(DATASET_KEYS) + len(GLOBAL_KEYS)
    for expected in ("C1-verdict", "C9-evidence", "moons-einf", "breast_cancer-accuracy-limit",
                     "depth-min", "depth-max", "depths", "restarts", "tolerance", "alpha", "beta", "gamma",
                     "degree", "steps", "datasets", "reproduced-count", "total-wall-time", "n-models",
                     "moons-einf-error", "moons-energy-order", "moons-energy-order-ci", "moons-distance-order",
                     "moons-forward-order", "moons-recovery-order", "moons-branches"):
        assert expected in keys


@pytest.mark.slow
def test_macros_define_every_key(macros):
    _, definitions = macros

    assert sorted(definitions) == sorted(macro_keys(list(DATASETS)))


@pytest.mark.slow
def test_macros_values_from_results(macros, results_dir):
    _, values = macros
    claims = pd.read_csv(results_dir / "analysis" / "claims.csv")
    branches = pd.read_csv(results_dir / "analysis" / DATASET / "baseline_branches.csv")

    assert values["depths"] == ", ".join(str(depth) for depth in DEPTHS)
    assert values["depth-min"] == str(min(DEPTHS))
    assert values["depth-max"] == str(max(DEPTHS))
    assert values["restarts"] == str(RESTARTS)
    assert values["n-models"] == str(len(STUDY_OPTIONS) * len(DEPTHS) * RESTARTS)
    assert values["datasets"] == "moons, iris"
    assert values["tolerance"] == "\\ensuremath{10^{-4}}"
    assert values["degree"] == "3"
    assert values["steps"] == "8"
    assert values["reproduced-count"] == str(int((claims["verdict"] == "REPRODUCED").sum()))
    for _, row in claims.iterrows():
        assert values[f"{row['id']}-verdict"] == row["verdict"]
    assert values[f"{DATASET}-branches"] == str(len(branches))
    lowest = branches[branches["lowest"]].iloc[0]
    # Four significant digits, as macro_values writes E_inf.
    assert float(values[f"{DATASET}-einf"]) == pytest.approx(lowest["limit_energy"], rel=5e-4)
    assert re.fullmatch(r"-?\d+\.\d\d \[-?\d+\.\d\d, -?\d+\.\d\d\]", values[f"{DATASET}-forward-order"])
    assert re.fullmatch(r"\d+(\.\d+)?~(s|min|h)", values["total-wall-time"])


@pytest.mark.slow
def test_macros_missing_inputs_are_not_available(macros):
    _, values = macros

    for key in DATASET_KEYS:
        assert values[f"iris-{key}"] == "n/a"


@pytest.mark.slow
@pytest.mark.latex
@needs_pdflatex
def test_macros_compile_every_key(macros, tmp_path):
    path, definitions = macros
    shutil.copy(path, tmp_path / "macros.tex")
    body = "\n".join(f"\\detokenize{{{key}}}: \\dl{{{key}}}\\par" for key in definitions)
    body += "\n\\edef\\verdict{\\dl{C1-verdict}}\\verdict"

    completed = compile_latex(tmp_path, body)

    assert completed.returncode == 0, completed.stdout[-3000:]


@pytest.mark.latex
@needs_pdflatex
def test_macros_unknown_key_is_latex_error(tmp_path):
    (tmp_path / "macros.tex").write_text(render_macros({"moons-einf": "0.0816"}))

    completed = compile_latex(tmp_path, "\\dl{moons-einf} \\dl{moons-enif}")

    assert completed.returncode != 0
    assert "No result macro named `moons-enif'" in completed.stdout


def test_macros_render_escaped_values():
    text = render_macros({"C1-evidence": "order \\ensuremath{\\geq} 0.8, 50\\%", "breast_cancer-einf": "0.1"})

    assert text.count("\\providecommand*{\\dl}[1]") == 1
    assert "\\PackageError{deeplimits}" in text
    assert "\\expandafter\\def\\csname dl@breast_cancer-einf\\endcsname{0.1}" in text


def test_macros_reject_bad_dataset_name(tmp_path):
    with pytest.raises(ValueError, match=r"data set name 'my data' cannot be a LaTeX macro key"):
        write_macros(tmp_path, ["my data"], tmp_path / "macros.tex")


def test_macros_command_without_results(tmp_path):
    (tmp_path / "empty").mkdir()
    status = main(["macros", "--results", str(tmp_path / "empty"), "--datasets", "moons",
                   "--out", str(tmp_path / "tables" / "macros.tex")])
    text = (tmp_path / "tables" / "macros.tex").read_text()

    assert status == 0
    for key in macro_keys(["moons"]):
        assert f"\\csname dl@{key}\\endcsname{{" in text
