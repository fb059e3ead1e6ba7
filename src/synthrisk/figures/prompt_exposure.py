"""``prompt_exposure``: leakage against prompt exposure, per member record of the ICL runs.

For every in-context ``llm_icl`` generator of the run (``seed_rows: examples``) and each of its
splits: the generation sidecar's ``info.exposure`` (which member rows each prompt carried, in
order) against each member's exact copies in the synthetic table and its ``dcr`` membership
score (:func:`synthrisk.llm.exposure.per_record`), pooled into one figure
(:func:`synthrisk.llm.exposure.draw`). Inputs: ``ctx.extra["exposure"]``, generator -> list of
that generator's split files (synthetic table, its sidecar, split parts, dataset sidecar).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c


def records(entries: dict[str, list[dict]]) -> pd.DataFrame:
    """The per-record table of every run in ``entries`` (a ``generator`` and a ``split`` column)."""
    from synthrisk.io import read_json, read_parquet, sidecar_path
    from synthrisk.llm.exposure import per_record
    from synthrisk.metrics.base import Split
    from synthrisk.schema import TableSchema

    out = []
    for g, files in entries.items():
        for f in files:
            info = (read_json(sidecar_path(f["synthetic"])).get("info") or {}).get("exposure")
            if not info:
                continue
            schema = TableSchema.load(f["sidecar"])
            rec = per_record(info, Split.read(f["parts"]), read_parquet(f["synthetic"]), schema,
                             np.random.default_rng(0))
            out.append(rec.assign(generator=g, split=f["split"]))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def draw(metrics: pd.DataFrame, ctx: c.Context):
    from synthrisk.llm.exposure import draw as draw_records

    rec = records((ctx.extra or {}).get("exposure") or {})
    if rec.empty:
        fig, ax = plt.subplots(figsize=(6, 3))
        c.note(ax, "no in-context llm_icl run with a recorded prompt exposure")
        return fig
    return draw_records(rec)
