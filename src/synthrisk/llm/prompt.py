"""Prompts for in-context generation and the batching of seed rows.

Two prompt styles:

* ``chat``: messages built from a template in ``resources/`` (``### <role>`` sections holding
  ``$name`` placeholders, :class:`string.Template`), one template per ``prompt``:

  - ``study`` (default; ``resources/prompt_study.txt``): the study's prompt, in our words, with
    the same elements in the same order, all in **one user message**: role, goal (mirror the
    examples' causal structure and feature/label distributions, as diverse as possible, from
    prior knowledge and in-context learning), dataset name, the column names in order, the
    summary statistics of the chunk as JSON (``summary_stats: true``), the chunk as CSV, the
    number of rows, "the rightmost column is the target", and the answer format
    ``{"synthetic_data": "<CSV string>"}``. The columns are the schema's with the target
    moved last (:func:`prompt_columns`), because the prompt says the rightmost one is the
    target; the parser maps answers back by header name (headerless rows: in this order).
  - ``guarded`` (``resources/prompt_guarded.txt``): our earlier prompt, a system + user
    message: role and goal with the sentence "Do not copy the example rows.", dataset name,
    columns in schema order with kinds and levels, statistics as text, the chunk as CSV, the
    number of rows and the answer format. Not the study's: the extra instruction and the split
    into two messages may suppress the copying the study measures.

  ``no_copy`` (default: false for ``study``, true for ``guarded``) adds or removes the one
  explicit no-copy sentence (:data:`NO_COPY`, the same in both prompts), so the factorial can
  vary it alone. Nothing in a chat prompt comes from outside the member rows: statistics are
  computed on the chunk (:mod:`synthrisk.llm.stats`), and ``guarded`` lists each categorical
  column's levels as they occur in the members, never the whole table's levels (a level seen
  only in non-members would tell the model about rows it was not given).
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

from synthrisk.llm.stats import stats_json, stats_text
from synthrisk.schema import TableSchema

#: prompt name -> template file under ``synthrisk/resources``
TEMPLATES = {"study": "prompt_study.txt", "guarded": "prompt_guarded.txt"}
PROMPTS = tuple(TEMPLATES)
#: ``no_copy`` when not given: the study's prompt has no such sentence, the guarded one has
NO_COPY_DEFAULT = {"study": False, "guarded": True}
#: the explicit no-copy instruction, appended to the goal sentence of either prompt
NO_COPY = " Do not copy the example rows."
ROLES = ("system", "user")


def check_prompt(prompt: str) -> str:
    if prompt not in TEMPLATES:
        raise ValueError(f"llm_icl: prompt must be one of {', '.join(PROMPTS)}, got {prompt!r}")
    return prompt


def resolve_no_copy(prompt: str, no_copy: bool | None) -> bool:
    """``no_copy`` as given, or the prompt's default when None."""
    if no_copy is None:
        return NO_COPY_DEFAULT[check_prompt(prompt)]
    if not isinstance(no_copy, bool):
        raise ValueError(f"llm_icl: no_copy must be true, false or null (the prompt's default), got {no_copy!r}")
    return no_copy


def load_template(name: str) -> list[tuple[str, str]]:
    """(role, template text) pairs, in file order, of a template in the package's resources.

    Sections start with a ``### system`` or ``### user`` line; each role at most once, and the
    last section is the user's (the message the model answers)."""
    text = resources.files("synthrisk").joinpath("resources", name).read_text(encoding="utf-8")
    parts: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("### "):
            parts.append([line[4:].strip(), ""])
        elif parts:
            parts[-1][1] += line
    roles = [r for r, _ in parts]
    if not parts or any(r not in ROLES for r in roles) or len(set(roles)) != len(roles) or roles[-1] != "user":
        raise ValueError(
            f"prompt template {name}: needs '### system' (optional) and '### user' sections, each once, "
            f"user last; got {roles}"
        )
    return [(r, t.strip()) for r, t in parts]


def prompt_columns(schema: TableSchema, prompt: str = "study") -> list[str]:
    """Column order of a chat prompt's CSV: ``study`` puts the target last (its prompt says the
    rightmost column is the target); ``guarded`` keeps the schema's order."""
    if check_prompt(prompt) == "study":
        return schema.features + [schema.target]
    return list(schema.names)


def to_csv(df: pd.DataFrame, schema: TableSchema, header: bool = True, columns: list[str] | None = None) -> str:
    """CSV text of canonical rows, in schema order (or ``columns``' order); floats keep their
    shortest exact repr, so a row copied from the prompt parses back to the member row exactly."""
    buf = io.StringIO()
    df[list(columns) if columns is not None else schema.names].to_csv(buf, index=False, header=header, lineterminator="\n")
    return buf.getvalue()


def member_levels(schema: TableSchema, members: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """Each categorical column's levels that occur in ``members``, in the schema's order."""
    out = {}
    for c in schema.columns:
        if c.is_categorical:
            seen = set(members[c.name].astype(str))
            out[c.name] = tuple(lv for lv in c.levels if lv in seen)
    return out


def describe_columns(schema: TableSchema, levels: dict[str, tuple[str, ...]] | None = None) -> str:
    """One line per column: name, label mark, kind and, for categorical ones, ``levels``
    (default: the schema's, i.e. the whole table's; prompts pass :func:`member_levels`)."""
    lines = []
    for c in schema.columns:
        role = " (label)" if c.name == schema.target else ""
        if c.is_categorical:
            lv = c.levels if levels is None else levels[c.name]
            lines.append(f"- {c.name}{role}: categorical, one of [{', '.join(lv)}]")
        else:
            kind = "integer" if c.dtype == "int" else "number"
            lines.append(f"- {c.name}{role}: numerical ({kind})")
    return "\n".join(lines)


def chat_messages(
    schema: TableSchema,
    dataset: str,
    chunk: pd.DataFrame,
    n_rows: int,
    *,
    prompt: str = "study",
    summary_stats: bool = False,
    no_copy: bool | None = None,
    members: pd.DataFrame | None = None,
    rules: list[str] | None = None,
) -> list[dict]:
    """The chat messages of one prompt carrying ``chunk`` and asking for ``n_rows`` rows.

    ``summary_stats``: add the statistics of ``chunk`` (the rows this prompt shows).
    ``no_copy``: add :data:`NO_COPY` (None: the prompt's default). ``members``: the member
    rows whose levels ``guarded`` lists (default: the chunk's own).
    """
    no_copy = resolve_no_copy(prompt, no_copy)
    columns = prompt_columns(schema, prompt)
    if prompt == "study":
        column_text = ", ".join(columns)
        stats = stats_json(chunk, schema, columns) if summary_stats else None
        stats_head = "Summary statistics of the example rows, per column (JSON):\n"
    else:
        column_text = describe_columns(schema, member_levels(schema, chunk if members is None else members))
        stats = stats_text(chunk, schema, columns) if summary_stats else None
        stats_head = ""
    fields = {
        "dataset": dataset or schema.name,
        "target": schema.target,
        "n_columns": len(columns),
        "columns": column_text,
        "stats": ("\n" + stats_head + stats + "\n") if stats is not None else "",
        "seed_csv": to_csv(chunk, schema, columns=columns).rstrip("\n"),
        "n_rows": int(n_rows),
        "no_copy": NO_COPY if no_copy else "",
    }
    msgs = [{"role": role, "content": Template(text).substitute(fields)} for role, text in load_template(TEMPLATES[prompt])]
    if rules:  # the constraints factor: appended to the last message, so the templates stay as they are
        msgs[-1]["content"] = msgs[-1]["content"].rstrip("\n") + "\n\n" + rules_text(rules) + "\n"
    return msgs


RULES_HEAD = "Every generated row must satisfy each of these rules:"


def rules_text(rules: list[str]) -> str:
    """The row constraints as the prompt states them (``constraints_in_prompt: true``): one line
    each, in the constraint language's own words (``if A then B``, ``and``/``or``, ``in [...]``)."""
    return RULES_HEAD + "\n" + "\n".join(f"- {r}" for r in rules)


def completion_prompt(schema: TableSchema, chunk: pd.DataFrame, rules: list[str] | None = None) -> str:
    """Header + seed rows as CSV, newline-terminated: the model continues with new rows. ``rules``
    (the constraints factor): stated first, as ``#`` comment lines before the header."""
    head = "".join(f"# {line}\n" for line in rules_text(rules).splitlines()) if rules else ""
    return head + to_csv(chunk, schema)


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
