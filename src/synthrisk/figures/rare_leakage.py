"""``rare_leakage``: do rare records leak more? Per generator and n, the worst-case AUC on rare
targets (``auc_rare``, the study's rule: a target in a sparse equal-width bin of the seed rows in
any numerical column; max over the study's ten attacks) beside the worst-case AUC on all targets.

One panel per n; per generator two bars: all targets (solid) and rare targets (hatched), with
95% intervals (dataset as resampling unit). ``auc_rare`` is NaN where a split's rare targets do
not hold both labels; each bar counts only the splits that resolve it, and the panel says how
many splits that is per generator.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c


def draw(metrics: pd.DataFrame, ctx: c.Context):
    allp = c.pooled(c.rows(metrics, "privacy", "auc", attack=c.STUDY_ATTACK), ["generator", "n"])
    rare = c.pooled(c.rows(metrics, "privacy", "auc_rare", attack=c.STUDY_ATTACK), ["generator", "n"])
    gens = c.order(list(allp.generator) + list(rare.generator), ctx)
    ns = sorted(set(allp.n) | set(rare.n))
    st = c.styles(gens, ctx)
    fig, axes = plt.subplots(max(len(ns), 1), 1, figsize=(max(7, 0.9 * len(gens) + 3), 3.6 * max(len(ns), 1)),
                             squeeze=False)
    if not ns:
        c.note(axes[0, 0], "no privacy rows: the privacy family did not run")
    x = np.arange(len(gens))
    w = 0.38
    for ax, n in zip(axes[:, 0], ns):
        a = allp[allp.n == n].set_index("generator").reindex(gens)
        r = rare[rare.n == n].set_index("generator").reindex(gens)
        cols = [st[g]["color"] for g in gens]
        ax.bar(x - w / 2, a["mean"].fillna(0), w, yerr=c.err(a), color=cols, capsize=2, label="all targets")
        ax.bar(x + w / 2, r["mean"].fillna(0), w, yerr=c.err(r), color=cols, alpha=0.55, hatch="//",
               edgecolor="black", lw=0.4, capsize=2, label="rare targets (auc_rare)")
        for xs, t in ((x - w / 2, a), (x + w / 2, r)):
            for p, v, top in zip(xs, t["mean"], t["ci_high"].fillna(t["mean"])):
                if np.isfinite(v):
                    ax.text(p, max(v, top), f" {v:.2f}", ha="center", va="bottom", fontsize=6, rotation=90)
        counts = ", ".join(f"{g}: {int(s) if np.isfinite(s) else 0}/{int(s + k) if np.isfinite(s) else 0}"
                           for g, s, k in zip(gens, r["splits"], r["nan"]))
        ax.set_title(f"n = {n}: worst-case MIA AUC, all vs rare targets (study's rule)")
        ax.text(0.0, -0.42 if len(gens) > 3 else -0.3, f"splits resolving auc_rare: {counts}",
                transform=ax.transAxes, fontsize=6, va="top", wrap=True)
        if r["mean"].isna().all():
            c.note(ax, "no rare-target AUC: auc_rare rows missing or undefined on every split", y=0.9)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(x, gens, rotation=30, ha="right")
        ax.set_ylim(0.3, 1.1)
        ax.set_ylabel(f"worst-case AUC ({c.better('privacy', 'auc')})")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper right")
    fig.suptitle("Rare-record leakage: solid = all targets, hatched = rare targets\n95% intervals, "
                 "dataset as resampling unit")
    fig.tight_layout()
    return fig
