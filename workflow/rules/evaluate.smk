# Evaluation: one job per cell (synthrisk.cells), every (n, seed) of one generator on one dataset.
# Each synthetic table is scored by every metric family (one process start, one read of each
# split), writing one long table of every family's rows (paths.METRIC) and one sidecar with each
# family's params, row count and seconds; then the cell's manifest, the one output Snakemake tracks.


rule evaluate:
    conda:
        "../../envs/evaluate.yaml"
    input:
        synthetic=paths.SYNTHETIC_CELL,
        sidecar=paths.DATA_SIDECAR,
        split=paths.SPLIT_CELL,
    output:
        paths.METRIC_CELL,
    params:
        families=lambda w: {f: PLAN.family_params(f, w.dataset) for f in FAMILIES_RUN},
        plugins=PLAN.family_plugins(),
        cell=lambda w: PLAN.items(w.generator, w.dataset),
        code=PLAN.families_code(),
    resources:
        # minutes per table (utility fits 5 models, privacy 11 attacks) times the cell's tables
        runtime=lambda w: EVALUATE_MINUTES * len(PLAN.items(w.generator, w.dataset)),
    log:
        f"{paths.LOGS}/metrics/{{generator}}/{{dataset}}.log",
    script:
        "../scripts/evaluate.py"


rule evaluate_reference:
    conda:
        "../../envs/evaluate.yaml"
    input:
        sidecar=paths.DATA_SIDECAR,
        split=paths.SPLIT_CELL,
    output:
        paths.REFERENCE_CELL,
    params:
        family_params=PLAN.family_params("utility"),
        cell=lambda w: PLAN.split_items(w.dataset),
        code=PLAN.stage_code("evaluate_reference"),
    resources:
        runtime=lambda w: EVALUATE_MINUTES * len(PLAN.split_items(w.dataset)),
    log:
        f"{paths.LOGS}/metrics/reference/{{dataset}}.log",
    script:
        "../scripts/evaluate_reference.py"
