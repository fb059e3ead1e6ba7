"""Fail loudly, lose nothing (issue 13): a requested generator never silently vanishes (case 1), a
pasted key is never echoed (case 7), deleted results are rebuilt and the tables refreshed (case 3),
and a truncated output names itself and the command that rebuilds it, with no orphan sidecars
(case 4). Real Snakemake runs on a small config in a temporary directory."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from conftest import ARRESTS, run_snakemake

from synthrisk.llm.client import looks_like_secret

pytestmark = pytest.mark.pipeline

SMALL = {
    "datasets": {"arrests": ARRESTS},
    "splits": {"sizes": [32], "seeds": [0], "reference_size": 200, "test_size": 300},
    "generators": {"copy": {"kind": "copy"}, "smote": {"kind": "smote", "params": {"k_neighbors": 5}}},
    "synthetic_rows": "n",
    "metrics": {"families": ["fidelity", "diversity"]},
    "figures": ["fidelity_utility_by_n"],
}
MISSING_KEY = "SYNTHRISK_TEST_UNSET_KEY"


def fakellm(**extra) -> dict:
    return {"kind": "llm_icl", **extra,
            "params": {"model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": MISSING_KEY}}


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv(MISSING_KEY, raising=False)


# ------------------------------------------------------------- 1. requested = required
def test_requested_generator_that_cannot_run_fails_the_plan(tmp_path):
    cfg = copy.deepcopy(SMALL)
    cfg["generators"]["fakellm"] = fakellm()
    proc = run_snakemake(tmp_path, config=cfg, check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert "'fakellm' is requested but cannot run here" in out and MISSING_KEY in out and "optional: true" in out
    assert not (tmp_path / "results").exists()  # failed at plan time, before any job or prompt


def test_optional_generator_left_out_is_listed_in_the_tables(tmp_path):
    cfg = copy.deepcopy(SMALL)
    cfg["generators"] = {"copy": {"kind": "copy"}, "fakellm": fakellm(optional=True)}
    run_snakemake(tmp_path, config=cfg)
    for table in ("headline.csv", "summary.csv"):
        df = pd.read_csv(tmp_path / "results" / "tables" / table, keep_default_na=False)
        row = df[df.generator == "fakellm"]
        assert len(row) == 1, table
        assert MISSING_KEY in row["left_out"].iloc[0], table
        assert set(df[df.generator == "copy"]["left_out"]) == {""}, table
    runs = pd.read_csv(tmp_path / "results" / "tables" / "runs.csv", keep_default_na=False).set_index("generator")
    assert (runs.loc["copy", "status"], runs.loc["fakellm", "status"]) == ("ran", "left out")
    assert MISSING_KEY in runs.loc["fakellm", "reason"] and runs.loc["fakellm", "jobs"] == 0
    # and the report's run section says so, with the reason (the landing page and the runs caption)
    run_snakemake(tmp_path, "--report", str(tmp_path / "report.html"), cores=1)
    page = (tmp_path / "report.html").read_text()
    desc = page[page.index("var workflow_desc"):page.index('<script id="results">')]
    assert "Left out of this run:" in desc and "fakellm" in desc and MISSING_KEY in desc
    # asking for one of its files names the reason instead of a KeyError traceback
    proc = run_snakemake(tmp_path, "results/synthetic/fakellm/arrests/cell.json", check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "'fakellm' is left out of this run" in out and MISSING_KEY in out and "KeyError" not in out


# ------------------------------------------------------------------ 7. pasted keys
def test_key_pasted_into_api_key_env_is_an_error_that_never_prints_it(tmp_path):
    secret = "sk-proj-" + "Zq4xT9bW2mLk7RvN3cYh8JdP5sGf1AeU6oIi0KwXyQz"
    cfg = copy.deepcopy(SMALL)
    cfg["generators"]["fakellm"] = {"kind": "llm_icl", "optional": True,
                                    "params": {"model": "m", "base_url": "http://127.0.0.1:9/v1", "api_key_env": secret}}
    proc = run_snakemake(tmp_path, "-n", config=cfg, check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "generators.fakellm.params.api_key_env" in out and "looks like an API key" in out
    assert secret not in out and secret[:12] not in out
    for f in tmp_path.rglob("*"):  # nothing the run wrote holds it (the config file is the user's)
        if f.is_file() and f.name != "cfg.yaml":
            assert secret.encode() not in f.read_bytes(), f


@pytest.mark.parametrize("value, secret", [
    ("OPENAI_API_KEY", False), ("MYKEY", False), ("PROVIDER_API_KEY_2", False),
    ("sk-abc123", True), ("hf_AbCdEfGhIjKlMnOpQrStUvWx", True), ("AKIAIOSFODNN7EXAMPLE", True),
    ("my key", True), ("Zq4xT9bW2mLk7RvN3cYh8JdP5sGf1AeU", True),
])
def test_looks_like_secret(value, secret):
    assert looks_like_secret(value) is secret


# --------------------------------------------------------- 3. deleted results rebuilt
@pytest.fixture(scope="module")
def done(tmp_path_factory):
    d = tmp_path_factory.mktemp("reliability")
    run_snakemake(d, config=SMALL)
    return d


def test_deleted_generator_results_are_rebuilt_and_tables_refreshed(done):
    import shutil

    r = done / "results"
    before = pd.read_parquet(r / "tables" / "metrics.parquet")
    n_smote = int((before.generator == "smote").sum())
    assert n_smote > 0
    copy_file = r / "synthetic" / "copy" / "arrests" / "n32" / "s0.parquet"
    copy_mtime = copy_file.stat().st_mtime_ns
    shutil.rmtree(r / "synthetic" / "smote")
    shutil.rmtree(r / "metrics" / "smote")
    run_snakemake(done)
    assert (r / "synthetic" / "smote" / "arrests" / "n32" / "s0.parquet").exists()
    assert (r / "metrics" / "smote" / "arrests" / "n32" / "s0.parquet.json").exists()
    after = pd.read_parquet(r / "tables" / "metrics.parquet")
    assert int((after.generator == "smote").sum()) == n_smote
    assert copy_file.stat().st_mtime_ns == copy_mtime  # only what was deleted reran
    proc = run_snakemake(done, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    # one table deleted from a finished cell (Snakemake tracks the cell's manifest, synthrisk.cells):
    # the cell reruns and recomputes that table only
    metric = r / "metrics" / "copy" / "arrests" / "n32" / "s0.parquet"
    metric.unlink()
    proc = run_snakemake(done)
    assert "results/metrics/copy/arrests/cell.json has a table file missing or changed since it finished" in proc.stderr
    assert metric.exists() and copy_file.stat().st_mtime_ns == copy_mtime
    assert pd.read_parquet(r / "tables" / "metrics.parquet").shape == after.shape
    assert "Nothing to be done" in run_snakemake(done, "-n").stdout


# ------------------------------------------------------------ 4. truncated outputs
def test_truncated_output_names_file_and_rebuild_command_without_orphans(done):
    r = done / "results"
    syn = r / "synthetic" / "smote" / "arrests" / "n32" / "s0.parquet"
    data = syn.read_bytes()
    metric = r / "metrics" / "smote" / "arrests" / "n32" / "s0.parquet"
    # 1. a table changed after its cell finished (newer than the cell's manifest): the cell reruns
    #    and recomputes it (its checksum no longer matches); smote is deterministic, so the same
    #    bytes come back and its evaluation is reused
    syn.write_bytes(data[: len(data) // 2])  # e.g. a disk filled up behind our back
    metric_mtime = metric.stat().st_mtime_ns
    proc = run_snakemake(done, cores=1)
    assert "results/synthetic/smote/arrests/cell.json has a table file missing or changed" in proc.stderr
    assert syn.read_bytes() == data and metric.stat().st_mtime_ns == metric_mtime
    # 2. damage Snakemake cannot see (the old mtime kept): the job that reads it fails, naming
    #    the file and the command that rebuilds it, and leaves none of its outputs behind
    st = syn.stat()
    syn.write_bytes(data[: len(data) // 2])
    os.utime(syn, ns=(st.st_atime_ns, st.st_mtime_ns))
    proc = run_snakemake(done, "--forcerun", "results/metrics/smote/arrests/cell.json", check=False, cores=1)
    assert proc.returncode != 0
    log = (r / "logs" / "metrics" / "smote" / "arrests.log").read_text()
    assert f"{Path('results/synthetic/smote/arrests/n32/s0.parquet')} is not a readable parquet file" in log
    hint = "snakemake --forcerun results/synthetic/smote/arrests/cell.json"  # its cell (synthrisk.cells)
    assert hint in log
    # the failed job leaves no half of its outputs: neither the table's metrics nor the cell's manifest
    assert not metric.exists() and not Path(str(metric) + ".json").exists()
    assert not (r / "metrics" / "smote" / "arrests" / "cell.json").exists()
    run_snakemake(done, "--forcerun", "results/synthetic/smote/arrests/cell.json")  # the hint works
    assert pd.read_parquet(syn).shape[0] == 32 and metric.exists()


def test_a_killed_writer_leaves_the_old_file_or_the_new_one_never_a_truncated_one(tmp_path):
    """SIGKILL a process that keeps rewriting a large parquet and JSON: each file on disk is
    always complete (the old or a new version), never truncated."""
    script = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from synthrisk.io import write_json, write_parquet
        df = pd.DataFrame(np.random.default_rng(0).normal(size=(400_000, 8)), columns=list("abcdefgh"))
        i = 0
        while True:
            write_parquet(df.assign(i=i), {str(tmp_path / 't.parquet')!r})
            write_json({{"i": i, "pad": "x" * 2_000_000}}, {str(tmp_path / 't.json')!r})
            i += 1
    """)
    import time

    from synthrisk.io import read_json, read_parquet

    for delay in (1.5, 2.3, 3.1):
        proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (tmp_path / "t.parquet").exists():
            assert len(read_parquet(tmp_path / "t.parquet")) == 400_000
        if (tmp_path / "t.json").exists():
            assert len(read_json(tmp_path / "t.json")["pad"]) == 2_000_000
    assert (tmp_path / "t.parquet").exists()
