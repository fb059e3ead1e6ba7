# Thin adapter: rule prepare_dataset -> synthrisk.stages.data
from synthrisk.logs import job_logging
from synthrisk.stages.data import prepare_dataset

with job_logging(snakemake.log[0]):
    prepare_dataset(snakemake.wildcards.dataset, snakemake.params.spec, snakemake.params.defaults,
                    snakemake.output.table, snakemake.output.sidecar)
