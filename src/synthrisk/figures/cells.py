"""The cells of a ``factorial:`` entry, as the figures and tables read them.

A factorial spec (:meth:`synthrisk.plan.Plan.factorials`) is ``{"factors": {param: [levels]},
"baseline": {param: level}, "cells": {variant: {param: level}}}``. The **study's conditions**
are the one-factor-at-a-time ones (paper-spec section 6): the baseline cell (the entry's own
params, or the first level of a factor the params do not set) and every cell that differs
from it in exactly one factor.
"""
from __future__ import annotations

import pandas as pd

from synthrisk.figures import common as c

#: the prompt study's outcomes: column -> (family, metric, filter)
OUTCOMES = {
    "worst_auc": ("privacy", "auc", {"attack": c.STUDY_ATTACK}),
    "shape": ("fidelity", "shape", {"against": "test"}),
    "trend": ("fidelity", "trend", {"against": "test"}),
    "worst_auc_rare": ("privacy", "auc_rare", {"attack": c.STUDY_ATTACK}),
    "dcr_share": ("diversity", "dcr_share", {"against": "members"}),
}


def level_text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


def study_conditions(spec: dict) -> dict[str, str]:
    """variant -> condition label, for the study's one-factor-at-a-time cells, in the study's
    order (baseline first, then each factor's other levels in the factorial's order)."""
    base = spec["baseline"]
    cells = spec["cells"]
    out = {}
    for v, combo in cells.items():
        if all(combo[k] == base[k] for k in spec["factors"]):
            out[v] = "baseline (" + ", ".join(f"{k}={level_text(base[k])}" for k in spec["factors"]) + ")"
    for k, levels in spec["factors"].items():
        for lv in levels:
            if lv == base[k]:
                continue
            for v, combo in cells.items():
                if combo[k] == lv and all(combo[o] == base[o] for o in spec["factors"] if o != k):
                    out[v] = f"{k} = {level_text(lv)}"
    return out


def cell_rows(metrics: pd.DataFrame, spec: dict, column: str) -> pd.DataFrame:
    """Per-split rows of outcome ``column`` for the spec's cells, with one column ``lv:<param>``
    per factor (the cell's level) and ``generator`` = the variant; a cell with a label (``[random
    weights]``) is matched by its base name."""
    fam, met, eq = OUTCOMES[column]
    r = c.rows(metrics, fam, met, **eq)
    r = r[r.generator.map(c.base_name).isin(list(spec["cells"]))].copy()
    for k in spec["factors"]:
        r[level_column(k)] = [spec["cells"][c.base_name(g)][k] for g in r.generator]
    return r


def level_column(param: str) -> str:
    """The column of a factor's level in :func:`cell_rows` (apart from dataset, seed, n)."""
    return f"lv:{param}"
