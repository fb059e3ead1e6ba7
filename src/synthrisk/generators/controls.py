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
    """Fails in ``fit`` with ``message``: used to test how failures surface.

    With ``fail_on_n`` it fails only on splits of that size and copies the members on the others,
    so one job of a cluster group can fail while its siblings succeed.
    """

    kind = "fail"
    PARAMS = {
        "message": Param("this generator is configured to fail", "the error message fit raises"),
        "fail_on_n": Param(None, "fail only on splits with this many members (others copy the members); "
                           "null: fail on every split", type=int),
    }

    def __init__(self, **params):
        super().__init__(**params)
        self.message = self.params["message"]
        self.fail_on_n = self.params["fail_on_n"]
        self._rows = None

    def fit(self, data, schema, rng, ctx) -> None:
        if self.fail_on_n is None or len(data) == self.fail_on_n:
            raise RuntimeError(self.message)
        self._rows = data.reset_index(drop=True)

    def sample(self, k, rng):
        return cycle_rows(self._rows, k, rng)
