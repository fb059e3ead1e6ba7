# synthrisk: raw tables -> seed splits -> synthetic tables -> metrics -> tables and figures.
# Rules are thin (workflow/rules/*.smk); the logic is the installable package src/synthrisk.
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The workflow imports the package from src/ even when it is not pip-installed; jobs need it
# installed (make setup does; the conda envs in envs/ install it in their post-deploy scripts).
sys.path.insert(0, f"{workflow.basedir}/src")

from synthrisk.plan import check_config  # noqa: E402


# The embedded default, unless the user gives their own (--configfile replaces it, not merges)
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# a violation names the key and its allowed values (not the whole schema); validate fills defaults
check_config(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")


# the report's landing page (snakemake --report results/report.html; captions in workflow/report/)
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/llm.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"


rule all:
    input:
        *paths.TABLES.values(),
        # every data, split, synthetic and metric file (sidecars too), the figures and table
        # views: a deleted one is rebuilt
        PLAN.all_files(),
    default_target: True
