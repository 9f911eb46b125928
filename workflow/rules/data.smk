# Stage 1: generate or load each data set, split it and standardise it.


rule make_data:
    output:
        data="results/data/{dataset}.npz",
        summary="results/data/{dataset}.json",
    params:
        options=get_data_options,
    log:
        "results/logs/make_data/{dataset}.log",
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["data"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["data"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits make-data --dataset {wildcards.dataset} {params.options} "
        "--out {output.data} > {log} 2>&1"
