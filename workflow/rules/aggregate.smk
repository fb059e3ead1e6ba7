# Aggregation: all metric rows into one table and a summary, then the figures. The tables and
# figures are flagged for the report (snakemake --report; common.smk, synthrisk.report).


rule aggregate:
    conda:
        "../../envs/core.yaml"
    input:
        metrics=PLAN.metric_files(),
        synthetic=PLAN.synthetic_files(),
    output:
        **report_tables(),
    params:
        # with only_generators: the other generators' existing files, read but never rebuilt
        others=PLAN.other_existing(),
        # optional generators that cannot run here: listed with their reason in the tables
        left_out=PLAN.skipped,
        # generators in config order: the row order of runs.csv
        order=PLAN.generator_order(),
        code=PLAN.stage_code("aggregate"),
    log:
        f"{paths.LOGS}/aggregate.log",
    script:
        "../scripts/aggregate.py"


rule figure:
    conda:
        "../../envs/core.yaml"
    input:
        paths.TABLES["table"],
    output:
        report_figure(paths.FIGURE),
    params:
        # generators in config order: the order (and colours) of every figure
        order=PLAN.generator_order(),
        code=PLAN.stage_code("figure"),
    log:
        f"{paths.LOGS}/figures/{{fig}}.log",
    script:
        "../scripts/figure.py"
