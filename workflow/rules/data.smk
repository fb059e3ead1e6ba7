# Data stage: one canonical table per dataset, then the seed splits.


rule prepare_dataset:
    conda:
        "../../envs/core.yaml"
    output:
        table="results/data/{dataset}.parquet",
        sidecar="results/data/{dataset}.json",
    params:
        spec=lambda w: config["datasets"][w.dataset],
        defaults=config["data"],
        code=fingerprint("synthrisk.datasets", "synthrisk.pipeline"),
    log:
        "results/logs/data/{dataset}.log",
    script:
        "../scripts/prepare_dataset.py"


rule make_split:
    conda:
        "../../envs/core.yaml"
    input:
        table="results/data/{dataset}.parquet",
        sidecar="results/data/{dataset}.json",
    output:
        members=f"{SPLIT_DIR}/members.parquet",
        non_members=f"{SPLIT_DIR}/non_members.parquet",
        reference=f"{SPLIT_DIR}/reference.parquet",
        test=f"{SPLIT_DIR}/test.parquet",
        holdout=f"{SPLIT_DIR}/holdout.parquet",
        sidecar=f"{SPLIT_DIR}/split.json",
    params:
        splits=config["splits"],
        holdout_size=holdout_rows,
        code=fingerprint("synthrisk.splits", "synthrisk.pipeline"),
    log:
        "results/logs/splits/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/make_split.py"
