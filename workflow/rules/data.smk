# Data stage: one canonical table per dataset, then the seed splits.


rule prepare_dataset:
    conda:
        "../../envs/core.yaml"
    output:
        table=paths.DATA,
        sidecar=paths.DATA_SIDECAR,
    params:
        # constraints are not the data stage's business (the plan checks them; generate/evaluate get them)
        spec=lambda w: {k: v for k, v in config["datasets"][w.dataset].items() if k != "constraints"},
        defaults=config["data"],
        code=PLAN.stage_code("prepare_dataset"),
    log:
        f"{paths.LOGS}/data/{{dataset}}.log",
    script:
        "../scripts/prepare_dataset.py"


# one job per dataset: every (n, seed) split the run uses (synthrisk.cells); the manifest is its output
rule make_split:
    conda:
        "../../envs/core.yaml"
    input:
        table=paths.DATA,
        sidecar=paths.DATA_SIDECAR,
    output:
        paths.SPLIT_CELL,
    params:
        splits=config["splits"],
        # [n, seed, holdout rows] of each split (the holdout control needs as many rows as it generates)
        cell=lambda w: [[n, s, PLAN.rows(n)] for n, s in PLAN.split_items(w.dataset)],
        code=PLAN.stage_code("make_split"),
    log:
        f"{paths.LOGS}/splits/{{dataset}}.log",
    script:
        "../scripts/make_split.py"
