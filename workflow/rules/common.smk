# Helpers shared by the rules: the generator grid, fingerprints of the package code, targets.
import sys

from synthrisk.io import fingerprint
from synthrisk.workflow import Plan


wildcard_constraints:
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    generator=r"[A-Za-z0-9][A-Za-z0-9_.~+-]*",
    n=r"\d+",
    seed=r"\d+",


# generator availability is checked (and reported) once, by the main process, not in every job
PLAN = Plan.from_config(config, check_available=workflow.is_main_process)
for _msg in PLAN.messages:
    print(f"synthrisk: {_msg}", file=sys.stderr)

FAMILIES_RUN = PLAN.families
FIGURES = expand("results/figures/{fig}.png", fig=PLAN.figures)
SPLIT_DIR = "results/splits/{dataset}/n{n}/s{seed}"


def generator_entry(wildcards):
    return PLAN.entry(wildcards.generator)


def generator_code(wildcards):
    return PLAN.generator_code(wildcards.generator)


def holdout_rows(wildcards):
    return PLAN.rows(int(wildcards.n))
