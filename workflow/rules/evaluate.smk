# Evaluation: each synthetic table is scored by every metric family in one job (one process
# start, one read of the split), writing one long table per family:
# results/metrics/{family}/{generator}/{dataset}/n{n}/s{seed}.parquet


rule evaluate:
    conda:
        "../../envs/evaluate.yaml"
    input:
        synthetic="results/synthetic/{generator}/{dataset}/n{n}/s{seed}.parquet",
        split=multiext(f"{SPLIT_DIR}/", *[f"{p}.parquet" for p in PLAN.split_parts]),
        sidecar="results/data/{dataset}.json",
    output:
        **{
            f: f"results/metrics/{f}/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.parquet"
            for f in FAMILIES_RUN
        },
        # the sidecars are outputs too: a failed job removes them with the tables (no orphans)
        **{
            f"{f}_sidecar": f"results/metrics/{f}/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.parquet.json"
            for f in FAMILIES_RUN
        },
    params:
        families={f: PLAN.family_params(f) for f in FAMILIES_RUN},
        code=PLAN.families_code(),
    log:
        "results/logs/metrics/{generator}/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/evaluate.py"


rule evaluate_reference:
    conda:
        "../../envs/evaluate.yaml"
    input:
        split=multiext(f"{SPLIT_DIR}/", *[f"{p}.parquet" for p in PLAN.split_parts]),
        sidecar="results/data/{dataset}.json",
    output:
        table="results/metrics/reference/{dataset}/n{n}/s{seed}.parquet",
        sidecar="results/metrics/reference/{dataset}/n{n}/s{seed}.parquet.json",
    params:
        family_params=config["metrics"]["utility"],
        code=fingerprint("synthrisk.metrics.utility", "synthrisk.encoding", "synthrisk.pipeline"),
    log:
        "results/logs/metrics/reference/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/evaluate_reference.py"
