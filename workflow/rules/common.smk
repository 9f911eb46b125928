# Shared names and input functions of the workflow. Settings are merged here and turned
# into `deeplimits` command-line options; all computation happens in the package.

import json
import os
import shlex

from snakemake.logging import logger

DATASETS = sorted(config["datasets"])
STUDIES = sorted(config["studies"])
DEPTHS = sorted(config["depths"])
RESTARTS = list(range(config["restarts"]))
FORWARD_DEPTHS = sorted(config["forward"]["depths"])

# Studies whose continuum problem is solved, and the Legendre degree of each.
LIMIT_DEGREES = {
    study: 0 if settings["limit"] == "constant" else config["continuum"]["degree"]
    for study, settings in config["studies"].items()
    if settings["limit"] != "none"
}

# Names fixed by the `deeplimits figure`, `table` and `macros` subcommands.
FIGURES = [
    "forward_consistency",
    "recovery_sequence",
    "energy_convergence",
    "parameter_convergence",
    "weight_paths",
    "regularity",
    "feature_flow",
    "no_derivative_penalty",
    "regulariser_scaling",
    "generalisation",
    "compute_cost",
]
TABLES = ["convergence", "branches", "claims", "refinement", "compute_cost"]

# Command-line option of each settings key, where it differs from --key-with-dashes.
OPTION_NAMES = {"kind": "--init", "scale": "--init-scale", "modes": "--init-modes"}

# Software of every job with `--use-conda`, relative to the rule files in workflow/rules/.
SOFTWARE_ENV = "../envs/deeplimits.yaml"

# Depth keys are integers in YAML files and strings in JSON files.
DEPTH_OVERRIDES = {int(depth): values for depth, values in config["depth_overrides"].items()}
unknown_depths = sorted(set(DEPTH_OVERRIDES) - set(DEPTHS))
if unknown_depths:
    raise ValueError(
        f"depth_overrides has depths {unknown_depths} that are not in depths {DEPTHS}; "
        "remove them or add them to depths"
    )
if config["studies"]["baseline"]["limit"] != "ode":
    raise ValueError(
        f"studies.baseline.limit is {config['studies']['baseline']['limit']!r}, but the "
        "forward and recovery checks need the baseline's continuum problem: set it to ode"
    )


# Feature counts d of the named data sets before PCA, to check state_dim >= d before any
# job runs. A `file` data set's d is known only once make_data reads the file.
FEATURE_COUNTS = {"moons": 2, "circles": 2, "spirals": 2, "blobs": 2, "iris": 4, "wine": 13, "breast_cancer": 30, "digits": 64}
for name, options in config["datasets"].items():
    features = FEATURE_COUNTS.get(name)
    if features is None:
        continue
    if options.get("pca_dim") is not None and options["pca_dim"] > features:
        raise ValueError(
            f"datasets.{name}.pca_dim is {options['pca_dim']}, but {name} has {features} features; "
            f"set it between 1 and {features}, or null to keep every feature"
        )
    features = options.get("pca_dim") or features
    if options.get("state_dim") is not None and options["state_dim"] < features:
        raise ValueError(
            f"datasets.{name}.state_dim is {options['state_dim']}, less than the {features} features "
            f"of {name}; set it to {features} or more, or null for n = d"
        )


def check_fit_range(key, fit_min_depth, depths, depths_key):
    """Warn unless at least 3 depths lie at or above a fit range's smallest depth.

    A warning, not an error: a grid of one or two depths is a valid run, only its order
    fits come out INCONCLUSIVE.
    """
    usable = [depth for depth in depths if depth >= fit_min_depth]
    if len(usable) < 3:
        logger.warning(
            f"WARNING: claims.{key} is {fit_min_depth}, but only {usable} of {depths_key} {depths} lie "
            f"at or above it, and an order fit needs 3, so the claims that fit orders will be "
            f"INCONCLUSIVE; lower claims.{key} or add deeper depths"
        )


check_fit_range("fit_min_depth", config["claims"]["fit_min_depth"], DEPTHS, "depths")
check_fit_range("forward_fit_min_depth", config["claims"]["forward_fit_min_depth"], FORWARD_DEPTHS, "forward.depths")
# deeplimits.analysis.thresholds checks this too, but only in the claims job at the end of
# a run. The workflow itself does not import the package, because with --use-conda only
# the jobs' environment has it.
for key, bounds in config["claims"].items():
    if isinstance(bounds, list) and len(bounds) == 2 and not bounds[0] < bounds[1]:
        raise ValueError(f"claims.{key} is {bounds}, but it must be [low, high] with low < high")

wildcard_constraints:
    dataset="|".join(DATASETS),
    study="|".join(STUDIES),
    depth=r"[1-9][0-9]*",
    restart=r"[0-9]+",


def get_settings(study, depth=None):
    """Merge the top-level settings with a study's overrides and a depth's optimiser."""
    overrides = config["studies"][study]
    merged = {}
    for section in ("energy", "optimiser", "initialisation"):
        merged[section] = {**config[section], **overrides.get(section, {})}
    if depth is not None:
        merged["optimiser"].update(DEPTH_OVERRIDES.get(int(depth), {}).get("optimiser", {}))
    return merged


def format_options(sections):
    """Turn {section: {key: value}} into `deeplimits` options, e.g. --max-iter 3000."""
    options = []
    for values in sections.values():
        for key, value in values.items():
            option = OPTION_NAMES.get(key, f"--{key.replace('_', '-')}")
            options += [option, str(value)]
    return shlex.join(options)


def get_state_options(dataset):
    """Return the --state-dim option of a data set, or nothing for n = d."""
    state_dim = config["datasets"][dataset]["state_dim"]
    return "" if state_dim is None else f"--state-dim {state_dim}"


def get_train_options(wildcards):
    """Return the energy, optimiser and initialisation options of one training job."""
    settings = get_settings(wildcards.study, wildcards.depth)
    return f"{format_options(settings)} {get_state_options(wildcards.dataset)}"


def get_limit_options(wildcards):
    """Return the options of one continuum solve, with the study's Legendre degree."""
    settings = get_settings(wildcards.study)
    settings["continuum"] = {**config["continuum"], "degree": LIMIT_DEGREES[wildcards.study]}
    refine = "--refine" if config["refine"] else "--no-refine"
    return f"{format_options(settings)} {get_state_options(wildcards.dataset)} {refine}"


def get_forward_options(wildcards):
    """Return the options of the forward checks: the baseline energy, start and continuum."""
    settings = get_settings("baseline")
    del settings["optimiser"]
    settings["continuum"] = config["continuum"]
    return f"{format_options(settings)} {get_state_options(wildcards.dataset)}"


def get_data_options(wildcards):
    """Return the `deeplimits make-data` options of one data set."""
    values = {
        key: value
        for key, value in config["datasets"][wildcards.dataset].items()
        if key != "state_dim" and value is not None
    }
    return format_options({"data": values})


def get_models(wildcards):
    """Return the model files of one data set and study: every depth and restart."""
    return expand(
        "results/models/{dataset}/{study}/N{depth}/restart{restart}.{ext}",
        dataset=wildcards.dataset,
        study=wildcards.study,
        depth=DEPTHS,
        restart=RESTARTS,
        ext=["npz", "json"],
    )


def get_limits(wildcards):
    """Return the continuum solutions of one data set and study; none without a limit."""
    if wildcards.study not in LIMIT_DEGREES:
        return []
    return expand(
        "results/limit/{dataset}/{study}/{start}restart{restart}.{ext}",
        dataset=wildcards.dataset,
        study=wildcards.study,
        start=["", "from_deepest/"],
        restart=RESTARTS,
        ext=["npz", "json"],
    )


def get_deepest_model(wildcards):
    """Return the deepest trained model of one restart, which starts a continuum solve."""
    return f"results/models/{wildcards.dataset}/{wildcards.study}/N{DEPTHS[-1]}/restart{wildcards.restart}.npz"


def get_analysis_outputs():
    """Return the outputs of `deeplimits analyse` for every data set and study."""
    return expand(
        "results/analysis/{dataset}/{study}{suffix}",
        dataset=DATASETS,
        study=STUDIES,
        suffix=[".csv", "_branches.csv", "_rates.json"],
    )


def get_forward_outputs():
    """Return the forward-check (C1) and recovery-sequence (C2) files of every data set."""
    consistency = expand("results/forward/{dataset}/consistency.npz", dataset=DATASETS)
    recovery = expand(
        "results/forward/{dataset}/recovery_restart{restart}.npz",
        dataset=DATASETS,
        restart=RESTARTS,
    )
    return consistency + recovery


def get_report_inputs():
    """Return what every figure, table and the macros read: analyses, checks and claims."""
    return {
        "analysis": get_analysis_outputs(),
        "forward": get_forward_outputs(),
        "claims": "results/analysis/claims.json",
    }


def get_train_resources(wildcards, attempt, key):
    """Return a training job's runtime or memory: its depth's override, else the stage's."""
    value = DEPTH_OVERRIDES.get(int(wildcards.depth), {}).get(key)
    if value is None:
        value = config["resources"]["train"][key]
    return value * attempt


def get_results_targets():
    """Return every figure and table of the results, and the macros."""
    return (
        expand("results/figures/{figure}.{ext}", figure=FIGURES, ext=["pdf", "png"])
        + expand("results/tables/{table}.{ext}", table=TABLES, ext=["csv", "tex"])
        + ["results/tables/macros.tex"]
    )


def get_final_targets():
    """Return the targets of the default run: results, and the paper where it is defined."""
    targets = get_results_targets()
    if "get_paper_targets" in globals():
        targets += list(get_paper_targets())
    return targets
