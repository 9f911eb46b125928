# Stage 2: train the ResNets. One job per data set, study and depth runs all R restarts,
# so that the start-up cost of torch is paid once per depth.


rule train_resnet:
    input:
        data="results/data/{dataset}.npz",
    output:
        models=expand(
            "results/models/{{dataset}}/{{study}}/N{{depth}}/restart{restart}.npz",
            restart=RESTARTS,
        ),
        metrics=expand(
            "results/models/{{dataset}}/{{study}}/N{{depth}}/restart{restart}.json",
            restart=RESTARTS,
        ),
    params:
        # The settings are params, not a config file among the inputs, so that Snakemake's
        # params rerun trigger reruns only the jobs whose own settings changed.
        options=get_train_options,
        out_dir=lambda wildcards, output: os.path.dirname(output.models[0]),
        checkpoint_dir="results/checkpoints/{dataset}/{study}/N{depth}",
        checkpoint_seconds=config["checkpoint_seconds"],
        restarts=config["restarts"],
        device=config["device"],
    log:
        "results/logs/train_resnet/{dataset}/{study}/N{depth}.log",
    benchmark:
        "results/benchmarks/train_resnet/{dataset}/{study}/N{depth}.tsv"
    threads: config["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        runtime=lambda wildcards, attempt: get_train_resources(wildcards, attempt, "runtime"),
        mem_mb=lambda wildcards, attempt: get_train_resources(wildcards, attempt, "mem_mb"),
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits train --data {input.data} --depth {wildcards.depth} "
        "--restarts {params.restarts} {params.options} "
        "--device {params.device} --threads {threads} --no-progress "
        "--out-dir {params.out_dir} --checkpoint-dir {params.checkpoint_dir} "
        "--checkpoint-seconds {params.checkpoint_seconds} > {log} 2>&1"
