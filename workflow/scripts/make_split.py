# Thin adapter: rule make_split -> synthrisk.stages.split (one cell: every (n, seed) split of a dataset)
from synthrisk.logs import job_logging
from synthrisk.stages.split import split_cell

with job_logging(snakemake.log[0]):
    split_cell(snakemake.input.table, snakemake.input.sidecar, snakemake.wildcards.dataset, snakemake.params.cell,
               snakemake.params.splits, snakemake.output[0], code=snakemake.params.code)
