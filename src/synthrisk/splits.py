"""Seed splits: members, non-members, reference, test and holdout rows of one (dataset, n, seed).

1. A fixed test split: ``test_fraction`` (default 20%) of the prepared table, stratified on the
   target, drawn with ``split_seed`` (default 42) and the dataset name only, so it is the same
   for every n and seed. ``test`` is capped at ``test_size`` rows (default 1,000). The rest is
   the pool.
2. From the pool, with a stream derived from (seed, dataset, n), stratified draws without
   replacement, in this order:

   * ``members``: n rows, the only rows any generator sees;
   * ``non_members``: n rows never shown to a generator (membership-inference targets, label 0);
   * ``holdout``: ``holdout_size`` rows (default: the number of synthetic rows) that the
     ``holdout`` control returns: real rows disjoint from everything above;
   * ``reference``: up to ``reference_size`` (default 1,000) further rows, the attacker's
     auxiliary data, drawn uniformly (not stratified): an attacker's sample of the population.

Stratification (members, non-members, holdout, test): each class's quota is its pool share times the draw size, rounded by largest
remainder, so a class rarer than 1/size of the pool may get no row. When a class's quota
exceeds the rows left, or the pool is too small for 2n + holdout rows, :class:`SplitError`
names the dataset, n and class.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.io import make_rng
from synthrisk.schema import TableSchema

PARTS = ("members", "non_members", "reference", "test", "holdout")


class SplitError(ValueError):
    pass


def quotas(counts: np.ndarray, k: int) -> np.ndarray:
    """Largest-remainder allocation of ``k`` draws proportional to ``counts``."""
    total = counts.sum()
    exact = counts * (k / total)
    q = np.floor(exact).astype(np.int64)
    rest = k - q.sum()
    if rest > 0:
        # ties broken by class order (stable), so the allocation is deterministic
        order = np.argsort(-(exact - q), kind="stable")
        q[order[:rest]] += 1
    return q


def stratified_draw(
    labels: np.ndarray, available: np.ndarray, k: int, rng: np.random.Generator, *, what: str
) -> np.ndarray:
    """Draw ``k`` indices from ``available`` (index array) stratified on ``labels``."""
    if k > len(available):
        raise SplitError(f"{what}: needs {k} rows but only {len(available)} are left in the pool")
    lab = labels[available]
    classes, counts = np.unique(lab, return_counts=True)
    q = quotas(counts, k)
    picked = []
    for cls, c, qq in zip(classes, counts, q):
        if qq > c:
            raise SplitError(f"{what}: class {cls!r} needs {qq} rows but only {c} are left")
        rows = available[lab == cls]
        picked.append(rng.choice(rows, size=qq, replace=False))
    out = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
    return np.sort(out)


def make_split(
    df: pd.DataFrame,
    schema: TableSchema,
    n: int,
    seed: int,
    *,
    holdout_size: int | None = None,
    reference_size: int = 1000,
    test_fraction: float = 0.2,
    test_size: int = 1000,
    split_seed: int = 42,
) -> dict[str, pd.DataFrame]:
    name = schema.name
    labels = df[schema.target].to_numpy(dtype=object)
    all_idx = np.arange(len(df))
    k_test = min(int(round(test_fraction * len(df))), int(test_size))
    test_idx = stratified_draw(labels, all_idx, k_test, make_rng(split_seed, "test", name),
                               what=f"dataset {name!r} test split")
    pool = np.setdiff1d(all_idx, test_idx)
    holdout_size = int(n if holdout_size is None else holdout_size)
    need = 2 * n + holdout_size
    if need > len(pool):
        raise SplitError(
            f"dataset {name!r}, n={n}: the pool has {len(pool)} rows, fewer than the {need} needed "
            f"(members + non-members + holdout)"
        )
    rng = make_rng(seed, "split", name, n)
    parts = {}
    for part, k in (("members", n), ("non_members", n), ("holdout", holdout_size)):
        idx = stratified_draw(labels, pool, k, rng, what=f"dataset {name!r}, n={n}, {part}")
        parts[part] = idx
        pool = np.setdiff1d(pool, idx)
    k_ref = min(int(reference_size), len(pool))
    parts["reference"] = np.sort(rng.choice(pool, size=k_ref, replace=False))
    parts["test"] = test_idx
    out = {p: df.iloc[parts[p]].reset_index(drop=True) for p in PARTS}
    for p in ("members", "non_members"):
        present = set(out[p][schema.target])
        if len(present) < 2:
            raise SplitError(f"dataset {name!r}, n={n}, seed={seed}: {p} hold a single class {present}")
    return out
