"""Tests of the report: paper/main.tex, paper/refs.bib and workflow/rules/paper.smk.

The main test builds results/paper/main.pdf from the smoke configuration's results, in a
temporary copy of the workflow, and reads the PDF and the LaTeX log. Tests that compile
LaTeX are marked ``latex`` and skipped where latexmk is not installed
(.ci/install-tex.sh installs it). The rule's behaviour without latexmk is tested with a
PATH from which latexmk is hidden, so it runs everywhere.
"""

import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pandas
import pytest

from deeplimits.reporting.names import FIGURE_NAMES, TABLE_NAMES
from workflow_runs import REPO, SMOKE_CONFIG, check_success, snakemake

CLAIM_IDS = [f"C{number}" for number in range(1, 10)]

# A LaTeX build of the report takes seconds.
BUILD_TIMEOUT_S = 300

HAS_LATEXMK = shutil.which("latexmk") is not None
requires_latexmk = pytest.mark.skipif(
    not HAS_LATEXMK, reason="latexmk not found; install TeX with .ci/install-tex.sh"
)

# Lines of a LaTeX or BibTeX log that mean a reference, citation or file is missing.
LOG_PROBLEMS = [
    re.compile(r"Reference `[^']*' on page \d+ undefined"),
    re.compile(r"Citation `[^']*' on page \d+ undefined"),
    re.compile(r"Citation `[^']*' undefined"),
    re.compile(r"There were undefined references"),
    re.compile(r"There were undefined citations"),
    re.compile(r"File `[^']*' not found"),
    re.compile(r"No file main\.bbl"),
    re.compile(r"Label\(s\) may have changed"),
]
BIBTEX_PROBLEMS = [re.compile(r"^Warning--"), re.compile(r"error message"), re.compile(r"I couldn't open")]

INCLUDE_PATTERN = re.compile(r"\\(includegraphics|input|fittable|figurefile)(\[[^\]]*\])?\{([^}]*)\}(\{([^}]*)\})?")
GRAPHICS_PATH_PATTERN = re.compile(r"\\graphicspath\{\{([^}]*)\}\}")
LITERAL_KEY_PATTERN = re.compile(r"\\dl\{([A-Za-z0-9-]+)\}")
DATASET_KEY_PATTERN = re.compile(r"\\dl\{\\dataset-([A-Za-z0-9-]+)\}")
COMMENT_PATTERN = re.compile(r"(?<!\\)%.*$", re.MULTILINE)


# --- running Snakemake ------------------------------------------------------------------


def path_without_latexmk(folder: Path) -> str:
    """Return a PATH that finds every program of the current PATH except latexmk.

    Removing whole folders from PATH would also remove bash, which latexmk shares
    /usr/bin with, so ``folder`` gets a link to every other program instead.
    """
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for entry in os.scandir(directory):
            link = folder / entry.name
            if entry.name != "latexmk" and not link.exists() and not link.is_symlink():
                link.symlink_to(entry.path)
    return str(folder)


# --- the report built from smoke results ------------------------------------------------


@pytest.fixture(scope="module")
def smoke_report(smoke_run, tmp_path_factory) -> Path:
    """Build the report from the session's smoke results, in a copy; return the copy's root.

    The copy leaves the shared smoke run as the other tests expect it.
    """
    if not HAS_LATEXMK:
        pytest.skip("latexmk not found; install TeX with .ci/install-tex.sh")
    workdir = tmp_path_factory.mktemp("paper-smoke") / "workflow"
    shutil.copytree(smoke_run[0], workdir, symlinks=True)
    shutil.copytree(REPO / "paper", workdir / "paper")

    # The target goes first, because --configfile takes every argument that follows it.
    check_success(snakemake(workdir, "paper", "--cores", "1", "--configfile", SMOKE_CONFIG, timeout=BUILD_TIMEOUT_S))
    return workdir


def latex_source(path: Path) -> str:
    """Return the LaTeX file ``path`` without its comments."""
    return COMMENT_PATTERN.sub("", path.read_text())


def pdf_text(pdf: Path) -> str:
    """Return the text of ``pdf`` with runs of white space collapsed to one space."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found; install poppler-utils (.ci/install-tex.sh does)")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return " ".join(text.split())


def page_count(pdf: Path) -> int:
    """Return the number of pages of ``pdf``, from pdfinfo or from the page objects."""
    if shutil.which("pdfinfo") is not None:
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        return int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE).group(1))

    # pdflatex puts the page dictionaries into compressed object streams, so the streams
    # are inflated before counting. The word boundary leaves out /Type /Pages, the page tree.
    content = pdf.read_bytes()
    parts = [content]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.DOTALL):
        try:
            parts.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            continue  # an image or font stream with another filter
    return sum(len(re.findall(rb"/Type\s*/Page\b", part)) for part in parts)


@pytest.mark.latex
@pytest.mark.slow
def test_report_has_pages(smoke_report):
    pdf = smoke_report / "results" / "paper" / "main.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert page_count(pdf) > 1


@pytest.mark.latex
@pytest.mark.slow
def test_report_log_clean(smoke_report):
    log = (smoke_report / "results" / "paper" / "main.log").read_text(errors="replace")
    for pattern in LOG_PROBLEMS:
        assert not pattern.search(log), f"LaTeX log contains {pattern.pattern!r}"

    bibtex_log = (smoke_report / "results" / "paper" / "main.blg").read_text(errors="replace")
    for line in bibtex_log.splitlines():
        for pattern in BIBTEX_PROBLEMS:
            assert not pattern.search(line), f"BibTeX log line: {line}"


@pytest.mark.latex
@pytest.mark.slow
def test_report_includes_exist(smoke_report):
    paper = smoke_report / "paper"
    source = latex_source(paper / "main.tex")
    graphics_paths = [paper / path for path in GRAPHICS_PATH_PATTERN.findall(source)]

    targets = []
    for command, _, first, _, second in INCLUDE_PATTERN.findall(source):
        if first.startswith("#"):
            continue  # the definition of a macro, not a use
        if command == "includegraphics":
            candidates = [directory / first for directory in graphics_paths] + [paper / first]
        elif command == "figurefile":
            candidates = [directory / second for directory in graphics_paths]
        else:
            name = first if first.endswith(".tex") else f"{first}.tex"
            candidates = [paper / name]
        targets.append((first if command != "figurefile" else second, candidates))

    # Every figure and table, plus the macros and the data set list.
    assert len(targets) >= len(FIGURE_NAMES) + len(TABLE_NAMES) + 2
    for name, candidates in targets:
        assert any(path.is_file() for path in candidates), f"{name} not found"


@pytest.mark.latex
@pytest.mark.slow
def test_report_mentions_claims(smoke_report):
    text = pdf_text(smoke_report / "results" / "paper" / "main.pdf")
    for claim in CLAIM_IDS:
        assert re.search(rf"\b{claim}\b", text), f"{claim} missing from the PDF"
        assert f"Verdict on {claim}:" in text


@pytest.mark.latex
@pytest.mark.slow
def test_report_verdicts_match_claims(smoke_report):
    text = pdf_text(smoke_report / "results" / "paper" / "main.pdf")
    claims = pandas.read_csv(smoke_report / "results" / "analysis" / "claims.csv")
    for claim, verdict in zip(claims["id"], claims["verdict"]):
        assert f"Verdict on {claim}: {verdict}." in text


@pytest.mark.latex
@pytest.mark.slow
def test_report_macro_keys_defined(smoke_report):
    source = latex_source(REPO / "paper" / "main.tex")
    macros = (smoke_report / "results" / "tables" / "macros.tex").read_text()
    datasets = (smoke_report / "results" / "paper" / "datasets.tex").read_text()
    names = re.search(r"\\def\\dldatasetnames\{([^}]*)\}", datasets).group(1).split(",")

    keys = set(LITERAL_KEY_PATTERN.findall(source))
    keys |= {f"{name}-{suffix}" for name in names for suffix in DATASET_KEY_PATTERN.findall(source)}
    assert {"C1-verdict", "datasets"} <= keys
    for key in sorted(keys):
        assert key in macros, f"\\dl{{{key}}} is not defined in macros.tex"


# --- the rule without LaTeX -------------------------------------------------------------


def write_report_workflow(workdir: Path) -> None:
    """Write a workflow of only paper.smk, with empty stand-ins for its inputs.

    The Snakefile defines the names that paper.smk takes from common.smk. Without latexmk
    the rule stops before it reads any input, so empty files suffice.
    """
    shutil.copytree(REPO / "paper", workdir / "paper")
    (workdir / "workflow" / "rules").mkdir(parents=True)
    shutil.copy2(REPO / "workflow" / "rules" / "paper.smk", workdir / "workflow" / "rules")
    (workdir / "Snakefile").write_text(
        f"FIGURES = {list(FIGURE_NAMES)!r}\n"
        f"TABLES = {list(TABLE_NAMES)!r}\n"
        'DATASETS = ["moons"]\n\n'
        'include: "workflow/rules/paper.smk"\n\n'
        "rule all:\n"
        "    input:\n"
        "        get_paper_targets(),\n"
    )

    (workdir / "results" / "figures").mkdir(parents=True)
    (workdir / "results" / "tables").mkdir(parents=True)
    for name in FIGURE_NAMES:
        (workdir / "results" / "figures" / f"{name}.pdf").touch()
    for name in [*TABLE_NAMES, "macros"]:
        (workdir / "results" / "tables" / f"{name}.tex").touch()


@pytest.mark.slow
def test_rule_without_latexmk_fails(tmp_path):
    write_report_workflow(tmp_path / "workflow-copy")
    env = {**os.environ, "PATH": path_without_latexmk(tmp_path / "bin")}

    completed = snakemake(tmp_path / "workflow-copy", "paper", "--cores", "1", timeout=BUILD_TIMEOUT_S, env=env)

    output = completed.stdout
    assert completed.returncode != 0
    assert "latexmk not found: cannot build results/paper/main.pdf" in output
    assert "texlive-latex-base" in output
    assert not (tmp_path / "workflow-copy" / "results" / "paper" / "main.pdf").exists()


@pytest.mark.slow
def test_all_without_latexmk_skips_report(tmp_path):
    write_report_workflow(tmp_path / "workflow-copy")
    env = {**os.environ, "PATH": path_without_latexmk(tmp_path / "bin")}

    completed = snakemake(tmp_path / "workflow-copy", "--cores", "1", "--dry-run", timeout=BUILD_TIMEOUT_S, env=env)

    output = completed.stdout
    assert completed.returncode == 0, output
    assert output.count("latexmk not found: skipping the report") == 1
    assert "apt-get install" in output
    assert "rule paper:" not in output


@pytest.mark.latex
@requires_latexmk
@pytest.mark.slow
def test_all_with_latexmk_plans_report(tmp_path):
    write_report_workflow(tmp_path / "workflow-copy")

    completed = snakemake(tmp_path / "workflow-copy", "--cores", "1", "--dry-run", timeout=BUILD_TIMEOUT_S)

    output = completed.stdout
    assert completed.returncode == 0, output
    assert "rule paper:" in output
    assert "latexmk not found" not in output
