"""The study's figures and tables (src/synthrisk/figures/): drawn from a planted metric table.

A synthetic long metric table (three generators and the four cells of a 2x2 factorial, two
datasets, two n, two seeds) with known values: each figure and table is produced, the privacy
score table equals a hand computation, the prompt-study table has the study's rows, the
factorial model recovers a planted effect, two runs in separate processes give identical bytes,
partial subsets draw with a note instead of failing; ``leaky_records`` recomputes the privacy
family's scores exactly on a real split; and the pipeline runs a factorial LLM entry against a
scripted OpenAI-compatible server to the factorial figure and the prompt-study table.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ARRESTS, REPO, run_snakemake, stage_split
from test_llm_faults import FakeServer, completion

from synthrisk.aggregate import cluster_interval
from synthrisk.figures import FIGURES, NEEDS_CONSTRAINTS, NEEDS_DP, NEEDS_FACTORIAL, NEEDS_ICL, TABLE_VIEWS
from synthrisk.figures.common import Context
from synthrisk.io import make_rng, write_parquet
from synthrisk.metrics.base import LONG_COLUMNS

FPRS = ("0", "0.001", "0.01", "0.1")
CELLS = {f"llm~t{t:g}~stats{int(s)}": {"temperature": t, "summary_stats": s} for t in (0.2, 1.0) for s in (False, True)}
FACTORIALS = {"llm": {"kind": "llm_icl", "factors": {"temperature": [0.2, 1.0], "summary_stats": [False, True]},
                      "baseline": {"temperature": 1.0, "summary_stats": True}, "cells": CELLS}}
BASE_AUC = {"copy": 0.95, "holdout": 0.52, "ctgan": 0.6}
EFFECT = 0.1  # planted: worst-case AUC +0.1 at temperature 1.0; summary_stats does nothing
# leaky_records and prompt_exposure need real split files (own tests: here, test_llm_contamination.py)
DRAWN = [f for f in FIGURES if f not in ("leaky_records", "prompt_exposure")]
#: contamination needs a zero-shot run's match rows, exposure_records an in-context run's files (own tests: test_llm_contamination.py)
VIEWS = [v for v in TABLE_VIEWS if v not in ("contamination", "exposure_records")]


def context(factorials=FACTORIALS, **kw) -> dict:
    order = ["copy", "holdout", "ctgan", *CELLS]
    kinds = {"copy": "copy", "holdout": "holdout", "ctgan": "ctgan", **{v: "llm_icl" for v in CELLS}}
    return {"order": order, "kinds": kinds, "factorials": factorials, **kw}


def planted(gens=None, ns=(32, 64), datasets=("d1", "d2"), seeds=(0, 1), privacy=True) -> pd.DataFrame:
    """The long metric table (LONG_COLUMNS) with planted values and small noise."""
    rng = np.random.default_rng(0)
    out = []

    def add(g, d, n, s, fam, met, v, **kw):
        out.append({"generator": g, "dataset": d, "n": n, "seed": s, "family": fam, "metric": met, "value": v,
                    "ci_low": np.nan, "ci_high": np.nan, "against": kw.get("against"), "column": kw.get("column"),
                    "model": kw.get("model"), "attack": kw.get("attack"), "reason": kw.get("reason")})

    for g in gens or [*BASE_AUC, *CELLS]:
        for d in datasets:
            for n in ns:
                for s in seeds:
                    a = (0.7 + EFFECT * (CELLS[g]["temperature"] == 1.0)) if g in CELLS else BASE_AUC[g]
                    a += 0.02 * (d == "d2") + rng.normal(0, 0.01)  # a dataset block effect, and noise
                    if privacy:
                        for att, off in (("worst", 0.0), ("selected", -0.03), ("dcr", -0.01), ("mc", -0.02)):
                            add(g, d, n, s, "privacy", "auc", a + off, attack=att)
                            add(g, d, n, s, "privacy", "auc_rare", a + off + 0.02, attack=att)
                            for f in FPRS:  # TPR at 0.1% FPR: unresolvable (fewer than 1,000 non-members)
                                v = np.nan if f == "0.001" else (a - 0.5) * (float(f) + 0.01) * rng.uniform(1, 2)
                                add(g, d, n, s, "privacy", f"tpr_at_fpr_{f}", v, attack=att,
                                    reason="needs 1000 non-members" if np.isnan(v) else None)
                    add(g, d, n, s, "fidelity", "shape", 0.8 + rng.normal(0, 0.02), against="test")
                    add(g, d, n, s, "fidelity", "trend", 0.7 + rng.normal(0, 0.02), against="test")
                    add(g, d, n, s, "utility", "tstr_auc", 0.75 + rng.normal(0, 0.02), model="mean")
                    add(g, d, n, s, "diversity", "beta_recall_naive", 0.4 + rng.normal(0, 0.02), against="members")
                    add(g, d, n, s, "diversity", "dcr_share", 0.6 + rng.normal(0, 0.02), against="members")
                    for who in (None, "members"):  # the constraints family: one row and one statistical constraint
                        add(g, d, n, s, "constraints", "row_satisfaction", 0.97 + rng.uniform(0, 0.03), column="r1",
                            against=who)
                        ok = float(rng.uniform() < 0.7)
                        add(g, d, n, s, "constraints", "constraint_value", 0.1 + 0.1 * (1 - ok), column="s1", against=who)
                        add(g, d, n, s, "constraints", "constraint_target", 0.15, column="s1", against=who)
                        add(g, d, n, s, "constraints", "constraint_satisfied", ok, column="s1", against=who)
    df = pd.DataFrame(out, columns=LONG_COLUMNS)
    return df.astype({"n": np.int64, "seed": np.int64})


def target(name: str) -> str:
    return (FIGURES if name in FIGURES else TABLE_VIEWS).target(name)


def render_all(metrics: pd.DataFrame, out: Path, ctx: dict, names=None) -> list[Path]:
    from synthrisk.figures.render import render_figure, render_table

    out.mkdir(parents=True, exist_ok=True)
    write_parquet(metrics, out / "metrics.parquet")
    files = []
    for name in names or [*DRAWN, *TABLE_VIEWS]:
        if name in FIGURES:
            files += [out / f"{name}.png", out / f"{name}.svg"]
            render_figure(target(name), str(out / "metrics.parquet"), *map(str, files[-2:]), ctx)
        else:
            files += [out / f"{name}.csv", out / f"{name}.tex"]
            render_table(target(name), str(out / "metrics.parquet"), *map(str, files[-2:]), ctx)
    return files


def texts(fig) -> str:
    """Every text drawn in a figure (panel notes, titles, labels), joined."""
    found = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(t for t in found if t)


def draw(name: str, metrics: pd.DataFrame, ctx: dict):
    from synthrisk.figures.common import setup

    setup()
    return FIGURES.get(name)(metrics, Context(**ctx))


@pytest.fixture(scope="module")
def metrics():
    return planted()


@pytest.fixture(scope="module")
def drawn(metrics, tmp_path_factory):
    out = tmp_path_factory.mktemp("views")
    render_all(metrics, out, context())
    return out


# ------------------------------------------------------------------ produced
@pytest.mark.parametrize("name", DRAWN)
def test_each_figure_is_a_png_and_an_svg(drawn, name):
    png, svg = (drawn / f"{name}.png").read_bytes(), (drawn / f"{name}.svg").read_text()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg and "Matplotlib" not in png[:2000].decode("latin-1")


@pytest.mark.parametrize("name", VIEWS)
def test_each_table_is_a_csv_and_a_tabular(drawn, name):
    df = pd.read_csv(drawn / f"{name}.csv")
    assert len(df) > 0
    tex = (drawn / f"{name}.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\end{tabular}" in tex and r"\documentclass" not in tex
    body = tex[tex.index(r"\begin{tabular}"):]
    assert "~" not in body.replace(r"\textasciitilde{}", "")  # variant names escaped


# ------------------------------------------------------------------ numbers
def test_privacy_scores_equal_a_hand_computation(drawn, metrics):
    table = pd.read_csv(drawn / "privacy_scores.csv").set_index("generator")
    assert list(table.index) == ["copy", "holdout", "ctgan", *CELLS]  # config order
    r = table.loc["ctgan"]
    for m in ("auc", "tpr_at_fpr_0", "tpr_at_fpr_0.01", "tpr_at_fpr_0.1"):
        v = metrics[(metrics.generator == "ctgan") & (metrics.metric == m) & (metrics.attack == "worst")]
        assert len(v) == 8  # every split pooled: 2 datasets x 2 n x 2 seeds, as the study
        assert r[f"worst_{m}_mean"] == pytest.approx(v.value.mean(), rel=1e-5)
        assert r[f"worst_{m}_std"] == pytest.approx(v.value.std(ddof=1), rel=1e-5)
        assert r[f"worst_{m}"] == f"{v.value.mean():.3f} ({v.value.std(ddof=1):.3f})"
        assert r[f"worst_{m}_splits"] == 8 and r[f"worst_{m}_nan"] == 0
    v = metrics[(metrics.generator == "ctgan") & (metrics.metric == "auc") & (metrics.attack == "worst")]
    lo, hi, unit = cluster_interval(v.value.to_numpy(), v.dataset.to_numpy(dtype=object),
                                    make_rng(0, "privacy_scores", "ctgan|worst|auc"))
    assert unit == "dataset" and lo < r["worst_auc_mean"] < hi
    assert (r["worst_auc_ci_low"], r["worst_auc_ci_high"]) == (pytest.approx(lo, rel=1e-5), pytest.approx(hi, rel=1e-5))
    sel = metrics[(metrics.generator == "ctgan") & (metrics.metric == "auc") & (metrics.attack == "selected")]
    assert r["selected_auc_mean"] == pytest.approx(sel.value.mean(), rel=1e-5)
    # unresolvable TPR at 0.1% FPR stays NaN, and the table says no split resolved it
    assert np.isnan(r["worst_tpr_at_fpr_0.001_mean"]) and pd.isna(r["worst_tpr_at_fpr_0.001"])
    assert (r["worst_tpr_at_fpr_0.001_splits"], r["worst_tpr_at_fpr_0.001_nan"]) == (0, 8)
    assert "ctgan & 0." in (drawn / "privacy_scores.tex").read_text() and "0/8" in (drawn / "privacy_scores.tex").read_text()


def test_prompt_study_has_the_studys_conditions_first(drawn, metrics):
    t = pd.read_csv(drawn / "prompt_study.csv")
    assert list(t.condition) == ["baseline (temperature=1, summary_stats=true)", "temperature = 0.2",
                                 "summary_stats = false", "temperature=0.2, summary_stats=false"]
    assert list(t.study_condition) == [True, True, True, False]
    assert list(t.variant) == ["llm~t1~stats1", "llm~t0.2~stats1", "llm~t1~stats0", "llm~t0.2~stats0"]
    v = metrics[(metrics.generator == "llm~t0.2~stats1") & (metrics.metric == "auc") & (metrics.attack == "worst")]
    assert t.loc[1, "worst_auc"] == pytest.approx(v.value.mean(), rel=1e-5) and t.loc[1, "worst_auc_splits"] == 8
    d = metrics[(metrics.generator == "llm~t1~stats1") & (metrics.metric == "dcr_share")]
    assert t.loc[0, "dcr_share"] == pytest.approx(d.value.mean(), rel=1e-5)
    assert t.loc[0, "worst_auc"] - t.loc[1, "worst_auc"] == pytest.approx(EFFECT, abs=0.02)
    tex = (drawn / "prompt_study.tex").read_text()
    assert "summary\\_stats = false &" in tex and "summary\\_stats=false * &" in tex  # the extra cell marked


def test_factorial_model_recovers_the_planted_effect(metrics):
    from synthrisk.figures.cells import cell_rows
    from synthrisk.figures.factorial_effects import effects

    eff, why = effects(cell_rows(metrics, FACTORIALS["llm"], "worst_auc"), FACTORIALS["llm"]["factors"])
    assert why == ""
    eff = eff.set_index("label")
    t = eff.loc["temperature: 1 vs 0.2"]
    assert t.effect == pytest.approx(EFFECT, abs=0.01) and t.ci_low <= EFFECT <= t.ci_high and t.ci_low > 0
    s = eff.loc["summary_stats: true vs false"]
    assert s.ci_low <= 0 <= s.ci_high and abs(s.effect) < 0.01
    i = eff.loc["temperature: 1 vs 0.2 x summary_stats: true vs false"]
    assert i.ci_low <= 0 <= i.ci_high
    # the planted effect is not there in shape: every interval covers 0
    shape, _ = effects(cell_rows(metrics, FACTORIALS["llm"], "shape"), FACTORIALS["llm"]["factors"])
    assert ((shape.ci_low <= 0) & (0 <= shape.ci_high)).all()


def test_factorial_model_says_when_it_cannot_estimate(metrics):
    from synthrisk.figures.cells import cell_rows
    from synthrisk.figures.factorial_effects import effects

    one = metrics[(metrics.dataset == "d1") & (metrics.n == 32) & (metrics.seed == 0)]
    eff, why = effects(cell_rows(one, FACTORIALS["llm"], "worst_auc"), FACTORIALS["llm"]["factors"])
    assert len(eff) == 3 and eff.ci_low.isna().all() and "no residual degrees of freedom" in why
    assert eff.set_index("label").loc["temperature: 1 vs 0.2", "effect"] == pytest.approx(EFFECT, abs=0.04)
    fig = draw("factorial_effects", one, context())
    assert "no residual degrees of freedom" in texts(fig)
    # a cell that did not run: the interaction is not identified, the main effects still are
    three = metrics[metrics.generator != "llm~t0.2~stats0"]
    eff, why = effects(cell_rows(three, FACTORIALS["llm"], "worst_auc"), FACTORIALS["llm"]["factors"])
    assert "interactions left out" in why and len(eff) == 2
    t = eff.set_index("label").loc["temperature: 1 vs 0.2"]
    assert t.ci_low <= EFFECT <= t.ci_high


# ------------------------------------------------------------------ byte-stable
SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from pathlib import Path
import pandas as pd
from test_figures import context, render_all
render_all(pd.read_parquet({src!r}), Path(sys.argv[1]), context())
"""


def test_two_runs_in_separate_processes_give_identical_bytes(metrics, tmp_path):
    src = tmp_path / "planted.parquet"
    write_parquet(metrics, src)
    script = SCRIPT.format(tests=str(REPO / "tests"), src=str(src))
    outs = []
    for k in (1, 2):
        out = tmp_path / f"run{k}"
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, timeout=300)
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir() if p.name != "metrics.parquet")
    assert len(names) == 2 * (len(DRAWN) + len(list(TABLE_VIEWS)))
    assert names == sorted(p.name for p in outs[1].iterdir() if p.name != "metrics.parquet")
    differ = [n for n in names if (outs[0] / n).read_bytes() != (outs[1] / n).read_bytes()]
    assert not differ, differ


# ------------------------------------------------------------------ partial results
PARTIAL = {
    "one generator": (lambda m: m[m.generator == "ctgan"], {}, {}),
    "no privacy rows": (lambda m: m[m.family != "privacy"], {},
                        {"auc_by_n": "no privacy rows", "tpr_by_n": "no privacy rows", "rare_leakage": "no privacy rows",
                         "frontier": "privacy (worst-case AUC)"}),
    "one n": (lambda m: m[m.n == 32], {}, {"fidelity_utility_by_n": "one seed size only"}),
    "no factorial": (lambda m: m[~m.generator.isin(list(CELLS))], {"factorials": {}},
                     {"factorial_effects": "no factorial: entry"}),
    "nothing": (lambda m: m.iloc[:0], {}, {"frontier": "no values to draw", "auc_by_n": "no privacy rows",
                                           "fidelity_utility_by_n": "did not run",
                                           "factorial_effects": "no worst-case MIA AUC rows"}),
}


@pytest.mark.parametrize("case", list(PARTIAL))
def test_partial_results_draw_with_a_note(metrics, tmp_path, case):
    cut, ctx_edit, notes = PARTIAL[case]
    sub = cut(metrics).reset_index(drop=True)
    ctx = {**context(), **ctx_edit}
    files = render_all(sub, tmp_path, ctx)  # nothing raises
    assert all(f.stat().st_size > 0 for f in files)
    for name, text in notes.items():
        assert text in texts(draw(name, sub, ctx)), (case, name)
    if case == "no privacy rows":
        t = pd.read_csv(tmp_path / "privacy_scores.csv")
        assert t.empty and "did not run" in (tmp_path / "privacy_scores.tex").read_text()
    if case == "no factorial":
        assert "No factorial" in (tmp_path / "prompt_study.tex").read_text()


# ------------------------------------------------------------------ leaky_records on a real split
def test_leaky_records_recomputes_the_privacy_scores(tmp_path):
    from synthrisk.figures.leaky_records import member_scores, strongest_attack
    from synthrisk.io import read_parquet
    from synthrisk.metrics.privacy import auc
    from synthrisk.paths import SPLIT_PARTS
    from synthrisk.stages.evaluate import evaluate

    split_dir, side = stage_split(tmp_path, "arrests", ARRESTS, 32, 0)
    parts = {p: str(split_dir / f"{p}.parquet") for p in SPLIT_PARTS}
    members, holdout = read_parquet(parts["members"]), read_parquet(parts["holdout"])
    privacy = {"attacks": ["dcr", "mc", "density"], "bootstrap": 5}
    frames, splits = [], {}
    for g, syn in (("copy", members.sample(frac=1, random_state=0)), ("holdout", holdout)):
        syn_path = tmp_path / f"{g}.parquet"
        write_parquet(syn.reset_index(drop=True), syn_path)
        out = tmp_path / f"privacy_{g}.parquet"
        evaluate({"privacy": privacy}, {"privacy": "synthrisk.metrics.privacy:evaluate"}, g, str(syn_path), parts,
                 str(side), 32, 0, str(out), str(out) + ".json")
        frames.append(read_parquet(out))
        splits[g] = {"synthetic": str(syn_path), "sidecar": str(side), "parts": parts}
    m = pd.concat(frames, ignore_index=True)
    for g in splits:
        attack, want = strongest_attack(m, g, "arrests", 32, 0)
        s, labels, dist = member_scores(g, splits[g], 32, 0, attack, privacy)
        assert auc(labels, s) == pytest.approx(want, abs=1e-12)  # the privacy family's scores, exactly
        assert len(dist) == len(labels) and (dist >= 0).all()
    ctx = {"order": ["copy", "holdout"], "kinds": {"copy": "copy", "holdout": "holdout"}, "factorials": {},
           "params": {"dataset": "arrests", "n": 32, "seed": 0}, "extra": {"splits": splits, "privacy": privacy}}
    text = texts(draw("leaky_records", m, ctx))
    assert "copy" in text and "members above the line" in text
    got = re.findall(r"AUC (\d\.\d{3}) \(metrics: (\d\.\d{3})\)", text)
    assert len(got) == 2 and all(a == b for a, b in got)
    # without privacy rows it says so instead of failing
    assert "no per-attack privacy AUC" in texts(draw("leaky_records", m.iloc[:0], ctx))


# ------------------------------------------------------------------ end to end, scripted LLM
def echo_rows(body: dict) -> tuple[int, str]:
    """An OpenAI-compatible answer with the prompt's example rows as valid JSON
    (``{"synthetic_data": CSV}``); at temperature < 0.5 each column is shuffled on its own."""
    prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
    block = prompt.split("The example rows as CSV:\n", 1)[1].split("\n\nWrite", 1)[0].strip()
    lines = block.splitlines()
    if float(body.get("temperature", 1.0)) < 0.5:
        rng = np.random.default_rng(len(lines))
        cells = np.array([ln.split(",") for ln in lines[1:]], dtype=object)
        for j in range(cells.shape[1]):
            cells[:, j] = cells[rng.permutation(len(cells)), j]
        lines = lines[:1] + [",".join(r) for r in cells]
    return 200, completion(json.dumps({"synthetic_data": "\n".join(lines)}))


@pytest.mark.pipeline
def test_pipeline_runs_a_factorial_llm_entry_to_its_figure_and_table(tmp_path):
    server = FakeServer([], respond=echo_rows)
    try:
        cfg = {
            "datasets": {"arrests": ARRESTS},
            "splits": {"sizes": [32], "seeds": [0], "non_member_size": 200, "reference_size": 200, "test_size": 200},
            "generators": {
                "copy": {"kind": "copy"},
                "lm": {"kind": "llm_icl",
                       "params": {"model": "fake-model", "base_url": server.url, "api_key_env": None,
                                  "batch_size": "all", "temperature": 1.0, "summary_stats": True,
                                  "max_concurrency": 1, "retry_backoff": 0.01, "cache_dir": str(tmp_path / "cache")},
                       "factorial": {"temperature": [0.2, 1.0], "summary_stats": [False, True]}},
            },
            "metrics": {"families": ["fidelity", "privacy", "diversity"],
                        "privacy": {"attacks": ["dcr", "dcr_diff", "mc", "density"], "bootstrap": 10}},
            "figures": list(NEEDS_FACTORIAL),
        }
        run_snakemake(tmp_path, config=cfg, env={"PYTHONPATH": str(REPO / "src")})
    finally:
        server.close()
    assert len(server.requests) >= 4  # one answer per cell at least
    r = tmp_path / "results"
    for ext in ("png", "svg"):
        assert (r / "figures" / f"factorial_effects.{ext}").stat().st_size > 5_000
    t = pd.read_csv(r / "tables" / "prompt_study.csv")
    assert len(t) == 4 and t.study_condition.sum() == 3
    assert t[["worst_auc", "shape", "trend", "worst_auc_rare", "dcr_share"]].notna().all().all(), t.to_string()
    assert (r / "tables" / "prompt_study.tex").read_text().count(r"\\") >= 5  # header + 4 rows


# ------------------------------------------------------------------ the plan asks for them
def test_the_plan_asks_for_the_factorial_views_only_with_a_factorial_entry():
    from test_config import validated

    from synthrisk.plan import Plan

    base = {"datasets": {"arrests": ARRESTS, "arrests_b": {**ARRESTS}}, "splits": {"sizes": [32, 64], "seeds": [0, 1]},
            "generators": {"copy": {"kind": "copy"}, "smote": {"kind": "smote"}}}
    plain = Plan.from_config(validated(base), check_available=False)
    # no DP/LLM kind, and no dataset declares constraints
    assert plain.figures == [f for f in FIGURES if f not in (*NEEDS_FACTORIAL, *NEEDS_DP, *NEEDS_ICL, *NEEDS_CONSTRAINTS)]
    assert plain.table_views == ["privacy_scores"] and plain.factorials() == {}
    files = plain.all_files()
    assert "results/figures/frontier.png" in files and "results/figures/frontier.svg" in files
    assert "results/tables/privacy_scores.tex" in files and "results/tables/prompt_study.csv" not in files
    # leaky_records: the first dataset, the largest n, the first seed; the cells that write its
    # split's files are its inputs, the files themselves its params
    assert plain.figure_params("leaky_records") == {"dataset": "arrests", "n": 64, "seed": 0}
    assert plain.figure_inputs("leaky_records") == ["results/data/arrests.json", "results/splits/arrests/cell.json",
                                                    "results/synthetic/copy/arrests/cell.json",
                                                    "results/synthetic/smote/arrests/cell.json"]
    leaky = plain.leaky_inputs()["smote"]
    assert leaky["synthetic"] == "results/synthetic/smote/arrests/n64/s0.parquet"
    assert leaky["parts"]["members"] == "results/splits/arrests/n64/s0/members.parquet"
    assert plain.figure_inputs("frontier") == []
    assert plain.generator_kinds() == {"copy": "copy", "smote": "smote"}

    fact = {**base, "generators": {"copy": {"kind": "copy"},
                                   "smote": {"kind": "smote", "params": {"k_neighbors": 5},
                                             "factorial": {"k_neighbors": [3, 5]}}}}
    plan = Plan.from_config(validated(fact), check_available=False)
    # a factorial of a non-LLM kind: its effects figure, but no prompt-study table (not a prompt study)
    assert plan.figures == [f for f in FIGURES if f not in (*NEEDS_DP, *NEEDS_ICL, *NEEDS_CONSTRAINTS)]
    assert plan.table_views == ["privacy_scores"]
    assert plan.factorials(("llm_icl",)) == {} and plan.factorials()["smote"]["kind"] == "smote"
    assert plan.view_factorials("prompt_study") == {} and list(plan.view_factorials("factorial_effects")) == ["smote"]
    spec = plan.factorials()["smote"]
    assert spec["baseline"] == {"k_neighbors": 5}  # the entry's own params
    assert list(spec["cells"]) == ["smote~kneighbors3", "smote~kneighbors5"] == plan.generator_order()[1:]
    # the figures: key picks figures and tables alike
    only = Plan.from_config(validated({**fact, "figures": ["frontier", "prompt_study"]}), check_available=False)
    assert (only.figures, only.table_views) == (["frontier"], ["prompt_study"])
