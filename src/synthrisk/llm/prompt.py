"""Prompts for in-context generation and the batching of seed rows.

Two prompt styles:

* ``chat`` (the study's): a system + user message built from ``resources/prompt_icl.txt``
  (``$name`` placeholders, :class:`string.Template`): role and goal, dataset name, columns with
  kinds and levels, optional summary statistics, one chunk of seed rows as CSV, the number of
  rows wanted, and the instruction to answer ``{"synthetic_data": "<CSV text with header>"}``.
* ``completion`` (for base models, not in the study): the CSV header and the seed rows, ending
  in a newline, so the model continues the table line by line. Statistics are not used here.

Batching follows the study's code: the seed rows are shuffled with the run's rng and cut into
chunks of ``batch_size`` (``"all"``: one chunk with every row); each prompt carries one chunk
and asks for ``batch_size`` rows (``"all"``: as many rows as there are seed rows). The last
chunk may be shorter; it still asks for ``batch_size`` rows (our choice; the study was silent).
"""
from __future__ import annotations

import io
from importlib import resources
from string import Template

import numpy as np
import pandas as pd

from synthrisk.llm.stats import stats_text
from synthrisk.schema import TableSchema

TEMPLATE = "prompt_icl.txt"


def load_template(name: str = TEMPLATE) -> tuple[str, str]:
    """(system, user) template texts from the package's resources folder."""
    text = resources.files("synthrisk").joinpath("resources", name).read_text(encoding="utf-8")
    parts = {}
    current = None
    for line in text.splitlines(keepends=True):
        if line.startswith("### "):
            current = line[4:].strip()
            parts[current] = ""
        elif current is not None:
            parts[current] += line
    if set(parts) != {"system", "user"}:
        raise ValueError(f"prompt template {name}: needs exactly '### system' and '### user' sections, got {sorted(parts)}")
    return parts["system"].strip(), parts["user"].strip()


def to_csv(df: pd.DataFrame, schema: TableSchema, header: bool = True) -> str:
    """CSV text of canonical rows in schema order; floats keep their shortest exact repr, so a
    row copied from the prompt parses back to the member row exactly."""
    buf = io.StringIO()
    df[schema.names].to_csv(buf, index=False, header=header, lineterminator="\n")
    return buf.getvalue()


def describe_columns(schema: TableSchema) -> str:
    lines = []
    for c in schema.columns:
        role = " (label)" if c.name == schema.target else ""
        if c.is_categorical:
            lines.append(f"- {c.name}{role}: categorical, one of [{', '.join(c.levels)}]")
        else:
            kind = "integer" if c.dtype == "int" else "number"
            lines.append(f"- {c.name}{role}: numerical ({kind})")
    return "\n".join(lines)


def chat_messages(
    schema: TableSchema, dataset: str, chunk: pd.DataFrame, n_rows: int, stats_of: pd.DataFrame | None = None
) -> list[dict]:
    """The study-style chat prompt. ``stats_of``: the frame to summarise (None: no statistics)."""
    system, user = load_template()
    fields = {
        "dataset": dataset or schema.name,
        "target": schema.target,
        "n_columns": len(schema.names),
        "columns": describe_columns(schema),
        "stats": ("\n" + stats_text(stats_of, schema) + "\n") if stats_of is not None else "",
        "seed_csv": to_csv(chunk, schema).rstrip("\n"),
        "n_rows": int(n_rows),
    }
    return [
        {"role": "system", "content": Template(system).substitute(fields)},
        {"role": "user", "content": Template(user).substitute(fields)},
    ]


def completion_prompt(schema: TableSchema, chunk: pd.DataFrame) -> str:
    """Header + seed rows as CSV, newline-terminated: the model continues with new rows."""
    return to_csv(chunk, schema)


def make_chunks(df: pd.DataFrame, batch_size: int | str, rng: np.random.Generator) -> list[pd.DataFrame]:
    """Shuffle the seed rows with ``rng`` and cut them into chunks of ``batch_size``."""
    if len(df) == 0:
        raise ValueError("llm_icl: no seed rows to put in a prompt")
    shuffled = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    size = len(df) if batch_size == "all" else int(batch_size)
    if size < 1:
        raise ValueError(f"llm_icl: batch_size must be a positive int or 'all', got {batch_size!r}")
    return [shuffled.iloc[i : i + size].reset_index(drop=True) for i in range(0, len(df), size)]


def rows_per_prompt(batch_size: int | str, n_seed: int) -> int:
    return n_seed if batch_size == "all" else int(batch_size)
