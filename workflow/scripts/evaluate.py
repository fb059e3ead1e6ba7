# Thin adapter: rule evaluate -> synthrisk.pipeline.evaluate (all families of one synthetic table)
from pathlib import Path

from synthrisk.logs import job_logging
from synthrisk.pipeline import evaluate

with job_logging(snakemake.log[0]):
    families = snakemake.params.families
    evaluate(families, snakemake.wildcards.generator, snakemake.input.synthetic,
             str(Path(snakemake.input.split[0]).parent), snakemake.input.sidecar, int(snakemake.wildcards.n),
             int(snakemake.wildcards.seed), {f: getattr(snakemake.output, f) for f in families})
