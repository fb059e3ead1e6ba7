"""``factorial_effects``: what each factor of a ``factorial:`` entry does to leakage and fidelity.

For each factorial entry that ran, and for two outcomes, the worst-case AUC (attack ``worst``)
and shape (fidelity against the test rows): the main effect of every factor and every two-way
interaction, with 95% intervals, estimated from the per-split values of the factorial's cells.

**Model** (:func:`effects`): ordinary least squares (statsmodels' formula OLS),

    value ~ (F1 + F2 + ...)**2 + C(dataset) + C(seed) [+ C(n)]

with dataset and seed (and n where several ran) as blocks (block terms are left out where they
have one level). A two-level factor is effect-coded -1 (its first level in the factorial map)
/ +1 (its second); its **effect** is reported as 2 x the coefficient: the difference between
the mean at +1 and at -1 (for an interaction: half the difference between one factor's effects
at the two levels of the other, also 2 x the coefficient). A factor with k > 2 levels enters with
sum (deviation) coding, ``C(F, Sum)``; its terms are the coefficients themselves: a level's
deviation from the mean over levels (the last level is the negative sum of the others).
Intervals: the model's t intervals, 95%, scaled the same way. The residual degrees of freedom
must be positive; where a cell did not run, so that the interactions are not identified, the
model keeps the main effects only (and says so); otherwise (a saturated model, e.g. one dataset and one seed) the panel
shows the point effects only and says so. Splits whose value is NaN are left out.
"""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c
from synthrisk.figures.cells import cell_rows, level_column, level_text

OUTCOMES = (("worst_auc", "worst-case MIA AUC"), ("shape", "shape (vs test)"))
LEVEL = 0.95
METHOD = ("OLS: value ~ (factors)**2 + C(dataset) + C(seed); two-level factors coded -1/+1, "
          "effect = 2 x coefficient (mean at +1 minus mean at -1); 95% t intervals")


def effects(cells: pd.DataFrame, factors: dict[str, list], level: float = LEVEL) -> tuple[pd.DataFrame, str]:
    """Effects of ``factors`` (param -> levels in factorial order) on ``cells["value"]`` (one row
    per split, with ``dataset``, ``seed``, ``n`` and the factors' :func:`level_column`). Returns (table with
    ``term``, ``label``, ``effect``, ``ci_low``, ``ci_high``, ``p_value``; a note, "" if fitted
    with intervals; a saturated model gives its point effects with NaN intervals and a note)."""
    import statsmodels.formula.api as smf

    cols = ["term", "label", "effect", "ci_low", "ci_high", "p_value"]
    d = cells[np.isfinite(cells["value"].to_numpy(dtype=np.float64))].copy()
    used = {k: [lv for lv in levels if (d[level_column(k)] == lv).any()] for k, levels in factors.items()} if len(d) else {}
    used = {k: lv for k, lv in used.items() if len(lv) > 1}
    if not used:
        return pd.DataFrame(columns=cols), "no factor with two levels that ran has values"
    names = {k: f"F{i}" for i, k in enumerate(used)}
    terms = []
    for k, levels in used.items():
        f = names[k]
        if len(levels) == 2:
            d[f] = np.where(d[level_column(k)] == levels[1], 1.0, -1.0)
            terms.append(f)
        else:
            d[f] = pd.Categorical([level_text(v) for v in d[level_column(k)]], categories=[level_text(v) for v in levels])
            terms.append(f"C({f}, Sum)")
    blocks = [b for b in ("dataset", "seed", "n") if d[b].nunique() > 1]
    d["value"] = d["value"].astype(np.float64)
    for b in blocks:
        d[b] = d[b].astype(str)
    why = ""
    # the two-way model; where the cells that ran cannot identify it (a cell missing), main effects only
    for rhs in dict.fromkeys([terms[0] if len(terms) == 1 else "(" + " + ".join(terms) + ")**2", " + ".join(terms)]):
        model = smf.ols("value ~ " + " + ".join([rhs] + [f"C({b})" for b in blocks]), data=d)
        X = model.exog
        if np.linalg.matrix_rank(X) == X.shape[1]:
            break
        why = "interactions left out: the cells that ran do not identify them"
    else:
        return pd.DataFrame(columns=cols), (f"cannot separate the effects: {len(d)} values of "
                                            f"{d.groupby(list(names.values())).ngroups} cells do not identify "
                                            f"{X.shape[1]} parameters")
    fit = model.fit()
    saturated = fit.df_resid <= 0
    if saturated:  # point estimates only
        why = (why + "; " if why else "") + (f"no intervals: {len(d)} values for {len(fit.params)} parameters "
               f"(no residual degrees of freedom); points only")
    ci = fit.conf_int(1 - level) if not saturated else pd.DataFrame(np.nan, index=fit.params.index, columns=[0, 1])
    back = {v: k for k, v in names.items()}
    out = []
    for term in fit.params.index:
        if term == "Intercept" or term.startswith("C(dataset") or term.startswith("C(seed") or term.startswith("C(n)"):
            continue
        parts = term.split(":")
        scale = 2.0 if all(p in back for p in parts) else 1.0
        out.append({"term": term, "label": _label(parts, back, used), "effect": scale * fit.params[term],
                    "ci_low": scale * ci.loc[term, 0], "ci_high": scale * ci.loc[term, 1],
                    "p_value": float(fit.pvalues[term]) if not saturated else np.nan})
    return pd.DataFrame(out, columns=cols), why


def _label(parts: list[str], back: dict, used: dict) -> str:
    bits = []
    for p in parts:
        if p in back:
            k = back[p]
            bits.append(f"{k}: {level_text(used[k][1])} vs {level_text(used[k][0])}")
        else:  # C(F0, Sum)[S.level]
            m = re.match(r"C\((F\d+), Sum\)\[S\.(.*)\]", p)
            bits.append(f"{back[m.group(1)]}={m.group(2)} (vs mean)" if m else p)
    return " x ".join(bits)


def draw(metrics: pd.DataFrame, ctx: c.Context):
    specs = ctx.factorials
    nrow = max(len(specs), 1)
    fig, axes = plt.subplots(nrow, 2, figsize=(12, 0.4 + 3.6 * nrow), squeeze=False)
    if not specs:
        for ax in axes[0]:
            c.note(ax, "no factorial: entry in this run")
            ax.set_axis_off()
    for row_axes, (base, spec) in zip(axes, specs.items()):
        for ax, (col, what) in zip(row_axes, OUTCOMES):
            cells = cell_rows(metrics, spec, col)
            ax.set_title(f"{base}: effects on {what}")
            ax.axvline(0, color="grey", lw=0.8)
            ax.grid(axis="x", alpha=0.3)
            if cells.empty:
                c.note(ax, f"no {what} rows for the cells of {base} (not run, or its family did not run)")
                ax.set_yticks([])
                continue
            eff, why = effects(cells, spec["factors"])
            if why:
                c.note(ax, why, y=0.96 if len(eff) else 0.5, size=7)
            if eff.empty:
                ax.set_yticks([])
                continue
            y = np.arange(len(eff))[::-1]
            ax.errorbar(eff.effect, y, xerr=c.err(eff, mean="effect"), fmt="o", color="black", capsize=3)
            for yi, (e, lo, hi) in zip(y, eff[["effect", "ci_low", "ci_high"]].to_numpy()):
                ax.annotate(f"{e:+.3f} [{lo:+.3f}, {hi:+.3f}]" if np.isfinite(lo) else f"{e:+.3f}", (e, yi), xytext=(0, 6), textcoords="offset points",
                            ha="center", fontsize=6)
            ax.set_yticks(y, eff.label)
            ax.set_ylim(-0.7, len(eff) - 0.3)
            ax.set_xlabel(f"effect on {what}")
            ax.text(1.0, -0.16, f"{len(cells)} splits of {len(spec['cells'])} cells", transform=ax.transAxes,
                    ha="right", fontsize=6)
    fig.suptitle(f"Factorial effects with 95% intervals. {METHOD}", fontsize=8)
    fig.tight_layout()
    return fig
