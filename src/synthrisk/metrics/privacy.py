"""Privacy family: the membership-inference battery of :mod:`synthrisk.attacks`, scored.

For every attack (``params["attacks"]``, default all of :data:`~synthrisk.attacks.ATTACKS`)
one long row per score, with ``attack`` set:

* ``auc``: ROC AUC over members (1) vs non-members (0), ties counted as half (Mann-Whitney).
* ``tpr_at_fpr_<f>`` for f in 0, 0.001, 0.01, 0.1: TPR read off the ROC curve. Points with
  the same FPR are merged keeping the highest TPR, then the curve is interpolated linearly
  between its points (the TPR a randomised mix of two thresholds achieves). At f = 0 this is
  the largest TPR reached with no false positive. With n non-members the FPR steps by 1/n,
  so at small n the 0.001 and 0.01 values are interpolations between FPR 0 and 1/n.
* ``auc_rare``: AUC over *rare* targets (the study's rare-class leakage). Rarity is defined
  on the real seed rows (``split.members``, the generator's training rows, in both
  protocols): per numerical column, 10 equal-width bins over the seed rows' range; bins with
  under 5% of the seed rows are rare, and if no non-empty bin is, the least-populated one(s)
  (all ties) are. Empty bins count as rare (0% of the seed rows), so a non-member in a gap of
  the seed rows is rare; values outside the seed range fall into the end bins. A target is
  rare if any numerical value falls in a rare bin. Constant columns are skipped (one bin
  holds everything, which is not rarity).
* ``auc_rare_categorical`` (extension): the same with categorical levels held by under 5% of
  the seed rows (levels absent from the seed rows included); target column excluded.
* ``auc_rarest_class`` (extension): AUC over targets whose target value is the class with
  the fewest seed rows (among classes present in the targets); ``column`` names it as
  ``"<target>=<class>"``.

Any AUC restricted to a subset is NaN with a reason unless the subset holds both labels.
Worst case: rows with ``attack="worst"``, the maximum over attacks of each score; the
winning attack is named in ``reason`` (``"max over attacks: <name>"``, ties: first in
name order), and ``column`` is kept empty so the rows count as aggregate rows.

A failing attack gives NaN rows (every score) with the error as reason; the others still
run. If the split cannot be prepared at all (e.g. synthetic table missing a column), every
row of every attack and of ``worst`` is NaN with that reason.

``params``: ``attacks`` (list of names), ``protocol`` (``"default"`` | ``"paper"``, see
:func:`synthrisk.attacks.prepare`), ``attack_params`` (``{name: {param: value}}``).
"""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from synthrisk.attacks import ATTACKS, prepare, run_attack
from synthrisk.io import make_rng, stable_int
from synthrisk.metrics.base import nan_row, row
from synthrisk.schema import TableSchema

FPRS = (0.0, 0.001, 0.01, 0.1)
RARE_SHARE = 0.05
N_BINS = 10
KNOWN_PARAMS = {"attacks", "protocol", "attack_params"}


class Undefined(ValueError):
    """A score that is not defined on this input; the message is the NaN row's reason."""


# ------------------------------------------------------------------ ROC scores
def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by ranks (ties = 1/2); invariant to row order and monotone transforms."""
    labels = np.asarray(labels).astype(bool)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    if n1 == 0 or n0 == 0:
        raise Undefined(f"AUC needs both labels; got {n1} member(s) and {n0} non-member(s)")
    r = rankdata(np.asarray(scores, dtype=np.float64))
    return float((r[labels].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve (FPR, TPR) over all thresholds, from (0, 0) to (1, 1); tied scores move together."""
    labels = np.asarray(labels).astype(bool)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    s, y = np.asarray(scores, dtype=np.float64)[order], labels[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each tie group
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """TPR at ``fpr`` on the ROC curve; see the module docstring for the interpolation."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        raise Undefined("TPR at FPR needs both labels")
    f, t = roc_points(labels, scores)
    last = np.r_[np.nonzero(np.diff(f))[0], len(f) - 1]  # f, t never decrease: the last point
    return float(np.interp(fpr, f[last], t[last]))   # of an FPR value has its highest TPR


# ------------------------------------------------------------------- rarity
def rare_numerical(seed: pd.DataFrame, targets: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """Boolean mask of targets with a numerical value in a rare bin of the seed rows."""
    mask = np.zeros(len(targets), dtype=bool)
    for name in schema.numerical:
        v = seed[name].to_numpy(dtype=np.float64)
        lo, hi = float(v.min()), float(v.max())
        if not hi > lo:
            continue
        edges = np.linspace(lo, hi, N_BINS + 1)
        counts = np.bincount(_bin(v, edges), minlength=N_BINS)
        rare = counts < RARE_SHARE * len(v)  # empty bins too: no seed row is there
        if not (rare & (counts > 0)).any():  # no sparse non-empty bin: take the sparsest
            rare |= counts == counts[counts > 0].min()
        mask |= rare[_bin(targets[name].to_numpy(dtype=np.float64), edges)]
    return mask


def _bin(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)


def rare_categorical(seed: pd.DataFrame, targets: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """Boolean mask of targets holding a categorical level seen in under 5% of the seed rows."""
    mask = np.zeros(len(targets), dtype=bool)
    for name in schema.categorical:
        if name == schema.target:
            continue
        share = seed[name].astype(str).value_counts(normalize=True)
        t = targets[name].astype(str)
        mask |= (t.map(share).fillna(0.0) < RARE_SHARE).to_numpy()
    return mask


def rarest_class(seed: pd.DataFrame, targets: pd.DataFrame, schema: TableSchema) -> str:
    """The target class with the fewest seed rows among classes present in the targets."""
    present = pd.unique(targets[schema.target].astype(str))
    counts = seed[schema.target].astype(str).value_counts()
    return min(sorted(present), key=lambda c: int(counts.get(c, 0)))


# ---------------------------------------------------------------- evaluation
def score_names() -> list[str]:
    return ["auc"] + [f"tpr_at_fpr_{f:g}" for f in FPRS] + ["auc_rare", "auc_rare_categorical", "auc_rarest_class"]


def _scores(labels, scores, masks: dict) -> list[tuple[str, float | None, str | None]]:
    """(metric, value, reason) for one attack's scores; value None when undefined."""
    out = []

    def add(metric, fn):
        try:
            out.append((metric, fn(), None))
        except Undefined as e:
            out.append((metric, None, str(e)))

    add("auc", lambda: auc(labels, scores))
    for f in FPRS:
        add(f"tpr_at_fpr_{f:g}", lambda f=f: tpr_at_fpr(labels, scores, f))
    for metric, m in masks.items():

        def sub(m=m, metric=metric):
            if not m.any():
                raise Undefined(f"{metric}: no target in the subset")
            try:
                return auc(labels[m], scores[m])
            except Undefined as e:
                raise Undefined(f"{metric}: subset of {int(m.sum())} target(s): {e}") from None

        add(metric, sub)
    return out


def evaluate(synthetic: pd.DataFrame, split, schema: TableSchema, rng: np.random.Generator,
             params: dict | None = None) -> list[dict]:
    params = dict(params or {})
    unknown = set(params) - KNOWN_PARAMS
    if unknown:
        raise ValueError(f"privacy: unknown param(s) {sorted(unknown)}; known: {sorted(KNOWN_PARAMS)}")
    names = list(params.get("attacks") or ATTACKS.names())
    for n in names:
        ATTACKS.target(n)  # unknown attack name -> KeyError naming it
    attack_params = params.get("attack_params") or {}
    stray = set(attack_params) - set(names)
    if stray:
        raise ValueError(f"privacy: attack_params for attack(s) not run: {sorted(stray)}")
    for name, p in attack_params.items():  # a config typo is an error, not a NaN row
        known = set(inspect.signature(ATTACKS.get(name)).parameters) - {"data", "rng"}
        if set(p) - known:
            raise ValueError(f"privacy: attack {name!r} has no param(s) {sorted(set(p) - known)}; "
                             f"known: {sorted(known)}")
    protocol = params.get("protocol", "default")
    cls_col = f"{schema.target}=?"

    def extra(metric: str, attack: str) -> dict:
        return {"attack": attack, **({"column": cls_col} if metric == "auc_rarest_class" else {})}

    try:
        data = prepare(split, synthetic, schema, protocol)
    except Exception as e:  # noqa: BLE001 - becomes NaN rows with the reason
        reason = f"cannot prepare attack data: {type(e).__name__}: {e}"
        return [nan_row(m, reason, **extra(m, a)) for a in names + ["worst"] for m in score_names()]

    labels = data.labels
    seed_rows = split.members
    tdf = data.targets_df
    cls = rarest_class(seed_rows, tdf, schema)
    cls_col = f"{schema.target}={cls}"
    masks = {
        "auc_rare": rare_numerical(seed_rows, tdf, schema),
        "auc_rare_categorical": rare_categorical(seed_rows, tdf, schema),
        "auc_rarest_class": (tdf[schema.target].astype(str) == cls).to_numpy(),
    }

    rows: list[dict] = []
    table: dict[str, dict[str, float]] = {}
    base = int(rng.integers(2**31))
    for name in names:
        arng = make_rng(base, stable_int(name))  # own stream per attack, whatever else runs
        try:
            s = run_attack(name, data, arng, **attack_params.get(name, {}))
        except Exception as e:  # noqa: BLE001 - one failing attack must not stop the others
            reason = f"attack {name} failed: {type(e).__name__}: {e}"
            rows += [nan_row(m, reason, **extra(m, name)) for m in score_names()]
            continue
        for metric, value, reason in _scores(labels, s, masks):
            if value is None:
                rows.append(nan_row(metric, reason, **extra(metric, name)))
            else:
                rows.append(row(metric, value, **extra(metric, name)))
                table.setdefault(metric, {})[name] = value

    for metric in score_names():
        vals = table.get(metric, {})
        if not vals:
            rows.append(nan_row(metric, "no attack gave a value", **extra(metric, "worst")))
            continue
        best = max(sorted(vals), key=lambda a: vals[a])
        rows.append(row(metric, vals[best], reason=f"max over attacks: {best}", **extra(metric, "worst")))
    return rows
