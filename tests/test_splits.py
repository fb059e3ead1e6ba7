"""Seed splits: disjoint parts, sizes, stratification, determinism, a fixed test split, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthrisk.schema import TableSchema
from synthrisk.splits import PARTS, SplitError, make_split, quotas


def row_ids(df: pd.DataFrame) -> set:
    return set(df["_row"])


@pytest.fixture(scope="module")
def tagged(arrests):
    """Arrests with a row id column (numerical, unique) so parts can be compared by row."""
    df, schema, _ = arrests
    df = df.assign(_row=np.arange(len(df), dtype=np.int64))
    schema = TableSchema.infer(df, name=schema.name, target=schema.target, categorical=schema.categorical)
    return df, schema


@pytest.mark.parametrize("n", [32, 128])
def test_parts_disjoint_and_sized(tagged, n):
    df, schema = tagged
    parts = make_split(df, schema, n, 0, reference_size=500)  # 4,000-row pool: both caps fit
    assert set(parts) == set(PARTS)
    ids = {p: row_ids(parts[p]) for p in PARTS}
    for i, a in enumerate(PARTS):
        assert len(ids[a]) == len(parts[a]), f"{a} repeats a row"
        for b in PARTS[i + 1:]:
            assert not ids[a] & ids[b], f"{a} and {b} share rows"
    assert len(parts["members"]) == n and len(parts["non_members"]) == 1000  # non_member_size default
    assert len(parts["holdout"]) == n  # default: as many as the synthetic rows (n)
    assert len(parts["reference"]) == 500
    assert len(parts["test"]) == min(round(0.2 * len(df)), 1000)
    for p in PARTS:
        assert list(parts[p].columns) == list(df.columns)
        pd.testing.assert_frame_equal(parts[p], df[df["_row"].isin(ids[p])].sort_values("_row").reset_index(drop=True))


def test_holdout_and_reference_sizes_configurable(tagged):
    df, schema = tagged
    parts = make_split(df, schema, 32, 1, holdout_size=100, non_member_size=200, reference_size=300)
    assert [len(parts[p]) for p in ("holdout", "non_members", "reference")] == [100, 200, 300]


@pytest.mark.parametrize("caps, expect", [((1000, 1000), (1000, 1000)), ((1000, 10**6), (1000, 2868)),
                                          ((10**6, 10**6), (1934, 1934)), ((100, 10**6), (100, 3768))])
def test_short_pool_rule_non_members_and_reference_share_what_is_left(tagged, caps, expect):
    """Pool 4,000 rows; members 32 + holdout 100 leave 3,868. Both caps fit: both drawn. Else
    each gets up to half, and what one leaves of its half goes to the other (up to its cap)."""
    df, schema = tagged
    parts = make_split(df, schema, 32, 1, holdout_size=100, non_member_size=caps[0], reference_size=caps[1])
    assert (len(parts["non_members"]), len(parts["reference"])) == expect
    ids = {p: row_ids(parts[p]) for p in PARTS}
    assert sum(len(v) for v in ids.values()) == len(set().union(*ids.values()))  # still disjoint


def test_duplicates_of_members_are_counted_per_part(arrests):
    """Arrests (8 columns, many repeated rows): parts are disjoint by row, not by content."""
    from synthrisk.splits import member_duplicates

    df, schema, _ = arrests
    parts = make_split(df, schema, 32, 0)
    counts = member_duplicates(parts, schema.names)
    members = set(map(tuple, parts["members"][schema.names].astype(str).to_numpy()))
    for p in PARTS:
        rows = list(map(tuple, parts[p][schema.names].astype(str).to_numpy()))
        if p == "members":
            expect = sum(rows.count(r) > 1 for r in rows)
        else:
            expect = sum(r in members for r in rows)
        assert counts[p] == expect, p
    assert counts["non_members"] > 0 and counts["reference"] > 0  # the measured case


def test_stratified(tagged):
    df, schema = tagged
    t = schema.target
    share = df[t].value_counts(normalize=True).sort_index()
    parts = make_split(df, schema, 64, 2)
    for p in ("members", "non_members", "holdout", "test"):
        counts = parts[p][t].value_counts().reindex(share.index, fill_value=0)
        expected = share.to_numpy() * len(parts[p])
        # largest remainder: every class within one row of its exact share
        assert np.all(np.abs(counts.to_numpy() - expected) < 1), (p, counts.to_dict(), expected)


def test_quotas_largest_remainder():
    assert quotas(np.array([853, 4147]), 32).tolist() == [5, 27]
    assert quotas(np.array([1, 1, 1]), 2).sum() == 2
    q = quotas(np.array([10, 20, 70]), 7)
    assert q.sum() == 7 and q.tolist() == [1, 1, 5]


def test_same_seed_same_split_other_seed_differs(tagged):
    df, schema = tagged
    a, b = make_split(df, schema, 32, 0), make_split(df, schema, 32, 0)
    for p in PARTS:
        pd.testing.assert_frame_equal(a[p], b[p])
    c = make_split(df, schema, 32, 1)
    assert row_ids(a["members"]) != row_ids(c["members"])


def test_test_split_identical_across_n_and_seed(tagged):
    df, schema = tagged
    ref = make_split(df, schema, 32, 0)["test"]
    for n, seed in [(32, 1), (64, 0), (128, 2)]:
        parts = make_split(df, schema, n, seed)
        pd.testing.assert_frame_equal(parts["test"], ref)
        # and the pool parts never touch the test rows
        for p in ("members", "non_members", "holdout", "reference"):
            assert not row_ids(parts[p]) & row_ids(ref)


def test_members_differ_across_n(tagged):
    df, schema = tagged
    a = row_ids(make_split(df, schema, 32, 0)["members"])
    b = row_ids(make_split(df, schema, 64, 0)["members"])
    assert a != b


def small_table(rare: int, rows: int = 200) -> tuple[pd.DataFrame, TableSchema]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=rows), "y": ["common"] * (rows - rare) + ["rare"] * rare})
    return df, TableSchema.infer(df, name="tiny", target="y")


def test_pool_too_small_names_dataset_and_n():
    df, schema = small_table(50, rows=80)  # pool of 64 rows < 32 members + 32 holdout + 2
    with pytest.raises(SplitError) as e:
        make_split(df, schema, 32, 0)
    msg = str(e.value)
    assert "'tiny'" in msg and "n=32" in msg


def test_rare_class_documented_rule():
    """A class rarer than 1/size of what is left gets no row (the documented rule), never an
    over-draw: its quota never exceeds its rows."""
    rng = np.random.default_rng(0)
    y = ["a"] * 300 + ["b"] * 200 + ["rare"] * 2
    df = pd.DataFrame({"x": rng.normal(size=len(y)), "y": y})
    schema = TableSchema.infer(df, name="tiny", target="y")
    parts = make_split(df, schema, 16, 0)
    assert "rare" not in set(parts["members"]["y"])
    assert set(parts["members"]["y"]) == {"a", "b"}
    assert (df["y"] == "rare").sum() == sum((parts[p]["y"] == "rare").sum() for p in PARTS)


def test_single_class_members_is_an_error():
    # a class too rare to get any member row leaves the members with one class
    df, schema = small_table(1, rows=400)
    with pytest.raises(SplitError) as e:
        make_split(df, schema, 16, 0)
    msg = str(e.value)
    assert "'tiny'" in msg and "n=16" in msg and "common" in msg
