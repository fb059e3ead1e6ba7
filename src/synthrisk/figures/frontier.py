"""``frontier``: the privacy-utility frontier (the study's 2x2 scatter).

x: worst-case membership-inference AUC (attack ``worst``, the study's max over its ten attacks);
y: trend (correlation similarity, fidelity ``trend`` against the unseen test rows), shape
(fidelity ``shape`` against test), TSTR AUC (utility ``tstr_auc``, mean over models) and
beta-recall (diversity ``beta_recall_naive``, the study's synthcity variant). One marker per
generator, with a whisker on each axis; one shared legend.

Pooling over n: each generator's values are averaged over the seed sizes within each
(dataset, seed); the marker is the mean of those averages and the whiskers their 95% interval
from :func:`synthrisk.aggregate.cluster_interval` (dataset as resampling unit), recomputed
here, not averaged from per-n intervals (:func:`synthrisk.figures.common.pooled`).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from synthrisk.figures import common as c

X = ("privacy", "auc", {"attack": c.STUDY_ATTACK})
PANELS = (
    ("trend (correlation similarity, vs test)", "fidelity", "trend", {"against": "test"}),
    ("shape (vs test)", "fidelity", "shape", {"against": "test"}),
    ("TSTR AUC (mean over models)", "utility", "tstr_auc", {"model": "mean"}),
    ("beta-recall (naive, synthcity's)", "diversity", "beta_recall_naive", {"against": "members"}),
)


def draw(metrics: pd.DataFrame, ctx: c.Context):
    fam, met, eq = X
    x = c.pooled(c.rows(metrics, fam, met, **eq), ["generator"]).set_index("generator")
    ys = {label: c.pooled(c.rows(metrics, f, m, **e), ["generator"]).set_index("generator")
          for label, f, m, e in PANELS}
    gens = c.order(list(x.index) + [g for y in ys.values() for g in y.index], ctx)
    st = c.styles(gens, ctx)
    fig, axes = plt.subplots(2, 2, figsize=(10, 8.2))
    drawn: dict = {}
    for ax, (label, f, m, _) in zip(axes.flat, PANELS):
        y = ys[label]
        both = [g for g in gens if g in x.index and g in y.index]
        for g in both:
            xr, yr = x.loc[[g]], y.loc[[g]]
            h = ax.errorbar(xr["mean"], yr["mean"], xerr=c.err(xr), yerr=c.err(yr), fmt=st[g]["marker"],
                            color=st[g]["color"], ms=6, capsize=2, lw=1, label=g)
            drawn.setdefault(g, h)
        if not both:
            what = [w for w, t in (("privacy (worst-case AUC)", x), (f"{f} {m}", y)) if t.empty]
            c.note(ax, "no values to draw: " + (", ".join(what) + " missing" if what else
                                               "no generator has both values"))
        ax.set_xlabel(f"worst-case MIA AUC ({c.better('privacy', 'auc')})")
        ax.set_ylabel(f"{label} ({c.better(f, m)})")
        ax.grid(alpha=0.3)
    if drawn:
        fig.legend([drawn[g] for g in gens if g in drawn], [g for g in gens if g in drawn], loc="lower center",
                   ncol=min(len(drawn), 5), frameon=False)
    extra = c.random_weights_note(gens)
    fig.suptitle("Privacy-utility frontier: means over datasets, seeds and n; whiskers: 95% intervals "
                 "(dataset as resampling unit)" + (f"\n{extra}" if extra else ""))
    fig.tight_layout(rect=(0, 0.04 + 0.025 * ((len(drawn) - 1) // 5), 1, 1))
    return fig
