"""The study's figures and tables, regenerated from ``results/tables/metrics.parquet``.

One module per figure or table, one registry each (lazy: nothing here imports matplotlib).

Figures (``results/figures/<name>.png`` and ``.svg``), :data:`FIGURES`:

* ``frontier``: privacy-utility frontier, 2x2: worst-case AUC against trend, shape, TSTR AUC, beta-recall.
* ``auc_by_n``, ``tpr_by_n``: worst-case AUC / TPR at 1% FPR by seed size (study's worst and unbiased selected).
* ``rare_leakage``: worst-case AUC on rare targets beside the overall worst-case AUC, per n.
* ``fidelity_utility_by_n``: shape, trend and TSTR AUC against n, one line per generator.
* ``leaky_records``: which members leak, on one chosen split: attack score against distance to the
  nearest non-member.
* ``factorial_effects``: main effects and two-way interactions of the factors of each ``factorial:``
  entry on worst-case AUC and shape (OLS, dataset and seed as blocks).
* ``dp_curve``: TSTR AUC and worst-case AUC against the configured epsilon per DP generator, the
  non-private generators as reference lines.
* ``prompt_exposure``: per member record of the in-context LLM runs, exact copies and membership
  score against the number of prompts that carried it (only where such a run is in the plan).
* ``constraint_map``: constraint satisfaction per generator and declared constraint, one heat map per dataset.

Tables (``results/tables/<name>.csv`` and ``.tex``), :data:`TABLE_VIEWS`:

* ``privacy_scores``: the study's privacy score table (every split pooled), with intervals.
* ``prompt_study``: the prompt study per condition of each ``factorial:`` entry.
* ``exposure_records``: the per-record rows behind ``prompt_exposure`` (CSV), summarised per
  exposure count (LaTeX).
* ``contamination``: the LLM zero-shot control (``seed_rows: none``) against the ICL runs.
* ``constraint_satisfaction``: the constraints family per (dataset, constraint, generator), with the
  real seed rows' baseline.

A figure draws with ``draw(metrics, ctx) -> matplotlib Figure``, a table builds with
``build(metrics, ctx) -> (DataFrame, tex text)``; the rules' stage, :mod:`synthrisk.figures.render`,
loads one by its registry target and saves it byte-stably (:mod:`synthrisk.figures.common`), so a
figure's fingerprint is its own module's (and the shared ones'), not every figure's. :data:`NEEDS_FACTORIAL`: the names the
plan requests only when a ``factorial:`` entry (of the kinds named) is in it; :data:`NEEDS_DP`: only when a generator of
a DP kind (:data:`synthrisk.generators.DP_KINDS`) runs; :data:`NEEDS_CONSTRAINTS`: only when the
constraints family runs and some dataset declares constraints.
"""
from __future__ import annotations

from synthrisk.registry import Registry

FIGURES = Registry("figure", {
    "frontier": "synthrisk.figures.frontier:draw",
    "auc_by_n": "synthrisk.figures.by_n:draw_auc",
    "tpr_by_n": "synthrisk.figures.by_n:draw_tpr",
    "rare_leakage": "synthrisk.figures.rare_leakage:draw",
    "fidelity_utility_by_n": "synthrisk.figures.fidelity_utility_by_n:draw",
    "leaky_records": "synthrisk.figures.leaky_records:draw",
    "factorial_effects": "synthrisk.figures.factorial_effects:draw",
    "dp_curve": "synthrisk.figures.dp_curve:draw",
    "prompt_exposure": "synthrisk.figures.prompt_exposure:draw",
    "constraint_map": "synthrisk.figures.constraints:draw",
})
TABLE_VIEWS = Registry("table view", {
    "privacy_scores": "synthrisk.figures.privacy_scores:build",
    "prompt_study": "synthrisk.figures.prompt_study:build",
    "contamination": "synthrisk.figures.contamination:build",
    "exposure_records": "synthrisk.figures.prompt_exposure:build",
    "constraint_satisfaction": "synthrisk.figures.constraints:build",
})
#: view -> the generator kinds whose ``factorial:`` entries it needs (None: any kind). The prompt
#: study is the in-context generators' (an epsilon sweep of a DP kind is drawn by dp_curve and
#: factorial_effects, not tabulated as prompt conditions).
NEEDS_FACTORIAL = {"factorial_effects": None, "prompt_study": ("llm_icl",)}
#: only where a zero-shot llm_icl entry (``seed_rows: none``) runs
NEEDS_ZERO_SHOT = ("contamination",)
#: only where an in-context llm_icl entry (``seed_rows: examples``) runs
NEEDS_ICL = ("prompt_exposure", "exposure_records")
NEEDS_DP = ("dp_curve",)
NEEDS_CONSTRAINTS = ("constraint_map", "constraint_satisfaction")

