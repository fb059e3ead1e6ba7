"""OpenML tables by id: a small client of OpenML's REST API on ``urllib``, and the local cache.

Why our own client and not ``sklearn.datasets.fetch_openml``: scikit-learn (1.9.1) hard-codes
the API's host in private module constants (``_DATA_INFO = "https://www.openml.org/api/v1/json/
data/{}"``, ``_DATA_FEATURES``, ``_DATA_QUALITIES``) and has no supported way to point it at
another server, so its OpenML path could only be tested by patching private names or with the
internet. This client speaks the same four requests that ``fetch_openml`` makes, against a base
URL that is one environment variable:

* ``GET {base}api/v1/json/data/{id}``: the description (``data_set_description``): ``name``,
  ``version``, ``format`` (dense ``arff`` only), ``url`` of the data file, its ``md5_checksum``,
  ``default_target_attribute``, ``status``;
* ``GET {base}api/v1/json/data/features/{id}``: the columns in file order, their ``data_type``
  (``numeric``, ``nominal`` with ``nominal_value``, ``string``, ``date``) and the
  ``is_ignore``/``is_row_identifier`` flags (such columns are dropped, as ``fetch_openml`` does);
* ``GET {base}api/v1/json/data/qualities/{id}``: ``NumberOfInstances``, checked against the
  parsed row count (skipped when OpenML has not computed it); the columns are checked against
  the features, name by name;
* ``GET`` the description's ``url`` (``.../data/v1/download/{file_id}/{name}.arff``): the ARFF
  file, gzip-encoded when the server offers it; its md5 must match the description's.

``base`` is ``$SYNTHRISK_OPENML_URL`` when set (a mirror, or the tests' local server), else
``https://www.openml.org/``. The data file is downloaded from the URL the description gives,
as OpenML defines it.

The cache: ``<cache_dir>/openml_<id>.parquet`` (``cache_dir`` a dataset key, default
``resources/openml``), written atomically, with the default target and the description's
name, version and md5 in the parquet metadata. A cached table is never fetched again.
``python -m synthrisk.openml fetch CONFIG`` (``make fetch-study-data``) fills the cache for every
``openml`` dataset of a config.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd

from synthrisk.datasets import DatasetError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://www.openml.org/"
ENV_URL = "SYNTHRISK_OPENML_URL"
DEFAULT_CACHE = "resources/openml"
FETCH_COMMAND = "make fetch-study-data"
TIMEOUT_S = 60.0
RETRIES = 2  # extra attempts after a network error or a 5xx; a 4xx answer is final


class OpenMLError(DatasetError):
    """OpenML answered, but not with a usable table (unknown id, sparse format, bad checksum...)."""


class OpenMLUnreachable(DatasetError):
    """The OpenML server could not be reached (offline, DNS, refused, timeout)."""


def base_url() -> str:
    url = os.environ.get(ENV_URL) or DEFAULT_URL
    return url if url.endswith("/") else url + "/"


def cache_path(spec: dict, root: str | Path | None = None) -> Path:
    folder = Path(spec.get("cache_dir") or DEFAULT_CACHE)
    if root is not None and not folder.is_absolute():
        folder = Path(root) / folder
    return folder / f"openml_{int(spec['id'])}.parquet"


# ------------------------------------------------------------------- HTTP
def _get(url: str, what: str, retries: int = RETRIES, timeout: float = TIMEOUT_S) -> bytes:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", "User-Agent": "synthrisk"})
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body, encoding = resp.read(), resp.headers.get("Content-Encoding", "")
            break
        except urllib.error.HTTPError as e:
            if e.code < 500 or attempt == retries:
                raise OpenMLError(f"{what}: {url} answered HTTP {e.code}: {_openml_message(e)}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:  # refused, DNS, timeout, cut off
            if attempt == retries:
                reason = getattr(e, "reason", e)
                raise OpenMLUnreachable(f"{what}: cannot reach {url} ({type(e).__name__}: {reason})") from None
        time.sleep(0.5 * 2 ** attempt)
    if encoding == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as e:
            raise OpenMLError(f"{what}: {url} sent a gzip body that does not decompress ({e})") from None
    return body


def _openml_message(e: urllib.error.HTTPError) -> str:
    """OpenML's own error text (``{"error": {"code": "111", "message": "Unknown dataset"}}``)."""
    try:
        body = json.loads(e.read().decode("utf-8", "replace"))
        err = body.get("error", body)
        return f"{err.get('message', '?')} (OpenML code {err.get('code', '?')})"
    except (ValueError, AttributeError):
        return str(e.reason)


def _json(url: str, what: str, key: str) -> dict:
    body = _get(url, what)
    try:
        return json.loads(body.decode("utf-8"))[key]
    except (ValueError, KeyError, TypeError) as e:
        raise OpenMLError(f"{what}: {url} did not return OpenML JSON with {key!r} ({type(e).__name__}: {e})") from None


def _listed(obj: dict, key: str, what: str) -> list[dict]:
    """``obj[key]`` as a list (OpenML's JSON, converted from XML, gives a lone item as a dict)."""
    items = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(items, dict):
        return [items]
    if not isinstance(items, list):
        raise OpenMLError(f"{what}: OpenML's answer has no list {key!r}")
    return items


def _true(v) -> bool:
    return str(v).lower() == "true"


# ------------------------------------------------------------------- fetch
def fetch(data_id: int, base: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Download one table: (frame, metadata). Raises :class:`OpenMLUnreachable` when offline and
    :class:`OpenMLError` when OpenML's answer is unusable; both name the id."""
    base = base or base_url()
    base = base if base.endswith("/") else base + "/"
    what = f"OpenML id {data_id}"
    desc = _json(f"{base}api/v1/json/data/{data_id}", f"{what} (description)", "data_set_description")
    fmt = str(desc.get("format", "")).lower()
    if fmt != "arff":
        raise OpenMLError(f"{what}: format {desc.get('format')!r} is not supported (dense ARFF only)")
    if desc.get("status", "active") != "active":
        log.warning("%s (%s) has status %r on OpenML", what, desc.get("name"), desc.get("status"))
    feats = _listed(_json(f"{base}api/v1/json/data/features/{data_id}", f"{what} (features)", "data_features"),
                    "feature", what)
    feats = sorted(feats, key=lambda f: int(f["index"]))
    qualities = _qualities(base, data_id, what)
    url = desc.get("url")
    if not url:
        raise OpenMLError(f"{what}: the description has no data file 'url'")
    raw = _get(url, f"{what} (data file)")
    md5 = hashlib.md5(raw).hexdigest()
    if desc.get("md5_checksum") and md5 != desc["md5_checksum"]:
        raise OpenMLError(f"{what}: the data file {url} has md5 {md5}, the description says {desc['md5_checksum']} "
                          f"(a truncated or changed download)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise OpenMLError(f"{what}: the data file {url} is not UTF-8 (byte {e.start})") from None
    df = parse_arff(text, what=f"{what} ({url})")
    names = [f["name"] for f in feats]
    if list(df.columns) != names:
        raise OpenMLError(f"{what}: the data file's columns {list(df.columns)} differ from the features {names}")
    if qualities.get("NumberOfInstances") is not None and int(qualities["NumberOfInstances"]) != len(df):
        raise OpenMLError(f"{what}: parsed {len(df)} rows, OpenML's qualities say "
                          f"{int(qualities['NumberOfInstances'])}")
    target = default_target(desc, feats, what)
    ignored = [f["name"] for f in feats
               if (_true(f.get("is_ignore")) or _true(f.get("is_row_identifier"))) and f["name"] not in target.split(",")]
    df = df.drop(columns=ignored)
    meta = {"default_target": target, "openml_id": str(data_id), "openml_name": str(desc.get("name", "")),
            "openml_version": str(desc.get("version", "")), "openml_md5_checksum": md5,
            "openml_ignored": ",".join(ignored), "openml_url": url}
    return df, meta


def default_target(desc: dict, feats: list[dict], what: str) -> str:
    """The default target: the description's ``default_target_attribute``, which the features
    must mark ``is_target``. Where they disagree the features win, as in scikit-learn's
    ``fetch_openml`` (OpenML's own note: the features are the more reliable, openml/OpenML#768),
    with a warning; several targets are kept comma-separated (``target: default`` then asks
    for one). ``""``: none."""
    described = [t.strip() for t in str(desc.get("default_target_attribute") or "").split(",") if t.strip()]
    marked = [f["name"] for f in feats if _true(f.get("is_target"))]
    if marked and described and marked != described:
        log.warning("%s: the description's default target %s differs from the features' is_target %s; "
                    "using the features'", what, described, marked)
    return ",".join(marked or described)


def _qualities(base: str, data_id: int, what: str) -> dict:
    try:
        q = _json(f"{base}api/v1/json/data/qualities/{data_id}", f"{what} (qualities)", "data_qualities")
        items = _listed(q, "quality", what)
    except OpenMLError as e:  # not computed for every dataset (OpenML answers 412): no check
        log.info("%s; row and column counts not cross-checked", e)
        return {}
    out = {}
    for item in items:
        if item.get("name") == "NumberOfInstances" and item.get("value") not in (None, ""):
            out[item["name"]] = float(item["value"])
    return out


def write_cache(df: pd.DataFrame, meta: dict, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthrisk.io import atomic_path

    table = pa.Table.from_pandas(df, preserve_index=False)
    schema_meta = {**(table.schema.metadata or {}), **{k.encode(): str(v).encode() for k, v in meta.items()}}
    with atomic_path(path) as tmp:  # a killed fetch never leaves a truncated cache entry
        pq.write_table(table.replace_schema_metadata(schema_meta), tmp)


def read_meta(path: Path) -> dict:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in meta.items() if k != b"pandas"}


def not_cached_message(entries: list[tuple[str, int]], cache_dir: str) -> str:
    ids = ", ".join(f"{name} (id {i})" for name, i in entries)
    return (f"OpenML table(s) not cached under {cache_dir}/, still to fetch: {ids}. Fetch them once with "
            f"network: `{FETCH_COMMAND}` (the study config), or `python -m synthrisk.openml fetch CONFIG`")


def load(name: str, spec: dict) -> pd.DataFrame:
    """The loader of ``source: openml``: the cached table, else fetched and cached."""
    path = cache_path(spec)
    data_id = int(spec["id"])
    if path.exists():
        try:
            df = pd.read_parquet(path)
            df.attrs["default_target"] = read_meta(path).get("default_target", "")
        except Exception as e:  # pyarrow's errors: not a parquet file, truncated
            raise DatasetError(f"dataset {name!r}: the OpenML cache file {str(path)!r} is not readable "
                               f"({type(e).__name__}: {e}); delete it and fetch again") from None
        return df
    try:
        df, meta = fetch(data_id)
    except OpenMLUnreachable as e:
        raise DatasetError(f"dataset {name!r}: {e}.\n{not_cached_message([(name, data_id)], str(path.parent))}"
                           ) from None
    except OpenMLError as e:
        raise DatasetError(f"dataset {name!r}: {e}") from None
    write_cache(df, meta, path)
    log.info("%s: OpenML id %d fetched (%d rows x %d columns) and cached at %s", name, data_id, *df.shape, path)
    df.attrs["default_target"] = meta["default_target"]
    return df


# ------------------------------------------------------------------- ARFF
_ATTR = re.compile(r"@attribute\s+('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)\s+(.*)$", re.IGNORECASE)
_FIELD = re.compile(r"""\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^,'"]*?))\s*(,|$)""")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s)


def _unquote(tok: str) -> str:
    tok = tok.strip()
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in "'\"":
        return _unescape(tok[1:-1])
    return tok


def split_row(line: str) -> list[tuple[str, bool]]:
    """One ARFF data row: its values and whether each was quoted (``'?'`` is a value, ``?``
    missing). Raises ``ValueError`` on an unbalanced quote."""
    out, pos, n = [], 0, len(line)
    while True:
        m = _FIELD.match(line, pos)
        if m is None:
            raise ValueError(f"cannot split at character {pos + 1}: {line[pos:pos + 30]!r}")
        single, double, bare, sep = m.groups()
        if single is not None or double is not None:
            out.append((_unescape(single if single is not None else double), True))
        else:
            out.append((bare, False))
        pos = m.end()
        if sep == "":
            if pos < n:
                raise ValueError(f"cannot split at character {pos + 1}: {line[pos:pos + 30]!r}")
            return out


def _nominal_levels(spec: str) -> list[str]:
    inner = spec.strip()[1:-1]
    return [v for v, _ in split_row(inner)] if inner.strip() else []


def parse_arff(text: str, what: str = "ARFF") -> pd.DataFrame:
    """A dense ARFF file as a frame: ``numeric``/``real``/``integer`` columns numeric (``int64``
    when every value is an integer and none is missing), nominal columns categorical with their
    declared levels, ``string`` and ``date`` columns as text; ``?`` is missing. Sparse rows and
    relational attributes are errors; so are a row of the wrong width, a non-number in a numeric
    column and an undeclared nominal value, each naming the line."""
    attrs: list[tuple[str, str, list[str] | None]] = []
    lines = text.splitlines()
    i = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or s.startswith("%"):
            continue
        low = s.lower()
        if low.startswith("@relation"):
            continue
        if low.startswith("@attribute"):
            m = _ATTR.match(s)
            if not m:
                raise OpenMLError(f"{what}: line {i + 1}: cannot read the attribute {s[:80]!r}")
            name, typ = _unquote(m.group(1)), m.group(2).strip()
            if typ.startswith("{"):
                if not typ.endswith("}"):
                    raise OpenMLError(f"{what}: line {i + 1}: unterminated nominal levels of {name!r}")
                attrs.append((name, "nominal", _nominal_levels(typ)))
            else:
                kind = typ.split()[0].lower()
                if kind in ("numeric", "real", "integer"):
                    attrs.append((name, "numeric", None))
                elif kind in ("string", "date"):
                    attrs.append((name, kind, None))
                else:
                    raise OpenMLError(f"{what}: line {i + 1}: attribute {name!r} has unsupported type {typ!r}")
            continue
        if low.startswith("@data"):
            break
        raise OpenMLError(f"{what}: line {i + 1}: unexpected header line {s[:80]!r}")
    else:
        raise OpenMLError(f"{what}: no @data section")
    if not attrs:
        raise OpenMLError(f"{what}: no @attribute lines")
    width = len(attrs)
    cols: list[list] = [[] for _ in attrs]
    for j in range(i + 1, len(lines)):
        s = lines[j].strip()
        if not s or s.startswith("%"):
            continue
        if s.startswith("{"):
            raise OpenMLError(f"{what}: line {j + 1}: sparse ARFF rows are not supported")
        try:
            vals = split_row(s)
        except ValueError as e:
            raise OpenMLError(f"{what}: line {j + 1}: {e}") from None
        if len(vals) != width:
            raise OpenMLError(f"{what}: line {j + 1} has {len(vals)} values, the header declares {width} attributes")
        for c, (v, quoted) in zip(cols, vals):
            c.append(None if (v == "?" and not quoted) else v)
    data = {}
    for (name, kind, levels), values in zip(attrs, cols):
        if kind == "numeric":
            s = pd.Series(values, dtype=object)
            num = pd.to_numeric(s, errors="coerce")
            bad = s.notna() & num.isna()
            if bad.any():
                k = int(bad.idxmax())
                raise OpenMLError(f"{what}: numeric attribute {name!r} holds {s[k]!r} ({int(bad.sum())} such value(s))")
            data[name] = num
        elif kind == "nominal":
            present = {v for v in values if v is not None}
            undeclared = sorted(present - set(levels))
            if undeclared:
                raise OpenMLError(f"{what}: nominal attribute {name!r} holds undeclared value(s) {undeclared[:5]}; "
                                  f"declared: {levels[:20]}")
            data[name] = pd.Categorical(values, categories=list(dict.fromkeys(levels)))
        else:
            data[name] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)


# ------------------------------------------------------------------- CLI
def openml_entries(config: dict) -> list[tuple[str, dict]]:
    return [(name, spec) for name, spec in (config.get("datasets") or {}).items()
            if (spec or {}).get("source") == "openml"]


def fetch_config(config_path: str, out=sys.stdout) -> int:
    """Fetch every ``openml`` dataset of a config into its cache, skipping cached ones. Returns
    the number still to fetch (0: all cached)."""
    import yaml

    config = yaml.safe_load(Path(config_path).read_text()) or {}
    entries = openml_entries(config)
    if not entries:
        print(f"{config_path}: no openml datasets", file=out)
        return 0
    print(f"{config_path}: {len(entries)} OpenML table(s); server {base_url()}", file=out, flush=True)
    failed: list[tuple[str, int]] = []
    for k, (name, spec) in enumerate(entries, 1):
        if "id" not in spec:
            raise DatasetError(f"dataset {name!r} (source 'openml') needs key 'id'")
        path, data_id = cache_path(spec), int(spec["id"])
        head = f"[{k}/{len(entries)}] {name} (OpenML id {data_id})"
        if path.exists():
            print(f"{head}: cached at {path}", file=out, flush=True)
            continue
        t0 = time.perf_counter()
        try:
            df, meta = fetch(data_id)
        except DatasetError as e:
            print(f"{head}: FAILED: {e}", file=out, flush=True)
            failed.append((name, data_id))
            continue
        write_cache(df, meta, path)
        print(f"{head}: fetched {len(df)} rows x {df.shape[1]} columns (target {meta['default_target']!r}) in "
              f"{time.perf_counter() - t0:.1f} s -> {path}", file=out, flush=True)
    if failed:
        print(f"{len(failed)} of {len(entries)} not fetched: " + ", ".join(f"{n} (id {i})" for n, i in failed),
              file=out)
    else:
        print(f"all {len(entries)} OpenML tables cached", file=out)
    return len(failed)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m synthrisk.openml",
                                 description="Fetch and cache the OpenML tables of a synthrisk config.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch every openml dataset of CONFIG into its cache (skips cached ones)")
    f.add_argument("config", help="a synthrisk config, e.g. config/study.yaml")
    args = ap.parse_args(argv)
    try:
        return 1 if fetch_config(args.config) else 0
    except (DatasetError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
