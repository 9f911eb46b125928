# Stage 6: one job per figure; each writes results/figures/{name}.pdf and .png. The
# figures read the analyses, the checks and the claims, and where they draw networks
# (weight paths, feature flow) the models and limits under results/ that the analyses
# already depend on.

for figure in FIGURES:

    rule:
        name:
            f"plot_{figure}"
        input:
            **get_report_inputs(),
        output:
            pdf=report(
                f"results/figures/{figure}.pdf",
                caption=f"../report/{figure}.rst",
                category="Figures",
            ),
            png=f"results/figures/{figure}.png",
        params:
            figure=figure,
            results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.claims)),
            prefix=lambda wildcards, output: output.pdf.removesuffix(".pdf"),
            datasets=DATASETS,
        log:
            f"results/logs/plot_{figure}/{figure}.log",
        resources:
            runtime=lambda wildcards, attempt: config["resources"]["figures"]["runtime"] * attempt,
            mem_mb=lambda wildcards, attempt: config["resources"]["figures"]["mem_mb"] * attempt,
        conda:
            SOFTWARE_ENV
        shell:
            "deeplimits figure {params.figure} --results {params.results} "
            "--datasets {params.datasets} --out-prefix {params.prefix} > {log} 2>&1"
