# Thin adapter: rule evaluate -> synthrisk.stages.evaluate (all families of one synthetic table)
from synthrisk.logs import job_logging
from synthrisk.paths import SPLIT_PARTS
from synthrisk.stages.evaluate import evaluate

with job_logging(snakemake.log[0]):
    families = snakemake.params.families
    evaluate(families, snakemake.params.plugins, snakemake.wildcards.generator, snakemake.input.synthetic,
             {p: snakemake.input[p] for p in SPLIT_PARTS}, snakemake.input.sidecar, int(snakemake.wildcards.n),
             int(snakemake.wildcards.seed), snakemake.output.table, snakemake.output.sidecar)
