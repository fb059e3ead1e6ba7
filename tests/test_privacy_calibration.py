"""Calibration of the attack battery on real tables: copy must be caught, holdout must not.

* copy control (synthetic rows = the members, shuffled): worst-case AUC >= 0.95 and a high
  TPR at 1% FPR on every table;
* holdout control (fresh real rows disjoint from every split part): each attack's AUC,
  averaged over tables and seeds, within 0.5 +- 0.1.
"""
from __future__ import annotations

import numpy as np
import pytest

from _privacy_tables import copy_control, holdout_control, load, make_split
from synthrisk.io import make_rng
from synthrisk.metrics import privacy

TABLES = ("creditcard", "arrests", "diamonds")
SEEDS = (0, 1, 2)


def _values(rows, metric):
    return {r["attack"]: r["value"] for r in rows if r["metric"] == metric}


@pytest.fixture(scope="module")
def runs():
    out = {}
    for t in TABLES:
        df, schema = load(t)
        for seed in SEEDS:
            split = make_split(df, 32, 1000, seed)
            for ctl, syn in (("copy", copy_control(split, seed)), ("holdout", holdout_control(split))):
                if ctl == "copy" and seed > 0:
                    continue  # one copy run per table is plenty: it is far from the threshold
                out[t, seed, ctl] = privacy.evaluate(syn, split, schema, make_rng(seed, t, ctl), {})
    return out


@pytest.mark.parametrize("table", TABLES)
def test_copy_control_is_caught(runs, table):
    rows = runs[table, 0, "copy"]
    assert _values(rows, "auc")["worst"] >= 0.95
    assert _values(rows, "tpr_at_fpr_0.01")["worst"] >= 0.5
    # the distance attacks catch a copy outright
    assert _values(rows, "auc")["dcr"] >= 0.95


def test_holdout_control_is_at_chance_per_attack(runs):
    aucs: dict[str, list[float]] = {}
    for (t, seed, ctl), rows in runs.items():
        if ctl == "holdout":
            for a, v in _values(rows, "auc").items():
                aucs.setdefault(a, []).append(v)
    means = {a: float(np.mean(v)) for a, v in aucs.items()}
    assert len(means) == 12 and all(len(v) == len(TABLES) * len(SEEDS) for v in aucs.values())
    off = {a: round(m, 3) for a, m in means.items() if a != "worst" and abs(m - 0.5) > 0.1}
    assert not off, off
    # the maximum over eleven attacks is biased upwards, but must stay far below a copy
    assert means["worst"] < 0.7


def test_every_attack_gives_a_value_on_every_run(runs):
    for key, rows in runs.items():
        bad = [(r["attack"], r["reason"]) for r in rows if r["metric"] == "auc" and not np.isfinite(r["value"])]
        assert not bad, (key, bad)


@pytest.mark.parametrize("protocol", ["default", "paper"])
def test_battery_on_a_pipeline_split(protocol):
    """The pipeline's own stratified split (synthrisk.splits) feeds the battery as is."""
    from synthrisk.metrics.base import Split
    from synthrisk.splits import make_split as pipeline_split

    df, schema = load("arrests")
    split = Split(**pipeline_split(df, schema, 32, 0, reference_size=500))
    rows = privacy.evaluate(copy_control(split, 0), split, schema, make_rng(0), {"protocol": protocol})
    auc = _values(rows, "auc")
    assert len(auc) == 12 and all(np.isfinite(v) for v in auc.values()), auc
    assert auc["worst"] >= 0.95
