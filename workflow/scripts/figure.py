# Thin adapter: rule figure -> synthrisk.figures.render (one figure of FIGURES, PNG + SVG)
from synthrisk.figures.render import render_figure
from synthrisk.logs import job_logging

with job_logging(snakemake.log[0]):
    render_figure(snakemake.params.target, snakemake.input.table, snakemake.output.png, snakemake.output.svg,
                  dict(snakemake.params.ctx))
