"""Cells (synthrisk.cells, issue 18): one job runs every (n, seed) item of a cell; a rerun reuses
exactly the items whose key, inputs and outputs are unchanged, and a failed item loses none of its
siblings. Real files in a temporary directory; the items count their runs."""
from __future__ import annotations

import json

import pytest

from synthrisk.cells import CellError, Item, ledger_path, run_cell, tables


def make_items(tmp_path, runs: list, fail: set = frozenset(), key: dict | None = None):
    """Two sizes x two seeds; each item copies its input file's text (plus n, seed) to its table."""
    items = []
    for n in (32, 64):
        for seed in (0, 1):
            src = tmp_path / "in" / f"n{n}_s{seed}.txt"
            if not src.exists():
                src.parent.mkdir(parents=True, exist_ok=True)
                src.write_text(f"input {n} {seed}")
            out = tmp_path / "cell" / f"n{n}" / f"s{seed}.txt"

            def run(n=n, seed=seed, src=src, out=out):
                runs.append((n, seed))
                if (n, seed) in fail:
                    raise ValueError(f"item {n}/{seed} configured to fail")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(src.read_text() + f" -> {n} {seed}")

            items.append(Item(n, seed, [str(out)], run=run, inputs=[str(src)], key=key or {"p": 1}))
    return items


def test_every_item_runs_once_and_a_rerun_reuses_them_all(tmp_path):
    runs: list = []
    manifest = tmp_path / "cell" / "cell.json"
    out = run_cell("stage", make_items(tmp_path, runs), manifest)
    assert sorted(runs) == [(32, 0), (32, 1), (64, 0), (64, 1)]
    assert out["reused"] == 0 and len(tables([manifest])) == 4
    assert json.loads(manifest.read_text())["items"]["n32/s1"]["reused"] is False
    runs.clear()
    out = run_cell("stage", make_items(tmp_path, runs), manifest)
    assert runs == [] and out["reused"] == 4


def test_a_failing_item_fails_the_cell_after_the_others_and_the_rerun_redoes_only_it(tmp_path):
    runs: list = []
    manifest = tmp_path / "cell" / "cell.json"
    with pytest.raises(CellError) as err:
        run_cell("stage", make_items(tmp_path, runs, fail={(32, 1)}), manifest)
    assert "1 of 4 items" in str(err.value) and "n32/s1: ValueError: item 32/1 configured to fail" in str(err.value)
    assert len(runs) == 4  # every item was tried
    assert not manifest.exists()  # so Snakemake reruns the cell
    assert (tmp_path / "cell" / "n64" / "s1.txt").exists()  # the finished siblings are kept
    assert sorted(json.loads(ledger_path(manifest).read_text())["items"]) == ["n32/s0", "n64/s0", "n64/s1"]
    runs.clear()
    out = run_cell("stage", make_items(tmp_path, runs), manifest)
    assert runs == [(32, 1)] and out["reused"] == 3 and manifest.exists()


def test_a_changed_input_a_damaged_output_or_a_new_key_recomputes_exactly_what_it_touches(tmp_path):
    runs: list = []
    manifest = tmp_path / "cell" / "cell.json"
    run_cell("stage", make_items(tmp_path, runs), manifest)
    runs.clear()
    (tmp_path / "in" / "n64_s0.txt").write_text("new input bytes")  # one item's input changed
    (tmp_path / "cell" / "n32" / "s1.txt").write_text("trunc")  # another item's output damaged
    run_cell("stage", make_items(tmp_path, runs), manifest)
    assert sorted(runs) == [(32, 1), (64, 0)]
    assert (tmp_path / "cell" / "n64" / "s0.txt").read_text() == "new input bytes -> 64 0"
    runs.clear()
    run_cell("stage", make_items(tmp_path, runs, key={"p": 2}), manifest)  # params or code changed
    assert len(runs) == 4


def test_an_item_that_writes_nothing_is_a_failure(tmp_path):
    item = Item(32, 0, [str(tmp_path / "never.txt")], run=lambda: None)
    with pytest.raises(CellError, match="wrote no"):
        run_cell("stage", [item], tmp_path / "cell.json")


def test_an_unreadable_ledger_only_costs_recomputation(tmp_path):
    runs: list = []
    manifest = tmp_path / "cell" / "cell.json"
    run_cell("stage", make_items(tmp_path, runs), manifest)
    ledger_path(manifest).write_text("{ not json")
    runs.clear()
    run_cell("stage", make_items(tmp_path, runs), manifest)
    assert len(runs) == 4
