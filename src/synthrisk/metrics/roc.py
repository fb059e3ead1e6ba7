"""ROC statistics of membership scores, with bootstrap replicates computed all at once.

Targets are members (label 1) and non-members (label 0); a higher score means "more likely a
member". Every statistic takes **weights**: ``w1`` (``B x n1``) for the members and ``w0``
(``B x n0``) for the non-members, one row per replicate. A row of ones is the plain estimate;
multinomial counts are a bootstrap resample (:func:`bootstrap_weights`); zeros restrict a
statistic to a subset (rare targets, one cross-fitting fold). So the point estimate, the
bootstrap and every subset go through the same code, in ``O(B (n0 + n1))`` after one sort.

* :func:`auc`: ROC AUC, ties counted as one half (Mann-Whitney), i.e. the weighted share of
  (member, non-member) pairs that the score orders correctly.
* :func:`tpr_at_fpr`: the TPR of the best threshold whose FPR is at most ``f``, read off the
  empirical ROC curve **without interpolation**: rank the non-members by score; with
  ``k = floor(f * n0)`` false positives allowed, the threshold sits just above the
  (k+1)-th highest non-member score, and the value is the share of members strictly above it
  (ties at the threshold count as negatives, so the FPR never exceeds ``f``). At ``f = 0``
  that is the share of members above every non-member. The value is *measured* only when
  ``n0 >= 1/f``; below that (e.g. 0.1% from 32 non-members) :func:`resolvable` says so and the
  privacy family writes a NaN with that reason instead of an interpolation. ``f = 0`` is a
  point of every empirical curve (read it as "FPR below 1/n0") and is always reported.
* :func:`clopper_pearson_upper`, :func:`eps_lower_bound`: the DP-auditing lower bound on epsilon
  from one decision rule's counts (Kairouz et al. 2015; Jagielski et al. 2020).
"""
from __future__ import annotations

import math

import numpy as np


def rank_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Plain ROC AUC by ranks (Mann-Whitney U; ties count one half); needs both labels."""
    labels = np.asarray(labels).astype(bool)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError(f"AUC needs both labels; got {n1} positive(s) and {n0} negative(s)")
    from scipy.stats import rankdata  # here: the plan imports this module, and scipy.stats takes ~1 s

    r = rankdata(np.asarray(scores, dtype=np.float64))
    return float((r[labels].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def ones(n: int) -> np.ndarray:
    return np.ones((1, n), dtype=np.float32)


def bootstrap_weights(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """``b x n`` multinomial counts: ``b`` resamples of ``n`` items with replacement."""
    if n == 0:
        return np.zeros((b, 0))
    # n uniform draws per replicate, counted: the multinomial with equal cells, at the cost of
    # one integer draw per item (numpy's multinomial draws a binomial per cell); float32 holds
    # counts exactly (far below 2**24) and halves the memory traffic of the sums
    idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float32)


def _batched(s1: np.ndarray, s0: np.ndarray):
    s1, s0 = np.asarray(s1, dtype=np.float64), np.asarray(s0, dtype=np.float64)
    one = s1.ndim == 1
    return np.atleast_2d(s1), np.atleast_2d(s0), one


def curve_stats(s1: np.ndarray, s0: np.ndarray, w1: np.ndarray, w0: np.ndarray,
                fprs: tuple[float, ...] = ()) -> dict:
    """Weighted ROC AUC and TPR at each FPR in ``fprs``, per attack and replicate, in one pass.

    ``s1``/``s0``: scores of members/non-members, ``(n1,)``/``(n0,)`` for one attack or
    ``(A, n1)``/``(A, n0)`` for ``A`` attacks at once; ``w1``/``w0``: ``(B, n1)``/``(B, n0)``.
    Returns ``{"auc": ..., f: ...}`` with arrays ``(A, B)`` (``(B,)`` for one attack), NaN where
    a label has no weight. The non-members are sorted once per attack (descending) and their
    weights accumulated once; every statistic is read off that one cumulative sum.
    """
    s1, s0, one = _batched(s1, s0)
    if s1.shape[1] == 0 or s0.shape[1] == 0:  # a label with no target: every statistic is undefined
        nan = np.full((len(s1), max(len(w1), len(w0))), np.nan)
        out = {k: nan.copy() for k in ("auc", *fprs)}
        return {k: v[0] for k, v in out.items()} if one else out
    order = np.argsort(-s0, axis=1, kind="mergesort")
    u = np.take_along_axis(s0, order, axis=1)                      # (A, n0), descending
    # point estimates (one row of weights) in float64; bootstrap replicates in float32, where
    # counts stay exact and only the last of ~7 digits of a replicate can move
    acc = np.float64 if w0.shape[0] == 1 else np.float32
    cum = np.cumsum(w0[:, order], axis=2, dtype=acc)               # (B, A, n0): weight at or above each rank
    cum0 = np.concatenate([np.zeros(cum.shape[:2] + (1,), dtype=cum.dtype), cum], axis=2)
    w1 = w1.astype(acc)
    t1, t0 = w1.sum(axis=1), w0.sum(axis=1, dtype=acc)
    bad = (t1 <= 0) | (t0 <= 0)
    neg = -u
    gt = np.stack([np.searchsorted(neg[a], -s1[a], side="left") for a in range(len(u))])   # non-members above
    ge = np.stack([np.searchsorted(neg[a], -s1[a], side="right") for a in range(len(u))])  # ... above or tied
    above_half = 0.5 * (np.take_along_axis(cum0, gt[None], axis=2) + np.take_along_axis(cum0, ge[None], axis=2))
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        # member i beats the non-member weight below it and ties half: t0 - (above + half the ties)
        auc = ((w1[:, None, :] * (t0[:, None, None] - above_half)).sum(axis=2) / (t1 * t0)[:, None]).T
        auc[:, bad] = np.nan
        out["auc"] = auc
        for f in fprs:
            v = _threshold(cum, u, f * t0 * (1 + 1e-12))
            tpr = ((w1[:, None, :] * (s1[None, :, :] > v[:, :, None])).sum(axis=2) / t1[:, None]).T
            tpr[:, bad] = np.nan
            out[f] = tpr
    return {k: v[0] for k, v in out.items()} if one else out


def _threshold(cum: np.ndarray, u: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """(B, A): the score of the first non-member (descending order ``u``) at which the
    cumulative non-member weight ``cum`` exceeds ``allowed`` (per replicate), -inf where it
    never does. ``cum`` is non-decreasing along its last axis, so the search reads a prefix
    long enough for almost every replicate (twice the allowed weight, plus a margin) and only
    the rows not settled there read the rest: the same result as a full scan."""
    n0 = cum.shape[2]
    lim = allowed[:, None, None]
    width = min(n0, int(2 * np.max(allowed, initial=0.0)) + 64)
    over = cum[:, :, :width] > lim
    found = over.any(axis=2)
    first = np.argmax(over, axis=2)
    if width < n0 and not found.all():
        rest = np.nonzero(~found)
        tail = cum[rest[0], rest[1], width:] > lim[rest[0], 0]
        found[rest] = tail.any(axis=1)
        first[rest] = width + np.argmax(tail, axis=1)
    return np.where(found, np.take_along_axis(u[None], first[:, :, None], axis=2)[:, :, 0], -np.inf)


def auc(s1: np.ndarray, s0: np.ndarray, w1: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Weighted ROC AUC per replicate (NaN where a label has no weight); see :func:`curve_stats`."""
    return curve_stats(s1, s0, w1, w0)["auc"]


def tpr_at_fpr(s1: np.ndarray, s0: np.ndarray, w1: np.ndarray, w0: np.ndarray, f: float) -> np.ndarray:
    """Weighted TPR at FPR <= ``f`` per replicate (see the module docstring and :func:`curve_stats`)."""
    return curve_stats(s1, s0, w1, w0, (f,))[f]


def resolvable(n0: int, f: float) -> str | None:
    """None when ``n0`` non-members resolve FPR ``f``; else the reason."""
    if f == 0 or n0 * f >= 1 - 1e-9:
        return None
    need = math.ceil(1 / f - 1e-9)
    return f"TPR at FPR {f:g} is not resolved by {n0} non-members (needs at least {need})"


def percentile_interval(reps: np.ndarray, value: float, level: float) -> tuple[float, float]:
    """Percentile interval of the finite replicates, widened to contain ``value``."""
    r = reps[np.isfinite(reps)]
    if not np.isfinite(value):
        return math.nan, math.nan
    if len(r) == 0:
        return value, value
    a = (1 - level) / 2
    lo, hi = np.quantile(r, [a, 1 - a])
    return float(min(lo, value)), float(max(hi, value))


def clopper_pearson_upper(x: np.ndarray, n: np.ndarray, gamma: float) -> np.ndarray:
    """One-sided upper confidence bound (level ``1 - gamma``) of a binomial rate ``x / n``."""
    x, n = np.asarray(x, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        from scipy.stats import beta as beta_dist

        up = beta_dist.ppf(1 - gamma, x + 1, np.maximum(n - x, 1e-300))
    return np.where(x >= n, 1.0, up)


def eps_lower_bound(tp, fp, n1, n0, confidence: float = 0.95, delta: float = 0.0) -> np.ndarray:
    """Lower confidence bound on epsilon from a rule with ``tp`` of ``n1`` members and ``fp`` of
    ``n0`` non-members flagged.

    (epsilon, delta)-DP implies ``FPR + e^eps FNR >= 1 - delta`` and ``e^eps FPR + FNR >= 1 - delta``,
    so ``eps >= log((1 - delta - FNR) / FPR)`` and ``eps >= log((1 - delta - FPR) / FNR)``. With
    one-sided Clopper-Pearson upper bounds on FPR and FNR, each at level ``1 - (1 - confidence)/2``
    (Bonferroni: both hold together with probability ``confidence``), the larger log is a lower
    bound at that confidence; 0 when neither is positive.
    """
    tp, fp, n1, n0 = (np.asarray(v, dtype=np.float64) for v in (tp, fp, n1, n0))
    g = (1 - confidence) / 2
    a_hi = clopper_pearson_upper(fp, n0, g)
    b_hi = clopper_pearson_upper(n1 - tp, n1, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = np.log(np.maximum(1 - delta - b_hi, 0) / a_hi)
        e2 = np.log(np.maximum(1 - delta - a_hi, 0) / b_hi)
    out = np.fmax(np.fmax(e1, e2), 0.0)
    return np.where(np.isnan(out), 0.0, out)
