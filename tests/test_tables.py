"""Tests of the report's tables (CSV and booktabs LaTeX) and of the LaTeX helpers they use."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from deeplimits.cli import main
from deeplimits.reporting import TABLES, make_table
from deeplimits.reporting.latex import Column, booktabs_table, escape_latex, format_interval, format_number, format_order
from test_figures import DATASET, DATASETS, RESTARTS, STUDY_OPTIONS, build_results

VERDICTS = {"REPRODUCED", "NOT REPRODUCED", "INCONCLUSIVE"}


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    """The results folder of the tiny pipeline run of test_figures, built once per session."""
    return build_results(tmp_path_factory.getbasetemp() / "reporting-results")


@pytest.fixture(scope="module")
def tables(results_dir, tmp_path_factory) -> dict[str, tuple[pd.DataFrame, str]]:
    """Every table built from the tiny run: name -> (CSV read back, LaTeX text)."""
    folder = tmp_path_factory.mktemp("tables")
    built = {}
    for name in TABLES:
        csv_path, tex_path = make_table(name, results_dir, list(DATASETS), folder / name)
        built[name] = (pd.read_csv(csv_path, keep_default_na=False, na_values=[""]), tex_path.read_text())
    return built


def body_rows(tex: str) -> list[str]:
    """Return the rows between \\midrule and \\bottomrule, without \\addlinespace."""
    body = tex.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    return [line for line in body.splitlines() if line.strip() and line.strip() != "\\addlinespace"]


def unescaped_specials(tex: str) -> list[str]:
    """Return the lines with an unescaped _, % or & outside math and comments, other than column separators."""
    found = []
    for line in tex.splitlines():
        if line.startswith("%"):
            continue
        text = re.sub(r"(?<!\\)\$.*?(?<!\\)\$", "", line)
        if re.search(r"(?<!\\)[_%#]", text):
            found.append(line)
    return found


@pytest.mark.slow
def test_tables_have_booktabs_rules(tables):
    for name, (_, tex) in tables.items():
        assert "\\begin{tabular}" in tex, name
        for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
            assert tex.count(rule) == 1, f"{name}: {rule} appears {tex.count(rule)} times"


@pytest.mark.slow
def test_tables_escape_special_characters(tables):
    for name, (_, tex) in tables.items():
        assert unescaped_specials(tex) == [], name


@pytest.mark.slow
def test_tables_latex_rows_match_csv(tables):
    for name, (table, tex) in tables.items():
        rows = body_rows(tex)
        assert len(rows) == len(table), name
        line = next(line for line in tex.splitlines() if line.startswith("\\begin{tabular}{"))
        columns = re.sub(r">\{[^}]*\}", "", line.removeprefix("\\begin{tabular}{").removesuffix("}"))
        alignments = len(re.findall(r"[lrc]|p\{[^}]*\}", columns))
        for row in rows:
            assert row.endswith("\\\\"), f"{name}: row does not end with \\\\: {row}"
            assert len(re.findall(r"(?<!\\)&", row)) == alignments - 1, f"{name}: wrong cell count in {row}"


@pytest.mark.slow
def test_table_convergence_rows(tables, results_dir):
    table, tex = tables["convergence"]
    expected = []
    for study in ("baseline", "scaling_q2"):
        branches = pd.read_csv(results_dir / "analysis" / DATASET / f"{study}_branches.csv")
        expected += [(study, str(branch)) for branch in branches["branch"]] + [(study, "all")]

    assert list(zip(table["study"], table["branch"].astype(str))) == expected
    assert set(table["dataset"]) == {DATASET}
    for quantity in ("energy_gap", "l2_distance", "linf_distance", "classifier_distance", "cauchy_l2"):
        for part in ("order", "ci_low", "ci_high", "depths"):
            assert f"{quantity}_{part}" in table.columns
    sufficient = table.dropna(subset=["energy_gap_order"])
    assert (sufficient["energy_gap_ci_low"] <= sufficient["energy_gap_order"]).all()
    assert (sufficient["energy_gap_order"] <= sufficient["energy_gap_ci_high"]).all()
    assert "scaling\\_q2" in tex


@pytest.mark.slow
def test_table_convergence_matches_rates(tables, results_dir):
    table, _ = tables["convergence"]
    rates = pd.read_json(results_dir / "analysis" / DATASET / "baseline_rates.json", typ="series")
    branch = rates["branches"][0]
    row = table[(table["study"] == "baseline") & (table["branch"].astype(str) == str(branch["branch"]))].iloc[0]

    assert row["limit_energy"] == pytest.approx(branch["limit_energy"], rel=1e-12)
    fit = branch["rates"]["energy_gap"]
    if fit["sufficient"]:
        # The claims were judged with fit_min_depth 4, the range analyse used, so no refit.
        assert row["energy_gap_order"] == pytest.approx(fit["order"], rel=1e-9)


@pytest.mark.slow
def test_table_branches_rows(tables, results_dir):
    table, _ = tables["branches"]
    expected = sum(len(pd.read_csv(results_dir / "analysis" / DATASET / f"{study}_branches.csv"))
                   for study in ("baseline", "scaling_q2"))

    assert len(table) == expected
    assert table["restart_count"].sum() == 2 * RESTARTS
    for study in ("baseline", "scaling_q2"):
        assert table[table["study"] == study]["lowest"].sum() == 1


@pytest.mark.slow
def test_table_claims_rows(tables):
    table, tex = tables["claims"]

    assert list(table.columns) == ["id", "claim", "verdict", "evidence"]
    assert list(table["id"]) == [f"C{index}" for index in range(1, 10)]
    assert set(table["verdict"]) <= VERDICTS
    assert table["evidence"].str.len().min() > 0
    assert "p{" in tex


@pytest.mark.slow
def test_table_refinement_rows(tables):
    table, _ = tables["refinement"]

    assert len(table) == 2 * RESTARTS
    assert sorted(zip(table["study"], table["restart"])) == [
        ("baseline", 0), ("baseline", 1), ("scaling_q2", 0), ("scaling_q2", 1)]
    assert set(table[table["study"] == "scaling_q2"]["degree"]) == {0}
    baseline = table[table["study"] == "baseline"]
    assert (baseline["energy_estimate"] >= baseline[["degree_energy", "step_energy", "tolerance_energy"]].max(axis=1) * (1 - 1e-12)).all()
    resolved = table.dropna(subset=["energy_resolved", "smallest_energy_gap"])
    for _, row in resolved.iterrows():
        assert row["energy_resolved"] == (10 * row["energy_estimate"] <= row["smallest_energy_gap"])


@pytest.mark.slow
def test_table_compute_cost_rows(tables, results_dir):
    table, _ = tables["compute_cost"]
    files = sorted((results_dir / "benchmarks").rglob("*.tsv"))

    assert table["jobs"].sum() == len(files)
    train = table[table["rule"] == "train_resnet"]
    assert sorted(train["study"]) == sorted(STUDY_OPTIONS)
    assert set(train["jobs"]) == {3}
    assert (table["max_wall_time"] <= table["total_wall_time"]).all()
    forward = table[table["rule"] == "check_forward"]
    assert forward["study"].isna().all() or (forward["study"] == "").all()


@pytest.mark.slow
@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_tables_compile_with_pdflatex(tables, tmp_path):
    document = ["\\documentclass{article}", "\\usepackage{booktabs}", "\\usepackage{array}",
                "\\usepackage[a3paper,landscape]{geometry}", "\\begin{document}"]
    for name, (_, tex) in tables.items():
        (tmp_path / f"{name}.tex").write_text(tex)
        document.append(f"\\input{{{name}.tex}}\\par")
    document.append("\\end{document}")
    (tmp_path / "main.tex").write_text("\n".join(document) + "\n")

    completed = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert completed.returncode == 0, completed.stdout[-3000:]


def test_table_without_results_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="deeplimits.reporting"):
        csv_path, tex_path = make_table("claims", tmp_path / "empty", ["moons"], tmp_path / "claims")

    assert "table claims has no rows" in caplog.text
    assert csv_path.read_text().strip() == "id,claim,verdict,evidence"
    assert "\\multicolumn{4}{l}{no data}" in tex_path.read_text()


def test_table_unknown_name_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown table 'claim'; choose one of"):
        make_table("claim", tmp_path, ["moons"], tmp_path / "claim")


def test_table_command_writes_files(tmp_path):
    (tmp_path / "empty").mkdir()
    status = main(["table", "compute_cost", "--results", str(tmp_path / "empty"), "--datasets", "moons",
                   "--out-prefix", str(tmp_path / "tables" / "compute_cost")])

    assert status == 0
    assert (tmp_path / "tables" / "compute_cost.csv").exists()
    assert (tmp_path / "tables" / "compute_cost.tex").exists()


def test_table_reads_benchmark_with_missing_memory(tmp_path):
    folder = tmp_path / "benchmarks" / "train_resnet" / "moons" / "baseline"
    folder.mkdir(parents=True)
    (folder / "N4.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\n2.5\t0:00:02\t-\t-\n3.5\t0:00:03\t-\t-\n")
    (folder / "N8.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\n4.0\t0:00:04\t120.5\t300.0\n")

    csv_path, _ = make_table("compute_cost", tmp_path, ["moons"], tmp_path / "cost")
    table = pd.read_csv(csv_path)

    assert len(table) == 1
    assert table.loc[0, "jobs"] == 2
    # N4 was benchmarked twice (Snakemake's repeat()), so its job counts with the mean, 3.0 s.
    assert table.loc[0, "total_wall_time"] == pytest.approx(7.0)
    assert table.loc[0, "max_wall_time"] == pytest.approx(4.0)
    assert table.loc[0, "max_rss"] == pytest.approx(120.5)


@pytest.mark.parametrize("text, expected", [
    ("scaling_q2", "scaling\\_q2"),
    ("50% & #1", "50\\% \\& \\#1"),
    ("{x} ~ ^ \\", "\\{x\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}"),
    ("order ≥ 0.8", "order \\ensuremath{\\geq} 0.8"),
    (None, "n/a"),
])
def test_escape_latex_cases(text, expected):
    assert escape_latex(text) == expected


@pytest.mark.parametrize("value, options, expected", [
    (0.081588852, {}, "0.0816"),
    (0.081588852, {"digits": 4}, "0.08159"),
    (8.4817e-08, {}, "\\ensuremath{8.48\\times 10^{-8}}"),
    (1e-06, {}, "\\ensuremath{10^{-6}}"),
    (0.01, {}, "0.0100"),
    (0.01, {"trim": True}, "0.01"),
    (123456.0, {}, "\\ensuremath{1.23\\times 10^{5}}"),
    (7, {}, "7"),
    (True, {}, "yes"),
    (float("nan"), {}, "n/a"),
    (None, {}, "n/a"),
    (0.0, {}, "0"),
])
def test_format_number_cases(value, options, expected):
    assert format_number(value, **options) == expected


def test_format_order_and_interval():
    assert format_order(1.004) == "1.00"
    assert format_order(None) == "n/a"
    assert format_interval(0.971, 1.0294) == "[0.97, 1.03]"
    assert format_interval(float("nan"), 1.0) == "n/a"


def test_booktabs_table_groups_and_escapes():
    table = pd.DataFrame({"dataset": ["a_b", "a_b", "c"], "value": [1.5, None, 2e-9]})
    tex = booktabs_table(table, [Column("Data set", "dataset"), Column("Value", "value", format_number, "r")],
                         group_by="dataset")

    assert tex.splitlines()[0] == "\\begin{tabular}{lr}"
    assert "a\\_b & 1.50 \\\\" in tex
    assert "a\\_b & n/a \\\\" in tex
    assert tex.count("\\addlinespace") == 1
    assert "c & \\ensuremath{2\\times 10^{-9}} \\\\" in tex


def test_booktabs_table_missing_column_rejected():
    with pytest.raises(KeyError, match=r"table columns \['energy'\] not found"):
        booktabs_table(pd.DataFrame({"dataset": ["moons"]}), [Column("Energy", "energy")])
