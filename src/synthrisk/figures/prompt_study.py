"""``prompt_study``: the study's prompt-study table, per condition of each ``factorial:`` entry.

Per cell (variant): worst-case AUC (attack ``worst``), shape and trend (fidelity against the
test rows), worst-case AUC on rare targets (``auc_rare``) and the DCR "proportion closer"
(diversity ``dcr_share``: share of synthetic rows closer to a member than to a non-member),
each the mean over datasets x seeds (and n where several ran), with the number of splits.

Rows: the study's one-factor-at-a-time conditions first (``study_condition`` true: the
baseline, then one factor changed at a time; paper-spec section 6), then, where a full factorial
ran, every other cell (``study_condition`` false). A cell with no value (not run, or its family
did not run) stays, with NaN, so a reader sees what is missing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.figures import common as c
from synthrisk.figures.cells import OUTCOMES, cell_rows, level_text, study_conditions


def build(metrics: pd.DataFrame, ctx: c.Context):
    out = []
    factors_all: list[str] = []
    factorials = ctx.factorials  # the plan gives this view the llm_icl ones only (Plan.view_factorials)
    for base, spec in factorials.items():
        factors_all += [k for k in spec["factors"] if k not in factors_all]
        study = study_conditions(spec)
        variants = list(study) + [v for v in spec["cells"] if v not in study]
        values = {col: cell_rows(metrics, spec, col) for col in OUTCOMES}
        for v in variants:
            combo = spec["cells"][v]
            r = {"factorial": base, "variant": v, "study_condition": v in study,
                 "condition": study.get(v, ", ".join(f"{k}={level_text(combo[k])}" for k in spec["factors"])),
                 **{k: level_text(combo[k]) for k in spec["factors"]}}
            for col, t in values.items():
                x = t[t.generator.map(c.base_name) == v]["value"].to_numpy(dtype=np.float64)
                ok = np.isfinite(x)
                r[col] = float(x[ok].mean()) if ok.any() else np.nan
                r[f"{col}_splits"] = int(ok.sum())
            out.append(r)
    cols = ["factorial", "condition", "study_condition", "variant", *factors_all,
            *[f"{k}{s}" for k in OUTCOMES for s in ("", "_splits")]]
    df = pd.DataFrame(out, columns=cols)
    columns = {"condition": "Condition", "worst_auc": "max-attack AUC", "shape": "shape",
               "trend": "correlation sim.", "worst_auc_rare": "rare AUC", "dcr_share": "DCR prop. closer"}
    multi = len(factorials) > 1
    tex_df = df.assign(condition=[(f"{b}: " if multi else "") + cond + ("" if s else " *")
                                  for b, cond, s in zip(df.factorial, df.condition, df.study_condition)])
    note = ("Prompt study: mean over datasets x seeds per condition. Rows without * are the study's "
            "one-factor-at-a-time conditions; * marks the other cells of the full factorial.")
    if not factorials:
        note += "\nNo factorial: entry of an llm_icl generator in this run: nothing to tabulate."
    elif df[list(OUTCOMES)].isna().all().all():
        note += "\nNo values: the factorial's cells have no metric rows yet."
    return df, c.to_tabular(tex_df, columns, note)
