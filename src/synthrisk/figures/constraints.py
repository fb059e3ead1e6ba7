"""``constraint_satisfaction`` (table) and ``constraint_map`` (figure): the constraints family per generator.

Per (dataset, constraint, generator), over the splits the generator ran (every n and seed):

* ``satisfaction``: for a row constraint the mean share of rows that hold it; for a statistical,
  fairness or downstream constraint the share of splits on which it was met;
* ``value`` / ``target``: mean statistic (``row_satisfaction`` for row constraints) and mean target;
* ``members``: the same satisfaction on the real seed rows (the family's ``against="members"``
  baseline, pooled over the same splits);
* ``splits``, ``nan``: splits with a value, and without.

The constraint texts and kinds come from the config (``ctx.params["constraints"]``, filled by the
plan). The figure draws one heat map per dataset: generators by constraints, the colour and label
the satisfaction. The plan makes both only when the constraints family runs and some dataset
declares constraints (:data:`synthrisk.figures.NEEDS_CONSTRAINTS`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.figures import common as c

COLUMNS = ["dataset", "constraint", "kind", "text", "generator", "satisfaction", "value", "target", "members",
           "splits", "nan"]


def _kinds(ctx: c.Context) -> dict:
    from synthrisk import constraints as C

    out = {}
    for ds, cons in (ctx.params.get("constraints") or {}).items():
        for name, text in cons.items():
            try:
                out[(ds, name)] = (C.parse(text, name=name, dataset=ds).kind, text)
            except C.ConstraintError:
                out[(ds, name)] = ("?", text)
    return out


def table(metrics: pd.DataFrame, ctx: c.Context) -> pd.DataFrame:
    m = metrics[(metrics.family == "constraints") & metrics["column"].notna()]
    kinds = _kinds(ctx)
    out = []
    for (ds, name), g in m.groupby(["dataset", "column"], sort=True):
        kind, text = kinds.get((ds, name), ("?", ""))
        for gen in c.order(g.generator.unique(), ctx):
            sel = g[g.generator == gen]
            own, base = sel[sel.against.isna()], sel[sel.against == "members"]
            if "row_satisfaction" in set(sel.metric):
                v = own[own.metric == "row_satisfaction"].value
                sat, val, tgt = v.mean(), v.mean(), np.nan
                mem = base[base.metric == "row_satisfaction"].value.mean()
            else:
                v = own[own.metric == "constraint_satisfied"].value
                sat = v.mean()
                val = own[own.metric == "constraint_value"].value.mean()
                tgt = own[own.metric == "constraint_target"].value.mean()
                mem = base[base.metric == "constraint_satisfied"].value.mean()
            out.append({"dataset": ds, "constraint": name, "kind": kind, "text": text, "generator": gen,
                        "satisfaction": sat, "value": val, "target": tgt, "members": mem,
                        "splits": int(v.notna().sum()), "nan": int(v.isna().sum())})
    return pd.DataFrame(out, columns=COLUMNS)


def build(metrics: pd.DataFrame, ctx: c.Context):
    df = table(metrics, ctx)
    columns = {"dataset": "Dataset", "constraint": "Constraint", "kind": "Kind", "generator": "Generator",
               "satisfaction": "Satisfaction", "value": "Value", "target": "Target", "members": "Real rows"}
    note = ("Constraint satisfaction: row constraints, the share of rows that hold; others, the share of splits\n"
            "on which the statistic met its target. 'Real rows': the same on the seed rows (the baseline).")
    if df.empty:
        note += "\nNo constraint rows: no dataset declares constraints, or the constraints family did not run."
    return df, c.to_tabular(df, columns, note)


def draw(metrics: pd.DataFrame, ctx: c.Context):
    import matplotlib.pyplot as plt

    df = table(metrics, ctx)
    datasets = sorted(df.dataset.unique()) if not df.empty else []
    fig, axes = plt.subplots(1, max(1, len(datasets)), figsize=(4.2 * max(1, len(datasets)), 3.6), squeeze=False)
    if not datasets:
        c.note(axes[0, 0], "no constraint rows: no dataset declares constraints")
        axes[0, 0].set_axis_off()
        return fig
    for ax, ds in zip(axes[0], datasets):
        d = df[df.dataset == ds]
        gens = c.order(d.generator.unique(), ctx)
        cons = list(dict.fromkeys(d.constraint))
        grid = np.full((len(gens), len(cons)), np.nan)
        for _, r in d.iterrows():
            grid[gens.index(r.generator), cons.index(r.constraint)] = r.satisfaction
        ax.imshow(grid, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        for i in range(len(gens)):
            for j in range(len(cons)):
                ax.text(j, i, "--" if np.isnan(grid[i, j]) else f"{grid[i, j]:.2f}", ha="center", va="center",
                        fontsize=7)
        kinds = dict(zip(d.constraint, d.kind))
        ax.set_xticks(range(len(cons)), [f"{k}\n({kinds[k]})" for k in cons], rotation=30, ha="right", fontsize=7)
        ax.set_yticks(range(len(gens)), gens, fontsize=7)
        ax.set_title(ds, fontsize=9)
    fig.suptitle("constraint satisfaction (rows: share holding; others: share of splits met)", fontsize=9)
    fig.tight_layout()
    return fig
