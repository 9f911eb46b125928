# Workflow of deeplimits: data sets, ResNets trained over a grid of depths, the continuum
# problem they converge to, the checks of claims C1 to C9, and figures and tables built
# from the results. Run `snakemake --cores all` for the default grid, or pass
# `--configfile config/smoke.yaml` (a few minutes) or `config/paper.yaml` (GPU or cluster).
# config/README.md documents every key; results/README.md the files written.

import os

import jsonschema
import yaml
from snakemake.utils import min_version, validate

min_version("9.0")


# config/config.yaml is the default. A config given with --configfile replaces it instead
# of extending it (Snakemake's default), because its `datasets` mapping would otherwise
# be merged into the default's; several --configfile files still extend each other.
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


def check_config(instance, schema_file, prefix=""):
    """Raise one short error, with the key's path and a fix, for the first schema violation.

    Snakemake's own message quotes the whole schema and config, a thousand lines in which
    the one that matters is hard to find.
    """
    with open(os.path.join(workflow.basedir, schema_file)) as stream:
        schema = yaml.safe_load(stream)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    if error is None:
        return
    path = ".".join(str(part) for part in (*prefix.split(".")[:-1], *error.absolute_path) if part != "")
    message = error.message
    if error.validator == "additionalProperties":
        message += f"; the valid keys here are {sorted(error.schema.get('properties', {}))}"
    raise ValueError(f"invalid config at {path or 'the top level'}: {message}. config/README.md documents every key")


# Validate before any job is planned: unknown keys and out-of-range values are rejected
# with the key's path, and defaults fill the keys that the config leaves out.
check_config(config, "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")
check_config(config["claims"], "workflow/schemas/claims.schema.yaml", prefix="claims.")
validate(config["claims"], "workflow/schemas/claims.schema.yaml")


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
