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


rule make_split:
    conda:
        "../../envs/core.yaml"
    input:
        table=paths.DATA,
        sidecar=paths.DATA_SIDECAR,
    output:
        **paths.split_parts(),
        sidecar=paths.SPLIT_SIDECAR,
    params:
        splits=config["splits"],
        holdout_size=holdout_rows,
        code=PLAN.stage_code("make_split"),
    log:
        f"{paths.LOGS}/splits/{{dataset}}/n{{n}}/s{{seed}}.log",
    script:
        "../scripts/make_split.py"
