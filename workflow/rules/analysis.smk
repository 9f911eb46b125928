# Stage 5: analyse each data set and study (distances, branches, observed orders), then
# compute the verdict of every claim against the thresholds of the config.


rule analyse_study:
    input:
        data="results/data/{dataset}.npz",
        models=get_models,
        limits=get_limits,
    output:
        table="results/analysis/{dataset}/{study}.csv",
        branches="results/analysis/{dataset}/{study}_branches.csv",
        rates="results/analysis/{dataset}/{study}_rates.json",
    params:
        models_dir=lambda wildcards, input: os.path.dirname(os.path.dirname(input.models[0])),
        limit_option=lambda wildcards, input: (
            f"--limit-dir {os.path.dirname(input.limits[0])}" if input.limits else ""
        ),
        prefix=lambda wildcards, output: output.table.removesuffix(".csv"),
        depths=DEPTHS,
        restarts=config["restarts"],
        fit_min_depth=config["claims"]["fit_min_depth"],
    log:
        "results/logs/analyse_study/{dataset}/{study}.log",
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["analysis"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["analysis"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits analyse --data {input.data} --models-dir {params.models_dir} "
        "--depths {params.depths} --restarts {params.restarts} {params.limit_option} "
        "--study {wildcards.study} --fit-min-depth {params.fit_min_depth} "
        "--no-progress --out-prefix {params.prefix} > {log} 2>&1"


# The thresholds are a param, so that changing one reruns the claims and what quotes them.
rule write_thresholds:
    output:
        "results/analysis/thresholds.json",
    params:
        thresholds=json.dumps(config["claims"], sort_keys=True),
    log:
        "results/logs/write_thresholds/thresholds.log",
    conda:
        SOFTWARE_ENV
    shell:
        "printf '%s\\n' {params.thresholds:q} > {output} 2> {log}"


rule evaluate_claims:
    input:
        analysis=get_analysis_outputs(),
        forward=get_forward_outputs(),
        thresholds="results/analysis/thresholds.json",
        # Relative to the working directory, so that a moved or copied checkout does not
        # change the command and trigger a rerun.
        schema=os.path.relpath(os.path.join(workflow.basedir, "workflow/schemas/claims.schema.yaml")),
    output:
        table="results/analysis/claims.csv",
        verdicts="results/analysis/claims.json",
    params:
        analysis_dir=lambda wildcards, output: os.path.dirname(output.table),
        forward_dir=lambda wildcards, input: os.path.dirname(os.path.dirname(input.forward[0])),
        prefix=lambda wildcards, output: output.table.removesuffix(".csv"),
        datasets=DATASETS,
    log:
        "results/logs/evaluate_claims/claims.log",
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["analysis"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["analysis"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits claims --analysis-dir {params.analysis_dir} "
        "--forward-dir {params.forward_dir} --datasets {params.datasets} "
        "--thresholds {input.thresholds} --schema {input.schema} "
        "--out-prefix {params.prefix} > {log} 2>&1"
