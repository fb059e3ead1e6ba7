# Evaluation: each synthetic table is scored by every metric family in one job (one process
# start, one read of the split), writing one long table of every family's rows (paths.METRIC)
# and one sidecar with each family's params, row count and seconds.


rule evaluate:
    conda:
        "../../envs/evaluate.yaml"
    input:
        synthetic=paths.SYNTHETIC,
        sidecar=paths.DATA_SIDECAR,
        **paths.split_parts(),
    output:
        table=paths.METRIC,
        # the sidecar is an output too: a failed job removes it with the table (no orphans)
        sidecar=paths.sidecar(paths.METRIC),
    params:
        families=lambda w: {f: PLAN.family_params(f, w.dataset) for f in FAMILIES_RUN},
        plugins=PLAN.family_plugins(),
        code=PLAN.families_code(),
    log:
        f"{paths.LOGS}/metrics/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.log",
    script:
        "../scripts/evaluate.py"


rule evaluate_reference:
    conda:
        "../../envs/evaluate.yaml"
    input:
        sidecar=paths.DATA_SIDECAR,
        **paths.split_parts(),
    output:
        table=paths.REFERENCE,
        sidecar=paths.sidecar(paths.REFERENCE),
    params:
        family_params=PLAN.family_params("utility"),
        code=PLAN.stage_code("evaluate_reference"),
    log:
        f"{paths.LOGS}/metrics/reference/{{dataset}}/n{{n}}/s{{seed}}.log",
    script:
        "../scripts/evaluate_reference.py"
