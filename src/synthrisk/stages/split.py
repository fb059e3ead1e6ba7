"""Stage of rule ``make_split``: the disjoint parts of one (dataset, n, seed) split."""
from __future__ import annotations

import logging

from synthrisk.io import read_parquet, versions, write_json, write_parquet
from synthrisk.paths import SPLIT_PARTS
from synthrisk.schema import TableSchema
from synthrisk.splits import make_split as _make_split
from synthrisk.splits import member_duplicates

log = logging.getLogger("synthrisk")
SPLIT_KEYS = ("non_member_size", "reference_size", "test_fraction", "test_size", "split_seed")


def make_split(table: str, schema_json: str, n: int, seed: int, split_params: dict, holdout_size: int,
               out_parts: dict[str, str], out_json: str) -> None:
    """``out_parts``: part -> path, one per :data:`synthrisk.paths.SPLIT_PARTS`."""
    missing = [p for p in SPLIT_PARTS if p not in out_parts]
    if missing:
        raise ValueError(f"make_split: no output path for part(s) {missing}")
    schema = TableSchema.load(schema_json)
    df = read_parquet(table)
    parts = _make_split(df, schema, int(n), int(seed), holdout_size=int(holdout_size),
                        **{k: split_params[k] for k in SPLIT_KEYS if k in split_params})
    for p in SPLIT_PARTS:
        write_parquet(parts[p], out_parts[p])
    write_json(
        {
            "dataset": schema.name, "n": int(n), "seed": int(seed), "params": split_params,
            "holdout_size": int(holdout_size),
            "rows": {p: len(parts[p]) for p in SPLIT_PARTS},
            # rows of each part identical (all columns) to a member; members: members with a twin
            "identical_to_member": member_duplicates(parts, schema.names),
            "class_counts": {p: parts[p][schema.target].value_counts().sort_index().to_dict() for p in SPLIT_PARTS},
            "versions": versions(),
        },
        out_json,
    )
    log.info("%s n=%s seed=%s: %s", schema.name, n, seed, {p: len(parts[p]) for p in SPLIT_PARTS})
