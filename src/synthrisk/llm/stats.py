"""Per-column summary statistics for the prompt (the study's ``summary_stats: true``).

Numerical columns: mean, median, mode, std, min, max, 25% and 75% quantiles, unique count.
Categorical columns: unique count, mode, level counts.

Computed on the rows of the prompt they go into (its chunk of seed rows), as the study's code
did: it summarised the frame it put in that call. With ``batch_size: all`` the chunk is every
member row; with a small batch (the mitigation condition ``batch_size: 10``) each prompt
describes only its own ten rows, so statistics of all members would tell the model about rows
it is not shown. The rows are member rows only (the rows the generator may learn from), and
only levels that occur in them are listed, never a level the rest of the table has.

Two renderings: :func:`stats_json` (the study's: one JSON object, column -> statistics; used
by the ``study`` prompt) and :func:`stats_text` (one line per column; the ``guarded`` prompt).
Numbers carry 6 significant digits; ties for the mode go to the smallest value (pandas'
order), a choice the study's code left open.
"""
from __future__ import annotations

import json
import math

import pandas as pd

from synthrisk.schema import TableSchema


def _g(x) -> str:
    return f"{float(x):.6g}"


def _num(x) -> float | int | None:
    """``x`` with 6 significant digits for JSON: whole values as ints, non-finite as null."""
    f = float(x)
    if not math.isfinite(f):
        return None
    r = float(f"{f:.6g}")
    return int(r) if r.is_integer() and abs(r) < 1e15 else r


def column_stats(df: pd.DataFrame, schema: TableSchema, columns: list[str] | None = None) -> dict[str, dict]:
    """Statistics of ``df``'s columns (``columns``: their order; default the schema's). Level
    counts hold only the levels present in ``df`` (never a zero count), sorted by level."""
    out: dict[str, dict] = {}
    for name in columns or schema.names:
        c = schema.column(name)
        s = df[c.name]
        if c.is_categorical:
            counts = s.astype(str).value_counts()
            counts = counts[counts > 0]
            out[c.name] = {
                "unique": int(len(counts)),
                "mode": str(counts.index[0]) if len(counts) else "",
                "counts": {str(k): int(v) for k, v in sorted(counts.items())},
            }
        else:
            v = pd.to_numeric(s).astype(float)
            mode = v.mode()
            out[c.name] = {
                "mean": float(v.mean()),
                "median": float(v.median()),
                "mode": float(mode.iloc[0]) if len(mode) else float("nan"),
                "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                "min": float(v.min()),
                "max": float(v.max()),
                "q25": float(v.quantile(0.25)),
                "q75": float(v.quantile(0.75)),
                "unique": int(v.nunique()),
            }
    return out


def stats_text(df: pd.DataFrame, schema: TableSchema, columns: list[str] | None = None) -> str:
    """The statistics block of the ``guarded`` prompt, one line per column."""
    lines = ["Summary statistics of the example rows:"]
    for name, st in column_stats(df, schema, columns).items():
        if "counts" in st:
            levels = ", ".join(f"{k}: {v}" for k, v in st["counts"].items())
            lines.append(f"- {name}: unique={st['unique']}, mode={st['mode']}, counts={{{levels}}}")
        else:
            lines.append(
                f"- {name}: mean={_g(st['mean'])}, median={_g(st['median'])}, mode={_g(st['mode'])}, "
                f"std={_g(st['std'])}, min={_g(st['min'])}, 25%={_g(st['q25'])}, "
                f"75%={_g(st['q75'])}, max={_g(st['max'])}, unique={st['unique']}"
            )
    return "\n".join(lines)


def stats_json(df: pd.DataFrame, schema: TableSchema, columns: list[str] | None = None) -> str:
    """The study's statistics: one JSON object, column -> statistics, one line per column.

    Keys as the study's summary named them (``25%``, ``unique_count``, ``value_counts``);
    level counts from the most to the least frequent (ties by level), as a value count lists them.
    """
    per_column = []
    for name, st in column_stats(df, schema, columns).items():
        if "counts" in st:
            counts = sorted(st["counts"].items(), key=lambda kv: (-kv[1], kv[0]))
            d = {"unique_count": st["unique"], "mode": st["mode"], "value_counts": dict(counts)}
        else:
            d = {"mean": _num(st["mean"]), "median": _num(st["median"]), "mode": _num(st["mode"]),
                 "std": _num(st["std"]), "min": _num(st["min"]), "max": _num(st["max"]),
                 "25%": _num(st["q25"]), "75%": _num(st["q75"]), "unique_count": st["unique"]}
        per_column.append(f"  {json.dumps(name, ensure_ascii=False)}: {json.dumps(d, ensure_ascii=False)}")
    return "{\n" + ",\n".join(per_column) + "\n}"
