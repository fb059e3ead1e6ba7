"""Content-addressed on-disk cache of LLM responses.

Key: SHA-256 of the canonical JSON of ``{backend, model, endpoint, body, sample_index}``
where ``body`` is the full request body (messages or prompt, sampling params, grammar,
response_format, per-request seed). The API key and the base URL are not part of the key
(the key never reaches this module). One JSON file per response, under
``<cache_dir>/<backend>/<key[:2]>/<key>.json`` (files rather than sqlite: concurrent workflow
jobs can share the folder without locking; writes are atomic via rename).

Only successful HTTP responses are stored; an answer that fails to parse is still a success
at this level (re-sending it would just pay again for the same kind of answer).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from synthrisk.paths import LLM_CACHE_DIR

DEFAULT_DIR = LLM_CACHE_DIR


def cache_key(backend: str, model: str, endpoint: str, body: dict, sample_index: int) -> str:
    blob = json.dumps(
        {"backend": backend, "model": model, "endpoint": endpoint, "body": body, "sample_index": int(sample_index)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, root: str | os.PathLike | None = DEFAULT_DIR, backend: str = "openai"):
        self.root = Path(root) if root else None
        self.backend = backend
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / self.backend / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if self.root is None:
            self.misses += 1
            return None
        p = self._path(key)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return data["response"]

    def put(self, key: str, response: dict) -> None:
        if self.root is None:
            return
        p = self._path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "response": response}, f, sort_keys=True)
        os.replace(tmp, p)
