"""Figures of the study, drawn from ``results/tables/metrics.parquet``.

* :func:`fidelity_utility`: shape score (synthetic vs real rows no generator saw) and mean TSTR
  AUC per generator, bars grouped by n; the train-real-test-real AUC is drawn as a line.
* :func:`privacy_by_n`: worst-case membership-inference AUC and TPR at 1% FPR per generator,
  bars grouped by n (the study's bar chart), when privacy rows exist.
* :func:`frontier`: the privacy-utility frontier (worst-case AUC against shape, trend and
  TSTR AUC), one dot per generator.

Error bars are the summary's 95% intervals for the mean, with the dataset as resampling unit
(:mod:`synthrisk.aggregate`); where there is no interval (one value), none is drawn.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synthrisk.aggregate import summarise  # noqa: E402

def _order(gens, order=None) -> list[str]:
    """``gens`` in ``order`` (the config's generator order, from the plan); a generator not in
    it (a label such as ``tabpfn [random weights]`` is placed by its name) follows alphabetically."""
    gens = list(dict.fromkeys(gens))
    key = {g: i for i, g in enumerate(order or ())}
    return sorted(gens, key=lambda g: (key.get(g, key.get(g.split(" [")[0], len(key))), g))


def _select(summary: pd.DataFrame, family: str, metric: str, **eq) -> pd.DataFrame:
    s = summary[(summary.family == family) & (summary.metric == metric)]
    for k, v in eq.items():
        s = s[s[k].fillna("") == v]
    return s


def _better(family: str, metric: str) -> str:
    """'higher is better' / 'lower is better' from the family's declared goal (``GOALS``)."""
    from synthrisk.metrics import goal

    g = (goal(family, metric) or ("",))[0]
    return {"maximize": "higher is better", "minimize": "lower is better"}.get(g, g)


def _bars(ax, s: pd.DataFrame, title: str, ylabel: str, gens: list[str], ylim=None) -> None:
    ns = sorted(s["n"].unique())
    width = 0.8 / max(len(ns), 1)
    x = np.arange(len(gens))
    for i, n in enumerate(ns):
        sel = s[s.n == n].set_index("generator").reindex(gens)
        ax.bar(x + (i - (len(ns) - 1) / 2) * width, sel["mean"], width, yerr=_yerr(sel),
               label=f"n = {n}", capsize=2)
    ax.set_xticks(x, gens, rotation=30, ha="right")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)


def _yerr(sel: pd.DataFrame) -> np.ndarray:
    """Asymmetric error bars from the interval columns (zero where there is none)."""
    lo = (sel["mean"] - sel["ci_low"]).clip(lower=0).fillna(0)
    hi = (sel["ci_high"] - sel["mean"]).clip(lower=0).fillna(0)
    return np.vstack([lo.to_numpy(), hi.to_numpy()])


def _save(fig, out_png: str | Path) -> Path:
    fig.tight_layout()
    from synthrisk.io import atomic_path

    out = Path(out_png)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=130, format="png")
    plt.close(fig)
    return out


def fidelity_utility(metrics: pd.DataFrame, out_png: str | Path, order=None) -> Path:
    summary = summarise(metrics)
    shape = _select(summary, "fidelity", "shape", against="test")
    util = _select(summary, "utility", "tstr_auc", model="mean")
    real = _select(summary, "utility", "trtr_auc", model="mean")
    gens = _order(list(shape.generator) + list(util.generator), order)
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.1 * len(gens) * 2), 4.2))
    _bars(axes[0], shape, "Fidelity: shape score vs unseen real rows",
          f"mean KS/TV complement ({_better('fidelity', 'shape')})", gens, (0, 1.02))
    _bars(axes[1], util, "Utility: train synthetic, test real",
          f"mean macro ROC AUC ({_better('utility', 'tstr_auc')})", gens, (0.3, 1.02))
    if len(real):
        for _, r in real.iterrows():
            axes[1].axhline(r["mean"], ls="--", lw=1, color="k", alpha=0.3 + 0.2 * (r["n"] / real["n"].max()))
        axes[1].text(0.01, 0.02, "dashed: trained on the real members", transform=axes[1].transAxes, fontsize=8)
    axes[1].axhline(0.5, color="grey", lw=0.8)
    axes[0].legend(fontsize=8)
    return _save(fig, out_png)


def privacy_by_n(metrics: pd.DataFrame, out_png: str | Path, order=None) -> Path:
    """Top: the study's worst case (max over its ten attacks, biased upwards); bottom: the
    unbiased cross-fitted one (``selected``)."""
    summary = summarise(metrics)
    rows = [("worst", "study's worst case: max over its 10 attacks"),
            ("selected", "unbiased: attack chosen on one fold, scored on the other")]
    gens = _order(list(_select(summary, "privacy", "auc").generator), order)
    fig, axes = plt.subplots(2, 2, figsize=(max(8, 1.1 * len(gens) * 2), 8.4))
    for (attack, what), ax_row in zip(rows, axes):
        auc = _select(summary, "privacy", "auc", attack=attack)
        tpr = _select(summary, "privacy", "tpr_at_fpr_0.01", attack=attack)
        if len(auc):
            _bars(ax_row[0], auc, f"MIA ROC AUC ({what})", f"ROC AUC ({_better('privacy', 'auc')})", gens,
                  (0.3, 1.02))
            ax_row[0].axhline(0.5, color="grey", lw=0.8)
            _bars(ax_row[1], tpr, f"TPR at 1% FPR ({attack})", "TPR (ideal: 0.01)", gens, (0, 1.02))
            ax_row[1].axhline(0.01, color="grey", lw=0.8)
            ax_row[0].legend(fontsize=8)
        else:
            for ax in ax_row:
                ax.text(0.5, 0.5, f"no privacy rows ({attack})", ha="center", transform=ax.transAxes)
    return _save(fig, out_png)


def frontier(metrics: pd.DataFrame, out_png: str | Path, order=None) -> Path:
    summary = summarise(metrics)
    keys = ["generator"]
    auc = _select(summary, "privacy", "auc", attack="worst").groupby(keys)["mean"].mean()
    ys = {
        "shape score (vs test)": _select(summary, "fidelity", "shape", against="test"),
        "trend score (vs test)": _select(summary, "fidelity", "trend", against="test"),
        "TSTR AUC": _select(summary, "utility", "tstr_auc", model="mean"),
    }
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (label, s) in zip(axes, ys.items()):
        y = s.groupby(keys)["mean"].mean()
        both = pd.concat([auc.rename("x"), y.rename("y")], axis=1).dropna()
        for g, r in both.iterrows():
            ax.scatter(r["x"], r["y"])
            ax.annotate(g, (r["x"], r["y"]), fontsize=8, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"worst-case MIA AUC ({_better('privacy', 'auc')})")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle("Privacy-utility frontier (means over datasets, n and seeds)")
    return _save(fig, out_png)


FIGURES = {"fidelity_utility": fidelity_utility, "privacy_by_n": privacy_by_n, "frontier": frontier}
