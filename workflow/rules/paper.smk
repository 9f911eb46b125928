# The report: paper/main.tex compiled with latexmk into results/paper/main.pdf.
#
# The report reads every figure, every table and the number macros from results/, so it
# is rebuilt whenever one of them changes. Building it needs a TeX installation with
# latexmk; without one, `rule all` leaves the PDF out (see get_paper_targets) and an
# explicit `snakemake paper` fails with the install command.

import os
import shutil
import sys

# FIGURES, TABLES and DATASETS come from common.smk.
PAPER_FIGURES = expand("results/figures/{name}.pdf", name=FIGURES)
PAPER_TABLES = expand("results/tables/{name}.tex", name=TABLES + ["macros"])
TEX_INSTALL_COMMAND = (
    "apt-get install -y --no-install-recommends texlive-latex-base "
    "texlive-latex-recommended texlive-fonts-recommended latexmk"
)

# A copy of the workflow without paper/ (as some tests make) skips the report as well.
if not shutil.which("latexmk"):
    PAPER_TARGETS = []
    print(
        f"latexmk not found: skipping the report results/paper/main.pdf; "
        f"install TeX with `{TEX_INSTALL_COMMAND}` (as root) to build it",
        file=sys.stderr,
    )
elif not os.path.exists("paper/main.tex"):
    PAPER_TARGETS = []
    print("paper/main.tex not found: skipping the report results/paper/main.pdf", file=sys.stderr)
else:
    PAPER_TARGETS = ["results/paper/main.pdf"]

# `rule all` calls get_paper_targets(). It is the bound method PAPER_TARGETS.copy rather
# than a `def`, because `snakemake --lint` flags a file that mixes rules and functions.
get_paper_targets = PAPER_TARGETS.copy


# Compile the report. The data set names go to results/paper/datasets.tex, which
# main.tex reads to quote each data set's numbers. latexmk runs inside paper/ so that the
# paths of main.tex (relative to paper/) resolve, and writes every file it makes to
# results/paper/.
rule paper:
    input:
        tex="paper/main.tex",
        bib="paper/refs.bib",
        figures=PAPER_FIGURES,
        tables=PAPER_TABLES,
    output:
        pdf="results/paper/main.pdf",
        datasets="results/paper/datasets.tex",
    params:
        datasets=",".join(DATASETS),
        install=TEX_INSTALL_COMMAND,
    log:
        "results/logs/paper/latexmk.log",
    # An image of the full TeX Live with latexmk, used with --software-deployment-method
    # apptainer; otherwise the rule uses the latexmk found on PATH.
    container:
        "docker://danteev/texlive"
    shell:
        r"""
        if ! command -v latexmk > /dev/null; then
            echo "latexmk not found: cannot build {output.pdf}; install TeX with" \
                "\`{params.install}\` (as root) and rerun" >&2
            exit 1
        fi
        printf '\\def\\dldatasetnames{{%s}}\n' '{params.datasets}' > {output.datasets}
        cd paper
        latexmk -pdf -interaction=nonstopmode -halt-on-error \
            -output-directory=../results/paper main.tex > ../{log} 2>&1
        """
