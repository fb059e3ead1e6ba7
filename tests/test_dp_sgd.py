"""The DP-SGD generator ``dptvae`` (synthrisk.generators.dp_tvae): epsilon accounting within the
target, determinism, output shape, member-independent encoding, the epsilon factorial, the
``dp_audit`` table and the ``dp_curve`` figure. Small models and few steps throughout; the
settings keep the sample rate at 1/4 or 1, where opacus's PRV accountant answers fast."""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")

from synthrisk.generators.base import FitContext, run_generator  # noqa: E402
from synthrisk.generators.dp_tvae import DPTVAEGenerator, PublicEncoder, max_steps  # noqa: E402
from synthrisk.params import ParamError  # noqa: E402

SMALL = dict(width=32, latent=8)


def fit(members, schema, seed=0, **params):
    g = DPTVAEGenerator(**{**SMALL, **params})
    g.fit(schema.conform(members), schema, np.random.default_rng(seed), FitContext())
    return g


@pytest.fixture(scope="module")
def members(arrests_split):
    return arrests_split["members"]


# ------------------------------------------------------------------ accounting
@pytest.mark.parametrize("params", [
    dict(epsilon=1.0, epochs=3, batch_size=8),     # rate 1/4, 12 steps
    dict(epsilon=3.0, epochs=1, batch_size=8),     # a looser budget
    dict(epsilon=0.5, epochs=2, batch_size=100),   # batch above n: clamped to n (rate 1)
])
def test_spent_epsilon_within_target(arrests, members, params):
    _, schema, _ = arrests
    info = fit(members, schema, **params).info()
    n = len(members)
    assert info["dp"] is True and info["accountant"] == "prv"
    assert info["delta"] == pytest.approx(1 / (10 * n))
    assert 0 < info["epsilon_spent"] <= params["epsilon"]
    assert info["epsilon_spent"] > 0.8 * params["epsilon"]  # the noise is tuned to the budget, not wasted
    assert info["batch_size_used"] == min(params["batch_size"], n)
    assert info["sample_rate"] == pytest.approx(1 / math.ceil(n / info["batch_size_used"]))
    assert info["steps"] == info["steps_planned"] == params["epochs"] * math.ceil(n / info["batch_size_used"])
    assert info["stopped_early"] is False


def test_stops_before_overshooting_where_the_naive_epoch_count_would(arrests, members):
    """A fixed noise multiplier with many epochs: running them all would spend far more than the
    target; training stops at the last step within it, mid-epoch."""
    _, schema, _ = arrests
    n, target = len(members), 1.0
    info = fit(members, schema, epsilon=target, epochs=50, batch_size=8, noise_multiplier=2.0).info()
    assert info["steps_planned"] == 200
    naive_eps = max_steps(2.0, 0.25, 1 / (10 * n), 1e9, 200)[1]  # epsilon after all 200 steps
    assert naive_eps > 3 * target  # the naive plan overshoots by far
    assert info["stopped_early"] is True and 0 < info["steps"] < 200
    assert info["epsilon_spent"] <= target
    # one more step would have overshot
    assert max_steps(2.0, 0.25, 1 / (10 * n), 1e9, info["steps"] + 1)[1] > target


def test_a_plan_that_cannot_stay_within_raises(arrests, members):
    _, schema, _ = arrests
    with pytest.raises(ValueError, match="not one DP-SGD step fits"):
        fit(members, schema, epsilon=0.05, epochs=1, batch_size=8, noise_multiplier=0.5)
    with pytest.raises(ValueError, match="delta"):
        fit(members, schema, epsilon=1.0, epochs=1, batch_size=8, delta=0.5)


def test_epsilon_inf_trains_without_dp_and_params_are_checked(arrests, members):
    _, schema, _ = arrests
    for eps in ("inf", float("inf")):
        info = fit(members, schema, epsilon=eps, epochs=2, batch_size=8).info()
        assert info["dp"] is False and info["epsilon"] is None and info["epsilon_spent"] is None
        assert info["steps"] == 8
    for bad in ({"epsilon": -1.0}, {"epsilon": "lots"}, {"epsilon": 0}, {"batch_size": 0}, {"epochz": 3}):
        with pytest.raises(ParamError):
            DPTVAEGenerator(**bad)


# ------------------------------------------------------------- output, determinism
def _bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def test_deterministic_and_schema_conform(arrests, members):
    _, schema, _ = arrests
    p = dict(SMALL, epsilon=10.0, epochs=2, batch_size=8, noise_multiplier=1.0)  # fixed noise: no search, fast
    a, side_a = run_generator("dp", DPTVAEGenerator, p, members, schema, 57, 0, FitContext(dataset="arrests", n=32))
    b, side_b = run_generator("dp", DPTVAEGenerator, p, members, schema, 57, 0, FitContext(dataset="arrests", n=32))
    c, _ = run_generator("dp", DPTVAEGenerator, p, members, schema, 57, 1, FitContext(dataset="arrests", n=32))
    assert _bytes(a) == _bytes(b) and side_a["info"] == side_b["info"]
    assert _bytes(a) != _bytes(c)
    assert len(a) == 57 and list(a.columns) == schema.names
    assert a.equals(schema.conform(a))
    for col in schema.columns:
        if col.is_categorical:
            assert set(a[col.name]) <= set(col.levels)
        else:
            assert a[col.name].between(col.min, col.max).all()
    assert side_a["info"]["epsilon_spent"] <= 10.0


def test_encoding_depends_on_public_information_only(arrests, members):
    """Moving one member to an extreme changes neither the scaling nor the levels: they come from
    the schema (the whole prepared table) or the ``bounds`` param, never the members."""
    _, schema, _ = arrests
    moved = members.copy()
    moved.loc[moved.index[0], "age"] = 10_000
    moved.loc[moved.index[1], "checks"] = -50
    g1 = fit(members, schema, epsilon="inf", epochs=1)
    g2 = fit(moved, schema, epsilon="inf", epochs=1)
    assert g1.enc.bounds == g2.enc.bounds == {"age": (schema.column("age").min, schema.column("age").max),
                                             "checks": (schema.column("checks").min, schema.column("checks").max)}
    assert g1.enc.bounds["age"] != (float(members.age.min()), float(members.age.max()))  # not the members' range
    assert g1.enc.cat_sizes == g2.enc.cat_sizes == [len(schema.column(c).levels) for c in g1.enc.cat_cols]
    rest = members.iloc[2:]
    assert np.array_equal(g1.enc.transform(rest), g2.enc.transform(rest))
    assert g2.enc.transform(moved.iloc[:1])[0, g2.enc.num_cols.index("age")] == 1.0  # clipped to the bound
    # a level no member has still has its own column
    one = schema.conform(members[members.colour == members.colour.iloc[0]])
    assert PublicEncoder(schema).transform(one).shape[1] == PublicEncoder(schema).width
    # explicit public bounds win over the schema's
    enc = PublicEncoder(schema, {"age": [0, 100]})
    assert enc.bounds["age"] == (0.0, 100.0)
