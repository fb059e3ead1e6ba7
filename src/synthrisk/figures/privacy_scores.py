"""``privacy_scores``: the study's privacy score table, one row per generator.

As the study, every split of a generator is pooled (all datasets, n and seeds): for attack
``worst`` (the study's max over its ten attacks), the ROC AUC and the TPR at FPR 0, 0.001, 0.01
and 0.1 as "mean (std)" over the splits (std with ddof 1), plus for each a 95% interval for the
mean with the dataset as resampling unit (:func:`synthrisk.aggregate.cluster_interval` on the
per-split values: a dataset's splits, of every n and seed, are resampled within it). Then the
unbiased cross-fitted ``selected`` AUC with its interval.

A value the data cannot resolve (TPR at 0.1% FPR needs 1,000 non-members) is a NaN row in the
metrics; it stays NaN here where no split resolves it, and ``<metric>_splits`` /
``<metric>_nan`` say how many splits gave a value and how many could not.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.aggregate import cluster_interval
from synthrisk.figures import common as c
from synthrisk.io import make_rng

METRICS = (("auc", "AUC"), ("tpr_at_fpr_0", "TPR@FPR=0"), ("tpr_at_fpr_0.001", "TPR@FPR=0.001"),
           ("tpr_at_fpr_0.01", "TPR@FPR=0.01"), ("tpr_at_fpr_0.1", "TPR@FPR=0.1"))


def summary(values: pd.DataFrame, key: str) -> dict:
    """mean, std (ddof 1), interval (dataset as unit), finite and NaN counts of per-split values."""
    v = values["value"].to_numpy(dtype=np.float64)
    ok = np.isfinite(v)
    lo, hi, _ = cluster_interval(v, values["dataset"].to_numpy(dtype=object), make_rng(0, "privacy_scores", key))
    return {"mean": float(v[ok].mean()) if ok.any() else np.nan,
            "std": float(v[ok].std(ddof=1)) if ok.sum() > 1 else np.nan,
            "ci_low": lo, "ci_high": hi, "splits": int(ok.sum()), "nan": int((~ok).sum())}


def build(metrics: pd.DataFrame, ctx: c.Context):
    priv = metrics[(metrics.family == "privacy") & metrics["column"].isna()]
    gens = c.order(priv.generator.unique(), ctx)
    out = []
    for g in gens:
        r = {"generator": g}
        for attack, mets in ((c.STUDY_ATTACK, [m for m, _ in METRICS]), ("selected", ["auc"])):
            for m in mets:
                vals = priv[(priv.generator == g) & (priv.metric == m) & (priv.attack.fillna("") == attack)]
                s = summary(vals, f"{g}|{attack}|{m}")
                p = f"{attack}_{m}"
                if attack == c.STUDY_ATTACK:
                    r[f"{p}"] = c.mean_std(s["mean"], s["std"])
                r.update({f"{p}_{k}": s[k] for k in ("mean", "std", "ci_low", "ci_high", "splits", "nan")})
        out.append(r)
    cols = ["generator"] + [f"{c.STUDY_ATTACK}_{m}{k}" for m, _ in METRICS
                            for k in ("", "_mean", "_std", "_ci_low", "_ci_high", "_splits", "_nan")]
    cols += [f"selected_auc_{k}" for k in ("mean", "std", "ci_low", "ci_high", "splits", "nan")]
    df = pd.DataFrame(out, columns=cols)
    tex = df.assign(sel=[_sel(m, a, b) for m, a, b in zip(df.selected_auc_mean, df.selected_auc_ci_low,
                                                         df.selected_auc_ci_high)],
                    res=[_res(df.loc[i]) for i in df.index])
    columns = {"generator": "Generator", **{f"worst_{m}": label for m, label in METRICS},
               "sel": "selected AUC [95% CI]", "res": "splits resolving TPR@0.001"}
    note = ("Privacy scores (attack 'worst', the study's max over its ten attacks): mean (std) over all splits.\n"
            "selected: unbiased cross-fitted attack, 95% interval with the dataset as resampling unit.\n"
            "Intervals of every column are in the CSV (<column>_ci_low/_ci_high).")
    if df.empty:
        note += "\nNo privacy rows: the privacy family did not run."
    return df, c.to_tabular(tex, columns, note)


def _ci(lo, hi) -> str:
    return "" if not np.isfinite(lo) else f"[{lo:.3f}, {hi:.3f}]"


def _sel(m, lo, hi) -> str:
    return "NaN" if not np.isfinite(m) else f"{m:.3f} {_ci(lo, hi)}".strip()


def _res(r) -> str:
    k, n = int(r["worst_tpr_at_fpr_0.001_splits"]), int(r["worst_tpr_at_fpr_0.001_splits"] + r["worst_tpr_at_fpr_0.001_nan"])
    return f"{k}/{n}"
