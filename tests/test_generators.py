"""Baselines and controls: copy leaks exactly, holdout is real but unseen, SMOTE makes only new rows
with the members' class proportions, the same seed gives the same bytes, and holdout beats a
barely trained CTGAN on fidelity."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import ARRESTS, WINE, stage_split

from synthrisk.encoding import canonical_strings
from synthrisk.generators import GENERATORS
from synthrisk.generators.base import FitContext, run_generator
from synthrisk.io import read_json, read_parquet
from synthrisk.metrics.base import Split
from synthrisk.stages.generate import generate
from synthrisk.schema import TableSchema
from synthrisk.splits import make_split, quotas


def rows_of(df: pd.DataFrame, schema: TableSchema) -> Counter:
    return Counter(canonical_strings(df[schema.names], schema))


def run(kind: str, split: dict, schema: TableSchema, k: int, seed: int = 0, params: dict | None = None,
        name: str | None = None) -> tuple[pd.DataFrame, dict]:
    ctx = FitContext(dataset=schema.name, n=len(split["members"]), seed=seed, extra={"holdout": split["holdout"]})
    return run_generator(name or kind, GENERATORS.get(kind), params or {}, split["members"], schema, k, seed, ctx)


@pytest.fixture(scope="module")
def tagged(arrests):
    """Arrests with a unique row id (a numerical column), so rows can be traced to split parts."""
    df, schema, _ = arrests
    df = df.assign(_row=np.arange(len(df), dtype=np.int64))
    schema = TableSchema.infer(df, name=schema.name, target=schema.target, categorical=schema.categorical)
    return schema, make_split(df, schema, 32, 0, holdout_size=80)


# ---------------------------------------------------------------------- copy
@pytest.mark.parametrize("k", [32, 80])
def test_copy_reproduces_members_cycling(tagged, k):
    schema, split = tagged
    out, side = run("copy", split, schema, k)
    members = split["members"]
    assert len(out) == k and list(out.columns) == schema.names
    n = len(members)
    # every block of n rows is a permutation of the member rows: all used once before any repeats
    for start in range(0, k, n):
        block = out.iloc[start:start + n]
        assert block["_row"].is_unique
        assert set(block["_row"]) <= set(members["_row"])
        if len(block) == n:
            assert set(block["_row"]) == set(members["_row"])
    # the rows are the members' rows, value for value
    by_id = members.set_index("_row")
    pd.testing.assert_frame_equal(out.set_index("_row"), by_id.loc[out["_row"]], check_names=False)
    # shuffled, not in member order
    assert out["_row"].iloc[:n].tolist() != members["_row"].tolist()
    assert side["rows_requested"] == side["rows_returned"] == k


def test_copy_on_real_table_row_multiset(arrests_split, arrests):
    _, schema, _ = arrests
    out, _ = run("copy", arrests_split, schema, 32)
    assert rows_of(out, schema) == rows_of(arrests_split["members"], schema)


# ------------------------------------------------------------------- holdout
def test_holdout_rows_are_real_and_unseen(tagged):
    schema, split = tagged
    out, _ = run("holdout", split, schema, 64)
    ids = set(out["_row"])
    assert len(ids) == 64  # no repeats
    assert ids <= set(split["holdout"]["_row"])
    for part in ("members", "non_members", "reference", "test"):
        assert not ids & set(split[part]["_row"]), part
    by_id = split["holdout"].set_index("_row")
    pd.testing.assert_frame_equal(out.set_index("_row"), by_id.loc[out["_row"]], check_names=False)


def test_holdout_asking_too_many_rows_is_an_error(tagged):
    schema, split = tagged
    with pytest.raises(ValueError, match="holdout"):
        run("holdout", split, schema, 81)


# --------------------------------------------------------------------- smote
def test_smote_only_new_rows_and_class_proportions(wine):
    df, schema, _ = wine
    assert not schema.categorical or schema.categorical == [schema.target]
    split = make_split(df, schema, 32, 0)
    for k in (32, 100):
        out, side = run("smote", split, schema, k)
        assert side["info"]["variant"] == "SMOTE"
        assert len(out) == k and list(out.columns) == schema.names
        # only interpolated rows: none equal to a member row (continuous features)
        member_rows = set(rows_of(split["members"], schema))
        assert not set(rows_of(out, schema)) & member_rows
        # ... but inside the members' range, per class and column
        m = split["members"]
        for c in schema.numerical:
            assert out[c].min() >= m[c].min() - 1e-9 and out[c].max() <= m[c].max() + 1e-9
        # class proportions of the members, by largest remainder
        counts = m[schema.target].value_counts().sort_index()
        expected = dict(zip(counts.index, quotas(counts.to_numpy(), k)))
        got = out[schema.target].value_counts().to_dict()
        assert got == {c: v for c, v in expected.items() if v}


def test_smotenc_mixed_table_class_proportions(arrests_split, arrests):
    _, schema, _ = arrests
    out, side = run("smote", arrests_split, schema, 64)
    assert side["info"]["variant"] == "SMOTENC"
    counts = arrests_split["members"][schema.target].value_counts().sort_index()
    expected = dict(zip(counts.index, quotas(counts.to_numpy(), 64)))
    assert out[schema.target].value_counts().to_dict() == expected
    for c in schema.categorical:
        assert set(out[c]) <= set(schema.column(c).levels)


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize("kind, spec", [("copy", ARRESTS), ("holdout", ARRESTS), ("smote", ARRESTS),
                                        ("smote", WINE)])
def test_same_seed_same_bytes(tmp_path, kind, spec):
    name = spec["item"].lower()
    split_dir, side = stage_split(tmp_path, name, spec, 32, 0)
    paths = []
    for i, seed in enumerate((0, 0, 1)):
        out = tmp_path / f"out{i}.parquet"
        generate(kind, {"kind": kind, "params": {}}, GENERATORS.target(kind), str(split_dir / "members.parquet"),
                 str(side), 32, seed, 32, str(out), str(out) + ".json", holdout=str(split_dir / "holdout.parquet"))
        paths.append(out)
    a, b, c = (p.read_bytes() for p in paths)
    assert a == b
    if kind != "holdout":  # holdout returns all 32 holdout rows of this split, for any seed
        assert a != c, "a different seed should give a different table"
    meta = read_json(str(paths[0]) + ".json")
    assert meta["seed"] == 0 and meta["generator"] == kind and meta["deterministic"] is True
    assert meta["rows_requested"] == meta["rows_returned"] == 32
    assert "fit_seconds" in meta and "sample_seconds" in meta and meta["versions"]["synthrisk"]
    assert len(read_parquet(paths[0])) == 32


def test_output_depends_on_generator_name(tmp_path):
    """Two names of one kind draw independent streams (the stream is derived from the name)."""
    split_dir, side = stage_split(tmp_path, "arrests", ARRESTS, 32, 0)
    for name in ("copy", "copy2"):
        out = tmp_path / f"{name}.parquet"
        generate(name, {"kind": "copy", "params": {}}, GENERATORS.target("copy"), str(split_dir / "members.parquet"),
                 str(side), 32, 0, 32, str(out), str(out) + ".json")
    assert (tmp_path / "copy.parquet").read_bytes() != (tmp_path / "copy2.parquet").read_bytes()


# ------------------------------------------------------------------ params
@pytest.mark.parametrize("kind, params, word", [
    ("copy", {"shuffle": True}, "shuffle"),
    ("holdout", {"rows": 3}, "rows"),
    ("smote", {"k_neighbours": 3}, "k_neighbours"),
    ("ctgan", {"epochz": 3}, "epochz"),
    ("tvae", {"epochz": 3}, "epochz"),
])
def test_unknown_params_raise(kind, params, word):
    with pytest.raises(TypeError, match=word):
        GENERATORS.get(kind)(**params)


def test_unknown_kind_is_named():
    with pytest.raises(KeyError, match="nosuchkind"):
        GENERATORS.get("nosuchkind")


def test_fail_generator_raises_its_message(tagged):
    schema, split = tagged
    with pytest.raises(RuntimeError, match="boom"):
        run("fail", split, schema, 8, params={"message": "boom"})


# ---------------------------------------------------------- fidelity order
def test_holdout_beats_barely_trained_ctgan_on_fidelity(arrests):
    import torch

    from synthrisk.metrics.fidelity import evaluate

    df, schema, _ = arrests
    split = make_split(df, schema, 64, 0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        syn = {kind: run(kind, split, schema, 64, params=p)[0]
               for kind, p in (("holdout", {}), ("ctgan", {"epochs": 3, "batch_size": 30, "enable_gpu": False}))}
    finally:
        torch.set_num_threads(threads)
    shape = {}
    for kind, table in syn.items():
        rows = evaluate(table, Split(**split), schema, np.random.default_rng(0), {"against": ["test"]})
        shape[kind] = next(r["value"] for r in rows if r["metric"] == "shape" and r["against"] == "test")
    assert shape["holdout"] > shape["ctgan"] + 0.05, shape
    assert shape["holdout"] > 0.8, shape


def test_only_the_holdout_control_is_given_the_holdout_rows(tmp_path, monkeypatch):
    """The generate stage reads the holdout rows only for a kind that declares USES_HOLDOUT."""
    import synthrisk.stages.generate as stage

    split_dir, side = stage_split(tmp_path, "arrests", ARRESTS, 32, 0)
    seen = {}
    real = stage.run_generator

    def spy(name, cls, params, members, schema, k, seed, ctx):
        seen[name] = sorted(ctx.extra)
        return real(name, cls, params, members, schema, k, seed, ctx)

    monkeypatch.setattr(stage, "run_generator", spy)
    for kind in ("copy", "smote", "holdout"):
        out = tmp_path / f"{kind}.parquet"
        generate(kind, {"kind": kind, "params": {}}, GENERATORS.target(kind), str(split_dir / "members.parquet"),
                 str(side), 32, 0, 32, str(out), str(out) + ".json", holdout=str(split_dir / "holdout.parquet"))
    assert seen == {"copy": [], "smote": [], "holdout": ["holdout"]}
    with pytest.raises(ValueError, match="needs the split's holdout rows"):
        generate("holdout", {"kind": "holdout", "params": {}}, GENERATORS.target("holdout"),
                 str(split_dir / "members.parquet"), str(side), 32, 0, 32, str(tmp_path / "h.parquet"),
                 str(tmp_path / "h.parquet.json"))
