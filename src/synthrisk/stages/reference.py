"""Stage of rule ``evaluate_reference``: train-real-test-real utility, once per split."""
from __future__ import annotations

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
