"""Diversity metrics on real tables: copy and holdout controls, definitions, degenerate input."""
from __future__ import annotations

import math

import numpy as np
import pytest

from _privacy_tables import copy_control, holdout_control, load, make_split
from synthrisk.io import make_rng
from synthrisk.metrics import diversity


def _vals(rows):
    return {r["metric"]: r["value"] for r in rows}


@pytest.mark.parametrize("table", ["creditcard", "arrests", "diamonds"])
def test_copy_control(table):
    df, schema = load(table)
    split = make_split(df, 32, 300, 0)
    v = _vals(diversity.evaluate(copy_control(split, 0), split, schema, make_rng(0), {}))
    assert v["exact_copy_rate"] == 1.0
    assert v["dcr_share"] == 1.0
    assert v["authenticity"] == 0.0
    assert v["coverage"] == 1.0
    assert v["alpha_precision"] > 0.9 and v["beta_recall"] > 0.9


def test_holdout_control_dcr_share_near_half():
    shares, copies = [], []
    for table in ("creditcard", "diamonds", "arrests"):
        df, schema = load(table)
        for seed in range(4):
            split = make_split(df, 32, 300, seed)
            v = _vals(diversity.evaluate(holdout_control(split), split, schema, make_rng(seed), {}))
            shares.append(v["dcr_share"])
            copies.append(v["exact_copy_rate"])
            assert v["authenticity"] > 0.2
    assert abs(np.mean(shares) - 0.5) < 0.1, shares
    assert np.mean(copies) < 0.1  # only genuine duplicates of the population (Arrests has some)


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
