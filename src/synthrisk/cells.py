"""Cells: the unit of work Snakemake schedules (issue 18).

A *cell* is every (n, seed) of one dataset (rules ``make_split``, ``evaluate_reference``) or of
one (generator, dataset) (rules ``generate``, ``evaluate``). Its job writes one *item* per
(n, seed), at the same per-table paths as before (``results/synthetic/<g>/<d>/n32/s0.parquet``
and its sidecar), and then the cell's manifest (``.../<d>/cell.json``, :data:`synthrisk.paths.CELL`):
the one output Snakemake tracks. So a study-size DAG has about 2,000 jobs whatever the number of
seeds, where one job per table gave 18,000 at 3 seeds and 60,000 at 10.

What a cell keeps from one job per table:

* **Nothing finished is lost.** The items are not Snakemake outputs, so Snakemake never deletes
  them. After each item the cell's ledger (``cell.ledger.json``, next to the manifest) records
  the item's *key* (a hash of everything its result depends on: the stage's params and code and
  the bytes of the item's input files) and the checksums of its outputs. A rerun of the cell
  (failed, killed at its wall time, or forced) reuses every item whose key and output checksums
  still match and recomputes only the others: a failed seed is redone, its siblings are not; a
  truncated output is recomputed. Adding seeds to the config reruns the cell, which computes only
  the new seeds.
* **Failures are loud.** Every item is tried; then, if any failed, the job fails with one line
  per failed item (its (n, seed) and error; the traceback is in the job's log) and writes no
  manifest, so the rerun picks the cell up again.
* **A deleted or edited item is rebuilt.** The plan stats the items of every finished cell
  (:meth:`synthrisk.plan.Plan.stale_cells`); a cell with one missing, or changed after the cell
  finished (newer than its manifest), reruns (common.smk dates its manifest before its inputs)
  and recomputes only that item (its checksum no longer matches). An item about to be recomputed
  is removed first, so a failed item never leaves an old output that looks current.
* **Same config and seed, same bytes.** Each item is computed exactly as its own job computed
  it (its seed stream depends on (n, seed), never on the cell around it).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from synthrisk.io import file_sha256 as file_digest
from synthrisk.io import read_json, versions, write_json

log = logging.getLogger("synthrisk")

LEDGER = "cell.ledger.json"


@dataclass
class Item:
    """One (n, seed) of a cell: ``run()`` writes ``outputs`` (the first is the item's table);
    its result depends on ``key`` (JSON-able: params, code, n, seed) and the bytes of ``inputs``."""

    n: int
    seed: int
    outputs: list[str]
    run: Callable[[], None]
    inputs: list[str] = field(default_factory=list)
    key: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"n{int(self.n)}/s{int(self.seed)}"


class CellError(RuntimeError):
    """Some items of a cell failed; the message has one line per failed item."""


def item_key(item: Item) -> str:
    """The hash of everything an item's result depends on: its key and its inputs' bytes."""
    blob = {"key": item.key, "n": int(item.n), "seed": int(item.seed),
            "inputs": {str(p): file_digest(p) for p in item.inputs}}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def ledger_path(manifest: str | Path) -> Path:
    return Path(manifest).with_name(LEDGER)


def _read_ledger(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return dict(read_json(path).get("items") or {})
    except (OSError, ValueError):  # a damaged ledger only costs recomputation
        log.warning("ignoring the unreadable ledger %s: every item of the cell is recomputed", path)
        return {}


def _still_valid(entry: dict | None, key: str) -> bool:
    if not entry or entry.get("key") != key:
        return False
    outs = entry.get("outputs") or {}
    return bool(outs) and all(Path(p).exists() and file_digest(p) == d for p, d in outs.items())


def run_cell(stage: str, items: list[Item], manifest: str | Path) -> dict:
    """Run (or reuse) every item, then write ``manifest``; raise :class:`CellError` naming the
    items that failed (after trying all of them). Returns the manifest's content."""
    manifest = Path(manifest)
    lpath = ledger_path(manifest)
    ledger = _read_ledger(lpath)
    done: dict[str, dict] = {}
    failed: list[str] = []
    for item in items:
        key = item_key(item)
        if _still_valid(ledger.get(item.label), key):
            done[item.label] = {**ledger[item.label], "reused": True}
            log.info("%s %s: reused (same inputs, params and code; outputs intact)", stage, item.label)
            continue
        for p in item.outputs:  # invalid now: a failure must not leave them looking current
            Path(p).unlink(missing_ok=True)
        t0 = time.perf_counter()
        try:
            item.run()
            missing = [p for p in item.outputs if not Path(p).exists()]
            if missing:
                raise RuntimeError(f"wrote no {missing}")
        except Exception as e:  # every item is tried; the job fails after the last one
            log.error("%s %s failed:\n%s", stage, item.label, traceback.format_exc())
            failed.append(f"{item.label}: {type(e).__name__}: {e}")
            ledger.pop(item.label, None)
            write_json({"stage": stage, "items": ledger}, lpath)
            continue
        ledger[item.label] = {"key": key, "n": int(item.n), "seed": int(item.seed),
                              "outputs": {p: file_digest(p) for p in item.outputs},
                              "seconds": round(time.perf_counter() - t0, 3)}
        done[item.label] = {**ledger[item.label], "reused": False}
        write_json({"stage": stage, "items": ledger}, lpath)  # after each item: a kill loses only the running one
    if failed:
        raise CellError(f"{stage}: {len(failed)} of {len(items)} items of {manifest.parent} failed (their tracebacks "
                        f"are in the job's log; the {len(items) - len(failed)} finished are kept and a rerun reuses "
                        f"them):\n  " + "\n  ".join(failed))
    out = {"stage": stage, "items": done, "tables": [i.outputs[0] for i in items],
           "reused": sum(d["reused"] for d in done.values()), "versions": versions()}
    write_json(out, manifest)
    log.info("%s: %d items (%d reused) -> %s", stage, len(items), out["reused"], manifest)
    return out


def tables(manifests: list[str | Path]) -> list[str]:
    """The item tables (first output of each item) that the given cell manifests list, in order."""
    return [t for m in manifests for t in read_json(m)["tables"]]
