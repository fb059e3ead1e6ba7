# Thin adapter: rule evaluate -> synthrisk.stages.evaluate (all families of every table of one cell)
from synthrisk.logs import job_logging
from synthrisk.stages.evaluate import evaluate_cell

with job_logging(snakemake.log[0]):
    evaluate_cell(snakemake.params.families, snakemake.params.plugins, snakemake.wildcards.generator,
                  snakemake.wildcards.dataset, snakemake.params.cell, snakemake.input.sidecar, snakemake.output[0],
                  code=snakemake.params.code)
