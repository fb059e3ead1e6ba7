# Thin adapter: rule make_split -> synthrisk.pipeline.make_split
from pathlib import Path

from synthrisk.logs import job_logging
from synthrisk.pipeline import make_split

with job_logging(snakemake.log[0]):
    make_split(snakemake.input.table, snakemake.input.sidecar, int(snakemake.wildcards.n),
               int(snakemake.wildcards.seed), snakemake.params.splits, snakemake.params.holdout_size,
               str(Path(snakemake.output.members).parent))
