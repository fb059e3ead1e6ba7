"""``prompt_exposure``: leakage against prompt exposure, per member record of the ICL runs.

For every in-context ``llm_icl`` generator of the run (``seed_rows: examples``) and each of its
splits: the generation sidecar's ``info.exposure`` (which member rows each prompt carried, in
order) against each member's exact copies in the synthetic table and its ``dcr`` membership
score (:func:`per_record`), pooled into one figure (:func:`draw_records`). Inputs:
``ctx.extra["exposure"]``, generator -> list of that generator's split files (synthetic table,
its sidecar, split parts, dataset sidecar). The table view ``exposure_records`` (:func:`build`)
writes the same per-record rows as a CSV, and per exposure count a summary as LaTeX.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c
from synthrisk.schema import TableSchema


def per_record(info: dict, split, synthetic: pd.DataFrame, schema: TableSchema,
               rng: np.random.Generator) -> pd.DataFrame:
    """:func:`synthrisk.llm.exposure.counts` with each member's exact copies and ``dcr`` membership score."""
    from synthrisk.attacks import prepare, run_attack
    from synthrisk.encoding import canonical_strings
    from synthrisk.llm.exposure import counts

    out = counts(info, len(split.members))
    keys = pd.Series(canonical_strings(schema.conform(synthetic, who="synthetic rows"), schema)).value_counts()
    mem_keys = canonical_strings(schema.conform(split.members, who="members"), schema)
    out["exact_copies"] = [int(keys.get(k, 0)) for k in mem_keys]
    data = prepare(split, synthetic, schema)
    out["dcr_score"] = np.asarray(run_attack("dcr", data, rng), dtype=np.float64)[data.labels == 1]
    return out


def draw_records(records: pd.DataFrame):
    """One figure, two panels: exact copies and the dcr score of each member against its exposure
    count (colour: mean position in the prompt; a jitter of +-0.15 on x; ``records`` may hold
    several runs, with a ``generator`` column)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    x = records["exposures"].to_numpy(dtype=float)
    jit = np.random.default_rng(0).uniform(-0.15, 0.15, len(x))
    for ax, col, label in ((axes[0], "exact_copies", "exact copies in the synthetic table"),
                           (axes[1], "dcr_score", "membership score (dcr, higher = closer)")):
        sc = ax.scatter(x + jit, records[col], c=records["mean_position"], cmap="viridis", s=14)
        means = records.groupby("exposures")[col].mean()
        ax.plot(means.index, means.to_numpy(), color="black", lw=1.2, label="mean per exposure count")
        ax.set_xlabel("prompts that carried the record")
        ax.set_ylabel(label)
        ax.legend(loc="best", fontsize=7)
    fig.colorbar(sc, ax=axes, label="mean position in the prompt")
    fig.suptitle("Leakage against prompt exposure, per member record")
    return fig


def records(entries: dict[str, list[dict]]) -> pd.DataFrame:
    """The per-record table of every run in ``entries`` (a ``generator`` and a ``split`` column)."""
    from synthrisk.io import read_json, read_parquet, sidecar_path
    from synthrisk.metrics.base import Split
    from synthrisk.schema import TableSchema

    out = []
    for g, files in entries.items():
        for f in files:
            info = (read_json(sidecar_path(f["synthetic"])).get("info") or {}).get("exposure")
            if not info:
                continue
            schema = TableSchema.load(f["sidecar"])
            rec = per_record(info, Split.read(f["parts"]), read_parquet(f["synthetic"]), schema,
                             np.random.default_rng(0))
            out.append(rec.assign(generator=g, split=f["split"]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def draw(metrics: pd.DataFrame, ctx: c.Context):
    rec = records((ctx.extra or {}).get("exposure") or {})
    if rec.empty:
        fig, ax = plt.subplots(figsize=(6, 3))
        c.note(ax, "no in-context llm_icl run with a recorded prompt exposure")
        return fig
    return draw_records(rec)


def build(metrics: pd.DataFrame, ctx: c.Context):
    """``exposure_records``: the per-record table of every in-context run (CSV: one row per member
    record and split, with ``generator``, ``split``, ``member``, ``exposures``, ``first_position``,
    ``mean_position``, ``exact_copies``, ``dcr_score``) and, as LaTeX, per generator and exposure
    count the number of records, their mean exact copies and mean membership score."""
    rec = records((ctx.extra or {}).get("exposure") or {})
    cols = ["generator", "split", "member", "exposures", "first_position", "mean_position", "exact_copies", "dcr_score"]
    if rec.empty:
        return pd.DataFrame(columns=cols), c.to_tabular(
            pd.DataFrame(columns=["generator"]), {"generator": "generator"},
            "Prompt exposure: no in-context llm_icl run with a recorded prompt exposure.")
    rec = rec[cols]
    summary = (rec.groupby(["generator", "exposures"], sort=True)
               .agg(records=("member", "size"), exact_copies=("exact_copies", "mean"), dcr_score=("dcr_score", "mean"))
               .reset_index())
    summary["exposures"] = summary["exposures"].astype(str)
    summary["records"] = summary["records"].astype(str)
    columns = {"generator": "generator", "exposures": "prompts carrying it", "records": "records",
               "exact_copies": "mean exact copies", "dcr_score": "mean dcr score"}
    note = ("Prompt exposure: member records of the in-context LLM runs, by the number of prompts that carried "
            "them (all splits pooled); per-record rows in the CSV.")
    return rec.reset_index(drop=True), c.to_tabular(summary, columns, note)
