"""Stage of rule ``prepare_dataset``: one canonical table per dataset."""
from __future__ import annotations

import logging
import time

from synthrisk.datasets import describe, load_dataset
from synthrisk.io import versions, write_json, write_parquet

log = logging.getLogger("synthrisk")


def prepare_dataset(name: str, spec: dict, data_defaults: dict, out_table: str, out_json: str) -> None:
    t0 = time.perf_counter()
    df, schema, info = load_dataset(name, {**data_defaults, **spec})
    write_parquet(df, out_table)
    write_json(
        {
            "dataset": name,
            "spec": spec,
            "schema": schema.to_dict(),
            "info": info,
            "summary": describe(schema, info, spec),
            "seconds": round(time.perf_counter() - t0, 3),
            "versions": versions(),
        },
        out_json,
    )
    log.info("%s: %d rows x %d columns, target %s %s", name, len(df), df.shape[1], schema.target, info["class_counts"])
