"""The long metric table shared by every family, and the split a metric sees."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.io import read_parquet
from synthrisk.paths import SPLIT_PART, SPLIT_PARTS, fill
from synthrisk.schema import TableSchema

ID_COLUMNS = ["generator", "dataset", "n", "seed", "family"]
#: every metric file has exactly these columns, in this order. ``ci_low``/``ci_high``: the
#: value's interval where the family gives one (privacy: 95%, bootstrap over targets), else NaN
LONG_COLUMNS = ID_COLUMNS + ["metric", "value", "ci_low", "ci_high", "against", "column", "model", "attack", "reason"]
OPTIONAL = ("against", "column", "model", "attack", "reason")
INTERVAL = ("ci_low", "ci_high")



@dataclass
class Split:
    """The real tables of one (dataset, n, seed) split; see :mod:`synthrisk.splits`."""

    members: pd.DataFrame
    non_members: pd.DataFrame
    reference: pd.DataFrame
    test: pd.DataFrame
    holdout: pd.DataFrame

    @classmethod
    def read(cls, files: dict[str, str | Path]) -> "Split":
        """The split from its part files (part -> path, :data:`synthrisk.paths.SPLIT_PARTS`)."""
        missing = [p for p in SPLIT_PARTS if p not in files]
        if missing:
            raise ValueError(f"split files lack part(s) {missing}")
        return cls(**{p: read_parquet(files[p]) for p in SPLIT_PARTS})

    @classmethod
    def load(cls, folder: str | Path) -> "Split":
        """The split whose part files are in ``folder`` (named as :data:`synthrisk.paths.SPLIT_PART`)."""
        return cls.read({p: Path(folder) / Path(fill(SPLIT_PART, part=p)).name for p in SPLIT_PARTS})


def row(metric: str, value, **extra) -> dict:
    """One long row. A value that is None/NaN must carry a ``reason``; an interval, if given,
    must contain the value."""
    v = float("nan") if value is None else float(value)
    if math.isnan(v) and not extra.get("reason"):
        raise ValueError(f"metric {metric!r} is NaN without a reason")
    lo, hi = extra.get("ci_low"), extra.get("ci_high")
    if lo is not None and hi is not None and not math.isnan(v) and not (lo - 1e-12 <= v <= hi + 1e-12):
        raise ValueError(f"metric {metric!r}: value {v} outside its interval [{lo}, {hi}]")
    return {"metric": metric, "value": v, **extra}


def nan_row(metric: str, reason: str, **extra) -> dict:
    return row(metric, float("nan"), reason=reason, **extra)


def long_frame(rows: list[dict], *, generator: str, dataset: str, n: int, seed: int, family: str) -> pd.DataFrame:
    """Rows -> the long table with :data:`LONG_COLUMNS` (optional columns null when unused)."""
    for r in rows:
        unknown = set(r) - set(LONG_COLUMNS)
        if unknown:
            raise ValueError(f"{family}: unknown long-table column(s) {sorted(unknown)}")
    df = pd.DataFrame(rows, columns=["metric", "value", *INTERVAL, *OPTIONAL])
    df.insert(0, "family", family)
    df.insert(0, "seed", int(seed))
    df.insert(0, "n", int(n))
    df.insert(0, "dataset", dataset)
    df.insert(0, "generator", generator)
    df["n"] = df["n"].astype(np.int64)
    df["seed"] = df["seed"].astype(np.int64)
    for c in ("value", *INTERVAL):
        df[c] = df[c].astype(np.float64)
    for c in OPTIONAL:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df[LONG_COLUMNS]
