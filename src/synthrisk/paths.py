"""Where every stage output lives: the one home of the path templates and split-part names.

The rules (``workflow/rules/*.smk``), the plan (:mod:`synthrisk.plan`) and the package read
these; nothing else spells a results path. Templates use Snakemake's wildcard syntax
(``{dataset}``); :func:`fill` formats some of the fields and leaves the others as wildcards.
"""
from __future__ import annotations

import re
import string

#: the parts of one split (:mod:`synthrisk.splits`), in file order
SPLIT_PARTS = ("members", "non_members", "reference", "test", "holdout")

RESULTS = "results"
DATA = f"{RESULTS}/data/{{dataset}}.parquet"
DATA_SIDECAR = f"{RESULTS}/data/{{dataset}}.json"
SPLIT_DIR = f"{RESULTS}/splits/{{dataset}}/n{{n}}/s{{seed}}"
SPLIT_PART = f"{SPLIT_DIR}/{{part}}.parquet"
SPLIT_SIDECAR = f"{SPLIT_DIR}/split.json"
SYNTHETIC = f"{RESULTS}/synthetic/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.parquet"
#: every metric family's long rows for one synthetic table, in one file (column ``family``): one
#: output (and one sidecar) per evaluate job, not one per family, keeps a study-size DAG small
METRIC = f"{RESULTS}/metrics/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.parquet"
#: the real-data utility reference of one split (outside metrics/: a generator may be called anything)
REFERENCE = f"{RESULTS}/reference/{{dataset}}/n{{n}}/s{{seed}}.parquet"
TABLES = {"table": f"{RESULTS}/tables/metrics.parquet", "summary": f"{RESULTS}/tables/summary.csv",
          "headline": f"{RESULTS}/tables/headline.csv", "eps": f"{RESULTS}/tables/eps_lower.csv",
          "runs": f"{RESULTS}/tables/runs.csv", "runs_jobs": f"{RESULTS}/tables/runs_jobs.csv",
          "dp_audit": f"{RESULTS}/tables/dp_audit.csv"}
#: a figure of :data:`synthrisk.figures.FIGURES`, as PNG and SVG
FIGURE = {"png": f"{RESULTS}/figures/{{fig}}.png", "svg": f"{RESULTS}/figures/{{fig}}.svg"}
#: a table view of :data:`synthrisk.figures.TABLE_VIEWS`, as CSV and a LaTeX tabular
TABLE_VIEW = {"csv": f"{RESULTS}/tables/{{view}}.csv", "tex": f"{RESULTS}/tables/{{view}}.tex"}
#: Snakemake's unit of work is a *cell*, not one table: every (n, seed) of one dataset for the
#: split and reference stages, of one (generator, dataset) for generate and evaluate. A cell job
#: writes the per-(n, seed) files above (unchanged paths) and then its manifest: the one output
#: Snakemake tracks (:mod:`synthrisk.cells`). ~2,000 jobs at study size whatever the seed count,
#: where one job per table gave 18,000 at 3 seeds and 60,000 at 10 (issue 18).
CELL = "cell.json"
SPLIT_CELL = f"{RESULTS}/splits/{{dataset}}/{CELL}"
REFERENCE_CELL = f"{RESULTS}/reference/{{dataset}}/{CELL}"
SYNTHETIC_CELL = f"{RESULTS}/synthetic/{{generator}}/{{dataset}}/{CELL}"
METRIC_CELL = f"{RESULTS}/metrics/{{generator}}/{{dataset}}/{CELL}"
REPORT = f"{RESULTS}/report.html"  # `snakemake --report` (make report); captions in workflow/report/
LOGS = f"{RESULTS}/logs"
LLM_SERVER_DIR = f"{RESULTS}/llm/servers"  # one file per running LLM server (workflow/rules/llm.smk)
LLM_CACHE_DIR = f"{RESULTS}/cache/llm"  # the LLM response cache


class _Keep(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(template: str, **fields) -> str:
    """``template`` with the given fields formatted; the others stay ``{wildcards}``."""
    return string.Formatter().vformat(template, (), _Keep(fields))


def sidecar(path: str) -> str:
    """The JSON sidecar written next to a parquet table."""
    return f"{path}.json"


def split_parts(**fields) -> dict[str, str]:
    """part -> path of one split's tables (fields left out stay wildcards)."""
    return {p: fill(SPLIT_PART, part=p, **fields) for p in SPLIT_PARTS}


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    rx = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(r"(?P<prefix>(?:.*/)?)" + rx + r"(?:\.json)?")


#: item template -> the manifest template of its cell
_ITEM_CELLS = [(_pattern(SYNTHETIC), SYNTHETIC_CELL), (_pattern(METRIC), METRIC_CELL),
               (_pattern(REFERENCE), REFERENCE_CELL), (_pattern(SPLIT_PART), SPLIT_CELL),
               (_pattern(SPLIT_SIDECAR), SPLIT_CELL)]


def cell_of(path: str) -> str | None:
    """The manifest of the cell whose job writes the item file ``path`` (a synthetic, metric,
    reference or split table, or its sidecar; relative or below a folder), or None for any other path."""
    for rx, cell in _ITEM_CELLS:
        m = rx.fullmatch(str(path))
        if m:
            fields = m.groupdict()
            return fields.pop("prefix") + cell.format(**fields)
    return None
