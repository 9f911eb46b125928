# Workflow of deeplimits: data sets, ResNets trained over a grid of depths, the continuum
# problem they converge to, the checks of claims C1 to C9, and figures and tables built
# from the results. Run `snakemake --cores all` for the default grid, or pass
# `--configfile config/smoke.yaml` (a few minutes) or `config/paper.yaml` (GPU or cluster).
# config/README.md documents every key; results/README.md the files written.

import os

from snakemake.utils import min_version

min_version("9.0")


# config/config.yaml is the default. A config given with --configfile replaces it instead
# of extending it (Snakemake's default), because its `datasets` mapping would otherwise
# be merged into the default's; several --configfile files still extend each other.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


include: "workflow/rules/validation.smk"
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/limit.smk"
include: "workflow/rules/forward.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/tables.smk"


# The report stage is optional: its rules define get_paper_targets() when present.
if os.path.exists(os.path.join(workflow.basedir, "workflow/rules/paper.smk")):

    include: "workflow/rules/paper.smk"


localrules:
    all,
    write_thresholds,


rule all:
    input:
        get_final_targets(),
    default_target: True
