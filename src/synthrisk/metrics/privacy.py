"""Privacy family: the membership-inference battery of :mod:`synthrisk.attacks`, scored with intervals.

Targets are the split's members (label 1) and non-members (label 0; 1,000 by default, see
:mod:`synthrisk.splits`). Every row carries ``ci_low``/``ci_high``, a 95% interval (level:
``confidence``) from a **stratified bootstrap over targets**: members and non-members are
resampled separately, ``bootstrap`` times (default 200) with the family's seeded rng, and every
attack is scored on the same resamples, so the worst cases are bootstrapped jointly. Intervals
are percentile intervals of the replicates, widened to contain the point estimate where they
do not (possible for a maximum). Counts (``rare_n_*``, ``eps_*``) are exact: their interval is
the value itself. All of it is vectorised (:mod:`synthrisk.metrics.roc`).

Per attack (``params["attacks"]``, default all of :data:`~synthrisk.attacks.ATTACKS`), rows
with ``attack`` set:

* ``auc``: ROC AUC, ties counted as half (Mann-Whitney).
* ``tpr_at_fpr_<f>`` for f in 0, 0.001, 0.01, 0.1: measured, not interpolated: the TPR of the
  best threshold with FPR at most f on the empirical ROC curve (:func:`synthrisk.metrics.roc.tpr_at_fpr`).
  Reported only when the non-members resolve it (at least 1/f of them: 1,000 for 0.001); else
  a NaN row with that reason. f = 0 (no false positive at all) is always reported.
* ``auc_rare``: AUC over *rare* targets, the study's rule exactly (its ``compute_rare_masks``,
  see :func:`rare_study`), with ``rare_n_members`` and ``rare_n_non_members`` rows (one each,
  no attack) beside it.
* Extensions, named apart from the study's: ``auc_rare_gaps`` (the earlier rule of this
  project: empty seed bins count as rare and out-of-range values are clipped into the end
  bins, :func:`rare_numerical`), ``auc_rare_categorical`` (levels held by under 5% of the seed
  rows), ``auc_rarest_class`` (targets of the class with the fewest seed rows; ``column``
  names it as ``"<target>=<class>"``).

Any AUC restricted to a subset is NaN with a reason unless the subset holds both labels.

**Worst cases** (each metric separately, as the study: the worst TPR can come from another
attack than the worst AUC), rows with ``attack`` set to:

* ``worst``: the maximum over the study's ten attacks (:data:`~synthrisk.attacks.STUDY_ATTACKS`,
  with Synth-MIA's default hyperparameters; :mod:`synthrisk.attacks`). This is the study's
  number, and like any maximum over attacks chosen on the targets it is reported on, it is
  biased upwards (the holdout control scores above 0.5).
* ``worst_all``: the maximum over every attack that ran (``levatt`` and any added attack).
* ``selected``: unbiased, by cross-fitting. The targets are split into two folds
  (stratified on membership, seeded); the attack with the highest AUC on one fold is scored
  on the other, both ways, and the two scores are averaged. Candidates: every attack that
  ran. Its interval bootstraps the evaluation folds with the choice held fixed. TPR values
  need 1/f non-members *per fold*. ``reason`` names the attacks chosen.

The ``reason`` of a winning row names the attack; a value row's ``reason`` may also carry an
attack's remark (e.g. a documented KDE fallback, :mod:`synthrisk.attacks._density`).

**Empirical epsilon** (attack ``selected``): on each fold, the selected attack's threshold
that maximises the lower bound below on that fold is applied to the other fold, and the
flagged targets are counted: ``eps_tp`` of ``eps_members`` members and ``eps_fp`` of
``eps_non_members`` non-members (both folds together). ``eps_lower`` is the 95% lower bound on
epsilon (delta = 0) from these counts with one-sided Clopper-Pearson bounds
(:func:`synthrisk.metrics.roc.eps_lower_bound`); :mod:`synthrisk.aggregate` pools the counts
over seeds per (generator, dataset, n) into ``results/tables/eps_lower.csv``. Caveat: the
members are a fixed set, not each included with probability 1/2, so this is a
population-level audit (as TAPAS reports), not a proof that a DP claim is broken.

A failing attack gives NaN rows (every score) with the error as reason; the others still
run. If the split cannot be prepared at all (e.g. synthetic table missing a column), every
row is NaN with that reason.

``params``: ``attacks`` (list of names), ``protocol`` (``"default"`` | ``"paper"``, see
:func:`synthrisk.attacks.prepare`), ``attack_params`` (``{name: {param: value}}``),
``bootstrap`` (replicates, default 200), ``confidence`` (default 0.95).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthrisk.attacks import ATTACKS, PROTOCOLS, STUDY_ATTACKS, notes_of, prepare, run_attack
from synthrisk.io import make_rng, stable_int
from synthrisk.metrics import roc
from synthrisk.metrics.base import nan_row, row
from synthrisk.params import Param, ParamError, at_least, from_signature, in_range
from synthrisk.params import check_params as check_declared
from synthrisk.schema import TableSchema

FPRS = (0.0, 0.001, 0.01, 0.1)
RARE_SHARE = 0.05
N_BINS = 10
SUBSETS = ("auc_rare", "auc_rare_gaps", "auc_rare_categorical", "auc_rarest_class")
WORST = ("worst", "worst_all", "selected")
COUNTS = ("rare_n_members", "rare_n_non_members")
EPS = ("eps_lower", "eps_tp", "eps_members", "eps_fp", "eps_non_members")
FOLDS = 2
PARAMS = {
    "attacks": Param(None, "attacks run (default: every registered one)", list, check=lambda v: _unknown_attacks(v)),
    "protocol": Param("default", "targets: the split's members/non-members/reference, or paper (the study's "
                      "halves of the seed rows)", choices=PROTOCOLS),
    "attack_params": Param({}, "attack -> its keyword arguments, e.g. {dcr: {metric: l1}}"),
    "bootstrap": Param(200, "replicates of the per-split intervals", check=at_least(1)),
    "confidence": Param(0.95, "level of the intervals and of the epsilon bound",
                        check=in_range(0, 1, open_low=True, open_high=True)),
}
#: (goal, range) of the metrics a privacy row reports: higher AUC/TPR/epsilon means more leakage
GOALS = {"auc": ("minimize", (0.0, 1.0)), **{f"tpr_at_fpr_{f:g}": ("minimize", (0.0, 1.0)) for f in FPRS},
         **{s: ("minimize", (0.0, 1.0)) for s in SUBSETS}, "eps_lower": ("minimize", (0.0, math.inf))}


class Undefined(ValueError):
    """A score that is not defined on this input; the message is the NaN row's reason."""


# ------------------------------------------------------------------ plain scores
def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by ranks (ties = 1/2); invariant to row order and monotone transforms."""
    labels = np.asarray(labels).astype(bool)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    if n1 == 0 or n0 == 0:
        raise Undefined(f"AUC needs both labels; got {n1} member(s) and {n0} non-member(s)")
    return roc.rank_auc(labels, scores)


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """Measured TPR at FPR <= ``fpr`` (no interpolation; see :mod:`synthrisk.metrics.roc`)."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        raise Undefined("TPR at FPR needs both labels")
    s = np.asarray(scores, dtype=np.float64)
    return float(roc.tpr_at_fpr(s[labels], s[~labels], roc.ones(int(labels.sum())), roc.ones(int((~labels).sum())), fpr)[0])


# ------------------------------------------------------------------- rarity
def rare_study(seed: pd.DataFrame, targets: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """The study's rare-target mask (its ``compute_rare_masks``), rule for rule.

    For each numerical column of the schema: ``pandas.cut`` of the real seed rows into 10
    equal-width bins over their range (right-closed; pandas lowers the first edge by 0.1% of
    the range so the minimum is inside; ``include_lowest``); empty bins are dropped; bins
    holding under 5% of the seed rows are rare; if none is, the single least-populated
    non-empty bin (the lowest such bin on a tie) is. Targets are cut on the bins' categories, as
    the study's script does (``pd.cut(x, bins=cuts.cat.categories)``); a value outside them falls
    in no bin and is not rare. pandas stores those categories with edges rounded to 3 digits, so
    a value between an exact edge and its rounded label is binned differently from the seed
    row's own bin, and the seed maximum can fall above the last rounded edge (in no bin): the
    study's own artefact, kept so that ``auc_rare`` is its number. A target is rare if any column puts it in a
    rare bin. Deviation, named: the study cut every numeric column of its CSV (its numeric
    target included); we cut the schema's numerical columns (our targets are classes).
    A constant seed column gives one bin holding every row, which the fallback makes rare,
    exactly as in the study.
    """
    mask = np.zeros(len(targets), dtype=bool)
    for name in schema.numerical:
        v = pd.to_numeric(seed[name]).astype(np.float64)
        if v.isna().all():
            continue
        cuts = pd.cut(v, bins=N_BINS, include_lowest=True)  # the seed rows' bins, as the study
        codes = cuts.cat.codes.to_numpy()
        counts = np.bincount(codes[codes >= 0], minlength=len(cuts.cat.categories))
        share = counts / max(int((codes >= 0).sum()), 1)  # value_counts(normalize=True)
        rare = (counts > 0) & (share < RARE_SHARE)          # empty bins are dropped, never rare
        if not rare.any():
            rare[np.flatnonzero(counts > 0)[np.argmin(share[counts > 0])]] = True  # first on a tie
        # targets: pandas.cut on the categories (IntervalIndex, closed right), i.e. l < x <= r on
        # the categories' edges (pandas stores them rounded to 3 digits), else no bin
        cats = cuts.cat.categories
        left, right = cats.left.to_numpy(dtype=np.float64), cats.right.to_numpy(dtype=np.float64)
        x = pd.to_numeric(targets[name]).to_numpy(dtype=np.float64)
        i = np.minimum(np.searchsorted(right, x, side="left"), len(right) - 1)
        mask |= (left[i] < x) & (x <= right[i]) & rare[i]
    return mask


def rare_numerical(seed: pd.DataFrame, targets: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """Extension ``auc_rare_gaps``: the project's earlier rule, kept as a named variant.

    Per numerical column, 10 equal-width bins over the seed rows' range (closed on the left);
    bins with under 5% of the seed rows are rare, **empty bins included** (a target in a gap
    of the seed rows is rare), and values outside the seed range are clipped into the end
    bins; if no non-empty bin is sparse, the least-populated ones (all ties) are. Constant
    columns are skipped.
    """
    mask = np.zeros(len(targets), dtype=bool)
    for name in schema.numerical:
        v = seed[name].to_numpy(dtype=np.float64)
        lo, hi = float(v.min()), float(v.max())
        if not hi > lo:
            continue
        edges = np.linspace(lo, hi, N_BINS + 1)
        counts = np.bincount(_bin(v, edges), minlength=N_BINS)
        rare = counts < RARE_SHARE * len(v)
        if not (rare & (counts > 0)).any():
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


# ---------------------------------------------------------------- params
def _unknown_attacks(names) -> str | None:
    bad = [n for n in names if n not in ATTACKS]
    return f"unknown attack(s) {bad}; known: {', '.join(ATTACKS.names())}" if bad else None


def check_params(params: dict | None, where: str) -> dict:
    """The declared keys (:data:`PARAMS`), then ``attack_params``: each attack's keyword
    arguments against its ``score`` signature (the attack's declaration), naming
    ``<where>.attack_params.<attack>.<key>``."""
    p = check_declared(PARAMS, params, where)
    names = list(p["attacks"] or ATTACKS.names())
    for name, given in p["attack_params"].items():  # a config typo is an error, not a NaN row
        if name not in names:
            raise ParamError(f"{where}.attack_params.{name}: attack not run; run: {', '.join(names)}")
        check_declared(from_signature(ATTACKS.get(name), skip=("data", "rng")), given,
                       f"{where}.attack_params.{name}")
    return p


# ---------------------------------------------------------------- evaluation
def score_names() -> list[str]:
    """The metrics each attack (and each worst case) reports."""
    return ["auc"] + [f"tpr_at_fpr_{f:g}" for f in FPRS] + list(SUBSETS)


class _Targets:
    """Labels, subset masks, folds and bootstrap weights of one split's targets."""

    def __init__(self, labels: np.ndarray, masks: dict[str, np.ndarray], base: int, b: int):
        self.m1, self.m0 = labels == 1, labels == 0
        self.n1, self.n0 = int(self.m1.sum()), int(self.m0.sum())
        self.masks = masks
        # two folds, stratified on membership: a seeded half of the members and of the non-members
        fold_rng = make_rng(base, "folds")
        self.fold1 = np.zeros(self.n1, dtype=int)
        self.fold0 = np.zeros(self.n0, dtype=int)
        self.fold1[fold_rng.permutation(self.n1)[: self.n1 // 2]] = 1
        self.fold0[fold_rng.permutation(self.n0)[: self.n0 // 2]] = 1
        boot_rng = make_rng(base, "bootstrap")  # the folds do not depend on the replicate count
        self.boot1 = roc.bootstrap_weights(boot_rng, self.n1, b)
        self.boot0 = roc.bootstrap_weights(boot_rng, self.n0, b)
        self.memo: dict = {}

    def keep(self, subset: str | None = None, fold: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks over the members and the non-members: the targets in ``subset``/``fold``."""
        k1, k0 = np.ones(self.n1, bool), np.ones(self.n0, bool)
        if subset is not None:
            k1, k0 = k1 & self.masks[subset][self.m1], k0 & self.masks[subset][self.m0]
        if fold is not None:
            k1, k0 = k1 & (self.fold1 == fold), k0 & (self.fold0 == fold)
        return k1, k0

    def weights(self, k1: np.ndarray, k0: np.ndarray, boot: bool = False):
        """(w1, w0) of the kept targets only: their columns of the bootstrap counts (``boot``;
        a resample of all targets, restricted) or a row of ones. A target outside the subset
        would carry weight zero, which adds nothing to any statistic, so it is left out of the
        arrays instead (the same numbers, at the subset's cost)."""
        if boot:
            return self.boot1[:, k1], self.boot0[:, k0]
        return roc.ones(int(k1.sum())), roc.ones(int(k0.sum()))

    def fold_sizes(self, fold: int) -> tuple[int, int]:
        return int((self.fold1 == fold).sum()), int((self.fold0 == fold).sum())


def _metric_values(t: _Targets, s: np.ndarray, metric: str, fold: int | None, boot: bool,
                   key: str = "all") -> np.ndarray:
    """One metric of the attacks' scores ``s`` (``(attacks, targets)``, target order), on all
    targets or one fold: ``(attacks, replicates)``. Statistics sharing weights come from one
    :func:`~synthrisk.metrics.roc.curve_stats` pass, memoised on ``t`` under ``key`` (which
    names the score matrix)."""
    subset = metric if metric in SUBSETS else None
    memo = (key, subset, fold, boot)
    if memo not in t.memo:
        fprs = () if subset else FPRS
        k1, k0 = t.keep(subset, fold)
        t.memo[memo] = roc.curve_stats(s[:, t.m1][:, k1], s[:, t.m0][:, k0], *t.weights(k1, k0, boot), fprs)
    got = t.memo[memo]
    return got["auc"] if metric == "auc" or subset else got[float(metric.removeprefix("tpr_at_fpr_"))]


def _why_undefined(t: _Targets, metric: str, fold: int | None = None) -> str | None:
    """Why ``metric`` has no value on these targets (None if it has one)."""
    n0 = t.n0 if fold is None else t.fold_sizes(fold)[1]
    k1, k0 = (int(k.sum()) for k in t.keep(metric if metric in SUBSETS else None, fold))
    where = "" if fold is None else f" (fold {fold + 1})"
    if metric.startswith("tpr_at_fpr_"):
        why = roc.resolvable(n0, float(metric.removeprefix("tpr_at_fpr_")))
        return why + where + (" per fold" if fold is not None else "") if why else None
    if k1 == 0 or k0 == 0:
        sub = f"{metric}: subset of {k1 + k0} target(s)" if metric in SUBSETS else "AUC"
        return f"{sub}{where} needs both labels; got {k1} member(s) and {k0} non-member(s)"
    return None


def _value_row(metric: str, point: float, reps: np.ndarray, level: float, reason: str | None, **extra) -> dict:
    lo, hi = roc.percentile_interval(reps, point, level)
    return row(metric, point, ci_low=lo, ci_high=hi, **({"reason": reason} if reason else {}), **extra)


def _exact_row(metric: str, value: float, reason: str, **extra) -> dict:
    return row(metric, value, ci_low=value, ci_high=value, reason=reason, **extra)


def evaluate(synthetic: pd.DataFrame, split, schema: TableSchema, rng: np.random.Generator,
             params: dict | None = None) -> list[dict]:
    params = check_params(params, "privacy params")
    names = list(params["attacks"] or ATTACKS.names())
    attack_params = params["attack_params"]
    b = int(params["bootstrap"])
    level = float(params["confidence"])
    protocol = params.get("protocol", "default")
    cls_col = f"{schema.target}=?"

    def extra(metric: str, attack: str | None) -> dict:
        return {**({"attack": attack} if attack else {}), **({"column": cls_col} if metric == "auc_rarest_class" else {})}

    def all_nan(reason: str) -> list[dict]:
        out = [nan_row(m, reason, **extra(m, a)) for a in names + list(WORST) for m in score_names()]
        out += [nan_row(m, reason) for m in COUNTS] + [nan_row(m, reason, attack="selected") for m in EPS]
        return out

    try:
        data = prepare(split, synthetic, schema, protocol)
    except Exception as e:  # noqa: BLE001 - becomes NaN rows with the reason
        return all_nan(f"cannot prepare attack data: {type(e).__name__}: {e}")

    labels = data.labels
    seed_rows = split.members  # the real seed rows, in both protocols (as the study)
    tdf = data.targets_df
    cls = rarest_class(seed_rows, tdf, schema)
    cls_col = f"{schema.target}={cls}"
    masks = {
        "auc_rare": rare_study(seed_rows, tdf, schema),
        "auc_rare_gaps": rare_numerical(seed_rows, tdf, schema),
        "auc_rare_categorical": rare_categorical(seed_rows, tdf, schema),
        "auc_rarest_class": (tdf[schema.target].astype(str) == cls).to_numpy(),
    }

    base = int(rng.integers(2**31))  # first draw: attack streams as before the intervals existed
    t = _Targets(labels, masks, base, b)
    rows: list[dict] = []
    scores: dict[str, np.ndarray] = {}
    failed: dict[str, str] = {}
    for name in names:
        arng = make_rng(base, stable_int(name))  # own stream per attack, whatever else runs
        try:
            scores[name] = run_attack(name, data, arng, **attack_params.get(name, {}))
        except Exception as e:  # noqa: BLE001 - one failing attack must not stop the others
            failed[name] = f"attack {name} failed: {type(e).__name__}: {e}"

    ran = [a for a in names if a in scores]
    S = np.stack([scores[a] for a in ran]) if ran else np.zeros((0, len(labels)))
    point: dict[str, dict[str, float]] = {}
    reps: dict[str, dict[str, np.ndarray]] = {}
    per_attack: dict[str, list[dict]] = {a: [] for a in names}
    for metric in score_names():
        why = _why_undefined(t, metric)
        if ran and not why:
            P = _metric_values(t, S, metric, None, False)[:, 0]
            R = _metric_values(t, S, metric, None, True)
        for i, a in enumerate(ran):
            if why:
                per_attack[a].append(nan_row(metric, why, **extra(metric, a)))
                continue
            point.setdefault(metric, {})[a] = float(P[i])
            reps.setdefault(metric, {})[a] = R[i]
            per_attack[a].append(_value_row(metric, float(P[i]), R[i], level, notes_of(data, a), **extra(metric, a)))
    for a in names:
        rows += per_attack[a] if a in scores else [nan_row(m, failed[a], **extra(m, a)) for m in score_names()]

    n_rare1, n_rare0 = int(masks["auc_rare"][t.m1].sum()), int(masks["auc_rare"][t.m0].sum())
    rule = "targets in a rare bin of the seed rows (the study's rule, see auc_rare)"
    rows.append(_exact_row("rare_n_members", n_rare1, f"members among {rule}"))
    rows.append(_exact_row("rare_n_non_members", n_rare0, f"non-members among {rule}"))

    study = [a for a in names if a in STUDY_ATTACKS]
    for label, pool in (("worst", study), ("worst_all", names)):
        for metric in score_names():
            vals = {a: point.get(metric, {})[a] for a in pool if a in point.get(metric, {})}
            if not vals:
                why = _why_undefined(t, metric) or "no attack gave a value"
                rows.append(nan_row(metric, why, **extra(metric, label)))
                continue
            best = max(sorted(vals), key=lambda a: vals[a])
            r = np.fmax.reduce(np.vstack([reps[metric][a] for a in vals]), axis=0)  # NaN only where all are
            what = (f"max over the study's attacks ({len(vals)} of {len(STUDY_ATTACKS)} gave a value)"
                    if label == "worst" else f"max over all attacks ({len(vals)} gave a value)")
            rows.append(_value_row(metric, vals[best], r, level, f"{what}: {best}", **extra(metric, label)))

    rows += _selected(t, ran, S, level, extra)
    rows += _eps_rows(t, ran, S, level)
    return rows


def _pick(t: _Targets, names: list[str], S: np.ndarray) -> list[int]:
    """Per fold, the index of the attack with the highest AUC on it (an undefined AUC never wins)."""
    out = []
    for k in range(FOLDS):
        a = _metric_values(t, S, "auc", k, False)[:, 0]
        out.append(int(np.argmax(np.where(np.isfinite(a), a, -np.inf))))
    return out


def _selected(t: _Targets, names: list[str], S: np.ndarray, level: float, extra) -> list[dict]:
    """The cross-fitted worst case: chosen on one fold by AUC, scored on the other, averaged.

    The interval is the bootstrap of the two evaluation folds with the choice held fixed: a
    valid interval for the chosen attacks' performance, since each was chosen on targets
    disjoint from those it is scored on.
    """
    if not names:
        return [nan_row(m, "no attack gave scores", **extra(m, "selected")) for m in score_names()]
    pick = _pick(t, names, S)
    chosen = f"chosen by AUC on fold 1: {names[pick[0]]}, on fold 2: {names[pick[1]]}; each scored on the other fold"
    out = []
    for metric in score_names():
        why = next((w for k in range(FOLDS) if (w := _why_undefined(t, metric, k))), None)
        if why:
            out.append(nan_row(metric, why, **extra(metric, "selected")))
            continue
        vals, rep = [], []
        for k in range(FOLDS):
            s, key = S[[pick[k]]], names[pick[k]]  # chosen on fold k, scored on the other fold
            vals.append(float(_metric_values(t, s, metric, 1 - k, False, key)[0, 0]))
            rep.append(_metric_values(t, s, metric, 1 - k, True, key)[0])
        v = float(np.mean(vals))
        if not math.isfinite(v):
            out.append(nan_row(metric, f"the attack chosen gives no value on a fold ({chosen})",
                               **extra(metric, "selected")))
            continue
        out.append(_value_row(metric, v, np.mean(rep, axis=0), level, chosen, **extra(metric, "selected")))
    return out


def _eps_rows(t: _Targets, names: list[str], S: np.ndarray, level: float) -> list[dict]:
    """Cross-fitted counts of the selected attack's best threshold and the epsilon lower bound."""
    if not names or min(t.fold_sizes(0) + t.fold_sizes(1)) == 0:
        why = "no attack gave scores" if not names else "a fold has no member or no non-member"
        return [nan_row(m, why, attack="selected") for m in EPS]
    pick = _pick(t, names, S)
    tp = fp = n1 = n0 = 0
    for k in range(FOLDS):
        s = S[pick[k]]
        s1, s0 = s[t.m1], s[t.m0]
        a1, a0 = s1[t.fold1 == k], s0[t.fold0 == k]          # choose the threshold here
        b1, b0 = s1[t.fold1 != k], s0[t.fold0 != k]          # count there
        cand = np.unique(np.r_[a1, a0])
        tp_a = len(a1) - np.searchsorted(np.sort(a1), cand, side="left")  # members scoring >= each candidate
        fp_a = len(a0) - np.searchsorted(np.sort(a0), cand, side="left")
        thr = cand[int(np.argmax(roc.eps_lower_bound(tp_a, fp_a, len(a1), len(a0), level)))]
        tp, fp = tp + int((b1 >= thr).sum()), fp + int((b0 >= thr).sum())
        n1, n0 = n1 + len(b1), n0 + len(b0)
    eps = float(roc.eps_lower_bound(tp, fp, n1, n0, level))
    how = (f"flag 'member' when the score reaches the threshold that maximises the bound on the other fold "
           f"(attacks {names[pick[0]]}, {names[pick[1]]})")
    return [
        _exact_row("eps_lower", eps, f"{level:.0%} lower bound on epsilon (delta = 0), one-sided Clopper-Pearson; "
                   f"the value is itself a confidence bound; {how}", attack="selected"),
        _exact_row("eps_tp", tp, f"members flagged; {how}", attack="selected"),
        _exact_row("eps_members", n1, "members scored (both folds)", attack="selected"),
        _exact_row("eps_fp", fp, f"non-members flagged; {how}", attack="selected"),
        _exact_row("eps_non_members", n0, "non-members scored (both folds)", attack="selected"),
    ]
