"""Aggregation: all long metric rows into one table, and a summary per generator, n and metric.

``headline.csv`` is the wide view of the study's headline numbers (:func:`headline`).

``summary.csv`` has, per (family, metric, against, model, attack, generator, n), the mean and
standard deviation of ``value`` across datasets and seeds, the number of values and of NaN
values (a NaN keeps its row and its reason in ``metrics.parquet``; it is counted here, not
averaged), and a 95% interval for the mean, ``ci_low``/``ci_high``, whose resampling unit is
named in ``ci_unit``:

* ``dataset`` (two or more datasets): a two-stage cluster bootstrap (:func:`cluster_interval`):
  datasets are resampled with replacement, then the splits (seeds) within each drawn dataset;
  the splits of one table share rows and are not independent, so the dataset is the unit;
* ``seed`` (one dataset, two or more splits): the splits are resampled;
* empty, with NaN bounds: a single value has no interval.

``goal`` is the family's declared goal of the metric (its module's ``GOALS``: ``maximize``,
``minimize`` or ``target <x>``; empty where none is declared).

Per-column rows (``column`` set) stay in ``metrics.parquet`` only.

``eps_lower.csv`` (:func:`eps_table`): per (generator, dataset, n), the empirical lower bound
on epsilon with the counts of the privacy family's cross-fitted ``selected`` attack pooled
over seeds (see :mod:`synthrisk.metrics.privacy`).

``dp_audit.csv`` (:func:`dp_audit`): per (generator, dataset, n) of ``eps_lower.csv``, the epsilon
the generator claims (its generation sidecars) beside the measured lower bound, and a verdict.

``runs.csv`` and ``runs_jobs.csv`` (:mod:`synthrisk.runs`): what ran, per generator and per
job, from the generation sidecars: rows, rejected LLM rows by reason, tokens, seconds, and the
left-out generators with their reason.

Generators whose sidecar says their results came from stand-in weights (``info.random_weights``,
e.g. TabPFN with a random-initialised checkpoint) are renamed ``<name> [random weights]`` so
they can never be read as the real model's numbers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.io import make_rng, read_json, read_parquet, sidecar_path, write_parquet
from synthrisk.metrics.base import LONG_COLUMNS
from synthrisk.runs import job_rows, runs_table

KEYS = ["family", "metric", "against", "model", "attack", "generator", "n"]
RANDOM_WEIGHTS = " [random weights]"
BOOTSTRAP = 1000
LEVEL = 0.95


def generator_labels(synthetic_tables: list[str | Path], sidecars: list[dict] | None = None) -> dict[str, str]:
    """generator name -> display label, from the generation sidecars (``sidecars``: already read)."""
    labels = {}
    for side in sidecars if sidecars is not None else (read_json(sidecar_path(p)) for p in synthetic_tables):
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


def cluster_interval(values: np.ndarray, datasets: np.ndarray, rng: np.random.Generator,
                     b: int = BOOTSTRAP, level: float = LEVEL) -> tuple[float, float, str]:
    """Interval for the mean of ``values`` (one per split) with the dataset as resampling unit.

    Each replicate draws as many datasets as there are, with replacement, and within each drawn
    dataset (each draw independently) resamples its splits with replacement; the replicate is
    the mean of the values drawn. Percentile interval, widened to contain the mean. Returns (low, high, unit).
    """
    ok = np.isfinite(values)
    values, datasets = values[ok], datasets[ok]
    if len(values) < 2:
        return float("nan"), float("nan"), ""
    groups = [values[datasets == d] for d in pd.unique(datasets)]
    a = (1 - level) / 2
    mean = float(values.mean())
    if len(groups) == 1:
        x = groups[0]
        reps = (rng.multinomial(len(x), np.full(len(x), 1 / len(x)), size=b) @ x) / len(x)
        unit = "seed"
    else:
        k = len(groups)
        pick = rng.multinomial(k, np.full(k, 1 / k), size=b).astype(np.float64)  # b x datasets
        sums = np.empty((b, k))
        sizes = np.array([len(x) for x in groups], dtype=np.float64)
        for j, x in enumerate(groups):
            # a dataset drawn m times gets m independent resamples of its splits; their sum is
            # one multinomial with m * len(x) draws
            draws = (pick[:, j] * len(x)).astype(np.int64)
            sums[:, j] = rng.multinomial(draws, np.full(len(x), 1 / len(x))) @ x
        reps = sums.sum(axis=1) / (pick @ sizes)
        unit = "dataset"
    lo, hi = np.quantile(reps, [a, 1 - a])
    return float(min(lo, mean)), float(max(hi, mean)), unit


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    agg = df[df["column"].isna()].copy()
    for k in ("against", "model", "attack"):
        agg[k] = agg[k].fillna("")
    rows = []
    for key, g in agg.groupby(KEYS, sort=True, dropna=False):
        v = g["value"].to_numpy(dtype=np.float64)
        rng = make_rng(0, "summary", *[str(x) for x in key])
        lo, hi, unit = cluster_interval(v, g["dataset"].to_numpy(dtype=object), rng)
        fin = v[np.isfinite(v)]
        rows.append({
            **dict(zip(KEYS, key)),
            "mean": float(fin.mean()) if len(fin) else float("nan"),
            "std": float(fin.std(ddof=1)) if len(fin) > 1 else float("nan"),
            "ci_low": lo, "ci_high": hi, "ci_unit": unit,
            "count": int(len(fin)), "nan": int(len(v) - len(fin)),
            "datasets": int(g["dataset"].nunique()),
        })
    cols = KEYS + ["mean", "std", "ci_low", "ci_high", "ci_unit", "count", "nan", "datasets", "goal"]
    out = pd.DataFrame(rows, columns=cols)
    out["goal"] = [_goal_of(f, m) for f, m in zip(out["family"], out["metric"])]
    return out


def _goal_of(family: str, metric: str) -> str:
    """The family's declared goal of a metric (``maximize``/``minimize``/``target x``), or ""."""
    from synthrisk.metrics import FAMILIES, goal

    return (goal(family, metric) or ("",))[0] if family in FAMILIES else ""


def eps_table(df: pd.DataFrame, confidence: float = LEVEL) -> pd.DataFrame:
    """Empirical epsilon lower bounds per (generator, dataset, n), counts pooled over seeds.

    Pooling is sound: each split's rule (attack and threshold chosen on one fold, counted on the
    other) is a fixed test, and the DP inequalities are linear in the rates, so they hold for
    the average rates of several tests as for one.
    """
    from synthrisk.metrics.roc import eps_lower_bound

    want = {"eps_tp": "tp", "eps_fp": "fp", "eps_members": "members", "eps_non_members": "non_members"}
    sel = df[(df.family == "privacy") & df.metric.isin(list(want)) & (df.attack == "selected")]
    cols = ["generator", "dataset", "n", "metric", "value", "seeds", "members", "non_members", "tp", "fp",
            "tpr", "fpr", "confidence", "delta"]
    if sel.empty:
        return pd.DataFrame(columns=cols)
    wide = sel.pivot_table(index=["generator", "dataset", "n", "seed"], columns="metric", values="value",
                           aggfunc="first").rename(columns=want).dropna()
    pooled = wide.groupby(level=["generator", "dataset", "n"]).agg(
        seeds=("tp", "size"), members=("members", "sum"), non_members=("non_members", "sum"),
        tp=("tp", "sum"), fp=("fp", "sum")).reset_index()
    pooled["tpr"] = pooled.tp / pooled.members
    pooled["fpr"] = pooled.fp / pooled.non_members
    pooled["value"] = eps_lower_bound(pooled.tp, pooled.fp, pooled.members, pooled.non_members, confidence)
    pooled["metric"] = "eps_lower"
    pooled["confidence"] = confidence
    pooled["delta"] = 0.0
    for c in ("seeds", "members", "non_members", "tp", "fp"):
        pooled[c] = pooled[c].astype(np.int64)
    return pooled[cols]


AUDIT_OK = "ok"
AUDIT_RED_FLAG = "RED FLAG: lower bound above the claimed epsilon"
AUDIT_NO_CLAIM = "no claim"


def claimed_privacy(info: dict) -> tuple[float, float] | None:
    """(epsilon, delta) a generation sidecar's ``info`` claims, or None (no DP claim).

    The claim is ``info.epsilon_spent`` (what the generator's accountant says was spent) where it
    is a number, else ``info.epsilon`` (the target); ``delta`` is ``info.delta`` (0 when absent:
    pure DP). ``info.dp`` false, no number or an infinite one: no claim."""
    if not isinstance(info, dict) or info.get("dp") is False:
        return None
    for key in ("epsilon_spent", "epsilon"):
        v = info.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
            d = info.get("delta")
            return float(v), float(d) if isinstance(d, (int, float)) and np.isfinite(d) else 0.0
    return None


def dp_audit(eps: pd.DataFrame, sidecars: list[dict], labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The DP audit (``dp_audit.csv``): per (generator, dataset, n) of ``eps`` (:func:`eps_table`),
    the claimed epsilon and delta (:func:`claimed_privacy`, the largest over the seeds' sidecars;
    ``seeds_claimed`` counts the sidecars that claim), the measured lower bound ``eps_lower`` (delta
    0, as ``eps_lower.csv``) and ``eps_lower_at_delta``, the same counts' bound at the claimed delta
    (an (epsilon, delta) claim allows TPR up to e^eps FPR + delta, so this is the bound a claim is
    tested against), at the bounds' ``confidence``; ``verdict``: ``no claim`` (a non-DP generator,
    e.g. the copy control: its bound shows what the battery can detect), ``ok``, or
    ``RED FLAG: lower bound above the claimed epsilon``: the attack proved more leakage than the
    generator's guarantee allows (a bug in the generator or its accounting, or bad luck at the
    1 - confidence level)."""
    from synthrisk.metrics.roc import eps_lower_bound

    cols = ["generator", "dataset", "n", "seeds", "seeds_claimed", "epsilon_claimed", "delta_claimed",
            "eps_lower", "eps_lower_at_delta", "confidence", "verdict"]
    claims: dict[tuple, list] = {}
    for side in sidecars:
        gen = (labels or {}).get(side.get("generator"), side.get("generator"))
        c = claimed_privacy(side.get("info") or {})
        claims.setdefault((gen, side.get("dataset"), int(side.get("n", -1))), []).append(c)
    rows = []
    for r in eps.itertuples(index=False):
        got = [c for c in claims.get((r.generator, r.dataset, int(r.n)), []) if c is not None]
        row = {"generator": r.generator, "dataset": r.dataset, "n": int(r.n), "seeds": int(r.seeds),
               "seeds_claimed": len(got), "eps_lower": float(r.value), "confidence": float(r.confidence)}
        if not got:
            row.update(epsilon_claimed=np.nan, delta_claimed=np.nan, eps_lower_at_delta=np.nan, verdict=AUDIT_NO_CLAIM)
        else:
            e, d = max(x[0] for x in got), max(x[1] for x in got)
            at = float(eps_lower_bound(r.tp, r.fp, r.members, r.non_members, float(r.confidence), delta=d))
            row.update(epsilon_claimed=e, delta_claimed=d, eps_lower_at_delta=at,
                       verdict=AUDIT_RED_FLAG if at > e else AUDIT_OK)
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def write_tables(metric_tables: list[str], synthetic_tables: list[str], out_parquet: str, out_csv: str,
                 out_headline: str | None = None, out_eps: str | None = None,
                 left_out: dict[str, str] | None = None, out_runs: str | None = None,
                 out_runs_jobs: str | None = None, order: list[str] | None = None,
                 confidence: float = LEVEL, out_dp_audit: str | None = None) -> pd.DataFrame:
    """``left_out``: optional generators this run could not include (name -> reason); each gets
    one row in ``summary.csv`` and ``headline.csv`` with its reason in the ``left_out`` column and
    no values, so a table is never read as if the generator had been benchmarked, and one row in
    ``runs.csv`` (:mod:`synthrisk.runs`, with ``runs_jobs.csv`` read from the same sidecars).
    ``order``: generator names in config order (the row order of ``runs.csv``). ``confidence``:
    the level of the epsilon bounds of ``eps_lower.csv`` and ``dp_audit.csv`` (the privacy family's
    ``confidence``)."""
    sidecars = [read_json(sidecar_path(p)) for p in synthetic_tables]
    df = collect(metric_tables, generator_labels(synthetic_tables, sidecars))
    write_parquet(df, out_parquet)
    summ = with_left_out(summarise(df), left_out)
    write_csv(summ, out_csv, float_format="%.6g")
    if out_headline:
        write_csv(with_left_out(headline(summ[summ["left_out"] == ""]), left_out), out_headline, float_format="%.4g")
    if out_eps or out_dp_audit:
        eps = eps_table(df, confidence)
        if out_eps:
            write_csv(eps, out_eps, float_format="%.6g")
        if out_dp_audit:
            write_csv(dp_audit(eps, sidecars, generator_labels(synthetic_tables, sidecars)), out_dp_audit,
                      float_format="%.6g")
    if out_runs or out_runs_jobs:
        jobs = job_rows(synthetic_tables, sidecars)
        if out_runs_jobs:
            write_csv(jobs, out_runs_jobs, float_format="%.6g")
        if out_runs:
            write_csv(runs_table(jobs, left_out, order), out_runs, float_format="%.6g")
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


#: headline columns: (family, metric, against, model, attack) -> column name; privacy columns
#: also get ``<name>_ci_low``/``<name>_ci_high`` (dataset as resampling unit)
HEADLINE = {
    ("fidelity", "shape", "test", "", ""): "shape_vs_test",
    ("fidelity", "trend", "test", "", ""): "trend_vs_test",
    ("utility", "tstr_auc", "", "mean", ""): "tstr_auc",
    ("privacy", "auc", "", "", "worst"): "worst_auc",
    ("privacy", "auc", "", "", "worst_all"): "worst_all_auc",
    ("privacy", "auc", "", "", "selected"): "selected_auc",
    ("privacy", "tpr_at_fpr_0.01", "", "", "worst"): "worst_tpr@1%fpr",
    ("privacy", "tpr_at_fpr_0.01", "", "", "selected"): "selected_tpr@1%fpr",
    ("risk", "singling_out_multivariate", "", "", ""): "singling_out_risk",
    ("risk", "inference", "", "", "worst"): "worst_inference_risk",
    ("risk", "attribute_inference_auc", "", "", "worst"): "worst_attribute_inference_auc",
}


def headline(summary: pd.DataFrame) -> pd.DataFrame:
    """The study's headline numbers per generator and n, one row each (``headline.csv``).

    Means across datasets and seeds of: shape and trend against unseen real rows, mean TSTR AUC,
    and the membership-inference worst cases (:mod:`synthrisk.metrics.privacy`): ``worst_*`` is
    the study's (max over its ten attacks, biased upwards), ``worst_all_*`` the max over every
    attack that ran, ``selected_*`` the unbiased cross-fitted one; the risk family's multivariate
    singling-out risk, worst inference risk and worst attribute-inference AUC
    (:mod:`synthrisk.metrics.risk`). Privacy and risk columns carry their 95% interval with the
    dataset as resampling unit.
    """
    out = None
    s = summary.copy()
    for k in ("against", "model", "attack"):
        s[k] = s[k].fillna("")
    for (fam, met, against, model, attack), label in HEADLINE.items():
        sel = s[(s.family == fam) & (s.metric == met) & (s.against == against) & (s.model == model)
                & (s.attack == attack)]
        cols = {"mean": label}
        if fam in ("privacy", "risk"):
            cols.update({"ci_low": f"{label}_ci_low", "ci_high": f"{label}_ci_high"})
        part = sel[["generator", "n", *cols]].rename(columns=cols)
        out = part if out is None else out.merge(part, on=["generator", "n"], how="outer")
    if out is None or out.empty:
        return pd.DataFrame()
    return out.sort_values(["generator", "n"], kind="stable").reset_index(drop=True)
