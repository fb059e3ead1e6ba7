# Thin adapter: rule evaluate -> synthrisk.pipeline.evaluate
from pathlib import Path

from synthrisk.logs import job_logging
from synthrisk.pipeline import evaluate

with job_logging(snakemake.log[0]):
    evaluate(snakemake.wildcards.family, snakemake.params.family_params, snakemake.wildcards.generator,
             snakemake.input.synthetic, str(Path(snakemake.input.split[0]).parent), snakemake.input.sidecar,
             int(snakemake.wildcards.n), int(snakemake.wildcards.seed), snakemake.output[0])
