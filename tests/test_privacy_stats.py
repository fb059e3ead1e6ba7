"""The statistics behind the privacy numbers: the study's rarity rule, measured TPR and its
resolution rule, bootstrap replicates, the three worst cases, the epsilon bound, and the
benchmark-level intervals with the dataset as resampling unit."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from _privacy_tables import copy_control, holdout_control, load
from synthrisk.io import make_rng
from synthrisk.metrics import privacy, roc
from synthrisk.metrics.base import Split
from synthrisk.schema import TableSchema
from synthrisk.splits import make_split


# ------------------------------------------------------------------ rarity: the study's rule
@pytest.fixture(scope="module")
def seed_table():
    # x over [0, 10]: 10 bins of width 1, right-closed: (-0.01, 1], (1, 2], ..., (9, 10]
    seed = pd.DataFrame({"x": [0.0] * 60 + [10.0] * 36 + [5.5] * 4, "y": ["p", "q"] * 50})
    return seed, TableSchema.infer(seed, "t", "y")


def test_rare_study_drops_empty_bins_and_leaves_out_of_range_values_unbinned(seed_table):
    seed, schema = seed_table
    tgt = pd.DataFrame({"x": [0.0, 10.0, 5.2, 3.0, 20.0, -5.0, 5.0, 6.0], "y": ["p"] * 8})
    got = privacy.rare_study(seed, tgt, schema).tolist()
    # (5, 6] holds 4% of the seed rows: rare. 3.0 and 5.0 sit in empty bins: dropped, not rare
    # (the earlier rule called them rare). 20 and -5 are outside the seed range: in no bin.
    # 6.0 is in (5, 6] because bins are closed on the right.
    assert got == [False, False, True, False, False, False, False, True]
    old = privacy.rare_numerical(seed, tgt, schema).tolist()
    assert old[3] and not got[3]  # the named extension (auc_rare_gaps) calls an empty bin rare


def test_rare_study_fallback_takes_the_single_least_populated_bin(seed_table):
    seed, schema = seed_table
    tgt = pd.DataFrame({"x": [0.0, 10.0, 0.5, 9.5], "y": ["p"] * 4})
    # 50 / 50 in the two end bins: none under 5%, a tie: one bin, the first (lowest)
    tie = seed.assign(x=[0.0] * 50 + [10.0] * 50)
    assert privacy.rare_study(tie, tgt, schema).tolist() == [True, False, True, False]
    # 55 / 45: the less populated bin
    assert privacy.rare_study(seed.assign(x=[0.0] * 55 + [10.0] * 45), tgt, schema).tolist() == [False, True, False, True]
    # a constant column: one bin holding every row, which the fallback makes rare (as the study)
    assert privacy.rare_study(seed.assign(x=1.0), tgt.assign(x=[1.0, 2.0, 1.0, 1.0]), schema).tolist() == [
        True, False, True, True]


def _rare_with_pandas(seed, targets, schema):
    """The study's rule written with pandas.cut on both sides, as its script does."""
    mask = pd.Series(False, index=targets.index)
    for col in schema.numerical:
        cuts = pd.cut(seed[col], bins=10, include_lowest=True)
        freqs = cuts.value_counts(normalize=True).sort_index()
        freqs = freqs[freqs > 0]
        under = freqs[freqs < 0.05].index.tolist() or [freqs.idxmin()]
        mask |= pd.cut(targets[col], bins=cuts.cat.categories, include_lowest=True).isin(under)
    return mask.to_numpy()


@pytest.mark.parametrize("table", ["creditcard", "diamonds"])
def test_rare_study_equals_the_pandas_formulation_on_real_tables(table):
    df, schema = load(table)
    for seed in range(5):
        rows = df.sample(32, random_state=seed)
        targets = df.sample(600, random_state=100 + seed)
        np.testing.assert_array_equal(privacy.rare_study(rows, targets, schema), _rare_with_pandas(rows, targets, schema))


def test_rare_study_is_any_column_and_counts_are_rows(seed_table, credit):
    seed, _ = seed_table
    two = seed.assign(z=[5.5] * 4 + [0.0] * 96)
    schema = TableSchema.infer(two, "t", "y")
    tgt = pd.DataFrame({"x": [0.0, 0.0, 5.6], "z": [0.0, 5.5, 0.0], "y": ["p"] * 3})
    assert privacy.rare_study(two, tgt, schema).tolist() == [False, True, True]
    df, schema, split = credit
    rows = privacy.evaluate(holdout_control(split), split, schema, make_rng(0), {"attacks": ["dcr"]})
    mask = privacy.rare_study(split.members, pd.concat([split.members, split.non_members]), schema)
    n1 = len(split.members)
    assert _v(rows, "rare_n_members", None) == mask[:n1].sum()
    assert _v(rows, "rare_n_non_members", None) == mask[n1:].sum()


# ------------------------------------------------------------------ measured ROC statistics
@pytest.fixture(scope="module")
def credit():
    df, schema = load("creditcard")
    return df, schema, Split(**make_split(df, schema, 32, 0))


def _v(rows, metric, attack):
    [r] = [r for r in rows if r["metric"] == metric and r.get("attack") == attack]
    return r["value"]


def _r(rows, metric, attack):
    [r] = [r for r in rows if r["metric"] == metric and r.get("attack") == attack]
    return r


def _brute_tpr(s1, s0, f):
    """Best TPR over every threshold 'member iff score >= t' whose FPR is at most f."""
    best = 0.0
    for t in np.r_[np.unique(np.r_[s1, s0]), np.inf]:
        if (s0 >= t).mean() <= f + 1e-12:
            best = max(best, (s1 >= t).mean())
    return best


def test_weighted_auc_and_tpr_equal_the_plain_statistics_on_expanded_resamples():
    rng = np.random.default_rng(1)
    s1 = np.round(rng.normal(0.6, 1, 40), 1)  # ties on purpose
    s0 = np.round(rng.normal(0, 1, 300), 1)
    assert roc.auc(s1, s0, roc.ones(40), roc.ones(300))[0] == pytest.approx(
        roc_auc_score(np.r_[np.ones(40), np.zeros(300)], np.r_[s1, s0]))
    for f in (0.0, 0.01, 0.05, 0.1):
        assert roc.tpr_at_fpr(s1, s0, roc.ones(40), roc.ones(300), f)[0] == pytest.approx(_brute_tpr(s1, s0, f))
    w1, w0 = roc.bootstrap_weights(rng, 40, 5), roc.bootstrap_weights(rng, 300, 5)
    a, t = roc.auc(s1, s0, w1, w0), roc.tpr_at_fpr(s1, s0, w1, w0, 0.05)
    for b in range(5):
        r1, r0 = np.repeat(s1, w1[b].astype(int)), np.repeat(s0, w0[b].astype(int))
        assert a[b] == pytest.approx(roc_auc_score(np.r_[np.ones(len(r1)), np.zeros(len(r0))], np.r_[r1, r0]))
        assert t[b] == pytest.approx(_brute_tpr(r1, r0, 0.05))
    # several attacks at once give the rows of one attack at a time
    S1, S0 = np.stack([s1, -s1]), np.stack([s0, -s0])
    np.testing.assert_allclose(roc.auc(S1, S0, w1, w0)[0], a)
    np.testing.assert_allclose(roc.tpr_at_fpr(S1, S0, w1, w0, 0.05)[0], t)


def test_tpr_search_past_its_prefix_and_subsets_by_weight_agree():
    """The threshold search reads a prefix of the sorted non-members and falls back to the rest
    for replicates not settled there; zero weights (a subset) must give the subset's numbers."""
    rng = np.random.default_rng(3)
    s0 = rng.normal(0, 1, 1000)
    s1 = rng.normal(0.5, 1, 50)
    w1 = roc.bootstrap_weights(rng, 50, 4)
    w0 = roc.bootstrap_weights(rng, 1000, 4)
    assert (w0.sum(axis=1) == 1000).all() and (w1.sum(axis=1) == 50).all()
    top = np.argsort(-s0)[:600]
    w0[1, top] = 0  # replicate 1: the 600 highest non-members weigh nothing, far past the prefix
    for f in (0.0, 0.01, 0.1):
        t = roc.tpr_at_fpr(s1, s0, w1, w0, f)
        for b in range(4):
            r1, r0 = np.repeat(s1, w1[b].astype(int)), np.repeat(s0, w0[b].astype(int))
            assert t[b] == pytest.approx(_brute_tpr(r1, r0, f)), (f, b)
    keep = np.ones(1000, bool)
    keep[top] = False
    for f in (0.01, 0.1):
        sub = roc.tpr_at_fpr(s1, s0[keep], w1[[1]], w0[[1]][:, keep], f)[0]
        assert sub == pytest.approx(roc.tpr_at_fpr(s1, s0, w1[[1]], w0[[1]], f)[0])
    assert np.isnan(roc.auc(s1, s0[:0], w1, w0[:, :0])).all()  # no non-member: undefined, not an error


def test_tpr_is_reported_only_where_the_non_members_resolve_it(credit):
    assert roc.resolvable(1000, 0.001) is None and roc.resolvable(100, 0.01) is None
    assert "needs at least 1000" in roc.resolvable(999, 0.001)
    assert roc.resolvable(32, 0.0) is None  # FPR 0 is a point of every empirical curve
    df, schema, split = credit
    small = Split(split.members, split.non_members.iloc[:32], split.reference, split.test, split.holdout)
    rows = privacy.evaluate(copy_control(small, 0), small, schema, make_rng(0), {"attacks": ["dcr"]})
    for f, resolved in ((0.0, True), (0.001, False), (0.01, False), (0.1, True)):
        for attack in ("dcr", "worst", "worst_all"):
            r = _r(rows, f"tpr_at_fpr_{f:g}", attack)
            assert math.isfinite(r["value"]) == resolved, (f, attack, r)
            if not resolved:
                assert "not resolved by 32 non-members" in r["reason"]
    # per fold only 16 non-members: 0.1 needs 10 per fold, still resolved; 0.01 is not
    assert math.isfinite(_v(rows, "tpr_at_fpr_0.1", "selected"))


def test_worst_is_the_studys_ten_worst_all_every_attack(credit):
    df, schema, split = credit
    syn = copy_control(split, 0)
    rows = privacy.evaluate(syn, split, schema, make_rng(0), {"attacks": ["local_neighbourhood", "levatt"]})
    lev, loc = _v(rows, "auc", "levatt"), _v(rows, "auc", "local_neighbourhood")
    assert lev > loc  # the string attack sees exact copies; the fixed radius does not
    assert _v(rows, "auc", "worst") == loc and "local_neighbourhood" in _r(rows, "auc", "worst")["reason"]
    assert _v(rows, "auc", "worst_all") == lev and "levatt" in _r(rows, "auc", "worst_all")["reason"]
    assert "1 of 10" in _r(rows, "auc", "worst")["reason"]


def test_selected_is_chosen_on_one_fold_and_scored_on_the_other(credit):
    df, schema, split = credit
    syn = holdout_control(split)
    names = ["dcr", "mc", "dpi"]
    rows = privacy.evaluate(syn, split, schema, make_rng(5), {"attacks": names})
    # rebuild the folds exactly as the family draws them
    from synthrisk.attacks import prepare, run_attack
    from synthrisk.io import stable_int

    data = prepare(split, syn, schema)
    base = int(make_rng(5).integers(2**31))
    t = privacy._Targets(data.labels, {k: np.zeros(len(data.labels), bool) for k in privacy.SUBSETS}, base, 1)
    scores = {a: run_attack(a, data, make_rng(base, stable_int(a))) for a in names}
    y = data.labels
    fold = np.r_[t.fold1, t.fold0]
    fold_auc = {(a, k): roc_auc_score(y[fold == k], scores[a][fold == k]) for a in names for k in (0, 1)}
    expect = []
    for k in (0, 1):
        best = max(names, key=lambda a: fold_auc[a, k])
        expect.append(fold_auc[best, 1 - k])
        assert f"fold {k + 1}: {best}" in _r(rows, "auc", "selected")["reason"]
    assert _v(rows, "auc", "selected") == pytest.approx(np.mean(expect))
    r = _r(rows, "auc", "selected")
    assert r["ci_low"] <= r["value"] <= r["ci_high"] and r["ci_high"] - r["ci_low"] > 0.02


def test_intervals_are_seeded_and_contain_the_value(credit):
    df, schema, split = credit
    a = privacy.evaluate(holdout_control(split), split, schema, make_rng(3), {"attacks": ["dcr", "mc"]})
    b = privacy.evaluate(holdout_control(split), split, schema, make_rng(3), {"attacks": ["dcr", "mc"]})
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    for r in a:
        if math.isfinite(r["value"]):
            assert r["ci_low"] <= r["value"] <= r["ci_high"], r
    # the interval of an AUC near 0.5 from 32 members is not degenerate
    wide = _r(a, "auc", "dcr")
    assert wide["ci_high"] - wide["ci_low"] > 0.05
    with pytest.raises(ValueError, match="bootstrap"):
        privacy.evaluate(holdout_control(split), split, schema, make_rng(3), {"bootstrap": 0})


# ------------------------------------------------------------------ epsilon lower bound
def test_eps_lower_bound_matches_the_clopper_pearson_formula():
    # no false positive in 1,000, every member of 100 flagged: with x = 0 the one-sided
    # Clopper-Pearson upper bound is 1 - g**(1/n), here at g = 0.025 (two bounds at 95% jointly)
    a_hi, b_hi = 1 - 0.025 ** (1 / 1000), 1 - 0.025 ** (1 / 100)
    expect = max(math.log((1 - b_hi) / a_hi), math.log((1 - a_hi) / b_hi))
    assert float(roc.eps_lower_bound(100, 0, 100, 1000)) == pytest.approx(expect, rel=1e-9)
    assert float(roc.eps_lower_bound(50, 500, 100, 1000)) == 0.0  # a coin flip proves nothing
    more = [float(roc.eps_lower_bound(100 * k, 0, 100 * k, 1000 * k)) for k in (1, 2, 4)]
    assert more == sorted(more) and more[0] < more[-1]  # more targets, tighter bound


def test_eps_rows_count_the_other_fold(credit):
    df, schema, split = credit
    rows = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"attacks": ["dcr"]})
    n1, n0 = _v(rows, "eps_members", "selected"), _v(rows, "eps_non_members", "selected")
    assert (n1, n0) == (len(split.members), len(split.non_members))
    tp, fp = _v(rows, "eps_tp", "selected"), _v(rows, "eps_fp", "selected")
    assert _v(rows, "eps_lower", "selected") == pytest.approx(float(roc.eps_lower_bound(tp, fp, n1, n0)))
    assert _v(rows, "eps_lower", "selected") > 2


# ------------------------------------------------------------------ benchmark-level intervals
def test_summary_interval_resamples_datasets_not_splits():
    from synthrisk.aggregate import cluster_interval

    rng = np.random.default_rng(0)
    # 4 datasets x 10 seeds: big differences between datasets, tiny within
    means = np.array([0.5, 0.6, 0.7, 0.9])
    v = np.repeat(means, 10) + rng.normal(0, 0.005, 40)
    d = np.repeat(np.array(["a", "b", "c", "d"], dtype=object), 10)
    lo, hi, unit = cluster_interval(v, d, make_rng(0, "t"))
    assert unit == "dataset" and lo <= v.mean() <= hi
    naive = np.quantile([rng.choice(v, 40).mean() for _ in range(1000)], [0.025, 0.975])
    assert hi - lo > 2 * (naive[1] - naive[0])  # splits of one table are not independent
    lo1, hi1, unit1 = cluster_interval(v[:10], d[:10], make_rng(0, "t"))
    assert unit1 == "seed" and lo1 <= v[:10].mean() <= hi1
    assert cluster_interval(v[:1], d[:1], make_rng(0, "t"))[2] == ""


def test_eps_table_pools_counts_over_seeds():
    from synthrisk.aggregate import eps_table

    rows = []
    for seed, (tp, fp) in enumerate([(30, 0), (31, 1)]):
        for metric, value in (("eps_tp", tp), ("eps_fp", fp), ("eps_members", 32), ("eps_non_members", 1000)):
            rows.append({"generator": "copy", "dataset": "t", "n": 32, "seed": seed, "family": "privacy",
                         "metric": metric, "value": float(value), "attack": "selected"})
    out = eps_table(pd.DataFrame(rows))
    [r] = out.to_dict("records")
    assert (r["seeds"], r["tp"], r["fp"], r["members"], r["non_members"]) == (2, 61, 1, 64, 2000)
    assert r["value"] == pytest.approx(float(roc.eps_lower_bound(61, 1, 64, 2000)))
    assert r["metric"] == "eps_lower" and r["delta"] == 0.0 and r["confidence"] == 0.95
    # the level follows the privacy family's `confidence` (the aggregate passes it from the plan)
    [r90] = eps_table(pd.DataFrame(rows), 0.9).to_dict("records")
    assert r90["confidence"] == 0.9 and r90["value"] == pytest.approx(float(roc.eps_lower_bound(61, 1, 64, 2000, 0.9)))
    assert r90["value"] > r["value"]  # a lower level gives a tighter (larger) lower bound
    from test_config import validated

    from synthrisk.plan import Plan

    cfg = {"datasets": {"t": {"source": "sklearn", "item": "load_wine", "target": "target"}},
           "generators": {"copy": {"kind": "copy"}}}
    assert Plan.from_config(validated(cfg), check_available=False).privacy_confidence() == 0.95
    cfg["metrics"] = {"privacy": {"confidence": 0.9}}
    assert Plan.from_config(validated(cfg), check_available=False).privacy_confidence() == 0.9
