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


# -------------------------------------------------------------------- factorial
def test_epsilon_factorial_expands_to_named_checked_variants():
    from synthrisk.generators import GENERATORS
    from synthrisk.llm.factorial import expand_factorial
    from synthrisk.plan import Plan

    entries = {"copy": {"kind": "copy"},
               "dptvae": {"kind": "dptvae", "params": {"epochs": 5}, "datasets": ["arrests"],
                          "factorial": {"epsilon": [0.1, 1, 10, "inf"]}}}
    out = expand_factorial(entries)
    names = ["dptvae~epsilon0.1", "dptvae~epsilon1", "dptvae~epsilon10", "dptvae~epsiloninf"]
    assert list(out) == ["copy", *names]
    assert [out[v]["params"]["epsilon"] for v in names] == [0.1, 1, 10, "inf"]
    assert all(out[v]["params"]["epochs"] == 5 and out[v]["datasets"] == ["arrests"] for v in names)
    for v in names:  # every variant passes the kind's own param check (as the plan does)
        GENERATORS.get("dptvae").check_params(out[v]["params"], f"generators.{v}.params")
    assert expand_factorial({"d": {"kind": "dptvae", "factorial": {"epsilon": [float("inf")]}}}) == {
        "d~epsiloninf": {"kind": "dptvae", "params": {"epsilon": float("inf")}}}
    cfg = {"datasets": {"arrests": {}}, "splits": {"sizes": [32], "seeds": [0]}, "generators": entries}
    plan = Plan.from_config(cfg, check_available=False)
    assert list(plan.generators) == ["copy", *names]
    assert plan.factorials()["dptvae"]["cells"] == {v: {"epsilon": e} for v, e in zip(names, [0.1, 1, 10, "inf"])}
    assert plan.dp_epsilons() == dict(zip(names, [0.1, 1.0, 10.0, float("inf")]))
    assert "dp_curve" in plan.figures
    no_dp = Plan.from_config({**cfg, "generators": {"copy": {"kind": "copy"}}}, check_available=False)
    assert no_dp.dp_epsilons() == {} and "dp_curve" not in no_dp.figures


# -------------------------------------------------------------------- dp_audit
def _privacy_rows(gen: str, tp: int, fp: int, members: int = 32, non_members: int = 1000,
                  dataset: str = "arrests", n: int = 32, seeds=(0, 1)) -> list[dict]:
    rows = []
    for s in seeds:
        for metric, v in (("eps_tp", tp), ("eps_fp", fp), ("eps_members", members), ("eps_non_members", non_members)):
            rows.append({"generator": gen, "dataset": dataset, "n": n, "seed": s, "family": "privacy",
                         "metric": metric, "value": float(v), "attack": "selected"})
    return rows


def test_dp_audit_flags_a_bound_above_the_claim(tmp_path):
    from synthrisk.aggregate import AUDIT_NO_CLAIM, AUDIT_OK, AUDIT_RED_FLAG, write_tables
    from synthrisk.io import write_json, write_parquet
    from synthrisk.metrics.base import LONG_COLUMNS

    # honest: members flagged as often as non-members; liar: 30 of 32 members at 1% FPR but claims 0.5;
    # copy: the same leak, claims nothing; the epsilon-inf variant says dp: false
    gens = {"honest": (5, 150, {"dp": True, "epsilon": 1.0, "epsilon_spent": 0.98, "delta": 1e-3}),
            "liar": (30, 10, {"dp": True, "epsilon": 0.5, "epsilon_spent": 0.49, "delta": 1e-3}),
            "copy": (30, 10, {}),
            "dp~epsiloninf": (30, 10, {"dp": False, "epsilon": None, "epsilon_spent": None})}
    rows = [r for g, (tp, fp, _) in gens.items() for r in _privacy_rows(g, tp, fp)]
    metrics = pd.DataFrame(rows).reindex(columns=LONG_COLUMNS)
    metric_file = write_parquet(metrics, tmp_path / "m.parquet")
    synthetic = []
    for g, (_, _, info) in gens.items():
        for s in (0, 1):
            p = tmp_path / f"{g}_{s}.parquet"
            write_parquet(pd.DataFrame({"a": [1]}), p)
            write_json({"generator": g, "kind": "x", "dataset": "arrests", "n": 32, "seed": s, "info": info,
                        "rows_requested": 1, "rows_returned": 1}, f"{p}.json")
            synthetic.append(str(p))
    out = tmp_path / "dp_audit.csv"
    write_tables([str(metric_file)], synthetic, str(tmp_path / "t.parquet"), str(tmp_path / "s.csv"),
                 out_dp_audit=str(out), confidence=0.9)
    audit = pd.read_csv(out).set_index("generator")
    assert audit.loc["honest", "verdict"] == AUDIT_OK
    assert audit.loc["liar", "verdict"] == AUDIT_RED_FLAG
    assert audit.loc["copy", "verdict"] == AUDIT_NO_CLAIM and audit.loc["dp~epsiloninf", "verdict"] == AUDIT_NO_CLAIM
    assert audit.loc["liar", "epsilon_claimed"] == pytest.approx(0.49)  # the spent epsilon, not the target
    assert audit.loc["liar", "delta_claimed"] == pytest.approx(1e-3)
    assert audit.loc["liar", "eps_lower_at_delta"] > 0.49 and audit.loc["copy", "eps_lower"] > 1
    assert audit.loc["liar", "eps_lower_at_delta"] <= audit.loc["liar", "eps_lower"]  # delta loosens the bound
    assert (audit["seeds"] == 2).all() and audit.loc["liar", "seeds_claimed"] == 2
    assert np.isnan(audit.loc["copy", "epsilon_claimed"]) and (audit["confidence"] == 0.9).all()


# -------------------------------------------------------------------- dp_curve
DP_CELLS = {f"dptvae~epsilon{e}": {"epsilon": v} for e, v in (("0.1", 0.1), ("1", 1), ("10", 10), ("inf", "inf"))}


def _curve_metrics(drop=()) -> pd.DataFrame:
    from synthrisk.metrics.base import LONG_COLUMNS

    rng = np.random.default_rng(0)
    rows = []
    auc = {"copy": 0.95, "holdout": 0.52, **{g: 0.5 + 0.04 * i for i, g in enumerate(DP_CELLS)}}
    for g, a in auc.items():
        for d in ("arrests", "cps88wages"):
            for s in (0, 1):
                base = {"generator": g, "dataset": d, "n": 32, "seed": s}
                rows.append({**base, "family": "privacy", "metric": "auc", "attack": "worst",
                             "value": a + rng.normal(0, 0.01)})
                rows.append({**base, "family": "utility", "metric": "tstr_auc", "model": "mean",
                             "value": 0.6 + (a - 0.5) + rng.normal(0, 0.01)})
        # a split only the non-private generators have: left out of their reference lines
        rows.append({"generator": g, "dataset": "other", "n": 64, "seed": 0, "family": "utility",
                     "metric": "tstr_auc", "model": "mean", "value": 0.0 if g in ("copy", "holdout") else np.nan})
    df = pd.DataFrame(rows).reindex(columns=LONG_COLUMNS)
    df = df[~df.generator.isin(drop) & df.value.notna()]
    return df.astype({"n": np.int64, "seed": np.int64}).reset_index(drop=True)


def _curve_ctx(**kw):
    from synthrisk.figures.common import Context

    kinds = {"copy": "copy", "holdout": "holdout", **{g: "dptvae" for g in DP_CELLS}}
    fact = {"dptvae": {"kind": "dptvae", "factors": {"epsilon": [0.1, 1, 10, "inf"]}, "baseline": {"epsilon": 0.1}, "cells": DP_CELLS}}
    return Context(**{"order": ["copy", "holdout", *DP_CELLS], "kinds": kinds, "factorials": fact,
                      "extra": {"epsilon": {g: float(c["epsilon"]) for g, c in DP_CELLS.items()}}, **kw})


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text())


def test_dp_curve_draws_the_sweep_against_reference_lines_and_names_what_is_missing(tmp_path):
    import matplotlib.pyplot as plt

    from synthrisk.figures.common import setup
    from synthrisk.figures.dp_curve import INF_LABEL, draw
    from synthrisk.figures.render import render_figure
    from synthrisk.io import write_parquet

    setup()
    fig = draw(_curve_metrics(), _curve_ctx())
    ax_u, ax_p = fig.axes[:2]
    (line,) = [ln for ln in ax_p.get_lines() if ln.get_linestyle() == "-"]  # the DP sweep (not its caps)
    assert list(line.get_xdata()) == [0.1, 1, 10, 100]  # inf drawn at 10 x the largest finite epsilon
    assert np.all(np.diff(line.get_ydata()) > 0)  # the planted rise of leakage with epsilon
    assert INF_LABEL in [t.get_text() for t in ax_p.get_xticklabels()]
    refs = sorted(float(ln.get_ydata()[0]) for ln in ax_u.get_lines() if ln.get_linestyle() == "--")
    assert refs == pytest.approx([0.6 + 0.02, 0.6 + 0.45], abs=0.02)  # holdout, copy: on the DP splits only
    text = _texts(fig)
    assert "copy" in text and "holdout" in text and "dptvae (DP)" in text
    plt.close(fig)
    # a subset: one variant and the utility family missing
    sub = _curve_metrics(drop=("dptvae~epsilon10",))
    sub = sub[sub.family != "utility"]
    fig = draw(sub, _curve_ctx())
    text = _texts(fig)
    assert "no utility rows" in text and "no values: dptvae~epsilon10" in text
    plt.close(fig)
    fig = draw(_curve_metrics(drop=tuple(DP_CELLS)), _curve_ctx())
    assert "no values of a DP generator: " + ", ".join(DP_CELLS) in _texts(fig)
    plt.close(fig)
    # byte-stable through the render stage
    write_parquet(_curve_metrics(), tmp_path / "m.parquet")
    ctx = dict(vars(_curve_ctx()))
    outs = []
    for k in (1, 2):
        png, svg = tmp_path / f"{k}.png", tmp_path / f"{k}.svg"
        render_figure("synthrisk.figures.dp_curve:draw", str(tmp_path / "m.parquet"), str(png), str(svg), ctx)
        outs.append((png.read_bytes(), svg.read_bytes()))
    assert outs[0] == outs[1] and outs[0][0][:8] == b"\x89PNG\r\n\x1a\n"
