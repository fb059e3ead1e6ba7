# Generation: one synthetic table per (generator, dataset, n, seed).


rule generate:
    conda:
        "../../envs/generate.yaml"
    input:
        members=f"{SPLIT_DIR}/members.parquet",
        holdout=f"{SPLIT_DIR}/holdout.parquet",
        sidecar="results/data/{dataset}.json",
    output:
        table="results/synthetic/{generator}/{dataset}/n{n}/s{seed}.parquet",
        sidecar="results/synthetic/{generator}/{dataset}/n{n}/s{seed}.parquet.json",
    params:
        entry=generator_entry,
        rows=holdout_rows,
        code=generator_code,
    log:
        "results/logs/generate/{generator}/{dataset}/n{n}/s{seed}.log",
    script:
        "../scripts/generate.py"
