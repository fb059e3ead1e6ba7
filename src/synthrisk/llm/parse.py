"""Robust parsing and validation of LLM answers.

An answer is expected to be ``{"synthetic_data": "<CSV text with header>"}`` (chat style) or
plain CSV lines (completion style), but small and large models alike return variations. This
module accepts, in order of attempts:

1. the whole answer as JSON; ``synthetic_data`` (or the only key) may hold a CSV string, a list
   of row dicts, a list of row lists (optionally starting with the header), or a dict of
   column -> list;
2. the content of a Markdown code fence (```json / ```csv / ```), closed or not;
3. the first JSON object embedded in prose;
4. a ``"synthetic_data": "...`` string that never closes (truncated JSON): its complete lines;
5. otherwise the answer itself as CSV lines.

CSV lines: blank lines and fence lines are skipped; a line equal to the header (case-insensitive,
any column order; it may repeat) sets the column order and is not a row, so cells are always
mapped to columns by name. Rows before any header (or with none) are read in ``order``: the
column order the prompt showed (the ``study`` prompt puts the target last), by default the
schema's. A list of row lists is read the same way (a header row inside it sets the order).
Every other line is a candidate row; it is rejected, and counted by reason, when:

* ``not_a_row``: one cell only (prose, an ellipsis);
* ``wrong_column_count``: more or fewer cells than columns;
* ``missing_column`` / ``extra_column``: a dict row with another key set;
* ``non_numeric`` / ``non_finite``: a numerical cell that is not a finite number;
* ``unknown_level``: a categorical cell that is not a known level under the new-level policy;
* ``truncated``: the last line of an answer cut off by ``max_tokens`` (it may parse, but its
  last value may be cut short, so it is never kept).

An answer with no candidate at all counts once as ``unparseable_response``. Valid rows are
kept as they are: rows equal to seed rows are NEVER dropped (copying is what the privacy stage
measures), and duplicates are kept.

New-level policies (``new_level_policy``): ``reject`` (default) keeps exact levels only (after
trimming spaces/quotes, and ``1.0`` == ``1`` as in :func:`synthrisk.schema.canonical_level`);
``casefold`` also maps a case-insensitive match; ``nearest`` maps any string to the closest
level by :func:`difflib.get_close_matches`-style similarity. Integer columns accept whole or
fractional numbers (the schema's conform rounds them); values outside the member range are
kept (extrapolation is the generator's behaviour to measure).
"""
from __future__ import annotations

import csv
import difflib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from synthrisk.schema import TableSchema, canonical_level

POLICIES = ("reject", "casefold", "nearest")
_FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_SD_STRING = re.compile(r'"synthetic_data"\s*:\s*"((?:[^"\\]|\\.)*)', re.S)


@dataclass
class ParseResult:
    rows: pd.DataFrame
    rejected: Counter = field(default_factory=Counter)
    candidates: int = 0

    @property
    def accepted(self) -> int:
        return len(self.rows)


# ----------------------------------------------------------------- extraction
def _payload_from_json(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if str(k).strip().lower() == "synthetic_data":
                return v
        if len(obj) == 1:
            return next(iter(obj.values()))
        return obj
    return obj


def _try_json(text: str):
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def extract_payload(text: str) -> tuple[object, bool]:
    """(payload, unterminated): payload is a str (CSV), list or dict; ``unterminated`` is True
    when the JSON string holding the CSV never closed (a truncated answer)."""
    t = (text or "").strip()
    ok, obj = _try_json(t)
    if ok and isinstance(obj, (dict, list)):
        return _payload_from_json(obj), False
    for m in _FENCE.finditer(t):
        block = m.group(1).strip()
        ok, obj = _try_json(block)
        if ok and isinstance(obj, (dict, list)):
            return _payload_from_json(obj), False
        if '"synthetic_data"' not in block and block:
            return block, False  # a fenced CSV block
    dec = json.JSONDecoder()
    for i, ch in enumerate(t):
        if ch == "{":
            try:
                obj, _ = dec.raw_decode(t, i)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj:
                return _payload_from_json(obj), False
    m = _SD_STRING.search(t)
    if m:
        body = m.group(1)
        closed = t[m.end(1) : m.end(1) + 1] == '"'
        if body.endswith("\\") and not body.endswith("\\\\"):
            body = body[:-1]
        try:
            s = json.loads('"' + body + '"')
        except ValueError:
            s = body.replace("\\n", "\n").replace('\\"', '"')
        return s, not closed
    raw = (text or "").lstrip().rstrip(" \t")  # keep a final newline: it marks a complete last line
    return _FENCE.sub(lambda mm: mm.group(1), raw), False


# ----------------------------------------------------------------- validation
class _Validator:
    def __init__(self, schema: TableSchema, policy: str):
        if policy not in POLICIES:
            raise ValueError(f"new_level_policy must be one of {POLICIES}, got {policy!r}")
        self.schema = schema
        self.policy = policy
        self.fold = {c.name: {lv.casefold(): lv for lv in c.levels} for c in schema.columns if c.is_categorical}

    def level(self, col, raw) -> str | None:
        tok = canonical_level(raw).strip().strip('"').strip("'").strip()
        if tok in col.levels:
            return tok
        try:
            f = float(tok)
            if math.isfinite(f) and f.is_integer() and str(int(f)) in col.levels:
                return str(int(f))
        except ValueError:
            pass
        if self.policy in ("casefold", "nearest") and tok.casefold() in self.fold[col.name]:
            return self.fold[col.name][tok.casefold()]
        if self.policy == "nearest" and col.levels:
            return max(col.levels, key=lambda lv: (difflib.SequenceMatcher(None, tok.lower(), lv.lower()).ratio(), lv))
        return None

    def row(self, values: dict) -> tuple[dict | None, str | None]:
        out = {}
        for col in self.schema.columns:
            raw = values[col.name]
            if col.is_categorical:
                lv = self.level(col, raw)
                if lv is None:
                    return None, "unknown_level"
                out[col.name] = lv
            else:
                if isinstance(raw, bool):
                    return None, "non_numeric"
                try:
                    v = float(str(raw).strip().strip('"').strip("'").strip())
                except ValueError:
                    return None, "non_numeric"
                if not math.isfinite(v):
                    return None, "non_finite"
                out[col.name] = v
        return out, None


def _csv_cells(line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line], skipinitialspace=True))]
    except (csv.Error, StopIteration):
        return [line]


def parse_answer(
    text: str, schema: TableSchema, *, truncated: bool = False, new_level_policy: str = "reject",
    order: list[str] | None = None,
) -> ParseResult:
    """Parse one answer into canonical valid rows (in schema order) and rejection counts.

    ``truncated``: the server reported ``finish_reason == "length"``; an unterminated JSON string
    counts as truncated too. The last line of a truncated answer is rejected as ``truncated``
    unless the text ended with a newline. ``order``: the column order of rows that come without
    a header (the prompt's order; default the schema's), a permutation of the schema's names.
    """
    v = _Validator(schema, new_level_policy)
    payload, unterminated = extract_payload(text)
    truncated = truncated or unterminated
    names = schema.names
    if order is None:
        order = names
    elif sorted(order) != sorted(names):
        raise ValueError(f"parse_answer: order must be a permutation of the schema's columns {names}, got {list(order)}")
    order = list(order)
    folded = {n.casefold(): n for n in names}
    rejected: Counter = Counter()
    good: list[dict] = []
    records: list[dict | list] = []  # dicts are keyed rows; lists are cells in current order

    if isinstance(payload, dict) and payload and all(isinstance(x, list) for x in payload.values()):
        lens = {len(x) for x in payload.values()}
        if len(lens) == 1:  # columnar dict
            keys = list(payload)
            payload = [{k: payload[k][i] for k in keys} for i in range(lens.pop())]
        else:
            payload = [dict(payload)]
    elif isinstance(payload, dict):
        payload = [payload]

    if isinstance(payload, list) and payload and all(isinstance(x, str) for x in payload):
        payload = "\n".join(payload) + "\n"  # a list of CSV lines
    last_incomplete = False
    if isinstance(payload, str):
        body = payload
        last_incomplete = truncated and not body.endswith("\n")
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("```")]
        for i, ln in enumerate(lines):
            cells = _csv_cells(ln)
            if len(cells) == len(names) and {c.casefold() for c in cells} == set(folded):
                order = [folded[c.casefold()] for c in cells]
                continue
            if last_incomplete and i == len(lines) - 1:
                rejected["truncated"] += 1
                continue
            records.append(dict(zip(order, cells)) if len(cells) == len(names) else cells)
    elif isinstance(payload, list):
        for item in payload:
            if isinstance(item, list) and len(item) == len(names) and {str(c).strip().casefold() for c in item} == set(folded):
                order = [folded[str(c).strip().casefold()] for c in item]  # header row inside a list of lists
                continue
            if isinstance(item, list) and len(item) == len(names):
                records.append(dict(zip(order, item)))
            else:
                records.append(item)
    candidates = len(records) + rejected["truncated"]

    for rec in records:
        if isinstance(rec, dict):
            keyed = {folded.get(str(k).strip().casefold(), str(k)): val for k, val in rec.items()}
            if any(n not in keyed for n in names):
                rejected["missing_column"] += 1
                continue
            if len(keyed) != len(names):
                rejected["extra_column"] += 1
                continue
            row, why = v.row(keyed)
            if why:
                rejected[why] += 1
            else:
                good.append(row)
        elif isinstance(rec, list):
            rejected["not_a_row" if len(rec) <= 1 else "wrong_column_count"] += 1
        else:
            rejected["not_a_row"] += 1
    if candidates == 0:
        rejected["unparseable_response"] += 1
    frame = pd.DataFrame(good, columns=names) if good else pd.DataFrame({n: [] for n in names})
    rows = schema.conform(frame, who="llm answer") if good else _empty(schema)
    return ParseResult(rows=rows, rejected=rejected, candidates=candidates)


def _empty(schema: TableSchema) -> pd.DataFrame:
    cols = {}
    for c in schema.columns:
        cols[c.name] = pd.Series([], dtype=object if c.is_categorical else ("int64" if c.dtype == "int" else "float64"))
    return pd.DataFrame(cols)
