# Stage 3: minimise the continuum energy E_inf from the same R starts, one job per restart,
# for the studies with a limit: `ode` with Legendre degree continuum.degree, `constant`
# with degree 0.


rule solve_limit:
    input:
        data="results/data/{dataset}.npz",
    output:
        solution="results/limit/{dataset}/{study}/restart{restart}.npz",
        metrics="results/limit/{dataset}/{study}/restart{restart}.json",
    params:
        options=get_limit_options,
        out_dir=lambda wildcards, output: os.path.dirname(output.solution),
        checkpoint_dir="results/checkpoints/limit/{dataset}/{study}",
        checkpoint_seconds=config["checkpoint_seconds"],
        device=config["device"],
    log:
        "results/logs/solve_limit/{dataset}/{study}/restart{restart}.log",
    benchmark:
        "results/benchmarks/solve_limit/{dataset}/{study}/restart{restart}.tsv"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        runtime=lambda wildcards, attempt: config["resources"]["limit"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["limit"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits solve-limit --data {input.data} --restart {wildcards.restart} "
        "{params.options} --device {params.device} --threads {threads} --no-progress "
        "--out-dir {params.out_dir} --checkpoint-dir {params.checkpoint_dir} "
        "--checkpoint-seconds {params.checkpoint_seconds} > {log} 2>&1"


# The smooth starts can miss a continuum branch that the networks reach; a solve started
# from the deepest network of each restart finds it, so every discrete branch has a limit.
rule solve_limit_from_deepest:
    input:
        data="results/data/{dataset}.npz",
        model=get_deepest_model,
    output:
        solution="results/limit/{dataset}/{study}/from_deepest/restart{restart}.npz",
        metrics="results/limit/{dataset}/{study}/from_deepest/restart{restart}.json",
    params:
        options=get_limit_options,
        out_dir=lambda wildcards, output: os.path.dirname(output.solution),
        checkpoint_dir="results/checkpoints/limit/{dataset}/{study}/from_deepest",
        checkpoint_seconds=config["checkpoint_seconds"],
        device=config["device"],
    log:
        "results/logs/solve_limit_from_deepest/{dataset}/{study}/restart{restart}.log",
    benchmark:
        "results/benchmarks/solve_limit_from_deepest/{dataset}/{study}/restart{restart}.tsv"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        runtime=lambda wildcards, attempt: config["resources"]["limit"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["limit"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits solve-limit --data {input.data} --restart {wildcards.restart} --start-from {input.model} "
        "{params.options} --device {params.device} --threads {threads} --no-progress "
        "--out-dir {params.out_dir} --checkpoint-dir {params.checkpoint_dir} "
        "--checkpoint-seconds {params.checkpoint_seconds} > {log} 2>&1"
