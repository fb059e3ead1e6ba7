"""Prompts with no seed rows: the contamination control of ``llm_icl`` (``seed_rows: none``).

The model is shown the table's schema (and, with ``summary_stats: true``, the members'
per-column statistics: aggregates only), never an example row, so whatever it writes comes from
what it already knows about the table. Its rows are then matched against the members, the
non-members and the rest of the public table (the risk family's ``match_*`` rows,
:mod:`synthrisk.metrics.risk`; the ``contamination`` table view): a model that reproduces rows
of a public table it was never shown has seen that table in pretraining, and an ICL run's
copies on that table are then not attributable to its seed rows alone.

* ``completion`` style: the CSV header line only; the model continues the table.
* ``chat`` style: ``resources/prompt_zero_shot.txt``, one user message: role, the dataset name,
  the columns (in the generator's prompt order), optional statistics, the number of rows, which
  column is the target and the study's answer format.
"""
from __future__ import annotations

from string import Template

import pandas as pd

from synthrisk.llm.prompt import load_template
from synthrisk.llm.stats import stats_json
from synthrisk.schema import TableSchema

TEMPLATE = "prompt_zero_shot.txt"


def completion_prompt(schema: TableSchema) -> str:
    """The CSV header and a newline: the table's first row is the model's."""
    return ",".join(schema.names) + "\n"


def chat_messages(schema: TableSchema, dataset: str, n_rows: int, columns: list[str],
                  stats_of: pd.DataFrame | None = None) -> list[dict]:
    """The messages of one zero-shot prompt asking for ``n_rows`` rows; ``stats_of``: the rows whose
    summary statistics it carries (None: none)."""
    stats = stats_json(stats_of, schema, columns) if stats_of is not None else None
    fields = {
        "dataset": dataset or schema.name,
        "target": schema.target,
        "columns": ", ".join(columns),
        "stats": ("\nSummary statistics of the table, per column (JSON):\n" + stats + "\n") if stats else "",
        "n_rows": int(n_rows),
    }
    return [{"role": role, "content": Template(text).substitute(fields)} for role, text in load_template(TEMPLATE)]
