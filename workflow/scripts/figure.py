# Thin adapter: rule figure -> synthrisk.figures.FIGURES[name]
from synthrisk.figures import FIGURES
from synthrisk.io import read_parquet
from synthrisk.logs import job_logging

with job_logging(snakemake.log[0]):
    FIGURES[snakemake.wildcards.fig](read_parquet(snakemake.input[0]), snakemake.output[0],
                                     order=snakemake.params.order)
