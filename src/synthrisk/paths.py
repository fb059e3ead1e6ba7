"""Where every stage output lives: the one home of the path templates and split-part names.

The rules (``workflow/rules/*.smk``), the plan (:mod:`synthrisk.plan`) and the package read
these; nothing else spells a results path. Templates use Snakemake's wildcard syntax
(``{dataset}``); :func:`fill` formats some of the fields and leaves the others as wildcards.
"""
from __future__ import annotations

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
