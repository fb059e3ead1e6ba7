"""Stage of rule ``evaluate``: one synthetic table scored by every metric family of the run.

One job for all families: the split and the table are read once and the libraries imported
once (process start-up dominates these short jobs). The families' long rows go to one table
(column ``family``) and one sidecar (per family: params, rows, NaN rows, seconds): one output per
job, not two per family, which keeps a study-size DAG to a quarter of the files. Each family draws
from its own seed stream, so adding or removing a family does not change the others' values.
Families come by their registry targets (from the plan).
"""
from __future__ import annotations

import logging
import time

import pandas as pd

from synthrisk.io import make_rng, read_parquet, versions, write_json, write_parquet
from synthrisk.metrics.base import Split, long_frame
from synthrisk.registry import load_target
from synthrisk.schema import TableSchema

log = logging.getLogger("synthrisk")


def evaluate(families: dict[str, dict], plugins: dict[str, str], generator: str, synthetic: str,
             split_parts: dict[str, str], schema_json: str, n: int, seed: int, output: str, sidecar: str) -> None:
    """``families``: family -> params; ``plugins``: family -> ``"module:function"``; ``output`` and
    ``sidecar``: the paths of the table of every family's rows and of its sidecar."""
    schema = TableSchema.load(schema_json)
    split = Split.read(split_parts)
    syn = schema.conform(read_parquet(synthetic), who=str(synthetic))
    frames, done = [], {}
    for family, params in families.items():
        rng = make_rng(int(seed), "metric", family, generator, schema.name, int(n))
        t0 = time.perf_counter()
        rows = load_target(plugins[family])(syn, split, schema, rng, params or {})
        secs = time.perf_counter() - t0
        df = long_frame(rows, generator=generator, dataset=schema.name, n=int(n), seed=int(seed), family=family)
        frames.append(df)
        nan = int(df["value"].isna().sum())
        done[family] = {"params": params, "rows": len(df), "nan_rows": nan, "seconds": round(secs, 3)}
        log.info("%s for %s on %s n=%s seed=%s: %d rows (%d NaN) in %.2fs", family, generator, schema.name, n,
                 seed, len(df), nan, secs)
    empty = long_frame([], generator=generator, dataset=schema.name, n=int(n), seed=int(seed), family="")
    write_parquet(pd.concat(frames, ignore_index=True) if frames else empty, output)
    write_json({"families": done, "rows": sum(f["rows"] for f in done.values()), "versions": versions()}, sidecar)
