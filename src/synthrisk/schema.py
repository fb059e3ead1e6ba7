"""Table schema: column kinds, dtypes, category levels and the target.

Every stage after the data stage works on *canonical* tables:

* categorical columns hold strings (``object`` dtype), one of the schema's ``levels``;
* numerical columns hold ``int64`` (``dtype == "int"``) or ``float64`` (``dtype == "float"``);
* there are no missing values (the data stage applies one documented treatment, see
  :mod:`synthrisk.datasets`).

A :class:`TableSchema` round-trips through JSON (it is stored in the dataset sidecar) and
:meth:`TableSchema.conform` turns any generator's output into exactly the schema's columns,
order and dtypes, or raises an error naming the offending column.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

NUMERICAL = "numerical"
CATEGORICAL = "categorical"


class SchemaError(ValueError):
    """A table does not fit its schema; the message names the column."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "numerical" | "categorical"
    dtype: str  # "int" | "float" for numerical, "str" for categorical
    levels: tuple[str, ...] = ()  # sorted known levels (categorical only)
    min: float | None = None  # observed range (numerical only)
    max: float | None = None

    @property
    def is_categorical(self) -> bool:
        return self.kind == CATEGORICAL

    @property
    def is_numerical(self) -> bool:
        return self.kind == NUMERICAL


@dataclass(frozen=True)
class TableSchema:
    name: str
    target: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ access
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.is_categorical]

    @property
    def numerical(self) -> list[str]:
        return [c.name for c in self.columns if c.is_numerical]

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns if c.name != self.target]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"column {name!r} is not in the schema of {self.name!r}")

    @property
    def target_levels(self) -> tuple[str, ...]:
        return self.column(self.target).levels

    # ------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "target": self.target,
            "columns": [
                {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(c).items()}
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TableSchema":
        cols = tuple(
            Column(**{**c, "levels": tuple(c.get("levels", ()))}) for c in d["columns"]
        )
        return cls(name=d["name"], target=d["target"], columns=cols)

    @classmethod
    def load(cls, path: str | Path) -> "TableSchema":
        """Load from a schema JSON or from a sidecar that holds one under ``schema``."""
        from synthrisk.io import read_json

        d = read_json(path)
        return cls.from_dict(d.get("schema", d))

    # ------------------------------------------------------------------ infer
    @classmethod
    def infer(
        cls,
        df: pd.DataFrame,
        name: str,
        target: str,
        categorical: list[str] | tuple[str, ...] = (),
    ) -> "TableSchema":
        """Infer a schema from a canonical frame.

        Kinds: columns listed in ``categorical``, the target, and string/boolean/object
        columns are categorical; every other (numeric) column is numerical, ``int`` when all
        its values are whole numbers.
        """
        if target not in df.columns:
            raise SchemaError(f"{name}: target column {target!r} not found; columns are {list(df.columns)}")
        missing = [c for c in categorical if c not in df.columns]
        if missing:
            raise SchemaError(f"{name}: categorical column(s) {missing} not found; columns are {list(df.columns)}")
        cols = []
        for col in df.columns:
            s = df[col]
            if col in categorical or col == target or not is_numeric_series(s):
                levels = tuple(sorted(pd.unique(s.dropna().astype(str))))
                cols.append(Column(col, CATEGORICAL, "str", levels))
            else:
                v = pd.to_numeric(s, errors="raise").astype(float)
                finite = v[np.isfinite(v)]
                whole = bool(len(finite)) and bool(np.all(np.equal(np.floor(finite), finite)))
                cols.append(
                    Column(
                        col,
                        NUMERICAL,
                        "int" if whole else "float",
                        (),
                        float(finite.min()) if len(finite) else None,
                        float(finite.max()) if len(finite) else None,
                    )
                )
        return cls(name=name, target=target, columns=tuple(cols))

    # ---------------------------------------------------------------- conform
    def conform(self, df: pd.DataFrame, *, who: str = "table") -> pd.DataFrame:
        """Return ``df`` with exactly the schema's columns, order and dtypes.

        Raises :class:`SchemaError` naming the column when a column is missing, a numerical
        value does not parse or is not finite, or a categorical value is not a known level.
        """
        missing = [c for c in self.names if c not in df.columns]
        if missing:
            raise SchemaError(f"{who}: missing column(s) {missing}")
        out = {}
        for c in self.columns:
            s = df[c.name]
            if c.is_categorical:
                if s.isna().any():
                    raise SchemaError(f"{who}: column {c.name!r} has missing values")
                s = s.map(canonical_level).astype(object)
                bad = set(pd.unique(s)) - set(c.levels)
                if bad:
                    raise SchemaError(
                        f"{who}: column {c.name!r} has unknown level(s) {sorted(bad)[:5]}; "
                        f"known: {list(c.levels)[:10]}"
                    )
                out[c.name] = s.to_numpy(dtype=object)
            else:
                v = pd.to_numeric(s, errors="coerce").astype(float)
                if not np.all(np.isfinite(v.to_numpy())):
                    raise SchemaError(f"{who}: column {c.name!r} has non-numeric, missing or infinite values")
                if c.dtype == "int":
                    out[c.name] = np.round(v.to_numpy()).astype(np.int64)
                else:
                    out[c.name] = v.to_numpy(dtype=np.float64)
        return pd.DataFrame(out, columns=self.names).reset_index(drop=True)


def canonical_level(v) -> str:
    """Stable string token of a category value (``1.0`` and ``1`` both become ``"1"``)."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def is_numeric_series(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def schema_json(schema: TableSchema) -> str:
    return json.dumps(schema.to_dict(), indent=1, sort_keys=True)
