"""``fidelity_utility_by_n``: how fidelity and utility change with the seed size n.

Three panels: shape and trend (fidelity against the unseen test rows) and TSTR AUC (utility,
mean over models); x = n, one line per generator (mean over datasets and seeds), the band its
95% interval (dataset as resampling unit). The dashed line in the utility panel is the AUC of
the same models trained on the real members (``trtr_auc``), where it ran.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from synthrisk.figures import common as c

PANELS = (
    ("shape (vs test)", "fidelity", "shape", {"against": "test"}),
    ("trend (vs test)", "fidelity", "trend", {"against": "test"}),
    ("TSTR AUC (mean over models)", "utility", "tstr_auc", {"model": "mean"}),
)


def draw(metrics: pd.DataFrame, ctx: c.Context):
    parts = {label: c.pooled(c.rows(metrics, f, m, **e), ["generator", "n"]) for label, f, m, e in PANELS}
    gens = c.order([g for p in parts.values() for g in p.generator], ctx)
    st = c.styles(gens, ctx)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    handles = {}
    for ax, (label, f, m, _) in zip(axes, PANELS):
        s = parts[label]
        ax.set_title(label)
        ax.set_xlabel("seed size n")
        ax.set_ylabel(f"{m} ({c.better(f, m)})")
        ax.grid(alpha=0.3)
        if s.empty:
            c.note(ax, f"no {f} rows for {m}: the {f} family did not run")
            continue
        ns = sorted(s.n.unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.minorticks_off()
        for g in gens:
            t = s[s.generator == g].sort_values("n")
            if t.empty:
                continue
            (h,) = ax.plot(t.n, t["mean"], marker=st[g]["marker"], color=st[g]["color"], lw=1.2, ms=4, label=g)
            ok = t["ci_low"].notna().to_numpy()
            if ok.any():
                ax.fill_between(t.n[ok], t.ci_low[ok], t.ci_high[ok], color=st[g]["color"], alpha=0.15, lw=0)
            handles.setdefault(g, h)
        if len(ns) == 1:
            c.note(ax, f"one seed size only (n = {ns[0]}): no trend to draw", y=0.08, size=7)
        if m == "tstr_auc":
            real = c.pooled(c.rows(metrics, "utility", "trtr_auc", model="mean"), ["n"])
            if len(real):
                ax.plot(real.n, real["mean"], ls="--", color="black", lw=1, label="trained on real members")
    if handles:
        fig.legend([handles[g] for g in gens if g in handles], [g for g in gens if g in handles],
                   loc="lower center", ncol=min(len(handles), 6), frameon=False)
    fig.suptitle("Fidelity and utility by seed size: mean over datasets and seeds; bands: 95% interval "
                 "(dataset as resampling unit)")
    fig.tight_layout(rect=(0, 0.08 + 0.04 * ((max(len(handles), 1) - 1) // 6), 1, 1))
    return fig

