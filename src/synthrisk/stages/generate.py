"""Stage of rule ``generate``: one synthetic table of one generator on one split
(:func:`generate`), and the cell of every (n, seed) of one generator on one dataset that a job
runs (:func:`generate_cell`, :mod:`synthrisk.cells`).

The generator class comes by its registry target (``"module:Class"``, from the plan), not by
importing the registry, so this stage's fingerprint does not change when a kind is registered.
"""
from __future__ import annotations

import logging

from synthrisk import paths
from synthrisk.cells import Item, run_cell
from synthrisk.generators.base import FitContext, run_generator
from synthrisk.io import read_parquet, write_json, write_parquet
from synthrisk.registry import load_target
from synthrisk.schema import TableSchema

log = logging.getLogger("synthrisk")


def generate(name: str, entry: dict, plugin: str, members: str, schema_json: str, n: int, seed: int, rows: int,
             out_table: str, out_json: str, holdout: str | None = None, workdir: str | None = None,
             server_file: str | None = None) -> None:
    """``plugin``: the kind's class as ``"module:attribute"``; ``holdout``: the split's holdout
    rows, given only to a kind that declares ``USES_HOLDOUT`` (the holdout control).
    ``server_file``: the LLM server instance this job was given (workflow/rules/llm.smk); it
    overrides the entry's ``server`` name, which may have several instances."""
    cls = load_target(plugin)
    if cls.USES_HOLDOUT and holdout is None:
        raise ValueError(f"generator {name!r} ({cls.kind}) needs the split's holdout rows; none were given")
    schema = TableSchema.load(schema_json)
    ctx = FitContext(dataset=schema.name, n=int(n), seed=int(seed),
                     extra={"holdout": read_parquet(holdout)} if cls.USES_HOLDOUT else {}, workdir=workdir, log=log,
                     constraints=dict(entry.get("constraints") or {}))
    params = dict(entry.get("params") or {})
    if server_file:
        params["server_file"] = server_file
    mode = {k: entry[k] for k in ("constraints_mode", "max_draws") if entry.get(k) not in (None, "ignore")}
    df, side = run_generator(name, cls, params, read_parquet(members), schema, rows, int(seed), ctx, **mode)
    write_parquet(df, out_table)
    write_json(side, out_json)
    log.info("%s on %s n=%s seed=%s: %d rows, fit %.1fs, sample %.1fs", name, schema.name, n, seed, len(df),
             side["fit_seconds"], side["sample_seconds"])


def generate_cell(name: str, entry: dict, plugin: str, dataset: str, items: list, schema_json: str, manifest: str,
                  code: str = "", server_file: str | None = None) -> dict:
    """Every ``(n, seed, rows)`` of ``items`` for generator ``name`` on ``dataset``: each as
    :func:`generate` on its split, reused where its key (entry, plugin, ``code``, rows, the
    split's bytes) is unchanged (:func:`synthrisk.cells.run_cell`)."""
    holdout = load_target(plugin).USES_HOLDOUT
    cell = []
    for n, seed, rows in items:
        parts = paths.split_parts(dataset=dataset, n=n, seed=seed)
        table = paths.SYNTHETIC.format(generator=name, dataset=dataset, n=n, seed=seed)
        args = dict(name=name, entry=entry, plugin=plugin, members=parts["members"], schema_json=schema_json, n=n,
                    seed=seed, rows=rows, out_table=table, out_json=paths.sidecar(table),
                    holdout=parts["holdout"] if holdout else None, server_file=server_file)
        cell.append(Item(n, seed, [table, paths.sidecar(table)], run=lambda a=args: generate(**a),
                         inputs=[parts["members"], schema_json, *([parts["holdout"]] if holdout else [])],
                         key={"generator": name, "entry": entry, "plugin": plugin, "code": code, "rows": int(rows)}))
    return run_cell("generate", cell, manifest)
