# Stage 4: the ResNet at fixed parameters against the ODE, with the baseline's energy.
# check_forward samples the smooth start of restart 0 (claim C1); check_recovery samples
# the baseline continuum minimiser of one restart (claim C2, the recovery sequence).


rule check_forward:
    input:
        data="results/data/{dataset}.npz",
    output:
        arrays="results/forward/{dataset}/consistency.npz",
        summary="results/forward/{dataset}/consistency.json",
    params:
        options=get_forward_options,
        depths=FORWARD_DEPTHS,
        device=config["device"],
    log:
        "results/logs/check_forward/{dataset}.log",
    benchmark:
        "results/benchmarks/check_forward/{dataset}.tsv"
    threads: config["threads"]
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["forward"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["forward"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits forward-check --data {input.data} --restart 0 --depths {params.depths} "
        "{params.options} --device {params.device} --threads {threads} --no-progress "
        "--out {output.arrays} > {log} 2>&1"


rule check_recovery:
    input:
        data="results/data/{dataset}.npz",
        limit="results/limit/{dataset}/baseline/restart{restart}.npz",
    output:
        arrays="results/forward/{dataset}/recovery_restart{restart}.npz",
        summary="results/forward/{dataset}/recovery_restart{restart}.json",
    params:
        options=get_forward_options,
        depths=FORWARD_DEPTHS,
        device=config["device"],
    log:
        "results/logs/check_recovery/{dataset}/restart{restart}.log",
    benchmark:
        "results/benchmarks/check_recovery/{dataset}/restart{restart}.tsv"
    threads: config["threads"]
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["forward"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["forward"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits forward-check --data {input.data} --limit {input.limit} "
        "--depths {params.depths} {params.options} --device {params.device} "
        "--threads {threads} --no-progress --out {output.arrays} > {log} 2>&1"
