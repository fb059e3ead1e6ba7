# Thin adapter: rule evaluate_reference -> synthrisk.pipeline.evaluate_reference
from pathlib import Path

from synthrisk.logs import job_logging
from synthrisk.pipeline import evaluate_reference

with job_logging(snakemake.log[0]):
    evaluate_reference(snakemake.params.family_params, str(Path(snakemake.input.split[0]).parent),
                       snakemake.input.sidecar, int(snakemake.wildcards.n), int(snakemake.wildcards.seed),
                       snakemake.output.table)
