"""The OpenAI-compatible HTTP client: bounded concurrency, retries, cache, API key handling.

Every request goes through the official ``openai`` package (``AsyncOpenAI``), so the OpenAI
API, vLLM and llama.cpp servers are one code path. The client's own retries are switched off
(``max_retries=0``) and replaced by ours, so that what is retried is explicit:

* retried with exponential backoff and full jitter (``base * 2**attempt``, capped at ``cap``
  seconds, times a uniform factor in [0.5, 1]): HTTP 408, 409, 429, any 5xx, timeouts,
  connection errors, and a 2xx whose body is not valid JSON (a broken proxy/server answer);
  after ``max_retries`` retries the last error is raised;
* any other 4xx is the caller's fault (bad model name, bad parameter, bad key): it fails at
  once with the server's message.

The API key is read only from the environment variable the config names
(:func:`resolve_api_key`); it is handed to the ``openai`` client and nowhere else (not to the
cache, the logs or the sidecar). A missing variable raises :class:`LLMConfigError` naming it.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
from dataclasses import asdict, dataclass

from synthrisk.llm.cache import ResponseCache, cache_key

#: request fields the openai client takes as keyword arguments; the rest go to extra_body
_CHAT_FIELDS = {"model", "messages", "temperature", "top_p", "max_tokens", "seed", "response_format", "stop", "n"}
_COMPLETION_FIELDS = {"model", "prompt", "temperature", "top_p", "max_tokens", "seed", "stop", "n"}
#: placeholder key for servers that need none (the openai client insists on a string)
NO_KEY = "not-needed"


class LLMError(RuntimeError):
    """A request failed for good (retries spent)."""


class LLMConfigError(LLMError):
    """The generator is misconfigured (missing API key, server file, ...)."""


class LLMRequestError(LLMError):
    """The server rejected the request as the caller's fault (a 4xx other than 408/409/429)."""


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: how common API keys begin (OpenAI, Anthropic, Hugging Face, GitHub, Groq, xAI, AWS, Google, ...)
_KEY_PREFIXES = ("sk-", "sk_", "hf_", "ghp_", "gho_", "github_pat_", "gsk_", "xai-", "AKIA", "ASIA", "AIza",
                 "pk-", "pk_", "rk_", "sess-", "nvapi-", "pplx-")


def looks_like_secret(value: str) -> bool:
    """True when an ``api_key_env`` value looks like a key rather than a variable name: it is no
    valid variable name, starts like a known key, or is long and random-looking."""
    v = str(value)
    if not _ENV_NAME.match(v) or v.startswith(_KEY_PREFIXES):
        return True
    digits = sum(ch.isdigit() for ch in v)
    mixed = any(ch.islower() for ch in v) and any(ch.isupper() for ch in v)
    return len(v) >= 32 and digits >= 4 or len(v) >= 20 and digits >= 4 and mixed


def check_key_env(api_key_env, where: str = "api_key_env") -> None:
    """Raise :class:`LLMConfigError` (never showing the value) when ``api_key_env`` looks like
    the key itself was pasted instead of the name of the variable that holds it."""
    if api_key_env is None or api_key_env == "auto":
        return
    if not isinstance(api_key_env, str) or looks_like_secret(api_key_env):
        n = len(str(api_key_env))
        raise LLMConfigError(
            f"{where}: the value ({n} characters, not shown) looks like an API key, not the name of an "
            f"environment variable; put the key in a variable (export MY_API_KEY=...) and write its name "
            f"here (e.g. api_key_env: OPENAI_API_KEY); if the key was committed or shared, revoke it"
        )


def resolve_api_key(api_key_env: str | None) -> str:
    """The key from ``$api_key_env``; :data:`NO_KEY` when ``api_key_env`` is None."""
    if api_key_env is None:
        return NO_KEY
    check_key_env(api_key_env)
    key = os.environ.get(api_key_env, "")
    if not key.strip():
        raise LLMConfigError(
            f"llm_icl: environment variable {api_key_env} is not set (or empty); it must hold the API key "
            f"(set api_key_env: null in the generator's params for a server that needs no key)"
        )
    return key


@dataclass
class Answer:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False


def _transient(exc: BaseException) -> bool:
    import openai  # here: the plan imports this module, and openai takes ~0.6 s

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, asyncio.TimeoutError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    if isinstance(exc, (openai.APIResponseValidationError, json.JSONDecodeError)):  # 2xx with a broken body
        return True
    return False


def _server_message(exc: BaseException) -> str:
    import openai  # here: the plan imports this module, and openai takes ~0.6 s

    if isinstance(exc, openai.APIStatusError):
        body = exc.body if exc.body is not None else exc.response.text
        return f"HTTP {exc.status_code}: {body}"
    return f"{type(exc).__name__}: {exc}"


class LLMClient:
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str,
        backend: str = "openai",
        max_concurrency: int = 8,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        timeout: float = 600.0,
        cache: ResponseCache | None = None,
    ):
        self.model = model
        self.backend = backend
        self.max_retries = int(max_retries)
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)
        self.cache = cache or ResponseCache(None, backend)
        self._client_args = dict(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._max_concurrency = max(1, int(max_concurrency))
        self._jitter = random.Random()  # jitter only spaces retries out; it never affects results
        self.http_requests = 0  # attempts sent over HTTP, retries included
        self.retries = 0
        self.retry_reasons: dict[str, int] = {}

    async def run_all(self, jobs: list[tuple[str, dict, int]], on_done=None) -> list[Answer]:
        """Send ``(endpoint, body, sample_index)`` jobs with at most ``max_concurrency`` in
        flight; answers come back in job order. ``endpoint`` is ``chat`` or ``completion``.
        ``on_done(position, answer)`` is called as each answer arrives (for progress bars)."""
        import openai  # here: the plan imports this module, and openai takes ~0.6 s

        sem = asyncio.Semaphore(self._max_concurrency)
        async with openai.AsyncOpenAI(**self._client_args) as client:

            async def one(pos, job):
                async with sem:
                    ans = await self.request(client, *job)
                if on_done is not None:
                    on_done(pos, ans)
                return ans

            return list(await asyncio.gather(*(one(i, j) for i, j in enumerate(jobs))))

    async def request(self, client, endpoint: str, body: dict, sample_index: int) -> Answer:
        import openai  # here: the plan imports this module, and openai takes ~0.6 s

        key = cache_key(self.backend, self.model, endpoint, body, sample_index)
        hit = self.cache.get(key)
        if hit is not None:
            return Answer(**{**hit, "cached": True})
        attempt = 0
        while True:
            try:
                self.http_requests += 1
                answer = await self._send(client, endpoint, body)
                break
            except Exception as exc:  # noqa: BLE001 - classified below
                if not _transient(exc):
                    if isinstance(exc, openai.APIStatusError):
                        raise LLMRequestError(f"llm_icl: request rejected by the server ({_server_message(exc)})") from None
                    raise
                if attempt >= self.max_retries:
                    raise LLMError(
                        f"llm_icl: giving up after {attempt + 1} attempts; last error: {_server_message(exc)}"
                    ) from None
                why = str(exc.status_code) if isinstance(exc, openai.APIStatusError) else type(exc).__name__
                self.retry_reasons[why] = self.retry_reasons.get(why, 0) + 1
                self.retries += 1
                delay = min(self.backoff_cap, self.backoff_base * 2**attempt) * self._jitter.uniform(0.5, 1.0)
                attempt += 1
                await asyncio.sleep(delay)
        stored = asdict(answer)
        stored.pop("cached")
        self.cache.put(key, stored)
        return answer

    async def _send(self, client, endpoint: str, body: dict) -> Answer:
        fields = _CHAT_FIELDS if endpoint == "chat" else _COMPLETION_FIELDS
        kwargs = {k: v for k, v in body.items() if k in fields}
        extra = {k: v for k, v in body.items() if k not in fields}
        if extra:
            kwargs["extra_body"] = extra
        if endpoint == "chat":
            resp = await client.chat.completions.create(**kwargs)
            choice = resp.choices[0]
            text = choice.message.content or ""
        elif endpoint == "completion":
            resp = await client.completions.create(**kwargs)
            choice = resp.choices[0]
            text = choice.text or ""
        else:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        usage = resp.usage
        return Answer(
            text=text,
            finish_reason=choice.finish_reason,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )
