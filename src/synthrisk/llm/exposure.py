"""Prompt exposure of the member records of an ``llm_icl`` run, and leakage against it.

``llm_icl`` writes into its generation sidecar (``info.exposure``) which member rows each prompt
carried and in which order: ``chunk_rows`` (per chunk, the member indices in prompt order: the
seed rows are shuffled once and cut into chunks, :func:`synthrisk.llm.prompt.make_chunks`) and
``prompt_chunks`` (per prompt sent, in send order, the chunk it carried; re-prompts cycle over
the chunks). A zero-shot run (``seed_rows: none``) exposes nothing.

:func:`counts` turns that into one row per member, and
:func:`synthrisk.figures.prompt_exposure.per_record` adds the leakage: ``exposures`` (prompts that carried it),
``first_position`` / ``mean_position`` (0-based row position inside those prompts), beside its
leakage: ``exact_copies`` (synthetic rows equal to it, canonical strings as the diversity
family's copies) and ``dcr_score`` (the ``dcr`` attack's membership score of the record: minus
its distance to the nearest synthetic row, in the attacks' shared encoding); the
``prompt_exposure`` figure plots both against the exposure count. This module imports nothing of
the attacks, so ``llm_icl``'s fingerprint (and its costly generation jobs) does not depend on them. The study found that larger batches (more
exposure per record) leak more; this shows it record by record.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def exposure_info(order: np.ndarray, size: int, prompt_chunks: list[int]) -> dict:
    """The sidecar record: ``order`` (the shuffle of the member indices), chunk ``size``."""
    order = [int(i) for i in order]
    return {"chunk_rows": [order[i:i + size] for i in range(0, len(order), size)],
            "prompt_chunks": [int(c) for c in prompt_chunks]}


def counts(info: dict, n_members: int) -> pd.DataFrame:
    """Per member: exposures, first and mean position (NaN where never shown)."""
    pos: list[list[int]] = [[] for _ in range(n_members)]
    chunks = info.get("chunk_rows") or []
    for c in info.get("prompt_chunks") or []:
        for p, m in enumerate(chunks[c]):
            pos[m].append(p)
    return pd.DataFrame({
        "member": np.arange(n_members),
        "exposures": [len(p) for p in pos],
        "first_position": [float(p[0]) if p else np.nan for p in pos],
        "mean_position": [float(np.mean(p)) if p else np.nan for p in pos],
    })
