# Helpers shared by the rules: the run plan (grid, params, fingerprints) and the path templates.
import sys

from synthrisk import paths
from synthrisk.plan import Plan


wildcard_constraints:
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    generator=r"[A-Za-z0-9][A-Za-z0-9_.~+-]*",
    n=r"\d+",
    seed=r"\d+",


# params, names and generator availability are checked (and reported) once, by the main
# process, before any job; not again in every job
PLAN = Plan.from_config(config, check_available=workflow.is_main_process)
for _msg in PLAN.messages:
    print(f"synthrisk: {_msg}", file=sys.stderr)

FAMILIES_RUN = PLAN.families


def generator_entry(wildcards):
    return PLAN.entry(wildcards.generator)


def generator_plugin(wildcards):
    return PLAN.plugin(wildcards.generator)


def generator_code(wildcards):
    return PLAN.generator_code(wildcards.generator)


def holdout_rows(wildcards):
    return PLAN.rows(int(wildcards.n))
