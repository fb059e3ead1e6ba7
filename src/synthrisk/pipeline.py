"""Stage functions: what each workflow script calls, one function per rule.

Each reads its inputs, calls the concept module (datasets, splits, generators, metrics) and
writes a parquet table plus a JSON sidecar. They take plain paths and dicts, so tests and
notebooks can run a stage without Snakemake.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from synthrisk.io import make_rng, read_parquet, sidecar_path, versions, write_json, write_parquet
from synthrisk.schema import TableSchema

log = logging.getLogger("synthrisk")


def prepare_dataset(name: str, spec: dict, data_defaults: dict, out_table: str, out_json: str) -> None:
    from synthrisk.datasets import describe, load_dataset

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


def make_split(table: str, schema_json: str, n: int, seed: int, split_params: dict, holdout_size: int,
               out_dir: str) -> None:
    from synthrisk.splits import PARTS, member_duplicates
    from synthrisk.splits import make_split as _make_split

    schema = TableSchema.load(schema_json)
    df = read_parquet(table)
    keys = ("non_member_size", "reference_size", "test_fraction", "test_size", "split_seed")
    parts = _make_split(df, schema, int(n), int(seed), holdout_size=int(holdout_size),
                        **{k: split_params[k] for k in keys if k in split_params})
    out = Path(out_dir)
    for p in PARTS:
        write_parquet(parts[p], out / f"{p}.parquet")
    write_json(
        {
            "dataset": schema.name, "n": int(n), "seed": int(seed), "params": split_params,
            "holdout_size": int(holdout_size),
            "rows": {p: len(parts[p]) for p in PARTS},
            # rows of each part identical (all columns) to a member; members: members with a twin
            "identical_to_member": member_duplicates(parts, schema.names),
            "class_counts": {p: parts[p][schema.target].value_counts().sort_index().to_dict() for p in PARTS},
            "versions": versions(),
        },
        out / "split.json",
    )
    log.info("%s n=%s seed=%s: %s", schema.name, n, seed, {p: len(parts[p]) for p in PARTS})


def synthetic_rows(setting, n: int) -> int:
    """``synthetic_rows: n`` (default) gives n rows; an integer gives that many."""
    return int(n) if setting in (None, "n") else int(setting)


def generate(name: str, entry: dict, split_dir: str, schema_json: str, n: int, seed: int, rows: int,
             out_table: str, workdir: str | None = None, server_file: str | None = None) -> None:
    """``server_file``: the LLM server instance this job was given (workflow/rules/llm.smk); it
    overrides the entry's ``server`` name, which may have several instances."""
    from synthrisk.generators.base import FitContext, run_generator

    schema = TableSchema.load(schema_json)
    split = Path(split_dir)
    ctx = FitContext(
        dataset=schema.name, n=int(n), seed=int(seed),
        extra={"holdout": read_parquet(split / "holdout.parquet")},
        workdir=workdir, log=log,
    )
    params = dict(entry.get("params") or {})
    if server_file:
        params["server_file"] = server_file
    df, side = run_generator(name, entry["kind"], params, read_parquet(split / "members.parquet"),
                             schema, rows, int(seed), ctx)
    write_parquet(df, out_table)
    write_json(side, sidecar_path(out_table))
    log.info("%s on %s n=%s seed=%s: %d rows, fit %.1fs, sample %.1fs", name, schema.name, n, seed, len(df),
             side["fit_seconds"], side["sample_seconds"])


def evaluate(families: dict[str, dict], generator: str, synthetic: str, split_dir: str, schema_json: str,
             n: int, seed: int, outputs: dict[str, str]) -> None:
    """Score one synthetic table with each family in ``families`` (name -> params).

    One job for all families: the split and the table are read once and the libraries imported
    once (process start-up dominates these short jobs). Each family still writes its own long
    table ``outputs[family]`` with a sidecar, and draws from its own seed stream, so adding or
    removing a family does not change the others' values.
    """
    from synthrisk.metrics import FAMILIES
    from synthrisk.metrics.base import Split, long_frame

    schema = TableSchema.load(schema_json)
    split = Split.load(split_dir)
    syn = schema.conform(read_parquet(synthetic), who=str(synthetic))
    for family, params in families.items():
        rng = make_rng(int(seed), "metric", family, generator, schema.name, int(n))
        t0 = time.perf_counter()
        rows = FAMILIES.get(family)(syn, split, schema, rng, params or {})
        secs = time.perf_counter() - t0
        df = long_frame(rows, generator=generator, dataset=schema.name, n=int(n), seed=int(seed), family=family)
        write_parquet(df, outputs[family])
        write_json({"family": family, "params": params, "rows": len(df), "seconds": round(secs, 3),
                    "nan_rows": int(df["value"].isna().sum()), "versions": versions()},
                   sidecar_path(outputs[family]))
        log.info("%s for %s on %s n=%s seed=%s: %d rows (%d NaN) in %.2fs", family, generator, schema.name, n,
                 seed, len(df), int(df["value"].isna().sum()), secs)


REFERENCE_GENERATOR = "real"


def evaluate_reference(params: dict, split_dir: str, schema_json: str, n: int, seed: int, out_table: str) -> None:
    """Train-real-test-real utility (models trained on the members), once per split."""
    from synthrisk.metrics.base import Split, long_frame
    from synthrisk.metrics.utility import evaluate_reference as _ref

    schema = TableSchema.load(schema_json)
    rng = make_rng(int(seed), "metric", "utility", REFERENCE_GENERATOR, schema.name, int(n))
    rows = _ref(Split.load(split_dir), schema, rng, params or {})
    df = long_frame(rows, generator=REFERENCE_GENERATOR, dataset=schema.name, n=int(n), seed=int(seed), family="utility")
    write_parquet(df, out_table)
    write_json({"family": "utility", "reference": "train on members, test on test", "rows": len(df),
                "versions": versions()}, sidecar_path(out_table))
