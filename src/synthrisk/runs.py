"""What ran: the ``runs`` tables, read from the generation sidecars (``<synthetic>.parquet.json``).

``runs_jobs.csv`` (:func:`job_rows`) has one row per synthetic table (generator, dataset, n, seed;
one generate job per table before :mod:`synthrisk.cells`, hence the name):
rows requested and accepted, generation seconds (fit + sample), and for LLM generators
(``llm_icl``, whose sidecar ``info`` records them) the candidate rows parsed from the answers,
the rejected rows by reason (``rejected_<reason>``: ``truncated``, ``unknown_level``,
``wrong_column_count``, ...), the answers that could not be parsed at all
(``unparseable_responses``, not rows), prompts, HTTP requests, cache hits and the token cost
(``prompt_tokens``, ``completion_tokens`` and ``cost_usd`` where the entry gives prices).
Columns that do not apply to a generator (tokens for SMOTE) are empty, not zero.

``runs.csv`` (:func:`runs_table`) has one row per generator: ``status`` ``ran`` with the job
totals (sums; ``acceptance_rate`` = accepted / candidates), or ``left out`` with the ``reason``
(optional generators that cannot run here, :attr:`synthrisk.plan.Plan.skipped`) and no jobs.
Generators whose sidecar says ``random_weights`` get ``note`` ``random weights``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.io import read_json, sidecar_path

#: columns of one job row, before the ``rejected_<reason>`` columns are inserted after ``rows_rejected``
JOB_COLUMNS = ["generator", "kind", "dataset", "n", "seed", "rows_requested", "rows_accepted",
               "rows_candidates", "rows_rejected", "unparseable_responses", "prompts_sent", "http_requests",
               "cache_hits", "prompt_tokens", "completion_tokens", "cost_usd", "fit_seconds", "sample_seconds",
               "generation_seconds", "note"]
#: generator-level columns (``runs.csv``); the summed ones are every numeric job column
RUN_COLUMNS = ["generator", "kind", "status", "reason", "jobs", "datasets", "sizes"]
#: info keys of an LLM sidecar copied as they are
_LLM_KEYS = ("rows_candidates", "rows_rejected", "prompts_sent", "http_requests", "cache_hits",
             "prompt_tokens", "completion_tokens", "cost_usd")
REJECTED = "rejected_"
UNPARSEABLE = "unparseable_response"  # counted per answer, not per row (synthrisk.llm.parse)


def job_row(side: dict) -> dict:
    """One generation sidecar as a ``runs_jobs`` row."""
    info = side.get("info") or {}
    fit, sample = float(side.get("fit_seconds", np.nan)), float(side.get("sample_seconds", np.nan))
    row = {"generator": side["generator"], "kind": side.get("kind", ""), "dataset": side.get("dataset", ""),
           "n": side.get("n"), "seed": side.get("seed"), "rows_requested": side.get("rows_requested"),
           "rows_accepted": info.get("rows_accepted", side.get("rows_returned")),
           "fit_seconds": fit, "sample_seconds": sample, "generation_seconds": round(fit + sample, 3),
           "note": "random weights" if info.get("random_weights") else ""}
    if "rejected_by_reason" in info:  # an LLM generator
        row.update({k: info.get(k) for k in _LLM_KEYS})
        reasons = dict(info["rejected_by_reason"])
        row["unparseable_responses"] = reasons.pop(UNPARSEABLE, 0)
        row.update({f"{REJECTED}{r}": v for r, v in reasons.items()})
    return row


def job_rows(synthetic_tables: list[str | Path], sidecars: list[dict] | None = None) -> pd.DataFrame:
    """``runs_jobs.csv``: one row per synthetic table (its sidecar), sorted by generator, dataset, n, seed.
    ``sidecars``: the sidecars already read (same order), to read each file once."""
    sides = sidecars if sidecars is not None else [read_json(sidecar_path(p)) for p in synthetic_tables]
    df = pd.DataFrame([job_row(s) for s in sides])
    reasons = sorted(c for c in df.columns if c.startswith(REJECTED))
    at = JOB_COLUMNS.index("rows_rejected") + 1
    cols = JOB_COLUMNS[:at] + reasons + JOB_COLUMNS[at:]
    df = df.reindex(columns=cols)
    llm = df["rows_candidates"].notna()  # a reason absent from an LLM job's sidecar: 0 rows rejected for it
    df.loc[llm, reasons] = df.loc[llm, reasons].fillna(0)
    if df.empty:
        return df
    return df.sort_values(["generator", "dataset", "n", "seed"], kind="stable").reset_index(drop=True)


def runs_table(jobs: pd.DataFrame, left_out: dict[str, str] | None = None, order: list[str] | None = None) -> pd.DataFrame:
    """``runs.csv``: per generator, the totals of its jobs (``status`` ``ran``), and one row per
    left-out generator with its reason (``status`` ``left out``). ``order``: generator names in
    config order (others follow alphabetically)."""
    summed = [c for c in jobs.columns if c not in ("generator", "kind", "dataset", "n", "seed", "note")]
    rows = []
    for gen, g in jobs.groupby("generator", sort=False):
        row = {"generator": gen, "kind": g["kind"].iloc[0], "status": "ran", "reason": "", "jobs": len(g),
               "datasets": g["dataset"].nunique(), "sizes": " ".join(str(n) for n in sorted(g["n"].unique()))}
        # min_count=1: a column no job has (tokens of SMOTE) stays empty instead of 0
        row.update({c: pd.to_numeric(g[c], errors="coerce").sum(min_count=1) for c in summed})
        cand = row.get("rows_candidates")
        row["acceptance_rate"] = (row["rows_accepted"] / cand) if cand is not None and cand > 0 else np.nan
        row["note"] = ", ".join(sorted(set(g["note"]) - {""}))
        rows.append(row)
    for gen, reason in (left_out or {}).items():
        rows.append({"generator": gen, "status": "left out", "reason": reason, "jobs": 0})
    cols = RUN_COLUMNS + summed + ["acceptance_rate", "note"]
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        return out
    key = {g: i for i, g in enumerate(order or ())}
    out["_o"] = [key.get(g, len(key)) for g in out["generator"]]
    out = out.sort_values(["_o", "generator"], kind="stable").drop(columns="_o").reset_index(drop=True)
    for c in ("jobs", "datasets", "rows_requested", "rows_accepted"):
        out[c] = out[c].astype("Int64")
    return out
