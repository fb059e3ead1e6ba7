"""Stage of rule ``evaluate_reference``: train-real-test-real utility, once per split
(:func:`evaluate_reference`); a job scores every (n, seed) of one dataset (:func:`reference_cell`)."""
from __future__ import annotations

from synthrisk import paths
from synthrisk.cells import Item, run_cell
from synthrisk.io import make_rng, versions, write_json, write_parquet
from synthrisk.metrics.base import Split, long_frame
from synthrisk.metrics.utility import evaluate_reference as _reference
from synthrisk.schema import TableSchema

#: the generator name of the reference rows (models trained on the members)
REFERENCE_GENERATOR = "real"


def evaluate_reference(params: dict, split_parts: dict[str, str], schema_json: str, n: int, seed: int,
                       out_table: str, out_json: str) -> None:
    schema = TableSchema.load(schema_json)
    rng = make_rng(int(seed), "metric", "utility", REFERENCE_GENERATOR, schema.name, int(n))
    rows = _reference(Split.read(split_parts), schema, rng, params or {})
    df = long_frame(rows, generator=REFERENCE_GENERATOR, dataset=schema.name, n=int(n), seed=int(seed), family="utility")
    write_parquet(df, out_table)
    write_json({"family": "utility", "reference": "train on members, test on test", "rows": len(df),
                "versions": versions()}, out_json)


def reference_cell(params: dict, dataset: str, items: list, schema_json: str, manifest: str, code: str = "") -> dict:
    """Every ``(n, seed)`` of ``items``: :func:`evaluate_reference` of that split."""
    cell = []
    for n, seed in items:
        parts = paths.split_parts(dataset=dataset, n=n, seed=seed)
        out = paths.REFERENCE.format(dataset=dataset, n=n, seed=seed)
        args = dict(params=params, split_parts=parts, schema_json=schema_json, n=n, seed=seed, out_table=out,
                    out_json=paths.sidecar(out))
        cell.append(Item(n, seed, [out, paths.sidecar(out)], run=lambda a=args: evaluate_reference(**a),
                         inputs=[*parts.values(), schema_json], key={"params": params, "code": code}))
    return run_cell("evaluate_reference", cell, manifest)
