"""``leaky_records``: which records leak? Does leakage concentrate on outliers?

On one split (``figure_params.leaky_records``: ``dataset``, ``n``, ``seed``; default the first
dataset of the config, its largest n and first seed), one panel per generator: for each member,
the score of the **strongest attack on that split** (the per-attack row with the highest AUC in
the metrics, the study's ten and any other that ran) against the member's distance to its nearest
non-member, in the attacks' shared encoded space (:func:`synthrisk.attacks.prepare`: one-hot
levels and standardised numericals, fitted on the reference rows). A member far from every
non-member is an outlier of the population; if its score is high, the attack finds it.

The scores are recomputed here, exactly as the privacy family computed them: the same split
files and synthetic table, the same attack params (``metrics.privacy``) and the same seeded
stream (the privacy family's rng for that generator and split, then the attack's own stream:
:mod:`synthrisk.metrics.privacy`); the panel shows the AUC recomputed beside the AUC in the
metrics. The dashed line is the 99th percentile of the non-members' scores: members strictly
above it are flagged at (at most) 1% FPR; the title counts them. Non-members are drawn in grey for comparison (their distance: to their
nearest other non-member).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from synthrisk.figures import common as c

NOT_ATTACKS = ("worst", "worst_all", "selected")


def strongest_attack(metrics: pd.DataFrame, generator: str, dataset: str, n: int, seed: int):
    """(attack, its AUC) with the highest AUC on one split, or (None, nan)."""
    r = c.rows(metrics, "privacy", "auc")
    r = r[(r.generator.map(c.base_name) == generator) & (r.dataset == dataset) & (r.n == n) & (r.seed == seed)
          & r.attack.notna() & ~r.attack.isin(NOT_ATTACKS)]
    r = r[np.isfinite(r.value.to_numpy(dtype=np.float64))].sort_values(["value", "attack"], ascending=[False, True],
                                                                       kind="stable")
    return (r.attack.iloc[0], float(r.value.iloc[0])) if len(r) else (None, float("nan"))


def member_scores(generator: str, files: dict, n: int, seed: int, attack: str, privacy: dict):
    """(scores of every target, labels, distance of each target to its nearest non-member, other
    than itself) of ``attack`` on one split, recomputed as :mod:`synthrisk.metrics.privacy` does."""
    from synthrisk.attacks import prepare, run_attack
    from synthrisk.attacks._neighbours import knn
    from synthrisk.io import make_rng, read_parquet, stable_int
    from synthrisk.metrics.base import Split
    from synthrisk.metrics.privacy import check_params
    from synthrisk.schema import TableSchema

    p = check_params(privacy, "metrics.privacy")
    schema = TableSchema.load(files["sidecar"])
    split = Split.read(files["parts"])
    syn = schema.conform(read_parquet(files["synthetic"]), who=str(files["synthetic"]))
    data = prepare(split, syn, schema, p.get("protocol", "default"))
    rng = make_rng(int(seed), "metric", "privacy", generator, schema.name, int(n))  # the evaluate stage's stream
    base = int(rng.integers(2**31))
    scores = run_attack(attack, data, make_rng(base, stable_int(attack)), **p["attack_params"].get(attack, {}))
    d, idx = knn(data.targets, data.non_members, k=2, who="leaky_records")
    n1 = len(data.members)
    own = np.r_[np.full(n1, -1), np.arange(len(data.non_members))]  # a non-member's own row is not its neighbour
    dist = np.where(idx[:, 0] == own, d[:, 1], d[:, 0])
    return scores, data.labels, dist


def draw(metrics: pd.DataFrame, ctx: c.Context):
    from synthrisk.metrics.privacy import auc

    ds, n, seed = ctx.params.get("dataset"), ctx.params.get("n"), ctx.params.get("seed")
    splits = ctx.extra.get("splits") or {}
    privacy = ctx.extra.get("privacy") or {}
    gens = c.order(list(splits), ctx)
    st = c.styles(gens, ctx)
    cols = min(max(len(gens), 1), 3)
    nrow = max(math.ceil(len(gens) / cols), 1)
    fig, axes = plt.subplots(nrow, cols, figsize=(4.2 * cols, 3.6 * nrow + 0.6), squeeze=False)
    for ax in axes.flat[len(gens):]:
        ax.set_axis_off()
    if not gens:
        c.note(axes[0, 0], f"no generator ran on the chosen split ({ds}, n = {n}, seed {seed})")
    for ax, g in zip(axes.flat, gens):
        ax.set_title(g)
        ax.set_xlabel("distance to the nearest non-member (encoded)")
        ax.set_ylabel("attack score (higher: member)")
        attack, want = strongest_attack(metrics, g, ds, n, seed)
        if attack is None:
            c.note(ax, "no per-attack privacy AUC on this split\n(the privacy family did not run, or every attack failed)")
            continue
        try:
            s, labels, dist = member_scores(g, splits[g], n, seed, attack, privacy)
        except Exception as e:  # noqa: BLE001 - said in the panel; the other panels still draw
            c.note(ax, f"cannot recompute {attack}: {type(e).__name__}: {str(e)[:80]}")
            continue
        m = labels == 1
        ax.scatter(dist[~m], s[~m], s=4, color="#bbbbbb", alpha=0.5, lw=0, label="non-members", rasterized=False)
        ax.scatter(dist[m], s[m], s=14, color=st[g]["color"], marker=st[g]["marker"], lw=0, label="members")
        thr = float(np.quantile(s[~m], 0.99))
        ax.axhline(thr, color="black", ls="--", lw=0.8)
        got = auc(labels, s)
        ax.set_title(f"{g}\n{attack}: AUC {got:.3f} (metrics: {want:.3f}); "
                     f"{int((s[m] > thr).sum())}/{int(m.sum())} members above the line", fontsize=7)
        ax.legend(loc="lower right", fontsize=6)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Which records leak: {ds}, n = {n}, seed {seed}; strongest attack per generator; "
                 "dashed: 99th percentile of non-member scores (1% FPR)", fontsize=8)
    fig.tight_layout()
    return fig
