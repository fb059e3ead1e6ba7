"""Stage of rule ``make_split``: the disjoint parts of one (dataset, n, seed) split
(:func:`make_split`); a job writes every (n, seed) of one dataset (:func:`split_cell`)."""
from __future__ import annotations

import logging

from synthrisk import paths
from synthrisk.cells import Item, run_cell
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


def split_cell(table: str, schema_json: str, dataset: str, items: list, split_params: dict, manifest: str,
               code: str = "") -> dict:
    """Every ``(n, seed, holdout_size)`` of ``items``: :func:`make_split` of that split."""
    cell = []
    for n, seed, holdout_size in items:
        parts = paths.split_parts(dataset=dataset, n=n, seed=seed)
        side = paths.SPLIT_SIDECAR.format(dataset=dataset, n=n, seed=seed)
        args = dict(table=table, schema_json=schema_json, n=n, seed=seed, split_params=split_params,
                    holdout_size=holdout_size, out_parts=parts, out_json=side)
        cell.append(Item(n, seed, [side, *parts.values()], run=lambda a=args: make_split(**a),
                         inputs=[table, schema_json],
                         key={"params": split_params, "holdout_size": int(holdout_size), "code": code}))
    return run_cell("make_split", cell, manifest)
