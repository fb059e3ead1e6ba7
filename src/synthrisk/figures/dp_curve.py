"""``dp_curve``: what the privacy budget epsilon buys, per DP generator.

Two panels, x = the configured epsilon (log scale; ``inf``, trained without DP, at the right end,
labelled so): utility (TSTR AUC, mean over the utility models) and the worst-case
membership-inference AUC (the study's ``worst``, max over its attacks). One line per DP generator:
the variants of an epsilon factorial (``factorial: {epsilon: [...]}``) are its points, and separate
entries of one DP kind are joined into one line; the epsilon of each generator comes from the plan
(``ctx.extra["epsilon"]``, :meth:`synthrisk.plan.Plan.dp_epsilons`), else from the factorial cells.
Each point is the mean over datasets, seeds and n (values first averaged over n within each
dataset and seed), whiskers its 95% interval (dataset as resampling unit).

The non-private generators (every other generator, the controls included) are horizontal reference
lines, computed on the same splits (dataset, n, seed) the DP generators ran on, so that a line and a
point compare like with like. A DP generator without values, or a missing family, is named in the
panel. The plan draws this figure only when a DP generator runs (:data:`synthrisk.figures.NEEDS_DP`).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c

PANELS = (
    ("utility: TSTR AUC (mean over models)", "utility", "tstr_auc", {"model": "mean"}),
    ("privacy: worst-case MIA AUC (study's worst)", "privacy", "auc", {"attack": c.STUDY_ATTACK}),
)
INF_LABEL = "inf\n(no DP)"


def epsilons(ctx: c.Context) -> dict[str, float]:
    """generator -> configured epsilon: the plan's map, completed from factorial cells."""
    out = {}
    for spec in (ctx.factorials or {}).values():
        for variant, combo in spec.get("cells", {}).items():
            if "epsilon" in combo:
                out[variant] = float(combo["epsilon"])
    out.update({g: float(e) for g, e in ((ctx.extra or {}).get("epsilon") or {}).items()})
    return out


def line_of(gen: str, ctx: c.Context) -> str:
    """The line a DP generator belongs to: its factorial entry, else its kind."""
    for base, spec in (ctx.factorials or {}).items():
        if gen in spec.get("cells", {}):
            return base
    return c.kind_of(gen, ctx) or gen


def draw(metrics: pd.DataFrame, ctx: c.Context):
    eps = epsilons(ctx)
    gen_of = metrics.generator.map(c.base_name)
    dp_rows = metrics[gen_of.isin(list(eps))]
    splits = set(zip(dp_rows.dataset, dp_rows.n, dp_rows.seed))
    finite = [e for e in eps.values() if math.isfinite(e)]
    x_inf = 10 * max(finite) if finite else 10.0
    xpos = {g: (e if math.isfinite(e) else x_inf) for g, e in eps.items()}
    lines = {}
    for g in c.order(list(eps), ctx):
        lines.setdefault(line_of(g, ctx), []).append(g)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    handles = {}
    for ax, (label, fam, met, eq) in zip(axes, PANELS):
        ax.set_title(label)
        ax.set_xlabel("configured epsilon (log scale)")
        ax.set_ylabel(f"{met} ({c.better(fam, met)})")
        ax.grid(alpha=0.3)
        r = c.rows(metrics, fam, met, **eq)
        if r.empty:
            c.note(ax, f"no {fam} rows for {met}: the {fam} family did not run")
            continue
        r = r.assign(base=r.generator.map(c.base_name))
        dp = c.pooled(r[r.base.isin(list(eps))], ["generator"])
        dp = dp.assign(base=dp.generator.map(c.base_name))
        missing = [g for g in c.order(list(eps), ctx) if g not in set(dp.base)]
        # one style per line, from its first generator (lines of one kind: lighter, another marker)
        st = c.styles([gens[0] for gens in lines.values()]
                      + c.order([g for g in r.generator.unique() if c.base_name(g) not in eps], ctx), ctx)
        for name, gens in lines.items():
            t = dp[dp.base.isin(gens)].assign(x=lambda d: d.base.map(xpos)).sort_values("x")
            if t.empty:
                continue
            h = ax.errorbar(t.x, t["mean"], yerr=c.err(t), marker=st[gens[0]]["marker"], ms=5, lw=1.4, capsize=3,
                            color=st[gens[0]]["color"], label=f"{name} (DP)")
            handles.setdefault(f"{name} (DP)", h)
        keep = [s in splits for s in zip(r.dataset, r.n, r.seed)]
        ref = c.pooled(r[np.array(keep, dtype=bool) & ~r.base.isin(list(eps)).to_numpy()], ["generator"])
        for g in c.order(list(ref.generator), ctx):
            m = float(ref.loc[ref.generator == g, "mean"].iloc[0])
            h = ax.axhline(m, color=st[g]["color"], ls="--", lw=1, label=g)
            handles.setdefault(g, h)
        ticks = sorted(set(xpos.values()))
        ax.set_xscale("log")
        if ticks:
            has_inf = any(not math.isfinite(e) for e in eps.values())  # x_inf is above every finite epsilon
            ax.set_xticks(ticks, [INF_LABEL if has_inf and x == x_inf else f"{x:g}" for x in ticks])
            ax.set_xlim(min(ticks) / 2, max(ticks) * 2)
        ax.minorticks_off()
        if dp.empty:
            c.note(ax, "no values of a DP generator: " + (", ".join(missing) or "none in this run"))
        elif missing:
            c.note(ax, "no values: " + ", ".join(missing), y=0.06, size=7)
        if ref.empty:
            c.note(ax, "no non-private generator on the DP generators' splits", y=0.94, size=7)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 5),
                   frameon=False)
    fig.suptitle("Epsilon against utility and leakage: DP generators (lines), non-private ones (dashed, "
                 "same splits)\nmeans over datasets, seeds and n; whiskers: 95% intervals (dataset as resampling unit)")
    fig.tight_layout(rect=(0, 0.08 + 0.04 * ((max(len(handles), 1) - 1) // 5), 1, 0.93))
    return fig

