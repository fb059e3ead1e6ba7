# Thin adapter: rule evaluate_reference -> synthrisk.stages.reference (every (n, seed) split of a dataset)
from synthrisk.logs import job_logging
from synthrisk.stages.reference import reference_cell

with job_logging(snakemake.log[0]):
    reference_cell(snakemake.params.family_params, snakemake.wildcards.dataset, snakemake.params.cell,
                   snakemake.input.sidecar, snakemake.output[0], code=snakemake.params.code)
