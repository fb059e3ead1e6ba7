# Thin adapter: rule generate -> synthrisk.stages.generate
import os

# one BLAS/torch thread per core the job was given, set before numpy/torch are imported:
# two 2-thread jobs on 2 cores thrash
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = str(max(1, snakemake.threads))  # LLM-server consumers declare 0

from synthrisk.logs import job_logging  # noqa: E402
from synthrisk.stages.generate import generate  # noqa: E402

with job_logging(snakemake.log[0]):
    generate(snakemake.wildcards.generator, snakemake.params.entry, snakemake.params.plugin,
             snakemake.input.members, snakemake.input.sidecar, int(snakemake.wildcards.n),
             int(snakemake.wildcards.seed), snakemake.params.rows, snakemake.output.table,
             snakemake.output.sidecar, holdout=snakemake.input.get("holdout"),
             server_file=next(iter(snakemake.input.get("llm_server", [])), None))
