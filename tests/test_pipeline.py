"""The spine end to end through Snakemake on the smoke config, .test/config/config.yaml (2 real
tables, n=32, copy/holdout/smote and a 3-epoch TVAE, all five metric families), in a temporary
working directory.

One pipeline run (conftest.smoke_run, about a minute on 2 cores) is shared by the session (also by
tests/test_report.py); the other tests are dry runs against its results, plus one small build of
a single target in a fresh directory.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import SMOKE_FILE, job_counts, run_snakemake

from synthrisk.metrics.base import LONG_COLUMNS

pytestmark = pytest.mark.pipeline

#: the smoke config is the .test/ config a user can run (snakemake --configfile .test/config/config.yaml)
SMOKE = yaml.safe_load(SMOKE_FILE.read_text())
DATASETS = list(SMOKE["datasets"])
GENERATORS = list(SMOKE["generators"])
FAMILIES = list(SMOKE["metrics"]["families"])


@pytest.fixture(scope="module")
def run_dir(smoke_run):
    """The session's smoke run (conftest.smoke_run), shared with tests/test_report.py."""
    return smoke_run


def test_outputs_exist(run_dir):
    r = run_dir / "results"
    for ds in DATASETS:
        assert (r / "data" / f"{ds}.parquet").exists()
        for part in ("members", "non_members", "reference", "test", "holdout"):
            assert (r / "splits" / ds / "n32" / "s0" / f"{part}.parquet").exists()
        for g in GENERATORS:
            assert (r / "synthetic" / g / ds / "n32" / "s0.parquet").exists()
            path = r / "metrics" / g / ds / "n32" / "s0.parquet"  # every family's rows, one file
            df = pd.read_parquet(path)
            assert list(df.columns) == LONG_COLUMNS, path
            assert list(dict.fromkeys(df["family"])) == FAMILIES, path  # in the run's family order
            assert set(df["generator"]) == {g} and set(df["dataset"]) == {ds}
            assert set(df["n"]) == {32} and set(df["seed"]) == {0}
            side = json.loads(Path(f"{path}.json").read_text())
            assert sorted(side["families"]) == sorted(FAMILIES) and side["rows"] == len(df)
            for f in FAMILIES:
                assert side["families"][f]["rows"] == int((df["family"] == f).sum()) > 0, (path, f)
        assert (r / "reference" / ds / "n32" / "s0.parquet").exists()


def test_split_sizes_on_disk(run_dir):
    for ds in DATASETS:
        side = json.loads((run_dir / "results" / "splits" / ds / "n32" / "s0" / "split.json").read_text())
        assert side["rows"]["members"] == side["rows"]["holdout"] == 32
        assert side["rows"]["non_members"] == 1000  # splits.non_member_size default; the pools have room
        assert side["rows"]["reference"] == 200 and side["rows"]["test"] == 300
        assert set(side["identical_to_member"]) == {"members", "non_members", "reference", "test", "holdout"}


def test_sidecars_have_versions_seed_timings(run_dir):
    for ds in DATASETS:
        for g in GENERATORS:
            side = json.loads((run_dir / "results" / "synthetic" / g / ds / "n32" / "s0.parquet.json").read_text())
            assert side["generator"] == g and side["kind"] == SMOKE["generators"][g]["kind"]
            assert side["params"] == SMOKE["generators"][g].get("params", {})
            assert side["seed"] == 0 and side["n"] == 32 and side["dataset"] == ds
            assert side["rows_requested"] == side["rows_returned"] == 32
            assert side["fit_seconds"] >= 0 and side["sample_seconds"] >= 0
            for pkg in ("synthrisk", "numpy", "pandas", "sdv", "python"):
                assert side["versions"].get(pkg), pkg
        data = json.loads((run_dir / "results" / "data" / f"{ds}.json").read_text())
        assert data["schema"]["target"] == SMOKE["datasets"][ds]["target"] and data["versions"]


def test_aggregate_tables(run_dir):
    r = run_dir / "results" / "tables"
    df = pd.read_parquet(r / "metrics.parquet")
    assert list(df.columns) == LONG_COLUMNS
    assert set(df["generator"]) == set(GENERATORS) | {"real"}
    assert set(df["family"]) == set(FAMILIES)
    assert set(df["dataset"]) == set(DATASETS)
    # every NaN carries its reason
    assert df.loc[df["value"].isna(), "reason"].notna().all()
    summary = pd.read_csv(r / "summary.csv")
    assert {"generator", "n", "metric", "mean", "std"} <= set(summary.columns)
    assert set(summary["generator"]) == set(GENERATORS) | {"real"}
    assert set(summary["n"]) == {32}
    shape = summary[(summary.metric == "shape") & (summary.against == "members")].set_index("generator")["mean"]
    assert shape["copy"] == pytest.approx(1.0)  # copy returns exactly the n member rows
    tstr = summary[summary.metric == "tstr_auc"]
    assert {"copy", "holdout", "smote", "tvae"} == set(tstr["generator"])
    trtr = summary[summary.metric == "trtr_auc"]  # the train-real-test-real reference
    assert set(trtr["generator"]) == {"real"}
    # copy trains on exactly the member rows (shuffled): logistic regression gives the reference AUC
    copy_lr = tstr[(tstr.generator == "copy") & (tstr.model == "logreg")]["mean"].item()
    real_lr = trtr[trtr.model == "logreg"]["mean"].item()
    assert copy_lr == pytest.approx(real_lr, abs=1e-4)


def test_figure_is_a_png(run_dir):
    png = run_dir / "results" / "figures" / "fidelity_utility_by_n.png"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_rerun_does_nothing(run_dir):
    proc = run_snakemake(run_dir, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stdout[-3000:]


def test_editing_one_generator_reruns_only_its_jobs(run_dir):
    cfg = copy.deepcopy(SMOKE)
    cfg["generators"]["tvae"]["params"]["epochs"] = 4
    proc = run_snakemake(run_dir, "-n", config=cfg, configfile="cfg_edit.yaml")
    assert job_counts(proc.stdout) == {"generate": 2, "evaluate": 2, "aggregate": 1, "figure": len(SMOKE["figures"]),
                                       "all": 1}
    # the generate and evaluate jobs are tvae's, on both datasets
    jobs = re.findall(r"rule (generate|evaluate):.*?wildcards: generator=([^,\s]+), dataset=(\w+)", proc.stdout, re.S)
    assert sorted(jobs) == sorted((r, "tvae", ds) for r in ("generate", "evaluate") for ds in DATASETS), jobs


def test_lint(run_dir):
    proc = run_snakemake(run_dir, "--lint", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Lints for" not in out, out[-5000:]


def test_single_target_builds_one_cell_and_failures_name_the_generator(tmp_path):
    cfg = copy.deepcopy(SMOKE)
    cfg["generators"]["boom"] = {"kind": "fail", "params": {"message": "configured to fail here"}}
    # a table is built by its cell's job: naming the table says which cell to name
    proc = run_snakemake(tmp_path, "-n", "results/synthetic/copy/arrests/n32/s0.parquet", config=cfg, check=False)
    assert proc.returncode != 0
    assert ("results/synthetic/copy/arrests/n32/s0.parquet is a table of the cell "
            "results/synthetic/copy/arrests/cell.json") in proc.stderr
    run_snakemake(tmp_path, "results/synthetic/copy/arrests/cell.json", config=cfg)
    r = tmp_path / "results"
    assert (r / "synthetic" / "copy" / "arrests" / "n32" / "s0.parquet").exists()
    built = sorted(p.relative_to(r).as_posix() for p in r.rglob("*.parquet"))
    assert built == ["data/arrests.parquet"] + [
        f"splits/arrests/n32/s0/{p}.parquet" for p in ("holdout", "members", "non_members", "reference", "test")
    ] + ["synthetic/copy/arrests/n32/s0.parquet"]
    manifest = json.loads((r / "synthetic" / "copy" / "arrests" / "cell.json").read_text())
    assert manifest["tables"] == ["results/synthetic/copy/arrests/n32/s0.parquet"] and manifest["reused"] == 0
    # a failing generator: the job fails and its log (printed by the profile) says why, per table
    proc = run_snakemake(tmp_path, "results/synthetic/boom/arrests/cell.json", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "configured to fail here" in out and "n32/s0: " in out
    assert not (r / "synthetic" / "boom" / "arrests" / "n32" / "s0.parquet").exists()
    assert not (r / "synthetic" / "boom" / "arrests" / "cell.json").exists()
