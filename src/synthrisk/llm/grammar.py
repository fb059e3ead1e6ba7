"""Schema-constrained decoding: a GBNF grammar (llama.cpp, vLLM) and a strict JSON schema (OpenAI).

The constraint follows the table's schema: exactly the schema's columns in order (or in the
prompt's order, ``order``: the ``study`` prompt puts the target last), a number for
each numerical column (an optional minus sign only when the column's member minimum is
negative; integers for ``int`` columns; at most 12 integer and 10 decimal digits, so a base
model cannot run away inside one number), and an alternation of the known levels for each
categorical column. Value ranges are not enforced (the validator keeps out-of-range numbers).

* :func:`gbnf` with ``style="csv"``: ``n_rows`` newline-terminated CSV rows, no header (the
  completion prompt already ends with the header and the seed rows);
* :func:`gbnf` with ``style="json"``: ``{"synthetic_data": "<header>\\n<rows>"}`` for the chat
  prompt, CSV inside a JSON string (newlines and quotes escaped);
* :func:`json_schema`: ``{"synthetic_data": [ {column: value, ...}, ... ]}`` with
  ``strict: true`` (OpenAI structured outputs); the parser accepts that list-of-dicts shape.
"""
from __future__ import annotations

import json

from synthrisk.schema import Column, TableSchema


def _lit(s: str) -> str:
    """A GBNF string literal for ``s``."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def csv_field(s: str) -> str:
    """``s`` as one CSV field (quoted when it holds a comma, quote, newline or edge spaces)."""
    if any(ch in s for ch in ',"\n\r') or s != s.strip():
        return '"' + s.replace('"', '""') + '"'
    return s


def _json_inner(s: str) -> str:
    return json.dumps(s)[1:-1]


def _number_rule(c: Column) -> str:
    sign = '"-"? ' if (c.min is None or c.min < 0) else ""
    digits = "[0-9]{1,12}"
    if c.dtype == "int":
        return f"{sign}{digits}"
    return f'{sign}{digits} ("." [0-9]{{1,10}})?'


def _columns(schema: TableSchema, order: list[str] | None) -> list[Column]:
    if order is None:
        return list(schema.columns)
    if sorted(order) != sorted(schema.names):
        raise ValueError(f"grammar: order must be a permutation of the schema's columns {schema.names}, got {list(order)}")
    return [schema.column(n) for n in order]


def gbnf(schema: TableSchema, n_rows: int, style: str = "csv", order: list[str] | None = None) -> str:
    """A GBNF grammar for ``n_rows`` rows of ``schema``, columns in ``order`` (default: the
    schema's; see the module docstring)."""
    if style not in ("csv", "json"):
        raise ValueError(f"grammar style must be 'csv' or 'json', got {style!r}")
    if n_rows < 1:
        raise ValueError("n_rows must be >= 1")
    enc = (lambda s: _json_inner(s)) if style == "json" else (lambda s: s)
    newline = _lit(enc("\n"))
    rules = []
    cells = []
    columns = _columns(schema, order)
    for i, c in enumerate(columns):
        rule = f"c{i}"
        if c.is_categorical:
            if not c.levels:
                raise ValueError(f"column {c.name!r} is categorical with no levels; cannot build a grammar")
            alts = " | ".join(_lit(enc(csv_field(lv))) for lv in c.levels)
            rules.append(f"{rule} ::= {alts}")
        else:
            rules.append(f"{rule} ::= {_number_rule(c)}")
        cells.append(rule)
    row = ' "," '.join(cells)
    head = [f"row ::= {row} {newline}"]
    if style == "csv":
        head.insert(0, f"root ::= row{{{int(n_rows)}}}")
    else:
        header = ",".join(csv_field(c.name) for c in columns)
        head.insert(0, f'root ::= {_lit("{" + chr(34) + "synthetic_data" + chr(34) + ": " + chr(34))} '
                       f'{_lit(enc(header))} {newline} row{{{int(n_rows)}}} {_lit(chr(34) + "}")}')
    return "\n".join(head + rules) + "\n"


def json_schema(schema: TableSchema, order: list[str] | None = None) -> dict:
    """A strict JSON schema: ``{"synthetic_data": [row objects]}``, keys in ``order``."""
    props = {}
    columns = _columns(schema, order)
    for c in columns:
        if c.is_categorical:
            props[c.name] = {"type": "string", "enum": list(c.levels)}
        else:
            props[c.name] = {"type": "integer" if c.dtype == "int" else "number"}
    row = {"type": "object", "properties": props, "required": [c.name for c in columns], "additionalProperties": False}
    return {
        "type": "object",
        "properties": {"synthetic_data": {"type": "array", "items": row}},
        "required": ["synthetic_data"],
        "additionalProperties": False,
    }


def response_format(schema: TableSchema, backend: str, order: list[str] | None = None) -> dict:
    """The ``response_format`` request field for json_schema decoding on ``backend``.

    llama-cpp-python takes ``{"type": "json_object", "schema": ...}``; OpenAI and vLLM take
    ``{"type": "json_schema", "json_schema": {"name", "strict", "schema"}}``.
    """
    s = json_schema(schema, order)
    if backend == "llama_cpp":
        return {"type": "json_object", "schema": s}
    return {"type": "json_schema", "json_schema": {"name": "synthetic_rows", "strict": True, "schema": s}}


def grammar_body(grammar: str, backend: str) -> dict:
    """Extra request fields that carry a GBNF grammar: llama.cpp ``grammar``; vLLM
    ``structured_outputs: {grammar: ...}`` (the field since vLLM 0.12, which removed
    ``guided_grammar``). OpenAI has no grammar decoding."""
    if backend == "openai":
        raise ValueError("constrained: grammar is not supported by the OpenAI API; use json_schema")
    if backend == "vllm":
        return {"structured_outputs": {"grammar": grammar}}
    return {"grammar": grammar}
