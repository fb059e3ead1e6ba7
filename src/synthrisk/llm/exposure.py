"""Prompt exposure of the member records of an ``llm_icl`` run, and leakage against it.

``llm_icl`` writes into its generation sidecar (``info.exposure``) which member rows each prompt
carried and in which order: ``chunk_rows`` (per chunk, the member indices in prompt order: the
seed rows are shuffled once and cut into chunks, :func:`synthrisk.llm.prompt.make_chunks`) and
``prompt_chunks`` (per prompt sent, in send order, the chunk it carried; re-prompts cycle over
the chunks). A zero-shot run (``seed_rows: none``) exposes nothing.

:func:`per_record` turns that into one row per member: ``exposures`` (prompts that carried it),
``first_position`` / ``mean_position`` (0-based row position inside those prompts), beside its
leakage: ``exact_copies`` (synthetic rows equal to it, canonical strings as the diversity
family's copies) and ``dcr_score`` (the ``dcr`` attack's membership score of the record: minus
its distance to the nearest synthetic row, in the attacks' shared encoding).
:func:`draw` plots both against the exposure count. The study found that larger batches (more
exposure per record) leak more; this shows it record by record.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.schema import TableSchema


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


def per_record(info: dict, split, synthetic: pd.DataFrame, schema: TableSchema,
               rng: np.random.Generator) -> pd.DataFrame:
    """:func:`counts` with each member's exact copies and ``dcr`` membership score."""
    from synthrisk.attacks import prepare, run_attack
    from synthrisk.encoding import canonical_strings

    out = counts(info, len(split.members))
    keys = pd.Series(canonical_strings(schema.conform(synthetic, who="synthetic rows"), schema)).value_counts()
    mem_keys = canonical_strings(schema.conform(split.members, who="members"), schema)
    out["exact_copies"] = [int(keys.get(k, 0)) for k in mem_keys]
    data = prepare(split, synthetic, schema)
    out["dcr_score"] = np.asarray(run_attack("dcr", data, rng), dtype=np.float64)[data.labels == 1]
    return out


def draw(records: pd.DataFrame):
    """One figure, two panels: exact copies and the dcr score of each member against its exposure
    count (colour: mean position in the prompt; a jitter of +-0.15 on x; ``records`` may hold
    several runs, with a ``generator`` column)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    x = records["exposures"].to_numpy(dtype=float)
    jit = np.random.default_rng(0).uniform(-0.15, 0.15, len(x))
    for ax, col, label in ((axes[0], "exact_copies", "exact copies in the synthetic table"),
                           (axes[1], "dcr_score", "membership score (dcr, higher = closer)")):
        sc = ax.scatter(x + jit, records[col], c=records["mean_position"], cmap="viridis", s=14)
        means = records.groupby("exposures")[col].mean()
        ax.plot(means.index, means.to_numpy(), color="black", lw=1.2, label="mean per exposure count")
        ax.set_xlabel("prompts that carried the record")
        ax.set_ylabel(label)
        ax.legend(loc="best", fontsize=7)
    fig.colorbar(sc, ax=axes, label="mean position in the prompt")
    fig.suptitle("Leakage against prompt exposure, per member record")
    return fig
