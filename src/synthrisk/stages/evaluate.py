"""Stage of rule ``evaluate``: one synthetic table scored by every metric family of the run
(:func:`evaluate`); a job scores the cell of every (n, seed) of one generator on one dataset
(:func:`evaluate_cell`, :mod:`synthrisk.cells`).

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

from synthrisk import paths
from synthrisk.cells import Item, run_cell
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
    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = long_frame([], generator=generator, dataset=schema.name, n=int(n), seed=int(seed), family="")
    write_parquet(table, output)
    write_json({"families": done, "rows": sum(f["rows"] for f in done.values()), "versions": versions()}, sidecar)


def evaluate_cell(families: dict[str, dict], plugins: dict[str, str], generator: str, dataset: str, items: list,
                  schema_json: str, manifest: str, code: str = "") -> dict:
    """Every ``(n, seed)`` of ``items``: :func:`evaluate` of that synthetic table, reused where its
    key (families' params, plugins, ``code``, the synthetic table's and split's bytes) is unchanged."""
    cell = []
    for n, seed in items:
        syn = paths.SYNTHETIC.format(generator=generator, dataset=dataset, n=n, seed=seed)
        parts = paths.split_parts(dataset=dataset, n=n, seed=seed)
        out = paths.METRIC.format(generator=generator, dataset=dataset, n=n, seed=seed)
        args = dict(families=families, plugins=plugins, generator=generator, synthetic=syn, split_parts=parts,
                    schema_json=schema_json, n=n, seed=seed, output=out, sidecar=paths.sidecar(out))
        cell.append(Item(n, seed, [out, paths.sidecar(out)], run=lambda a=args: evaluate(**a),
                         inputs=[syn, *parts.values(), schema_json],
                         key={"generator": generator, "families": families, "plugins": plugins, "code": code}))
    return run_cell("evaluate", cell, manifest)
