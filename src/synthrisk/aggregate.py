"""Aggregation: all long metric rows into one table, and a summary per generator, n and metric.

``headline.csv`` is the wide view of the study's headline numbers (:func:`headline`).

``summary.csv`` has, per (family, metric, against, model, attack, generator, n), the mean and
standard deviation of ``value`` across datasets and seeds, the number of values and of NaN
values (a NaN keeps its row and its reason in ``metrics.parquet``; it is counted here, not
averaged). Per-column rows (``column`` set) stay in ``metrics.parquet`` only.

Generators whose sidecar says their results came from stand-in weights (``info.random_weights``,
e.g. TabPFN with a random-initialised checkpoint) are renamed ``<name> [random weights]`` so
they can never be read as the real model's numbers.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthrisk.io import read_json, read_parquet, sidecar_path, write_parquet
from synthrisk.metrics.base import LONG_COLUMNS

KEYS = ["family", "metric", "against", "model", "attack", "generator", "n"]
RANDOM_WEIGHTS = " [random weights]"


def generator_labels(synthetic_tables: list[str | Path]) -> dict[str, str]:
    """generator name -> display label, from the generation sidecars."""
    labels = {}
    for p in synthetic_tables:
        side = read_json(sidecar_path(p))
        if (side.get("info") or {}).get("random_weights"):
            labels[side["generator"]] = side["generator"] + RANDOM_WEIGHTS
    return labels


def collect(metric_tables: list[str | Path], labels: dict[str, str] | None = None) -> pd.DataFrame:
    frames = [read_parquet(p) for p in metric_tables]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LONG_COLUMNS)
    df = df[LONG_COLUMNS]
    if labels:
        df["generator"] = df["generator"].replace(labels)
    return df.sort_values(["family", "generator", "dataset", "n", "seed", "metric"], kind="stable").reset_index(drop=True)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    agg = df[df["column"].isna()].copy()
    for k in ("against", "model", "attack"):
        agg[k] = agg[k].fillna("")
    g = agg.groupby(KEYS, sort=True, dropna=False)["value"]
    out = pd.DataFrame({
        "mean": g.mean(),
        "std": g.std(ddof=1),
        "count": g.count(),
        "nan": g.apply(lambda v: int(v.isna().sum())),
        "datasets": agg.groupby(KEYS, sort=True, dropna=False)["dataset"].nunique(),
    }).reset_index()
    return out


def write_tables(metric_tables: list[str], synthetic_tables: list[str], out_parquet: str, out_csv: str,
                 out_headline: str | None = None, left_out: dict[str, str] | None = None) -> pd.DataFrame:
    """``left_out``: optional generators this run could not include (name -> reason); each gets
    one row in ``summary.csv`` and ``headline.csv`` with its reason in the ``left_out`` column and
    no values, so a table is never read as if the generator had been benchmarked."""
    df = collect(metric_tables, generator_labels(synthetic_tables))
    write_parquet(df, out_parquet)
    summ = with_left_out(summarise(df), left_out)
    write_csv(summ, out_csv, float_format="%.6g")
    if out_headline:
        write_csv(with_left_out(headline(summ[summ["left_out"] == ""]), left_out), out_headline, float_format="%.4g")
    return summ


def with_left_out(table: pd.DataFrame, left_out: dict[str, str] | None) -> pd.DataFrame:
    """``table`` with a ``left_out`` column ("" for generators that ran) and one row per left-out one."""
    table = table.drop(columns=["left_out"], errors="ignore").assign(left_out="")
    rows = pd.DataFrame({"generator": list(left_out or {}), "left_out": list((left_out or {}).values())})
    if rows.empty:
        return table
    return pd.concat([table, rows], ignore_index=True) if len(table) else rows.reindex(columns=[*table.columns])


def write_csv(df: pd.DataFrame, path: str | Path, **kw) -> None:
    from synthrisk.io import atomic_path

    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, **kw)


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The study's headline numbers per generator and n, one row each (``headline.csv``):
    shape and trend against unseen real rows, mean TSTR AUC, worst-case MIA AUC and TPR at 1% FPR
    (means across datasets and seeds)."""
    want = {
        ("fidelity", "shape", "test"): "shape_vs_test",
        ("fidelity", "trend", "test"): "trend_vs_test",
        ("utility", "tstr_auc", ""): "tstr_auc",
        ("privacy", "auc", ""): "worst_auc",
        ("privacy", "tpr_at_fpr_0.01", ""): "worst_tpr@1%fpr",
    }
    rows = []
    for (fam, met, against), label in want.items():
        sel = summary[(summary.family == fam) & (summary.metric == met) & (summary.against.fillna("") == against)]
        if fam == "utility":
            sel = sel[sel.model == "mean"]
        if fam == "privacy":
            sel = sel[sel.attack == "worst"]
        rows.append(sel.assign(col=label)[["generator", "n", "col", "mean"]])
    if not rows:
        return pd.DataFrame()
    long = pd.concat(rows)
    return long.pivot_table(index=["generator", "n"], columns="col", values="mean").reset_index()

