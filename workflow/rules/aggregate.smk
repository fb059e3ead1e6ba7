# Aggregation: all metric rows into one table and a summary, then the figures.


rule aggregate:
    conda:
        "../../envs/core.yaml"
    input:
        metrics=PLAN.metric_files(),
        synthetic=PLAN.synthetic_files(),
    output:
        table="results/tables/metrics.parquet",
        summary="results/tables/summary.csv",
        headline="results/tables/headline.csv",
        eps="results/tables/eps_lower.csv",
    params:
        # with only_generators: the other generators' existing files, read but never rebuilt
        others=PLAN.other_existing(),
        # optional generators that cannot run here: listed with their reason in the tables
        left_out=PLAN.skipped,
        code=fingerprint("synthrisk.aggregate", "synthrisk.metrics.base", "synthrisk.metrics.roc"),
    log:
        "results/logs/aggregate.log",
    script:
        "../scripts/aggregate.py"


rule figure:
    conda:
        "../../envs/core.yaml"
    input:
        "results/tables/metrics.parquet",
    output:
        "results/figures/{fig}.png",
    params:
        code=fingerprint("synthrisk.figures", "synthrisk.aggregate"),
    log:
        "results/logs/figures/{fig}.log",
    script:
        "../scripts/figure.py"
