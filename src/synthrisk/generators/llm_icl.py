"""``llm_icl``: in-context generation with an LLM behind an OpenAI-compatible API.

One kind for the study's models (GPT-4o-mini on the OpenAI API, LLaMA 3.3 70B on vLLM) and the
local default (Gemma 3 270M on llama.cpp). ``fit`` only stores the member rows (the seed rows)
and checks the connection; ``sample(k)`` runs rounds of prompts until ``k`` valid rows are
collected (or ``max_rounds`` is spent, which raises), then cuts to exactly ``k``.

Params (defaults are the study's where it had one):

* ``model``: the model name sent to the server (default: the server file's model);
* ``base_url``: ``null`` = the OpenAI API; ``server`` (a name in ``llm_servers``: the server file
  ``results/llm/servers/<name>.json``) or ``server_file`` (a path) take precedence over it;
* ``api_key_env``: env variable holding the key; ``null`` = none needed; default ``auto`` =
  ``OPENAI_API_KEY`` when no base_url/server is given, else none;
* ``backend``: ``auto`` (server file's kind; ``openai`` without base_url; ``compatible``
  otherwise, which sends llama.cpp-style grammars), or ``openai``/``llama_cpp``/``vllm``/``compatible``;
* ``batch_size``: int or ``all`` (seed rows per prompt = rows asked per prompt); ``temperature``
  (1.0), ``top_p`` (null: server default), ``max_tokens`` (null: one token per character of
  the rows asked for, +8 per row, + the header, +64: a cap, generous because some tokenizers,
  Gemma's among them, spend one token per digit; llama.cpp clips it to its context), ``seed`` (null: drawn from the run's rng;
  each request gets ``seed + its index`` so repeated prompts differ but reruns are identical);
* ``summary_stats`` (true): add per-column statistics to chat prompts, computed on the rows
  that prompt carries (its chunk), as the study did;
* ``max_concurrency`` (8): requests in flight; ``prompt_style``: ``chat`` | ``completion``;
* ``prompt`` (chat style): ``study`` (default: the study's single user message) | ``guarded``
  (our earlier system + user prompt, which tells the model not to copy); see
  :mod:`synthrisk.llm.prompt`. Checked when the generator is built, before any request;
* ``no_copy``: add the explicit instruction "Do not copy the example rows." to the chat prompt;
  ``null`` (default) = the prompt's own choice (false for ``study``, true for ``guarded``); a
  factor the mitigation study can vary (``factorial: {no_copy: [false, true]}``). Chat only;
* ``constrained``: ``none`` | ``grammar`` (GBNF; llama.cpp, vLLM) | ``json_schema`` (chat only);
* ``json_mode``: ``auto`` (ask ``response_format: json_object`` for unconstrained chat prompts
  on every backend but llama_cpp, where it ran at ~5 tok/s and did not help) | true | false;
* ``max_rounds`` (20): the re-prompt budget, in rounds; each round sends
  ``ceil(missing rows / rows per prompt)`` prompts, cycling over the chunks;
* ``new_level_policy``: ``reject`` | ``casefold`` | ``nearest`` (see :mod:`synthrisk.llm.parse`);
* ``prices``: ``{model: {input: USD per 1M tokens, output: USD per 1M tokens}}`` (or one such
  pair), ``price_key`` (default ``model``); ``cache_dir`` (``results/cache/llm``; null: off);
* ``request_timeout`` (600 s), ``max_retries`` (6), ``retry_backoff`` (1 s: the first retry's
  delay, doubling up to 60 s), ``server_wait`` (1800 s: how long to wait
  for a server file to become ready).

* ``seed_rows``: ``examples`` (default) | ``none``: the contamination control, prompts with no
  seed row at all (schema, and the members' summary statistics with ``summary_stats: true``),
  ``batch_size`` rows asked per prompt (``all``: n); see :mod:`synthrisk.llm.zero_shot`.

Only valid rows are kept; rows equal to seed rows are kept (the privacy stage measures copying).
"""
from __future__ import annotations

import asyncio
import copy
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.io import child_seed
from synthrisk.llm import grammar as G
from synthrisk.llm.cache import DEFAULT_DIR, ResponseCache
from synthrisk.llm.client import LLMClient, LLMConfigError, LLMError, check_key_env, resolve_api_key
from synthrisk.llm import exposure, zero_shot
from synthrisk.llm.parse import POLICIES, parse_answer
from synthrisk.llm.prompt import (
    PROMPTS, TEMPLATES, chat_messages, completion_prompt, make_chunks, prompt_columns, resolve_no_copy, rows_per_prompt, to_csv,
)
from synthrisk.params import Param, ParamError, at_least
from synthrisk.schema import TableSchema

BACKENDS = ("openai", "llama_cpp", "vllm", "compatible")
_S, _N = (str, type(None)), type(None)
_pos = at_least(1)
PARAMS = {
    "model": Param(None, "model name (default: the server file's)", _S),
    "base_url": Param(None, "OpenAI-compatible endpoint (null: the OpenAI API or the server's)", _S),
    "api_key_env": Param("auto", "environment variable holding the API key; null: none; auto: OPENAI_API_KEY "
                         "for the OpenAI API", _S),
    "backend": Param("auto", "request dialect", choices=("auto",) + BACKENDS),
    "server": Param(None, "name of an llm_servers entry this generator's jobs use", _S),
    "server_file": Param(None, "the server file of this job (set by the workflow)", _S),
    "batch_size": Param("all", "seed rows per prompt (and rows asked per prompt); all: every seed row", int,
                        choices=("all",), check=_pos),
    "temperature": Param(1.0, "sampling temperature"),
    "top_p": Param(None, "nucleus sampling", (float, int, _N)),
    "max_tokens": Param(None, "token cap per answer", (int, _N)),
    "seed": Param(None, "request seed (where the server supports it)", (int, _N)),
    "summary_stats": Param(True, "put the chunk's summary statistics into the prompt"),
    "max_concurrency": Param(8, "requests in flight", check=_pos),
    "prompt_style": Param("chat", "chat messages or a completion prompt", choices=("chat", "completion")),
    "prompt": Param("study", "prompt template (src/synthrisk/resources/prompt_<name>.txt)", choices=PROMPTS),
    "no_copy": Param(None, "add (true) or remove (false) the 'Do not copy' sentence; null: the prompt's default",
                     (bool, _N)),
    "constrained": Param("none", "constrained decoding", choices=("none", "grammar", "json_schema")),
    "json_mode": Param("auto", "ask for a JSON answer", choices=("auto", True, False)),
    "max_rounds": Param(20, "prompt rounds before giving up on n valid rows", check=_pos),
    "new_level_policy": Param("reject", "what to do with a categorical level the members lack", choices=POLICIES),
    "prices": Param(None, "USD per million tokens: {model: {input: x, output: y}}", (dict, _N)),
    "price_key": Param(None, "the prices entry to use (default: the model name)", _S),
    "cache_dir": Param(DEFAULT_DIR, "content-addressed response cache (null: off)", _S),
    "request_timeout": Param(600.0, "seconds per request"),
    "max_retries": Param(6, "retries on 429/5xx/timeouts", check=at_least(0)),
    "retry_backoff": Param(1.0, "first backoff in seconds (doubles, with jitter)"),
    "server_wait": Param(1800.0, "seconds to wait for the server to answer"),
    "seed_rows": Param("examples", "examples: seed rows in every prompt; none: the contamination control, no "
                       "example row (schema and optional statistics only)", choices=("examples", "none")),
    "constraints_in_prompt": Param(False, "state the dataset's row constraints (datasets.<name>.constraints) in "
                                   "the prompt (a factor the factorial can vary)", bool),
}
DEFAULTS = {k: p.default for k, p in PARAMS.items()}


def _server_path(p: dict) -> Path | None:
    from synthrisk.llm.server import SERVER_DIR

    if p.get("server_file"):
        return Path(p["server_file"])
    if p.get("server"):
        return Path(SERVER_DIR) / f"{p['server']}.json"
    return None


def _key_env(p: dict) -> str | None:
    env = p.get("api_key_env", "auto")
    if env == "auto":
        return "OPENAI_API_KEY" if (p.get("base_url") is None and _server_path(p) is None) else None
    return env


class LLMICLGenerator(Generator):
    kind = "llm_icl"
    deterministic = False  # instances: True at temperature 0 or when every answer came from the cache

    PARAMS = PARAMS
    RESOURCE_FILES = (*(f"synthrisk/resources/{TEMPLATES[name]}" for name in PROMPTS),
                      f"synthrisk/resources/{zero_shot.TEMPLATE}")

    @classmethod
    def check_params(cls, params: dict | None, where: str) -> dict:
        p = super().check_params(params, where)
        if p["no_copy"] is True and p["prompt_style"] != "chat":
            raise ParamError(f"{where}.no_copy: true needs prompt_style: chat (the completion prompt has no instructions)")
        if p["constrained"] == "json_schema" and p["prompt_style"] != "chat":
            raise ParamError(f"{where}.constrained: json_schema needs prompt_style: chat")
        return p

    @classmethod
    def uses_constraints(cls, params: dict) -> bool:
        return bool(params.get("constraints_in_prompt", False))

    def __init__(self, **params):
        p = self.checked(params)
        self.no_copy = resolve_no_copy(p["prompt"], p["no_copy"])
        check_key_env(p["api_key_env"], "llm_icl: params.api_key_env")
        self.p = p
        self.deterministic = float(p["temperature"]) == 0.0
        self._info: dict = {}

    @classmethod
    def unavailable(cls, params: dict, config: dict | None = None) -> str | None:
        """The API key is missing, or the named server (``params.server`` in ``llm_servers``)
        cannot start here (llama-cpp-python / the model package / vLLM not installed)."""
        server = (params or {}).get("server")
        if server and config is not None:
            from synthrisk.llm.server import unavailable as server_unavailable

            spec = (config.get("llm_servers") or {}).get(server)
            if spec is None:
                return f"server {server!r} is not defined under llm_servers"
            reason = server_unavailable(spec)
            if reason:
                return f"server {server!r}: {reason}"
        env = _key_env({**DEFAULTS, **(params or {})})
        check_key_env(env, "params.api_key_env")  # a pasted key is an error, never a printed reason
        try:
            resolve_api_key(env)
        except LLMConfigError:
            return f"environment variable {env} (the API key) is not set"
        return None

    # ------------------------------------------------------------------ connection
    def _connect(self) -> None:
        p = self.p
        api_key = resolve_api_key(_key_env(p))  # fails before any prompt, naming the variable
        path = _server_path(p)
        backend, base_url, model = p["backend"], p["base_url"], p["model"]
        if path is not None:
            from synthrisk.llm.server import wait_for_server

            info = wait_for_server(path, timeout=float(p["server_wait"]))
            base_url = info["base_url"]
            model = model or info.get("model")
            if backend == "auto":
                backend = info.get("kind", "compatible")
        elif base_url and base_url.split("//")[-1].startswith(("127.0.0.1", "localhost")):
            from synthrisk.llm.server import healthy

            if not healthy(base_url):  # a local server must answer before the first prompt
                raise LLMConfigError(f"llm_icl: no server answers at {base_url}/models (is it running on that port?)")
        if backend == "auto":
            backend = "openai" if base_url is None else "compatible"
        if not model:
            raise LLMConfigError("llm_icl: no model given (params.model) and no server file to take it from")
        if p["constrained"] == "grammar" and backend == "openai":
            raise LLMConfigError("llm_icl: constrained: grammar is not available on the OpenAI API; use json_schema")
        self.backend, self.model = backend, model
        self.client = LLMClient(
            model=model, base_url=base_url, api_key=api_key, backend=backend,
            max_concurrency=p["max_concurrency"], max_retries=p["max_retries"], backoff_base=float(p["retry_backoff"]), timeout=float(p["request_timeout"]),
            cache=ResponseCache(p["cache_dir"], backend),
        )

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        self.data, self.schema = data.reset_index(drop=True), schema
        self.dataset = ctx.dataset or schema.name
        # the column order the prompt shows; the parser reads headerless rows in it
        self.order = prompt_columns(schema, self.p["prompt"]) if self.p["prompt_style"] == "chat" else schema.names
        self.rules = []
        if self.p["constraints_in_prompt"]:
            from synthrisk import constraints as C

            self.rules = [C.describe(c) for c in C.row_constraints(C.parse_all(ctx.constraints, schema.name, schema))]
        self._connect()

    # --------------------------------------------------------------------- requests
    def _max_tokens(self, chunk: pd.DataFrame, n_rows: int) -> int:
        if self.p["max_tokens"] is not None:
            return int(self.p["max_tokens"])
        chars = len(to_csv(chunk, self.schema, header=False)) / max(1, len(chunk))
        header = len(",".join(self.schema.names)) if self.p["prompt_style"] == "chat" else 0
        return int(math.ceil(n_rows * (chars + 8))) + header + 64

    def _body(self, chunk: pd.DataFrame, n_rows: int, seed: int) -> tuple[str, dict]:
        p, s = self.p, self.schema
        zero = p["seed_rows"] == "none"  # the contamination control: the chunk sizes the answer, never shown
        body: dict = {"model": self.model, "temperature": float(p["temperature"]), "seed": int(seed),
                      "max_tokens": self._max_tokens(chunk, n_rows)}
        if p["top_p"] is not None:
            body["top_p"] = float(p["top_p"])
        if p["prompt_style"] == "completion":
            body["prompt"] = zero_shot.completion_prompt(s) if zero else completion_prompt(s, chunk, rules=self.rules)
            if p["constrained"] == "grammar":
                body.update(G.grammar_body(G.gbnf(s, n_rows, "csv"), self.backend))
            else:
                body["stop"] = ["\n\n"]
            return "completion", body
        if zero:
            body["messages"] = zero_shot.chat_messages(s, self.dataset, n_rows, self.order,
                                                       self.data if p["summary_stats"] else None)
        else:
            body["messages"] = chat_messages(s, self.dataset, chunk, n_rows, prompt=p["prompt"],
                                             summary_stats=bool(p["summary_stats"]), no_copy=self.no_copy,
                                             members=self.data, rules=self.rules)
        if p["constrained"] == "grammar":
            body.update(G.grammar_body(G.gbnf(s, n_rows, "json", order=self.order), self.backend))
        elif p["constrained"] == "json_schema":
            body["response_format"] = G.response_format(s, self.backend, order=self.order)
        elif p["json_mode"] is True or (p["json_mode"] == "auto" and self.backend != "llama_cpp"):
            body["response_format"] = {"type": "json_object"}
        return "chat", body

    # ----------------------------------------------------------------------- sample
    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        from tqdm import tqdm

        p, t0 = self.p, time.perf_counter()
        shuffle = copy.deepcopy(rng).permutation(len(self.data))  # make_chunks' own first draw: who is where
        chunks = make_chunks(self.data, p["batch_size"], rng)
        prompt_chunks: list[int] = []
        rpp = rows_per_prompt(p["batch_size"], len(self.data))
        base_seed = int(p["seed"]) if p["seed"] is not None else child_seed(rng)
        kept: list[pd.DataFrame] = []
        rejected: Counter = Counter()
        stats = Counter()
        accepted = sent = rounds = 0
        bar = tqdm(total=k, desc=f"llm_icl {self.model} {self.dataset}", unit="row", file=sys.stderr, leave=False)
        try:
            while accepted < k and rounds < int(p["max_rounds"]):
                n_prompts = math.ceil((k - accepted) / rpp)
                jobs = []
                for j in range(sent, sent + n_prompts):
                    endpoint, body = self._body(chunks[j % len(chunks)], rpp, (base_seed + j) % (2**31 - 1))
                    jobs.append((endpoint, body, j))
                    prompt_chunks.append(j % len(chunks))
                results: dict[int, object] = {}

                def on_done(pos, ans, _results=results):
                    res = parse_answer(ans.text, self.schema, truncated=ans.finish_reason == "length",
                                       new_level_policy=p["new_level_policy"], order=self.order)
                    _results[pos] = res
                    bar.update(min(res.accepted, max(0, k - bar.n)))
                    stats["prompt_tokens"] += ans.prompt_tokens
                    stats["completion_tokens"] += ans.completion_tokens
                    stats["cached"] += int(ans.cached)
                    stats["truncated_answers"] += int(ans.finish_reason == "length")

                asyncio.run(self.client.run_all(jobs, on_done))
                for pos in range(len(jobs)):  # job order, not arrival order: deterministic
                    res = results[pos]
                    kept.append(res.rows)
                    accepted += res.accepted
                    rejected.update(res.rejected)
                    stats["candidates"] += res.candidates
                sent += n_prompts
                rounds += 1
        finally:
            bar.close()
        wall = time.perf_counter() - t0
        rows_rejected = sum(v for r, v in rejected.items() if r != "unparseable_response")
        self._info = {
            "backend": self.backend, "model": self.model, "prompt_style": p["prompt_style"],
            "prompt": p["prompt"] if p["prompt_style"] == "chat" else None,
            "no_copy": self.no_copy if p["prompt_style"] == "chat" else None,
            "constrained": p["constrained"], "batch_size": p["batch_size"], "rows_per_prompt": rpp,
            "seed_rows": p["seed_rows"],
            # which member rows each prompt carried, in order (llm/exposure.py); none without seed rows
            "exposure": (exposure.exposure_info(shuffle, len(chunks[0]), prompt_chunks)
                         if p["seed_rows"] == "examples" else {"chunk_rows": [], "prompt_chunks": []}),
            "summary_stats": bool(p["summary_stats"]), "temperature": p["temperature"],
            "prompts_sent": sent, "rounds": rounds, "reprompts": sent - math.ceil(k / rpp),
            "http_requests": self.client.http_requests, "cache_hits": stats["cached"],
            "retries": self.client.retries, "retry_reasons": dict(self.client.retry_reasons),
            "rows_candidates": stats["candidates"], "rows_accepted": accepted, "rows_rejected": rows_rejected,
            "rejected_by_reason": dict(sorted(rejected.items())),
            "acceptance_rate": round(accepted / stats["candidates"], 4) if stats["candidates"] else None,
            "truncated_answers": stats["truncated_answers"],
            "prompt_tokens": stats["prompt_tokens"], "completion_tokens": stats["completion_tokens"],
            "cost_usd": self._cost(stats["prompt_tokens"], stats["completion_tokens"]),
            "wall_seconds": round(wall, 3),
        }
        if sent and stats["cached"] == sent:
            self.deterministic = True
        if accepted < k:
            raise LLMError(
                f"llm_icl: only {accepted} of {k} valid rows after {rounds} rounds ({sent} prompts; "
                f"rejected by reason: {dict(rejected)}); raise max_rounds or check the model's answers"
            )
        if not kept:  # k == 0
            return self.data.iloc[:0].copy()
        return pd.concat(kept, ignore_index=True).iloc[:k].reset_index(drop=True)

    def _cost(self, pt: int, ct: int) -> float | None:
        prices = self.p["prices"]
        if not prices:
            return None
        if "input" not in prices:
            prices = prices.get(self.p["price_key"] or self.model)
            if not prices:
                return None
        return round((pt * float(prices["input"]) + ct * float(prices["output"])) / 1e6, 6)

    def info(self) -> dict:
        return dict(self._info)
