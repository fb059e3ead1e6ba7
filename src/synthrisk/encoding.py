"""Numeric encodings of canonical tables, shared by attacks, diversity and utility.

:class:`TableEncoder` one-hot encodes categorical columns over the schema's levels (so a level
unseen in the fitting rows still has its own column) and standardises numerical columns with
the fitting rows' mean and standard deviation (a constant column is centred, not scaled).
Fit it once per split and share it, so that consumers differ only in how they score.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.schema import TableSchema


class TableEncoder:
    def __init__(self, schema: TableSchema, columns: list[str] | None = None, scale_numerical: bool = True):
        self.schema = schema
        self.columns = list(columns) if columns is not None else schema.names
        self.scale_numerical = scale_numerical
        self.mean_: dict[str, float] = {}
        self.std_: dict[str, float] = {}

    def fit(self, df: pd.DataFrame) -> "TableEncoder":
        for name in self.columns:
            c = self.schema.column(name)
            if c.is_numerical:
                v = df[name].to_numpy(dtype=np.float64)
                self.mean_[name] = float(v.mean()) if len(v) else 0.0
                sd = float(v.std()) if len(v) else 0.0
                self.std_[name] = sd if sd > 1e-12 else 1.0
        return self

    @property
    def feature_names(self) -> list[str]:
        out = []
        for name in self.columns:
            c = self.schema.column(name)
            out += [f"{name}={lv}" for lv in c.levels] if c.is_categorical else [name]
        return out

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for name in self.columns:
            c = self.schema.column(name)
            if c.is_categorical:
                codes = pd.Categorical(df[name].astype(str), categories=list(c.levels)).codes
                onehot = np.zeros((len(df), len(c.levels)), dtype=np.float64)
                ok = codes >= 0
                onehot[np.nonzero(ok)[0], codes[ok]] = 1.0
                blocks.append(onehot)
            else:
                v = df[name].to_numpy(dtype=np.float64)
                if self.scale_numerical:
                    v = (v - self.mean_[name]) / self.std_[name]
                blocks.append(v[:, None])
        if not blocks:
            return np.zeros((len(df), 0))
        return np.hstack(blocks)

    def fit_transform(self, df: pd.DataFrame) -> np.ndarray:
        return self.fit(df).transform(df)


def canonical_strings(df: pd.DataFrame, schema: TableSchema, precision: int = 4) -> list[str]:
    """Each row as one canonical string: fixed numeric precision, category tokens, ``|`` delimiters.

    Used by the exact-copy rate and the string (Levenshtein) attack, so "identical rows" means
    the same thing everywhere.
    """
    parts = []
    for c in schema.columns:
        s = df[c.name]
        if c.is_categorical:
            parts.append(s.astype(str).to_numpy(dtype=object))
        elif c.dtype == "int":
            parts.append(np.char.mod("%d", np.round(s.to_numpy(dtype=np.float64)).astype(np.int64)).astype(object))
        else:
            parts.append(np.char.mod(f"%.{precision}g", s.to_numpy(dtype=np.float64)).astype(object))
    if not parts:
        return [""] * len(df)
    return ["|".join(map(str, t)) for t in zip(*parts)]
