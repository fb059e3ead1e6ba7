"""Stage of rule ``evaluate``: one synthetic table scored by every metric family of the run.

One job for all families: the split and the table are read once and the libraries imported
once (process start-up dominates these short jobs). Each family still writes its own long table
with a sidecar, and draws from its own seed stream, so adding or removing a family does not
change the others' values. Families come by their registry targets (from the plan).
"""
from __future__ import annotations

import logging
import time

from synthrisk.io import make_rng, read_parquet, versions, write_json, write_parquet
from synthrisk.metrics.base import Split, long_frame
from synthrisk.registry import load_target
from synthrisk.schema import TableSchema

log = logging.getLogger("synthrisk")


def evaluate(families: dict[str, dict], plugins: dict[str, str], generator: str, synthetic: str,
             split_parts: dict[str, str], schema_json: str, n: int, seed: int,
             outputs: dict[str, str], sidecars: dict[str, str]) -> None:
    """``families``: family -> params; ``plugins``: family -> ``"module:function"``;
    ``outputs``/``sidecars``: family -> path of its table and of its sidecar."""
    schema = TableSchema.load(schema_json)
    split = Split.read(split_parts)
    syn = schema.conform(read_parquet(synthetic), who=str(synthetic))
    for family, params in families.items():
        rng = make_rng(int(seed), "metric", family, generator, schema.name, int(n))
        t0 = time.perf_counter()
        rows = load_target(plugins[family])(syn, split, schema, rng, params or {})
        secs = time.perf_counter() - t0
        df = long_frame(rows, generator=generator, dataset=schema.name, n=int(n), seed=int(seed), family=family)
        write_parquet(df, outputs[family])
        write_json({"family": family, "params": params, "rows": len(df), "seconds": round(secs, 3),
                    "nan_rows": int(df["value"].isna().sum()), "versions": versions()}, sidecars[family])
        log.info("%s for %s on %s n=%s seed=%s: %d rows (%d NaN) in %.2fs", family, generator, schema.name, n,
                 seed, len(df), int(df["value"].isna().sum()), secs)
