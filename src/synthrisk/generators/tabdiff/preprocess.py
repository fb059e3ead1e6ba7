"""Table <-> tensors for TabDiff (paper Sec. 4 / App.: numerical columns are quantile-normalised).

* numerical columns: sklearn ``QuantileTransformer(output_distribution="normal")`` with
  ``n_quantiles = min(1000, rows)`` and a seeded ``random_state``; the inverse maps back into
  the observed range; ``int`` columns are rounded;
* categorical columns (the target included): integer codes over the schema's levels;
* a column that is constant in the training rows (numerical or categorical) is not modelled:
  it is emitted as that constant (choice where the paper is silent; the transform of a
  constant column is degenerate).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import QuantileTransformer

from synthrisk.schema import SchemaError, TableSchema


class TablePreprocessor:
    def __init__(self, schema: TableSchema):
        self.schema = schema
        self.num_cols: list[str] = []
        self.cat_cols: list[str] = []
        self.n_levels: list[int] = []
        self.constants: dict[str, object] = {}
        self.qt: QuantileTransformer | None = None
        self.ranges: dict[str, tuple[float, float]] = {}

    def fit(self, df: pd.DataFrame, seed: int) -> "TablePreprocessor":
        if len(df) < 2:
            raise ValueError(f"tabdiff: need at least 2 training rows for {self.schema.name!r}, got {len(df)}")
        for c in self.schema.columns:
            s = df[c.name]
            if s.nunique(dropna=False) == 1:
                self.constants[c.name] = s.iloc[0]
            elif c.is_numerical:
                v = s.to_numpy(dtype=float)
                if not np.all(np.isfinite(v)):
                    raise SchemaError(f"tabdiff: column {c.name!r} has non-finite values")
                self.num_cols.append(c.name)
                self.ranges[c.name] = (float(v.min()), float(v.max()))
            else:
                bad = set(s.astype(str)) - set(c.levels)
                if bad:
                    raise SchemaError(f"tabdiff: column {c.name!r} has level(s) {sorted(bad)[:5]} not in the schema")
                self.cat_cols.append(c.name)
                self.n_levels.append(len(c.levels))
        if self.num_cols:
            self.qt = QuantileTransformer(
                n_quantiles=min(1000, len(df)), output_distribution="normal",
                subsample=10**9, random_state=seed,
            ).fit(df[self.num_cols].to_numpy(dtype=float))
        return self

    def transform(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        x_num = (self.qt.transform(df[self.num_cols].to_numpy(dtype=float)) if self.num_cols
                 else np.zeros((len(df), 0)))
        codes = np.zeros((len(df), len(self.cat_cols)), dtype=np.int64)
        for j, name in enumerate(self.cat_cols):
            index = {lv: i for i, lv in enumerate(self.schema.column(name).levels)}
            codes[:, j] = df[name].astype(str).map(index).to_numpy()
        return x_num.astype(np.float32), codes

    def inverse(self, x_num: np.ndarray, codes: np.ndarray, k: int) -> pd.DataFrame:
        """Model-space rows (k of them) -> canonical frame with the schema's columns."""
        out: dict[str, object] = {}
        if self.num_cols:
            raw = self.qt.inverse_transform(np.nan_to_num(x_num.astype(float), nan=0.0, posinf=8.0, neginf=-8.0))
        for c in self.schema.columns:
            if c.name in self.constants:
                out[c.name] = np.repeat(np.array([self.constants[c.name]], dtype=object), k)
            elif c.name in self.num_cols:
                lo, hi = self.ranges[c.name]
                v = np.clip(raw[:, self.num_cols.index(c.name)], lo, hi)
                out[c.name] = np.round(v).astype(np.int64) if c.dtype == "int" else v
            else:
                levels = np.array(c.levels, dtype=object)
                out[c.name] = levels[codes[:, self.cat_cols.index(c.name)]]
        return pd.DataFrame(out, columns=self.schema.names)
