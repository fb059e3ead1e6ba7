# Thin adapter: rule evaluate_reference -> synthrisk.stages.reference
from synthrisk.logs import job_logging
from synthrisk.paths import SPLIT_PARTS
from synthrisk.stages.reference import evaluate_reference

with job_logging(snakemake.log[0]):
    evaluate_reference(snakemake.params.family_params, {p: snakemake.input[p] for p in SPLIT_PARTS},
                       snakemake.input.sidecar, int(snakemake.wildcards.n), int(snakemake.wildcards.seed),
                       snakemake.output.table, snakemake.output.sidecar)
