# Thin adapter: rule make_split -> synthrisk.stages.split
from synthrisk.logs import job_logging
from synthrisk.paths import SPLIT_PARTS
from synthrisk.stages.split import make_split

with job_logging(snakemake.log[0]):
    make_split(snakemake.input.table, snakemake.input.sidecar, int(snakemake.wildcards.n),
               int(snakemake.wildcards.seed), snakemake.params.splits, snakemake.params.holdout_size,
               {p: snakemake.output[p] for p in SPLIT_PARTS}, snakemake.output.sidecar)
