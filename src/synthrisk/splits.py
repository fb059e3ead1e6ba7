"""Seed splits: members, non-members, reference, test and holdout rows of one (dataset, n, seed).

1. A fixed test split: ``test_fraction`` (default 20%) of the prepared table, stratified on the
   target, drawn with ``split_seed`` (default 42) and the dataset name only, so it is the same
   for every n and seed. ``test`` is capped at ``test_size`` rows (default 1,000). The rest is
   the pool.
2. From the pool, with a stream derived from (seed, dataset, n), draws without replacement,
   in this order:

   * ``members``: n rows (stratified), the only rows any generator sees;
   * ``holdout``: ``holdout_size`` rows (stratified; default: the number of synthetic rows)
     that the ``holdout`` control returns: real rows disjoint from everything else;
   * ``non_members``: ``non_member_size`` rows (stratified; default 1,000) never shown to a
     generator, the membership-inference targets with label 0. Enough of them to *measure*
     TPR at low FPR: a value at FPR f needs at least 1/f non-members (1,000 for 0.1%), see
     :mod:`synthrisk.metrics.privacy`;
   * ``reference``: ``reference_size`` rows (default 1,000), the attacker's auxiliary data,
     drawn uniformly (not stratified): an attacker's sample of the population.

   **Short pools.** When the rows left after members and holdout (``left``) cannot fill both
   caps, non-members and reference share them: each gets up to half of ``left`` (capped),
   and what one leaves of its half goes to the other, up to its cap (with the default equal
   caps, each gets half). The sizes drawn are recorded in the split sidecar; the TPR resolution rule
   then decides which values a small table can report. A pool without room for members,
   holdout and at least one non-member and one reference row is a :class:`SplitError`.

Stratification (members, holdout, non-members, test): each class's quota is its pool share
times the draw size, rounded by largest remainder, so a class rarer than 1/size of the pool
may get no row. When a class's quota exceeds the rows left, :class:`SplitError` names the
dataset, n and class.

Parts are disjoint by row, not by content: a table with few columns has rows that repeat, so
a non-member (or a reference, test or holdout row) can be identical to a member. That is the
population as it is, and the parts keep it; :func:`member_duplicates` counts such rows per
part for the split sidecar, and the copy-style metrics (:mod:`synthrisk.metrics.diversity`)
do not count a synthetic row as a copy when it also occurs among the real rows the generator
did not see.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.io import make_rng
from synthrisk.paths import SPLIT_PARTS
from synthrisk.schema import TableSchema

PARTS = SPLIT_PARTS


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
    non_member_size: int = 1000,
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
    need = n + holdout_size + 2
    if need > len(pool):
        raise SplitError(
            f"dataset {name!r}, n={n}: the pool has {len(pool)} rows, fewer than the {need} needed "
            f"(members + holdout + at least one non-member and one reference row)"
        )
    rng = make_rng(seed, "split", name, n)
    parts = {}
    for part, k in (("members", n), ("holdout", holdout_size)):
        idx = stratified_draw(labels, pool, k, rng, what=f"dataset {name!r}, n={n}, {part}")
        parts[part] = idx
        pool = np.setdiff1d(pool, idx)
    k_non, k_ref = share_rest(len(pool), int(non_member_size), int(reference_size))
    parts["non_members"] = stratified_draw(labels, pool, k_non, rng, what=f"dataset {name!r}, n={n}, non_members")
    pool = np.setdiff1d(pool, parts["non_members"])
    parts["reference"] = np.sort(rng.choice(pool, size=k_ref, replace=False))
    parts["test"] = test_idx
    out = {p: df.iloc[parts[p]].reset_index(drop=True) for p in PARTS}
    for p in ("members", "non_members"):
        present = set(out[p][schema.target])
        if len(present) < 2:
            raise SplitError(f"dataset {name!r}, n={n}, seed={seed}: {p} hold a single class {present}")
    return out


def share_rest(left: int, non_member_size: int, reference_size: int) -> tuple[int, int]:
    """(non-members, reference) drawn from ``left`` rows: both caps when they fit; else each
    gets up to half (capped), and what one leaves of its half goes to the other, up to its cap."""
    if non_member_size < 1 or reference_size < 1:
        raise SplitError(f"non_member_size and reference_size must be >= 1, got {non_member_size}, {reference_size}")
    if left >= non_member_size + reference_size:
        return non_member_size, reference_size
    k_non = min(non_member_size, left - min(reference_size, left // 2))
    return k_non, min(reference_size, left - k_non)


def row_keys(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of ``columns`` (content, not index): equal rows, equal keys."""
    return pd.util.hash_pandas_object(df[columns].reset_index(drop=True), index=False).to_numpy()


def member_duplicates(parts: dict[str, pd.DataFrame], columns: list[str]) -> dict[str, int]:
    """Per part, the number of rows content-identical to some member row; for ``members``
    itself, the member rows that have an identical twin among the other members."""
    mem = row_keys(parts["members"], columns)
    out = {}
    for p, df in parts.items():
        if p == "members":
            _, inv, counts = np.unique(mem, return_inverse=True, return_counts=True)
            out[p] = int((counts[inv] > 1).sum())
        else:
            out[p] = int(np.isin(row_keys(df, columns), mem).sum())
    return out
