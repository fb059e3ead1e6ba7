# synthrisk: raw tables -> seed splits -> synthetic tables -> metrics -> tables and figures.
# Rules are thin (workflow/rules/*.smk); the logic is the installable package src/synthrisk.
from snakemake.utils import min_version, validate

min_version("9.0")


# The embedded default, unless the user gives their own (--configfile replaces it, not merges)
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"



validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"


rule all:
    input:
        "results/tables/metrics.parquet",
        "results/tables/summary.csv",
        FIGURES,
    default_target: True
