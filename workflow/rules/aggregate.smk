# Aggregation: all metric rows into one table and a summary, then the figures. The tables and
# figures are flagged for the report (snakemake --report; common.smk, synthrisk.report).


rule aggregate:
    conda:
        "../../envs/core.yaml"
    input:
        # the cells' manifests; the aggregate reads the tables they list (synthrisk.cells)
        metrics=PLAN.metric_cells(),
        synthetic=PLAN.synthetic_cells(),
    output:
        **report_tables(),
    params:
        # with only_generators: the other generators' existing files, read but never rebuilt
        others=PLAN.other_existing(),
        # optional generators that cannot run here: listed with their reason in the tables
        left_out=PLAN.skipped,
        # generators in config order: the row order of runs.csv
        order=PLAN.generator_order(),
        # the level of eps_lower.csv's bounds: the privacy family's (its default where not set)
        confidence=PLAN.privacy_confidence(),
        code=PLAN.stage_code("aggregate"),
    log:
        f"{paths.LOGS}/aggregate.log",
    script:
        "../scripts/aggregate.py"


rule figure:
    conda:
        "../../envs/core.yaml"
    input:
        table=paths.TABLES["table"],
        # leaky_records also reads its split's parts and synthetic tables (their cells)
        extra=lambda w: PLAN.figure_inputs(w.fig),
    output:
        png=report_figure(paths.FIGURE["png"]),
        svg=paths.FIGURE["svg"],
    wildcard_constraints:
        fig="|".join(PLAN.figures) or "none",
    params:
        # generators in config order, their kinds (colours) and the factorial cells
        ctx=lambda w: {
            "order": PLAN.generator_order(),
            "kinds": PLAN.generator_kinds(),
            "factorials": PLAN.view_factorials(w.fig),
            "params": PLAN.figure_params(w.fig),
            "extra": (
                {"splits": PLAN.leaky_inputs(), "privacy": PLAN.family_params("privacy")}
                if w.fig == "leaky_records"
                else {"epsilon": PLAN.dp_epsilons()} if w.fig == "dp_curve"
                else {"exposure": PLAN.exposure_inputs()} if w.fig == "prompt_exposure" else {}
            ),
        },
        target=lambda w: PLAN.view_target(w.fig),
        code=lambda w: PLAN.view_code(w.fig),
    log:
        f"{paths.LOGS}/figures/{{fig}}.log",
    script:
        "../scripts/figure.py"


rule table_view:
    conda:
        "../../envs/core.yaml"
    input:
        table=paths.TABLES["table"],
        extra=lambda w: PLAN.figure_inputs(w.view),  # exposure_records: the in-context runs' files
    output:
        csv=report_view(paths.TABLE_VIEW["csv"]),
        tex=paths.TABLE_VIEW["tex"],
    wildcard_constraints:
        view="|".join(PLAN.table_views) or "none",
    params:
        ctx=lambda w: {
            "order": PLAN.generator_order(),
            "kinds": PLAN.generator_kinds(),
            "factorials": PLAN.view_factorials(w.view),
            "extra": {"zero_shot": PLAN.zero_shot(),
                      **({"exposure": PLAN.exposure_inputs()} if w.view == "exposure_records" else {})},
            "params": PLAN.figure_params(w.view),
        },
        target=lambda w: PLAN.view_target(w.view),
        code=lambda w: PLAN.view_code(w.view),
    log:
        f"{paths.LOGS}/tables/{{view}}.log",
    script:
        "../scripts/table_view.py"
