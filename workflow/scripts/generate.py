# Thin adapter: rule generate -> synthrisk.stages.generate (one cell: every (n, seed) of a generator on a dataset)
import os

# one BLAS/torch thread per core the job was given, set before numpy/torch are imported:
# two 2-thread jobs on 2 cores thrash
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = str(max(1, snakemake.threads))  # LLM-server consumers declare 0

from synthrisk.logs import job_logging  # noqa: E402
from synthrisk.stages.generate import generate_cell  # noqa: E402

with job_logging(snakemake.log[0]):
    generate_cell(snakemake.wildcards.generator, snakemake.params.entry, snakemake.params.plugin,
                  snakemake.wildcards.dataset, snakemake.params.cell, snakemake.input.sidecar, snakemake.output[0],
                  code=snakemake.params.code, server_file=next(iter(snakemake.input.get("llm_server", [])), None))
