"""``contamination``: the zero-shot control of the LLM generators against their ICL runs.

For every split (dataset, n, seed) where a zero-shot generator ran (``llm_icl`` with
``seed_rows: none``: prompts without a single example row, :mod:`synthrisk.llm.zero_shot`), one
row per in-context ``llm_icl`` generator of that split (none: one row with the ICL columns
empty): the zero-shot rows' exact-match and near-match rates against the members, the
non-members and the rest of the public table (the risk family's ``match_*`` rows,
:mod:`synthrisk.metrics.risk`), beside the ICL run's rates against its members.

``not_attributable_to_seeds`` is true where the zero-shot rows match the public table at least as
often as the ICL run matches its members (exact or near): the model writes rows of this table
without being shown any, so the ICL run's copies on it cannot be put down to its seed rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.figures import common as c

RATES = ("match_exact_rate", "match_near_rate")
KEYS = ["dataset", "n", "seed"]


def _rates(m: pd.DataFrame, g: str) -> pd.DataFrame:
    """generator ``g``'s match rates, one row per split, columns ``<exact|near>_<against>``."""
    sel = m[(m.generator == g) & m.metric.isin(RATES)].copy()
    if sel.empty:
        return pd.DataFrame(columns=KEYS)
    sel["col"] = sel.metric.str.removeprefix("match_").str.removesuffix("_rate") + "_" + sel.against.astype(str)
    return sel.pivot_table(index=KEYS, columns="col", values="value", aggfunc="first").reset_index()


def build(metrics: pd.DataFrame, ctx: c.Context):
    m = metrics[metrics.family == "risk"]
    zero = [g for g in c.order(list((ctx.extra or {}).get("zero_shot", [])), ctx) if g in set(m.generator)]
    zs_set = set((ctx.extra or {}).get("zero_shot", []))
    icl = [g for g in c.order(m.generator.unique(), ctx) if ctx.kinds.get(g) == "llm_icl" and g not in zs_set]
    out = []
    for z in zero:
        zr = _rates(m, z)
        for _, r in zr.iterrows():
            base = {**{k: r[k] for k in KEYS}, "zero_shot": z,
                    **{f"zs_{k}_{a}": r.get(f"{k}_{a}", np.nan) for k in ("exact", "near")
                       for a in ("members", "non_members", "public")}}
            partners = []
            for g in icl:
                gr = _rates(m, g)
                hit = gr[(gr.dataset == r.dataset) & (gr.n == r.n) & (gr.seed == r.seed)] if len(gr) else gr
                if len(hit):
                    partners.append((g, hit.iloc[0]))
            if not partners:
                out.append({**base, "icl": None, "icl_exact_members": np.nan, "icl_near_members": np.nan,
                            "not_attributable_to_seeds": None, "note": "no in-context llm_icl run on this split"})
            for g, h in partners:
                ie, ine = float(h.get("exact_members", np.nan)), float(h.get("near_members", np.nan))
                flag_e = bool(base["zs_exact_public"] >= ie) if np.isfinite([ie, base["zs_exact_public"]]).all() else None
                flag_n = bool(base["zs_near_public"] >= ine) if np.isfinite([ine, base["zs_near_public"]]).all() else None
                flag = None if flag_e is None and flag_n is None else bool(flag_e or flag_n)
                why = [w for w, f in (("exact", flag_e), ("near", flag_n)) if f]
                out.append({**base, "icl": g, "icl_exact_members": ie, "icl_near_members": ine,
                            "not_attributable_to_seeds": flag,
                            "note": (f"zero-shot rows match the public table as often as the ICL rows match "
                                     f"their members ({', '.join(why)})") if why else ""})
    cols = [*KEYS, "zero_shot", *[f"zs_{k}_{a}" for k in ("exact", "near") for a in ("members", "non_members", "public")],
            "icl", "icl_exact_members", "icl_near_members", "not_attributable_to_seeds", "note"]
    df = pd.DataFrame(out, columns=cols)
    columns = {"dataset": "Dataset", "n": "n", "zero_shot": "Zero-shot", "zs_exact_public": "exact vs public",
               "zs_near_public": "near vs public", "icl": "ICL", "icl_exact_members": "ICL exact vs members",
               "icl_near_members": "ICL near vs members", "not_attributable_to_seeds": "not attributable"}
    note = ("Contamination control: rows an LLM wrote with no example row, matched against the public table,\n"
            "beside an ICL run's matches with its members. 'not attributable': the zero-shot rate reaches the ICL one.")
    if df.empty:
        note += "\nNo zero-shot run (an llm_icl entry with seed_rows: none) in this configuration."
    return df, c.to_tabular(df.assign(n=df.n.astype("Int64") if len(df) else df.n), columns, note)
