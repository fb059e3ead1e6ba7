"""``auc_by_n`` and ``tpr_by_n``: the study's bar chart by seed size, and its unbiased twin.

Generators on x, one bar per n, its value printed on it, error bars the 95% interval of the
mean over datasets and seeds (dataset as resampling unit). Top row: the study's worst case
(attack ``worst``: max over its ten attacks, chosen on the targets it is scored on, so biased
upwards; the holdout control scores above 0.5); bottom row: ``selected``, the cross-fitted
attack (chosen on one fold, scored on the other: unbiased). ``auc_by_n`` shows the ROC AUC,
``tpr_by_n`` the TPR at 1% FPR (``tpr_at_fpr_0.01``).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c

ROWS = ((c.STUDY_ATTACK, c.LABEL_WORST), ("selected", c.LABEL_SELECTED))


def bars(ax, s: pd.DataFrame, gens: list[str], ylim=None, fmt: str = "{:.2f}") -> None:
    """Grouped bars of ``s`` (columns generator, n, mean, ci_low, ci_high) with printed values."""
    ns = sorted(s["n"].unique())
    width = 0.8 / max(len(ns), 1)
    x = np.arange(len(gens))
    shades = plt.get_cmap("Blues")(np.linspace(0.45, 0.9, max(len(ns), 1)))
    for i, n in enumerate(ns):
        sel = s[s.n == n].set_index("generator").reindex(gens)
        pos = x + (i - (len(ns) - 1) / 2) * width
        ax.bar(pos, sel["mean"].fillna(0), width, yerr=c.err(sel), label=f"n = {n}", capsize=2,
               color=shades[i], edgecolor="white", lw=0.5)
        for p, v, top in zip(pos, sel["mean"], sel["ci_high"].fillna(sel["mean"])):
            if np.isfinite(v):  # printed above the error bar
                ax.text(p, max(v, top), " " + fmt.format(v), ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(x, gens, rotation=30, ha="right")
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)


def _draw(metrics: pd.DataFrame, ctx: c.Context, metric: str, what: str, chance: float, ylim) -> plt.Figure:
    parts = {a: c.pooled(c.rows(metrics, "privacy", metric, attack=a), ["generator", "n"]) for a, _ in ROWS}
    gens = c.order([g for p in parts.values() for g in p.generator], ctx)
    fig, axes = plt.subplots(2, 1, figsize=(max(7, 0.9 * len(gens) + 3), 8.4), squeeze=False)
    for (attack, label), ax in zip(ROWS, axes[:, 0]):
        s = parts[attack]
        ax.set_title(f"{what}: {label}")
        ax.set_ylabel(f"{what} ({c.better('privacy', metric)})")
        if s.empty or not s["mean"].notna().any():
            c.note(ax, f"no privacy rows for attack {attack!r}: the privacy family did not run "
                       f"or gave no value")
            ax.set_xticks([])
            continue
        bars(ax, s, gens, ylim)
        ax.axhline(chance, color="grey", lw=0.8, ls="--")
        ax.legend(loc="upper right")
        missing = [g for g in gens if g not in set(s.generator[s["mean"].notna()])]
        if missing:
            c.note(ax, "no value: " + ", ".join(missing), y=0.93, size=7)
    extra = c.random_weights_note(gens)
    fig.suptitle(f"{what} by seed size n: mean over datasets and seeds\nerror bars: 95% interval "
                 f"(dataset as resampling unit); dashed: chance" + (f"\n{extra}" if extra else ""))
    fig.tight_layout()
    return fig


def draw_auc(metrics: pd.DataFrame, ctx: c.Context):
    return _draw(metrics, ctx, "auc", "MIA ROC AUC", 0.5, (0.3, 1.08))


def draw_tpr(metrics: pd.DataFrame, ctx: c.Context):
    return _draw(metrics, ctx, "tpr_at_fpr_0.01", "TPR at 1% FPR", 0.01, (0, 1.1))
