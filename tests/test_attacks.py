"""Attack battery: registry, AUC/TPR scoring, per-attack contracts and degenerate inputs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from _privacy_tables import copy_control, holdout_control, load, make_split
from synthrisk.attacks import ATTACKS, prepare, run_attack
from synthrisk.io import make_rng
from synthrisk.metrics import privacy
from synthrisk.metrics.base import LONG_COLUMNS, long_frame
from synthrisk.metrics.privacy import Undefined, auc, tpr_at_fpr
from synthrisk.schema import SchemaError

ALL = ["dcr", "dcr_diff", "domias", "density", "mc", "local_neighbourhood", "dpi", "gen_lra", "logan",
       "classifier", "levatt"]


@pytest.fixture(scope="module")
def credit():
    df, schema = load("creditcard")
    return df, schema, make_split(df, 32, 400, seed=1)


def by(rows, metric, attack):
    [r] = [r for r in rows if r["metric"] == metric and r.get("attack") == attack]
    return r


def test_registry_has_the_eleven_attacks():
    assert ATTACKS.names() == sorted(ALL)
    for name in ALL:
        assert callable(ATTACKS.get(name))


# ------------------------------------------------------------------ ROC scores
def test_auc_matches_sklearn_and_is_invariant_to_order_and_monotone_maps():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.normal(size=200) + y * 0.8
    s[:40] = np.round(s[:40])  # some ties
    a = auc(y, s)
    assert a == pytest.approx(roc_auc_score(y, s))
    perm = rng.permutation(200)
    assert auc(y[perm], s[perm]) == pytest.approx(a)
    for f in (np.exp, lambda v: 3 * v + 7, lambda v: np.arctan(v), lambda v: v**3):
        assert auc(y, f(s)) == pytest.approx(a)
        for fpr in privacy.FPRS:
            assert tpr_at_fpr(y, f(s), fpr) == pytest.approx(tpr_at_fpr(y, s, fpr))
            assert tpr_at_fpr(y[perm], s[perm], fpr) == pytest.approx(tpr_at_fpr(y, s, fpr))
    assert auc(y, -s) == pytest.approx(1 - a)


def test_tpr_at_fpr_is_measured_on_the_curve_not_interpolated():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([8, 7, 6, 1, 5, 4, 3, 2])  # 3 members above every non-member
    assert tpr_at_fpr(y, s, 0.0) == pytest.approx(0.75)
    # FPR 0.1 of 4 non-members allows no false positive: still the FPR-0 threshold
    assert tpr_at_fpr(y, s, 0.1) == pytest.approx(0.75)
    assert tpr_at_fpr(y, s, 0.25) == pytest.approx(0.75)  # one false positive (score 5) buys nothing
    assert tpr_at_fpr(y, s, 1.0) == pytest.approx(1.0)
    # one tie group: the only thresholds give FPR 0 (TPR 0) or FPR 1; no interpolated diagonal
    assert tpr_at_fpr(y, np.ones(8), 0.0) == 0.0
    assert tpr_at_fpr(y, np.ones(8), 0.5) == 0.0
    assert tpr_at_fpr(y, np.ones(8), 1.0) == 1.0
    with pytest.raises(Undefined):
        auc(np.ones(5), np.arange(5))


# ------------------------------------------------------------- attack contract
def test_every_attack_scores_every_target_deterministically(credit):
    df, schema, split = credit
    data = prepare(split, holdout_control(split), schema)
    assert data.targets.shape[0] == 64 and data.labels.sum() == 32
    for name in ALL:
        a = run_attack(name, data, make_rng(3, name))
        b = run_attack(name, data, make_rng(3, name))
        assert a.shape == (64,) and np.all(np.isfinite(a)), name
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_encoder_is_fitted_on_the_reference(credit):
    df, schema, split = credit
    data = prepare(split, holdout_control(split), schema)
    col = schema.numerical[0]
    assert data.encoder.mean_[col] == pytest.approx(split.reference[col].mean())
    assert np.abs(data.reference[:, data.encoder.feature_names.index(col)].mean()) < 1e-9


def test_paper_protocol_halves_the_seed_rows_at_random(credit):
    df, schema, split = credit
    data = prepare(split, copy_control(split, 0), schema, protocol="paper")
    assert len(data.members) == 16 and len(data.reference) == 16
    assert len(data.non_members) == len(split.test)
    seed = schema.conform(split.members)
    # a random half, not the first rows in table order; members + reference = the seed rows
    assert not data.members_df.reset_index(drop=True).equals(seed.iloc[:16].reset_index(drop=True))
    both = pd.concat([data.members_df, data.reference_df]).sort_values(schema.names).reset_index(drop=True)
    pd.testing.assert_frame_equal(both, seed.sort_values(schema.names).reset_index(drop=True))
    # the halves depend on the split only, not on the synthetic table or the call
    again = prepare(split, holdout_control(split), schema, protocol="paper")
    pd.testing.assert_frame_equal(again.members_df, data.members_df)
    rows = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"protocol": "paper", "attacks": ["dcr"]})
    assert by(rows, "auc", "dcr")["value"] >= 0.95
    with pytest.raises(ValueError, match="protocol"):
        prepare(split, copy_control(split, 0), schema, protocol="nope")


def test_paper_halves_are_balanced_where_table_order_is_not():
    """Sorted seed rows (table order correlated with a column): positional halves differ by a
    lot in that column, the random halves by little (averaged over splits)."""
    from synthrisk.attacks import paper_halves

    df, schema = load("diamonds")
    gaps, positional = [], []
    for seed in range(20):
        rows = df.sample(32, random_state=seed).sort_values("carat").reset_index(drop=True)
        m, r = paper_halves(rows, schema)
        sd = rows["carat"].std()
        gaps.append((rows["carat"].iloc[m].mean() - rows["carat"].iloc[r].mean()) / sd)
        positional.append((rows["carat"].iloc[:16].mean() - rows["carat"].iloc[16:].mean()) / sd)
    assert abs(np.mean(gaps)) < 0.25 and np.mean(np.abs(positional)) > 1.0


def test_rows_worst_case_and_params(credit):
    df, schema, split = credit
    params = {"attacks": ["dcr", "mc", "logan"], "attack_params": {"dcr": {"metric": "l1"}}}
    rows = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), params)
    assert {r.get("attack") for r in rows} == {"dcr", "mc", "logan", "worst", "worst_all", "selected", None}
    assert len(rows) == 6 * len(privacy.score_names()) + len(privacy.COUNTS) + len(privacy.EPS)
    for metric in privacy.score_names():
        assert by(rows, metric, "worst_all")["value"] == by(rows, metric, "worst")["value"] or math.isnan(
            by(rows, metric, "worst")["value"])  # all three are study attacks
        w = by(rows, metric, "worst")
        vals = {a: by(rows, metric, a)["value"] for a in ("dcr", "mc", "logan")}
        finite = {a: v for a, v in vals.items() if not math.isnan(v)}
        if finite:
            assert w["value"] == max(finite.values())
            winner = w["reason"].split(": ")[-1]
            assert finite[winner] == w["value"]
            assert "column" not in w or metric == "auc_rarest_class"
        else:
            assert math.isnan(w["value"]) and w["reason"]
    frame = long_frame(rows, generator="copy", dataset="creditcard", n=32, seed=1, family="privacy")
    assert list(frame.columns) == LONG_COLUMNS and len(frame) == len(rows)
    # an attack's scores do not depend on which other attacks run
    alone = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"attacks": ["logan"]})
    assert by(alone, "auc", "logan")["value"] == by(rows, "auc", "logan")["value"]
    cls = by(rows, "auc_rarest_class", "dcr")["column"]
    assert cls.startswith("card=") and cls.split("=")[1] in schema.target_levels
    with pytest.raises(ValueError, match="attacks: unknown attack.*nope"):
        privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"attacks": ["nope"]})
    with pytest.raises(ValueError, match="bogus"):
        privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"bogus": 1})
    with pytest.raises(ValueError, match="dcr.*radius"):
        privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0),
                         {"attacks": ["dcr"], "attack_params": {"dcr": {"radius": 1}}})
    # a bad value is data-dependent: NaN rows with the reason, the other attacks still run
    rows = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0),
                            {"attacks": ["dcr", "mc"], "attack_params": {"dcr": {"metric": "cosine"}}})
    assert math.isnan(by(rows, "auc", "dcr")["value"]) and "cosine" in by(rows, "auc", "dcr")["reason"]
    assert by(rows, "auc", "worst")["value"] == by(rows, "auc", "mc")["value"]


def test_rare_gaps_and_categorical_masks_follow_their_definitions():
    from synthrisk.schema import TableSchema

    seed = pd.DataFrame({"x": [0.0] * 60 + [10.0] * 36 + [5.5] * 4, "c": ["a"] * 98 + ["b"] * 2,
                         "y": ["p", "q"] * 50})
    schema = TableSchema.infer(seed, "t", "y")
    tgt = pd.DataFrame({"x": [0.0, 10.0, 5.2, 3.0, 20.0, -5.0], "c": ["a", "a", "b", "a", "a", "a"], "y": ["p"] * 6})
    # auc_rare_gaps (the earlier rule): bins of width 1: 60 rows, 36 rows, 4 rows (4% < 5%:
    # rare), the rest empty (rare); values outside the seed range fall into the end bins
    assert privacy.rare_numerical(seed, tgt, schema).tolist() == [False, False, True, True, False, False]
    # no sparse non-empty bin: the least-populated one is rare
    seed2 = seed.assign(x=[0.0] * 55 + [10.0] * 45)
    assert privacy.rare_numerical(seed2, tgt, schema).tolist() == [False, True, True, True, True, False]
    # a constant column is no rarity signal
    assert not privacy.rare_numerical(seed.assign(x=1.0), tgt, schema).any()
    assert privacy.rare_categorical(seed, tgt, schema).tolist() == [False, False, True, False, False, False]
    assert privacy.rarest_class(seed.iloc[:51], tgt.assign(y=["p", "q"] * 3), schema) == "q"


# ------------------------------------------------------------ degenerate input
def test_missing_column_or_unknown_level_gives_nan_rows_naming_the_column(credit):
    df, schema, split = credit
    for bad, col in ((holdout_control(split).drop(columns=["age"]), "age"),
                     (holdout_control(split).assign(owner="maybe"), "owner")):
        with pytest.raises(SchemaError, match=col):
            prepare(split, bad, schema)
        rows = privacy.evaluate(bad, split, schema, make_rng(0), {"attacks": ["dcr", "levatt"]})
        assert len(rows) == 5 * len(privacy.score_names()) + len(privacy.COUNTS) + len(privacy.EPS)
        assert all(math.isnan(r["value"]) and col in r["reason"] for r in rows)
    rows = privacy.evaluate(holdout_control(split).iloc[:0], split, schema, make_rng(0), {"attacks": ["dcr"]})
    assert all(math.isnan(r["value"]) and "no rows" in r["reason"] for r in rows)


def test_constant_columns_and_level_unseen_in_members_still_score(credit):
    df, schema, split = credit
    syn = holdout_control(split)
    for c in schema.columns:  # every column constant
        syn[c.name] = syn[c.name].iloc[0]
    rows = privacy.evaluate(syn, split, schema, make_rng(0), {})
    aucs = [r for r in rows if r["metric"] == "auc"]
    assert len(aucs) == 14 and all(np.isfinite(r["value"]) for r in aucs), [r for r in aucs if not np.isfinite(r["value"])]
    # a level of the schema that no member holds: one-hot column of zeros, no crash
    level = [lv for lv in schema.column("owner").levels if lv not in set(split.members["owner"])]
    members = split.members.assign(owner=schema.column("owner").levels[0])
    sp2 = type(split)(members, split.non_members, split.reference, split.test, split.holdout)
    rows = privacy.evaluate(holdout_control(split), sp2, schema, make_rng(0), {"attacks": ["dcr", "domias"]})
    assert all(np.isfinite(r["value"]) for r in rows if r["metric"] == "auc"), level


def test_fewer_synthetic_rows_than_k_gives_nan_with_reason(credit):
    df, schema, split = credit
    syn = holdout_control(split).iloc[:3]
    rows = privacy.evaluate(syn, split, schema, make_rng(0), {"attacks": ["gen_lra", "dcr", "dpi"]})
    g = by(rows, "auc", "gen_lra")
    assert math.isnan(g["value"]) and "5 nearest" in g["reason"] and "3 rows" in g["reason"]
    assert np.isfinite(by(rows, "auc", "dcr")["value"]) and np.isfinite(by(rows, "auc", "dpi")["value"])
    assert by(rows, "auc", "worst")["value"] == max(by(rows, "auc", a)["value"] for a in ("dcr", "dpi"))


def test_single_class_subsets_are_nan_with_reason(credit):
    df, schema, split = credit
    syn = holdout_control(split).assign(card=schema.target_levels[0])  # one class only
    members = split.members.assign(card="yes")
    non = split.non_members.assign(card="no")  # rarest-class subset holds one label only
    sp2 = type(split)(members, non, split.reference, split.test, split.holdout)
    rows = privacy.evaluate(syn, sp2, schema, make_rng(0), {"attacks": ["dcr"]})
    r = by(rows, "auc_rarest_class", "dcr")
    assert math.isnan(r["value"]) and "both labels" in r["reason"]
    assert np.isfinite(by(rows, "auc", "dcr")["value"])


# ---------------------------------------------------------- density internals
def test_kde_is_scipys_gaussian_kde_when_the_covariance_is_regular():
    from scipy.stats import gaussian_kde

    from synthrisk.attacks._density import KDE

    rng = np.random.default_rng(0)
    data = rng.normal(size=(40, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 2.0, 0.5], [0.0, 0.0, 0.7]])
    x = rng.normal(size=(6, 3))
    for bw in ("silverman", "scott", 0.4):
        kde = KDE(data, bw)
        assert not kde.fallback
        np.testing.assert_allclose(kde.logpdf(x), gaussian_kde(data.T, bw_method=bw).logpdf(x.T), rtol=1e-9)


def test_kde_falls_back_to_ledoit_wolf_on_a_singular_covariance_and_says_so(credit):
    from scipy.stats import multivariate_normal
    from sklearn.covariance import LedoitWolf

    from synthrisk.attacks._density import KDE

    rng = np.random.default_rng(0)
    data = np.c_[rng.normal(size=(20, 2)), np.zeros((20, 3))]  # rank-deficient, like one-hot
    with pytest.raises(np.linalg.LinAlgError):
        from scipy.stats import gaussian_kde
        gaussian_kde(data.T)
    kde = KDE(data, 0.7)
    assert kde.fallback and "singular" in kde.why
    x = rng.normal(size=(4, 5))
    cov = 0.49 * (LedoitWolf().fit(data).covariance_ + 1e-6 * np.eye(5))
    brute = np.log(np.mean([multivariate_normal(mu, cov).pdf(x) for mu in data], axis=0))
    np.testing.assert_allclose(kde.logpdf(x), brute, rtol=1e-6)
    # the fallback is recorded in the reason of the attack's rows
    df, schema, split = credit
    rows = privacy.evaluate(holdout_control(split), split, schema, make_rng(0), {"attacks": ["domias", "dcr"]})
    assert "Ledoit-Wolf" in by(rows, "auc", "domias")["reason"] and not by(rows, "auc", "dcr").get("reason")


def test_gen_lra_closed_form_matches_refitting_the_kde(credit):
    from synthrisk.attacks import gen_lra
    from synthrisk.attacks._density import KDE
    from synthrisk.attacks._neighbours import knn

    df, schema, split = credit
    data = prepare(split, holdout_control(split), schema)
    got = gen_lra.score(data, make_rng(0), k=3)
    ref = KDE(data.reference)
    for i in (0, 40):
        x = data.targets[i : i + 1]
        _, idx = knn(x, data.synthetic, 3)  # neighbours in the encoded space, as Synth-MIA
        s = data.synthetic[idx[0]]
        without = ref.logpdf(s)
        # the same kernel on reference + {x}: a mixture with one more component
        with_x = np.logaddexp(np.log(len(data.reference)) + without,
                              ref.log_kernel(((ref.whiten(s) - ref.whiten(x)) ** 2).sum(1))) - np.log(len(data.reference) + 1)
        assert got[i] == pytest.approx((with_x - without).sum(), rel=1e-6, abs=1e-9)
