"""Diversity metrics on real tables: copy and holdout controls, definitions, degenerate input."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from _privacy_tables import copy_control, holdout_control, load, make_split
from synthrisk.encoding import canonical_strings
from synthrisk.io import make_rng
from synthrisk.metrics import diversity
from synthrisk.metrics.base import SPLIT_PARTS, Split
from synthrisk.schema import TableSchema


def _vals(rows):
    return {r["metric"]: r["value"] for r in rows}


@pytest.mark.parametrize("table", ["creditcard", "arrests", "diamonds"])
def test_copy_control(table):
    df, schema = load(table)
    split = make_split(df, 32, 300, 0)
    v = _vals(diversity.evaluate(copy_control(split, 0), split, schema, make_rng(0), {}))
    assert v["member_match_rate"] == 1.0
    # every member counts as copied unless it has a twin among the rows the generator never saw
    assert v["exact_copy_rate"] == 1.0 - _share_with_public_twin(split.members, split, schema)
    assert v["exact_copy_rate"] + v["member_match_public_rate"] == 1.0
    assert v["dcr_share"] == 1.0
    assert v["authenticity"] == 0.0
    assert v["coverage"] == 1.0
    assert v["alpha_precision"] > 0.9 and v["beta_recall"] > 0.9
    assert v["alpha_precision_naive"] > 0.9 and v["beta_recall_naive"] > 0.9


def test_holdout_control_dcr_share_near_half():
    """With 1,000 non-members against 32 members, as the pipeline's splits have: the share is
    taken against an equally large sample of them, so 0.5 stays the ideal."""
    shares, copies = [], []
    for table in ("creditcard", "diamonds", "arrests"):
        df, schema = load(table)
        for seed in range(4):
            split = make_split(df, 32, 300, seed, n_non=1000)
            assert len(split.non_members) == 1000
            v = _vals(diversity.evaluate(holdout_control(split), split, schema, make_rng(seed), {}))
            shares.append(v["dcr_share"])
            copies.append(v["exact_copy_rate"])
            assert v["authenticity"] > 0.2
    assert abs(np.mean(shares) - 0.5) < 0.1, shares
    assert np.mean(copies) < 0.1  # only genuine duplicates of the population (Arrests has some)


def _share_with_public_twin(rows, split, schema) -> float:
    public = set()
    for part in ("non_members", "reference", "holdout", "test"):
        public.update(canonical_strings(getattr(split, part), schema))
    return float(np.mean([s in public for s in canonical_strings(rows, schema)]))


def _arrests_splits(arrests):
    """carData Arrests splits of the pipeline (n = 32/128, seeds 0-3) whose holdout repeats a member."""
    from synthrisk.splits import make_split as pipeline_split

    df, schema, _ = arrests
    found = []
    for n in (32, 128):
        for seed in range(4):
            parts = pipeline_split(df, schema, n, seed)
            split = parts if isinstance(parts, Split) else Split(**{p: parts[p] for p in SPLIT_PARTS})
            members = set(canonical_strings(split.members, schema))
            twins = sum(s in members for s in canonical_strings(split.holdout, schema))
            if twins:
                found.append((n, seed, split, twins))
    return schema, found


def test_copy_metrics_ignore_member_twins_among_unseen_rows(arrests):
    schema, found = _arrests_splits(arrests)
    # the parts are disjoint by index, not by content: Arrests has identical rows
    assert {(n, seed) for n, seed, _, _ in found} >= {(32, 0), (128, 0)}, [f[:2] for f in found]
    for n, seed, split, twins in found:
        v = _vals(diversity.evaluate(split.holdout.copy(), split, schema, make_rng(seed), {}))
        # holdout control: real rows the generator never saw; its member twins are no copies
        assert v["member_match_rate"] == twins / len(split.holdout) > 0, (n, seed)
        assert v["member_match_public_rate"] == v["member_match_rate"], (n, seed)
        assert v["exact_copy_rate"] == 0.0, (n, seed)
        # copy control: the members themselves; those with a twin outside do not count
        v = _vals(diversity.evaluate(split.members.sample(frac=1.0, random_state=seed), split, schema,
                                     make_rng(seed), {}))
        outside = _share_with_public_twin(split.members, split, schema)
        assert 0 < outside < 1, (n, seed)
        assert v["member_match_rate"] == 1.0
        assert v["exact_copy_rate"] == pytest.approx(1.0 - outside, abs=1e-12), (n, seed)
        assert v["member_match_public_rate"] == pytest.approx(outside, abs=1e-12), (n, seed)


def test_copy_rates_by_hand():
    df = pd.DataFrame({"x": [1, 2, 3, 4], "y": ["a", "b", "a", "b"]})
    schema = TableSchema.infer(df, "toy", "y")
    members = df.iloc[[0, 1, 2]]
    public = [df.iloc[[1]], df.iloc[[3]]]  # row 1 is a member with a public twin; row 3 is no member
    syn = df.iloc[[0, 0, 1, 3, 2]]  # copies: rows 0, 0, 2; member twin in public: row 1; row 3: public only
    r = diversity.copy_rates(syn, members, public, schema)
    assert r == {"exact_copy_rate": 3 / 5, "member_match_rate": 4 / 5, "member_match_public_rate": 1 / 5}


def test_beta_recall_naive_by_hand():
    # 1-D. Real 0, 1, 3; synthetic 0, 2.9, 10 (mean 4.3). Nearest synthetic rows: 0, 0, 2.9 at
    # distances 0, 1, 0.1, none farther than the real row's nearest other real row (1, 1, 2).
    # Their distances to the synthetic mean, u = 4.3, 4.3, 1.4, have linear beta-quantiles
    # 1.4 + 5.8 beta (beta < 1/2) and 4.3 (beta >= 1/2), so on beta = k/29 the curve is 1/3
    # for k <= 14 and 1 for k >= 15: sum |R - beta| = (5/3 + 15/29) + 105/29 = 505/87, and
    # the score is 1 - (505/87) / 15 = 160/261.
    real, syn = np.array([[0.0], [1.0], [3.0]]), np.array([[0.0], [2.9], [10.0]])
    assert diversity.beta_recall_naive(real, syn) == pytest.approx(160 / 261, abs=1e-12)
    # real 0, 0.2, 3 vs synthetic 0.5, 2.9, 10: rows 0 and 0.2 are nearer each other (0.2) than
    # to any synthetic row (0.5, 0.3), so only row 3 counts; its match 2.9 has the smallest u
    # and is inside every ball: R = 1/3 flat, sum_k |1/3 - k/29| = 745/87, score 112/261.
    real, syn = np.array([[0.0], [0.2], [3.0]]), np.array([[0.5], [2.9], [10.0]])
    assert diversity.beta_recall_naive(real, syn) == pytest.approx(112 / 261, abs=1e-12)
    # alpha: real 0..4 (mean 2, distances 2, 1, 0, 1, 2); synthetic at distances 0, 0.5, 8.
    # Radii 4 alpha (alpha <= 1/4): P = 1/3 for k <= 3, 2/3 for k >= 4; score 676/1305.
    real, syn = np.arange(5.0)[:, None], np.array([[2.0], [2.5], [10.0]])
    assert diversity.alpha_precision_naive(real, syn) == pytest.approx(676 / 1305, abs=1e-12)


def test_beta_recall_naive_prefers_independent_to_collapsed():
    indep, shrunk, point = [], [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        real = rng.normal(size=(64, 5))
        indep.append(diversity.beta_recall_naive(real, rng.normal(size=(64, 5))))
        shrunk.append(diversity.beta_recall_naive(real, rng.normal(scale=0.3, size=(64, 5))))
        point.append(diversity.beta_recall_naive(real, real[0] + rng.normal(scale=0.01, size=(64, 5))))
    indep, shrunk, point = map(np.array, (indep, shrunk, point))
    assert 0.4 < indep.mean() < 0.6  # about the share of real rows nearer a synthetic than a real row
    assert indep.mean() - shrunk.mean() > 0.15 and np.all(indep > shrunk)
    assert point.mean() < 0.15 and np.all(indep > point)
    assert np.all((0 <= indep) & (indep <= 1)) and np.all(point >= 0)


def test_synthcity_naive_space():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"x": rng.normal(size=40), "few": rng.integers(3, 6, size=40),
                         "c": rng.choice(["10", "9", "2"], size=40), "y": rng.choice(["a", "b"], size=40)})
    syn = pd.DataFrame({"x": rng.normal(size=30) * 3, "few": rng.integers(3, 6, size=30),
                        "c": rng.choice(["10", "9", "2"], size=30), "y": rng.choice(["a", "b"], size=30)})
    schema = TableSchema.infer(real, "toy", "y", categorical=["c"])
    xr, xs = diversity.synthcity_naive_space(real, syn, schema)
    assert xr.shape == xs.shape == (30, 3)  # target dropped, both cut to the shorter length
    assert np.allclose(xr.min(0), 0) and np.allclose(xr.max(0), 1)  # min-max on the real rows
    assert xs[:, 0].min() < 0 or xs[:, 0].max() > 1  # wider synthetic values leave [0, 1]
    # categorical "c": ranks in numeric order 2 < 9 < 10 -> 0, 1/2, 1; "few" (3 values): ranks
    rows = np.random.RandomState(0).permutation(40)[:30]
    want_c = real["c"].map({"2": 0.0, "9": 0.5, "10": 1.0}).to_numpy()[rows]
    assert np.array_equal(xr[:, 2], want_c)
    assert np.array_equal(xr[:, 1], (real["few"].to_numpy()[rows] - 3) / 2)


def test_definitions_on_toy_data():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(50, 3))
    d, c = diversity.density_coverage(real, real.copy(), k=5)
    assert c == 1.0 and d > 0.9
    far = real + 100.0
    assert diversity.density_coverage(real, far, k=5) == (0.0, 0.0)
    assert diversity.alpha_precision(real, far) < 0
    assert diversity.authenticity(real, far) == 1.0
    assert diversity.authenticity(real, real[:10]) == 0.0
    assert diversity.dcr_share(real[:5], real[:5], real[5:10]) == 1.0


def test_degenerate_inputs_give_nan_with_reason():
    df, schema = load("creditcard")
    split = make_split(df, 32, 300, 0)
    rows = diversity.evaluate(holdout_control(split), split, schema, make_rng(0), {"k": 40})
    v = {r["metric"]: r for r in rows}
    assert math.isnan(v["density"]["value"]) and "41 rows" in v["density"]["reason"]
    assert math.isnan(v["coverage"]["value"]) and v["coverage"]["reason"]
    assert np.isfinite(v["dcr_share"]["value"])
    rows = diversity.evaluate(holdout_control(split).drop(columns=["income"]), split, schema, make_rng(0), {})
    assert len(rows) == len(diversity.METRICS)
    assert all(math.isnan(r["value"]) and "income" in r["reason"] for r in rows)
    # constant synthetic table: finite values, no crash
    syn = holdout_control(split)
    for col in schema.names:
        syn[col] = syn[col].iloc[0]
    assert all(np.isfinite(r["value"]) for r in diversity.evaluate(syn, split, schema, make_rng(0), {}))
    with pytest.raises(ValueError, match="bogus"):
        diversity.evaluate(syn, split, schema, make_rng(0), {"bogus": 1})
