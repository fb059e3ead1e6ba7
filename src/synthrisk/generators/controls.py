"""Calibration controls: the worst possible leak (``copy``) and the ideal generator (``holdout``).

Every metric is read against these two: a privacy attack must score ``copy`` near 1 and
``holdout`` near 0.5; fidelity must rate ``holdout`` high without it having seen a member.
``fail`` raises on purpose (for testing how the workflow reports a failed job).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.params import Param
from synthrisk.schema import TableSchema


def cycle_rows(df: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """``k`` rows of ``df`` in shuffled order, using every row once before any repeats."""
    if len(df) == 0:
        raise ValueError("cannot sample from an empty table")
    reps = -(-k // len(df))
    idx = np.concatenate([rng.permutation(len(df)) for _ in range(reps)])[:k]
    return df.iloc[idx].reset_index(drop=True)


class CopyGenerator(Generator):
    """Returns the member rows themselves, shuffled; cycles through all before repeating."""

    kind = "copy"

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        self.data = data

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        return cycle_rows(self.data, k, rng)


class HoldoutGenerator(Generator):
    """Returns real pool rows disjoint from members, non-members and reference (the split's
    ``holdout`` part): ideal fidelity, no leak. Asking for more rows than the holdout has is an
    error (the split sizes the holdout to the number of synthetic rows)."""

    kind = "holdout"
    USES_HOLDOUT = True

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        if "holdout" not in ctx.extra:
            raise ValueError("the holdout control needs the split's holdout rows (ctx.extra['holdout'])")
        self.pool = schema.conform(ctx.extra["holdout"], who="holdout rows")

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        if k > len(self.pool):
            raise ValueError(f"holdout control: {k} rows requested, the split holds {len(self.pool)} holdout rows")
        return self.pool.iloc[np.sort(rng.permutation(len(self.pool))[:k])].reset_index(drop=True)


class FailGenerator(Generator):
    """Always fails in ``fit`` with ``message``: used to test how failures surface."""

    kind = "fail"
    PARAMS = {"message": Param("this generator is configured to fail", "the error message fit raises")}

    def __init__(self, **params):
        super().__init__(**params)
        self.message = self.params["message"]

    def fit(self, data, schema, rng, ctx) -> None:
        raise RuntimeError(self.message)

    def sample(self, k, rng):  # pragma: no cover - never reached
        raise RuntimeError(self.message)
