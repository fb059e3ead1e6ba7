# Thin adapter: rule table_view -> synthrisk.figures.render (one table of TABLE_VIEWS, CSV + TeX)
from synthrisk.figures.render import render_table
from synthrisk.logs import job_logging

with job_logging(snakemake.log[0]):
    render_table(snakemake.params.target, snakemake.input.table, snakemake.output.csv, snakemake.output.tex,
                 dict(snakemake.params.ctx))
