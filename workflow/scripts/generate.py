# Thin adapter: rule generate -> synthrisk.pipeline.generate
from pathlib import Path

from synthrisk.logs import job_logging
from synthrisk.pipeline import generate

with job_logging(snakemake.log[0]):
    generate(snakemake.wildcards.generator, snakemake.params.entry, str(Path(snakemake.input.members).parent),
             snakemake.input.sidecar, int(snakemake.wildcards.n), int(snakemake.wildcards.seed),
             snakemake.params.rows, snakemake.output.table)
