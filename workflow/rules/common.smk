# Helpers shared by the rules: the run plan (grid, params, fingerprints) and the path templates.
import os
import sys

from synthrisk import paths
from synthrisk import report as REPORT
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

if workflow.is_main_process:  # the report's landing page embeds the figures (synthrisk.report)
    REPORT.register_rst_directives()
    # Snakemake builds cells, not single tables (synthrisk.cells): a table named on the command
    # line (a target, --forcerun) has no rule; say which cell builds it
    for _arg in sys.argv[1:]:
        if paths.cell_of(_arg):
            print(f"synthrisk: {_arg} is a table of the cell {paths.cell_of(_arg)}: name that cell "
                  f"(its job builds or reuses each of its tables)", file=sys.stderr)
    # a finished cell with a table deleted or changed by hand reruns, recomputing only that table:
    # its manifest is dated before its inputs (synthrisk.plan.Plan.stale_cells)
    for _cell in PLAN.stale_cells():
        print(f"synthrisk: {_cell} has a table file missing or changed since it finished; the cell reruns "
              f"and recomputes it", file=sys.stderr)
        os.utime(_cell, (0, 0))

FAMILIES_RUN = PLAN.families
EVALUATE_MINUTES = 10  # cluster runtime of evaluating one table (every family); a cell asks for this per table


def generator_entry(wildcards):
    return PLAN.entry(wildcards.generator, wildcards.dataset)


def generator_plugin(wildcards):
    return PLAN.plugin(wildcards.generator)


def generator_code(wildcards):
    return PLAN.generator_code(wildcards.generator)


def generate_group(wildcards):
    """Cluster group of a generate job (Snakemake uses groups only on a cluster and in dry runs):
    one per generator, sized by the profile's group-components of its parent (generate-cpu or
    generate-gpu); None for an LLM server's consumers, which join their service's group."""
    group = PLAN.cluster_group(wildcards.generator)
    if group is None:
        return None
    workflow.parent_groupids[group[0]] = group[1]  # group-components are looked up by the parent
    return group[0]


def cell_resources(wildcards):
    """Cluster resources of one generate cell (synthrisk.plan.Plan.cell_resources), once per cell."""
    key = (wildcards.generator, wildcards.dataset)
    if key not in _CELL_RESOURCES:
        _CELL_RESOURCES[key] = PLAN.cell_resources(*key)
    return _CELL_RESOURCES[key]


_CELL_RESOURCES = {}


# The report (snakemake --report): category, subcategory, caption and labels of each result come
# from its name (synthrisk.report.SECTIONS); figures through the {fig} wildcard.
def report_table(name):
    return report(
        paths.TABLES[name],
        caption=REPORT.caption(name),
        category=REPORT.category(name),
        subcategory=REPORT.subcategory(name),
        labels=REPORT.run_labels(PLAN, name),
    )


def report_tables():
    """paths.TABLES with the reported ones flagged for the report (aggregate's outputs)."""
    return {
        k: report_table(k) if k in REPORT.reported_tables(paths.TABLES) else v
        for k, v in paths.TABLES.items()
    }


def report_view(path):
    return report(
        path,
        caption=REPORT.VIEW_CAPTION,
        category=lambda w: REPORT.category(w.view),
        subcategory=lambda w: REPORT.subcategory(w.view),
        labels=lambda w: REPORT.run_labels(PLAN, w.view),
    )


def report_figure(path):
    return report(
        path,
        caption=REPORT.FIGURE_CAPTION,
        category=lambda w: REPORT.category(w.fig),
        subcategory=lambda w: REPORT.subcategory(w.fig),
        labels=lambda w: REPORT.run_labels(PLAN, w.fig),
    )
