"""Reading tables strictly (issue 13, case 5 and the read errors of case 6): no silent type
changes, and every unreadable file is an error naming the dataset, the file and the column."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthrisk.datasets import DEFAULT_NA_VALUES, DatasetError, load_dataset


def table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(0, 7, rows), "x": rng.normal(size=rows).round(3),
                         "y": rng.choice(["a", "b"], rows)})


def spec(path, **kw) -> dict:
    return {"source": "file", "path": str(path), "target": "y", **kw}


def error_of(path, **kw) -> str:
    with pytest.raises(DatasetError) as e:
        load_dataset("mytable", spec(path, **kw))
    msg = str(e.value)
    assert "mytable" in msg and str(path) in msg, msg  # every read error names dataset and file
    return msg


def test_question_mark_in_an_integer_column_is_reported_not_a_level(tmp_path):
    t = table().astype({"age": object})
    t.loc[3, "age"] = "?"
    t.to_csv(tmp_path / "q.csv", index=False)
    msg = error_of(tmp_path / "q.csv")
    assert "'age'" in msg and "'?'" in msg and "na_values" in msg and "1 non-numeric" in msg
    # the documented way: '?' means missing -> median-imputed integer column plus an indicator
    df, schema, info = load_dataset("mytable", spec(tmp_path / "q.csv", na_values=[*DEFAULT_NA_VALUES, "?"]))
    assert schema.column("age").kind == "numerical" and schema.column("age").dtype == "int"
    assert info["missing"] == {"age": 1} and df.loc[3, "age_missing"] == "1"
    # or: the user says the column is categorical, and '?' is one of its levels
    _, schema, _ = load_dataset("mytable", spec(tmp_path / "q.csv", categorical=["age"]))
    assert "?" in schema.column("age").levels


def test_mostly_numeric_column_with_stray_strings_reports_count_and_examples(tmp_path):
    t = table().astype({"x": object})
    t.loc[[1, 5, 9], "x"] = ["n/a?", "bad", "oops"]
    t.to_csv(tmp_path / "m.csv", index=False)
    msg = error_of(tmp_path / "m.csv")
    assert "'x'" in msg and "3 non-numeric" in msg and "197 of 200" in msg
    assert all(v in msg for v in ("'n/a?'", "'bad'", "'oops'"))
    assert "free-text" not in msg  # not the misleading max_levels hint


def test_duplicate_header_is_an_error_not_renamed(tmp_path):
    t = table()
    (tmp_path / "d.csv").write_text("age,age,y\n" + "\n".join(f"{a},{b},{c}" for a, b, c in zip(t.age, t.x, t.y)))
    msg = error_of(tmp_path / "d.csv")
    assert "duplicate" in msg and "['age']" in msg and "age.1" not in msg


def test_parquet_datetime_column_is_an_error_or_an_opted_in_logged_conversion(tmp_path, caplog):
    t = table().assign(when=pd.date_range("2020-01-01", periods=30).repeat(7)[:200])
    t.to_parquet(tmp_path / "t.parquet", index=False)
    msg = error_of(tmp_path / "t.parquet")
    assert "'when'" in msg and "dates" in msg and "numerical" in msg and "drop" in msg
    df, schema, info = load_dataset("mytable", spec(tmp_path / "t.parquet", numerical=["when"]))
    assert schema.column("when").kind == "numerical"
    assert df["when"].min() == (pd.Timestamp("2020-01-01") - pd.Timestamp("1970-01-01")).days
    assert "when" in info["converted"] and "converted" in caplog.text
    # ISO dates in a CSV are recognised the same way
    t.to_csv(tmp_path / "t.csv", index=False)
    assert "'when'" in error_of(tmp_path / "t.csv")


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    assert "empty" in error_of(tmp_path / "e.csv")


def test_header_only_file_is_not_a_single_class(tmp_path):
    (tmp_path / "h.csv").write_text("age,x,y\n")
    msg = error_of(tmp_path / "h.csv")
    assert "no data rows" in msg and "single class" not in msg


def test_latin1_file_names_the_file_line_and_the_key(tmp_path):
    t = table().astype({"y": object})
    t.loc[4, "y"] = "café"
    (tmp_path / "l.csv").write_bytes(t.to_csv(index=False).encode("latin-1"))
    msg = error_of(tmp_path / "l.csv")
    assert "utf-8" in msg and "line 6" in msg and "encoding" in msg
    _, schema, _ = load_dataset("mytable", spec(tmp_path / "l.csv", encoding="latin-1"))
    assert "café" in schema.column("y").levels


def test_unnamed_and_ragged_columns(tmp_path):
    table().to_csv(tmp_path / "i.csv")  # pandas' index as a nameless first column
    assert "no name" in error_of(tmp_path / "i.csv")
    (tmp_path / "r.csv").write_text("age,x,y\n1,2,a\n1,2,b,9,9\n")
    assert "does not parse" in error_of(tmp_path / "r.csv")


def test_truncated_parquet(tmp_path):
    table().to_parquet(tmp_path / "t.parquet", index=False)
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    assert "not a readable parquet" in error_of(tmp_path / "t.parquet")


def test_schema_default_na_values_are_the_loaders():
    import yaml
    from conftest import REPO

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert tuple(schema["properties"]["data"]["properties"]["na_values"]["default"]) == DEFAULT_NA_VALUES
    assert "?" not in DEFAULT_NA_VALUES
