# Thin adapter: rule aggregate -> synthrisk.aggregate.write_tables (the tables the cells' manifests list)
from synthrisk.aggregate import write_tables
from synthrisk.cells import tables
from synthrisk.logs import job_logging

with job_logging(snakemake.log[0]):
    others = snakemake.params.others
    write_tables(sorted(set(tables(sorted(set(snakemake.input.metrics) | set(others["metrics"]))))),
                 sorted(set(tables(sorted(set(snakemake.input.synthetic) | set(others["synthetic"]))))),
                 snakemake.output.table, snakemake.output.summary, snakemake.output.headline,
                 snakemake.output.eps,
                 left_out=snakemake.params.left_out, out_runs=snakemake.output.runs,
                 out_runs_jobs=snakemake.output.runs_jobs, order=snakemake.params.order,
                 confidence=snakemake.params.confidence, out_dp_audit=snakemake.output.dp_audit)
