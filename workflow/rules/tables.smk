# Stage 7: one job per table (CSV and LaTeX booktabs) and one for the LaTeX macros
# through which the report quotes numbers.

for table in TABLES:

    rule:
        name:
            f"tabulate_{table}"
        input:
            **get_report_inputs(),
        output:
            csv=report(
                f"results/tables/{table}.csv",
                caption=f"../report/table_{table}.rst",
                category="Tables",
            ),
            tex=f"results/tables/{table}.tex",
        params:
            table=table,
            results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.claims)),
            prefix=lambda wildcards, output: output.csv.removesuffix(".csv"),
            datasets=DATASETS,
        log:
            f"results/logs/tabulate_{table}/{table}.log",
        resources:
            runtime=lambda wildcards, attempt: config["resources"]["tables"]["runtime"] * attempt,
            mem_mb=lambda wildcards, attempt: config["resources"]["tables"]["mem_mb"] * attempt,
        conda:
            SOFTWARE_ENV
        shell:
            "deeplimits table {params.table} --results {params.results} "
            "--datasets {params.datasets} --out-prefix {params.prefix} > {log} 2>&1"


rule write_macros:
    input:
        **get_report_inputs(),
    output:
        "results/tables/macros.tex",
    params:
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.claims)),
        datasets=DATASETS,
    log:
        "results/logs/write_macros/macros.log",
    resources:
        runtime=lambda wildcards, attempt: config["resources"]["tables"]["runtime"] * attempt,
        mem_mb=lambda wildcards, attempt: config["resources"]["tables"]["mem_mb"] * attempt,
    conda:
        SOFTWARE_ENV
    shell:
        "deeplimits macros --results {params.results} --datasets {params.datasets} "
        "--out {output} > {log} 2>&1"
