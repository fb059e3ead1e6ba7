# Evaluation: one long metric table per (family, generator, dataset, n, seed).


rule evaluate:
    input:
        synthetic="results/synthetic/{generator}/{dataset}/n{n}/s{seed}.parquet",
        split=multiext(f"{SPLIT_DIR}/", *[f"{p}.parquet" for p in PLAN.split_parts]),
        sidecar="results/data/{dataset}.json",
    output:
        "results/metrics/{family}/{generator}/{dataset}/n{n}/s{seed}.parquet",
    params:
        family_params=family_params,
        code=family_code,
    log:
        "results/logs/metrics/{family}/{generator}/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/evaluate.py"


rule evaluate_reference:
    input:
        split=multiext(f"{SPLIT_DIR}/", *[f"{p}.parquet" for p in PLAN.split_parts]),
        sidecar="results/data/{dataset}.json",
    output:
        "results/metrics/reference/{dataset}/n{n}/s{seed}.parquet",
    params:
        family_params=config["metrics"]["utility"],
        code=fingerprint("synthrisk.metrics.utility", "synthrisk.encoding", "synthrisk.pipeline"),
    log:
        "results/logs/metrics/reference/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/evaluate_reference.py"
