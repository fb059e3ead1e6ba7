"""Per-column summary statistics for the prompt (the study's ``summary_stats: true``).

Numerical columns: mean, median, mode, std, min, max, 25% and 75% quantiles, unique count.
Categorical columns: unique count, mode, level counts. Computed on the member rows only (the
rows the generator may learn from). Numbers are printed with 6 significant digits; ties for
the mode go to the smallest value (pandas' order), a choice the study's code left open.
"""
from __future__ import annotations

import pandas as pd

from synthrisk.schema import TableSchema


def _g(x) -> str:
    return f"{float(x):.6g}"


def column_stats(df: pd.DataFrame, schema: TableSchema) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for c in schema.columns:
        s = df[c.name]
        if c.is_categorical:
            counts = s.astype(str).value_counts()
            out[c.name] = {
                "unique": int(s.nunique()),
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


def stats_text(df: pd.DataFrame, schema: TableSchema) -> str:
    """The statistics block of the prompt, one line per column."""
    lines = ["Summary statistics of the real data:"]
    for name, st in column_stats(df, schema).items():
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
