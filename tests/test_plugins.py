"""A new generator, attack or metric family is one module plus one registration line.

On a copy of the repository, the test adds a throw-away generator (its own params and a GPU
resource default), a throw-away attack and a throw-away metric family, each as one new module plus
one line in its registry, with no other edit (no schema, no resource table, no list of names,
no figure order), and runs them through Snakemake. Then, on the finished run, it edits modules and
asks `snakemake -n` what would rerun: a metrics module reschedules no generate job, the new
generator's module reschedules its own jobs only, the shared neighbour code reschedules the
evaluations that import it.
"""
from __future__ import annotations

import re
import shutil
import textwrap

import pandas as pd
import pytest
from conftest import ARRESTS, REPO, job_counts, run_snakemake

pytestmark = pytest.mark.pipeline

GENERATOR = '''
"""A throw-away generator: a bootstrap sample of the member rows."""
import numpy as np

from synthrisk.generators.base import Generator
from synthrisk.params import Param


class BootstrapGenerator(Generator):
    kind = "bootstrap"
    PARAMS = {"replace": Param(True, "draw with replacement (false: a permutation, cycled)")}
    RESOURCES = {"gpu": 1, "runtime": 7}

    def fit(self, data, schema, rng, ctx):
        self.data = data

    def sample(self, k, rng):
        n = len(self.data)
        idx = rng.integers(0, n, k) if self.params["replace"] else np.resize(rng.permutation(n), k)
        return self.data.iloc[idx].reset_index(drop=True)
'''

ATTACK = '''
"""A throw-away attack: minus the distance to the closest synthetic row, raised to a power."""
import numpy as np

from synthrisk.attacks._neighbours import nearest_distance


def score(data, rng: np.random.Generator, power: float = 1.0) -> np.ndarray:
    return -nearest_distance(data.targets, data.synthetic) ** power
'''

FAMILY = '''
"""A throw-away metric family: synthetic rows per member, times a scale."""
from synthrisk.metrics.base import row
from synthrisk.params import Param

PARAMS = {"scale": Param(1.0, "multiplies the ratio")}
GOALS = {"rows_per_member": ("maximize", (0.0, float("inf")))}


def evaluate(synthetic, split, schema, rng, params):
    scale = params.get("scale", 1.0)
    return [row("rows_per_member", scale * len(synthetic) / len(split.members))]
'''

CONFIG = {
    "datasets": {"arrests": ARRESTS},
    "splits": {"sizes": [32], "seeds": [0], "reference_size": 200, "test_size": 300},
    "generators": {"copy": {"kind": "copy"}, "boot": {"kind": "bootstrap", "params": {"replace": False}}},
    "synthetic_rows": "n",
    "metrics": {"families": ["fidelity", "privacy", "row_count"],
                "privacy": {"attacks": ["dcr", "nearest"], "attack_params": {"nearest": {"power": 2.0}},
                            "bootstrap": 20},
                "row_count": {"scale": 2.0}},
    "figures": ["auc_by_n"],
}


def register(path, anchor: str, line: str) -> None:
    """Add one line to a registry dict, after ``anchor`` (an existing entry)."""
    text = path.read_text()
    assert text.count(anchor) == 1
    path.write_text(text.replace(anchor, anchor + "\n        " + line))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A copy of the repository with the three throw-away plugins added, and a finished run."""
    root = tmp_path_factory.mktemp("plugins") / "repo"
    root.mkdir()
    for name in ("Snakefile", "workflow", "src", "profiles", "envs"):
        src = REPO / name
        (shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__")) if src.is_dir()
         else shutil.copy(src, root / name))
    pkg = root / "src" / "synthrisk"
    # one module each ...
    (pkg / "generators" / "bootstrap.py").write_text(textwrap.dedent(GENERATOR))
    (pkg / "attacks" / "nearest.py").write_text(textwrap.dedent(ATTACK))
    (pkg / "metrics" / "row_count.py").write_text(textwrap.dedent(FAMILY))
    # ... plus one registration line each
    register(pkg / "generators" / "__init__.py", '"smote": "synthrisk.generators.smote:SMOTEGenerator",',
             '"bootstrap": "synthrisk.generators.bootstrap:BootstrapGenerator",')
    register(pkg / "attacks" / "__init__.py", '"levatt": "synthrisk.attacks.levatt:score",',
             '"nearest": "synthrisk.attacks.nearest:score",')
    register(pkg / "metrics" / "__init__.py", '"diversity": "synthrisk.metrics.diversity:evaluate",',
             '"row_count": "synthrisk.metrics.row_count:evaluate",')
    work = root / "work"
    work.mkdir()
    env = {"PYTHONPATH": str(root / "src")}  # the copy's package, in the main process and in every job
    run_snakemake(work, config=CONFIG, snakefile=root / "Snakefile", env=env)
    return root, work, env


def dry(repo, *args):
    root, work, env = repo
    return run_snakemake(work, "-n", *args, snakefile=root / "Snakefile", env=env).stdout


def test_the_new_plugins_ran(repo):
    _, work, _ = repo
    r = work / "results"
    boot = pd.read_parquet(r / "synthetic" / "boot" / "arrests" / "n32" / "s0.parquet")
    members = pd.read_parquet(r / "splits" / "arrests" / "n32" / "s0" / "members.parquet")
    assert len(boot) == 32 and len(boot.merge(members.drop_duplicates(), how="inner")) == 32  # member rows only
    boot_rows = pd.read_parquet(r / "metrics" / "boot" / "arrests" / "n32" / "s0.parquet")
    rows = boot_rows[boot_rows["family"] == "row_count"]
    assert rows[["metric", "value"]].values.tolist() == [["rows_per_member", 2.0]]  # its param reached it
    copy_rows = pd.read_parquet(r / "metrics" / "copy" / "arrests" / "n32" / "s0.parquet")
    priv = copy_rows[copy_rows["family"] == "privacy"]
    auc = priv[(priv.metric == "auc") & (priv.attack == "nearest")]["value"].item()
    assert auc > 0.9  # the copy control leaks: every member is at distance 0
    table = pd.read_parquet(r / "tables" / "metrics.parquet")
    assert {"boot", "copy"} <= set(table.generator) and "row_count" in set(table.family)
    assert (r / "figures" / "auc_by_n.png").stat().st_size > 10_000
    assert "Nothing to be done" in dry(repo)


def test_the_new_generator_gets_its_declared_gpu(repo):
    out = dry(repo, "--forcerun", "results/synthetic/boot/arrests/cell.json", "results/synthetic/copy/arrests/cell.json")
    jobs = {m.group(2): m.group(1) for m in re.finditer(
        r"rule generate:.*?wildcards: generator=([^,\s]+).*?resources: ([^\n]+)", out, re.S)}
    by_gen = {g: r for r, g in jobs.items()}
    assert re.search(r"\bgpu=1\b", by_gen["boot"]) and re.search(r"\bruntime=7\b", by_gen["boot"]), out[-3000:]
    assert re.search(r"\bgpu=0\b", by_gen["copy"]), out[-3000:]


def test_a_params_typo_in_the_new_plugins_fails_the_dry_run(repo, tmp_path):
    root, _, env = repo
    for key, cfg in (
        ("generators.boot.params.replac", {**CONFIG, "generators": {"boot": {"kind": "bootstrap",
                                                                             "params": {"replac": True}}}}),
        ("metrics.row_count.scal", {**CONFIG, "metrics": {**CONFIG["metrics"], "row_count": {"scal": 2}}}),
        ("metrics.privacy.attack_params.nearest.powr",
         {**CONFIG, "metrics": {**CONFIG["metrics"], "privacy": {"attack_params": {"nearest": {"powr": 2}}}}}),
    ):
        proc = run_snakemake(tmp_path, "-n", config=cfg, snakefile=root / "Snakefile", env=env, check=False)
        assert proc.returncode != 0 and f"{key}: unknown key" in proc.stdout + proc.stderr, key


def edit(repo, relpath: str):
    f = repo[0] / "src" / "synthrisk" / relpath
    f.write_text(f.read_text() + "\n# an edit\n")


def generate_jobs(out: str) -> list[str]:
    return sorted(re.findall(r"rule generate:.*?wildcards: generator=([^,\s]+)", out, re.S))


def test_edits_reschedule_exactly_the_jobs_that_import_them(repo):
    root = repo[0]
    pristine = {p: p.read_bytes() for p in (root / "src").rglob("*.py")}

    def restore():
        for p, data in pristine.items():
            p.write_bytes(data)

    try:
        for module in ("metrics/fidelity.py", "metrics/base.py", "metrics/roc.py", "metrics/row_count.py"):
            edit(repo, module)
            out = dry(repo)
            assert generate_jobs(out) == [] and job_counts(out).get("evaluate") == 2, (module, out[-2000:])
            restore()
        edit(repo, "generators/bootstrap.py")
        out = dry(repo)
        assert generate_jobs(out) == ["boot"] and job_counts(out).get("evaluate") == 1, out[-2000:]
        restore()
        edit(repo, "attacks/_neighbours.py")  # privacy imports it (and the new attack does)
        out = dry(repo)
        assert generate_jobs(out) == [] and job_counts(out).get("evaluate") == 2, out[-2000:]
    finally:
        restore()
    assert "Nothing to be done" in dry(repo)

