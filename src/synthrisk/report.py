"""The Snakemake report (``snakemake --report results/report.html``, ``make report``): where each
figure and table goes, keyed by its name.

* :data:`SECTIONS`: name -> (category, subcategory) of every figure (the ``{fig}`` wildcard of
  rule ``figure``, a key of :data:`synthrisk.figures.FIGURES`) and every reported table (a key of
  :data:`synthrisk.paths.TABLES`). The rules read it through :func:`category` and
  :func:`subcategory` (``workflow/rules/common.smk``); a figure or table not listed here fails
  ``tests/test_report.py``.
* Captions (reStructuredText, rendered by Snakemake as Jinja templates with ``snakemake.config``,
  ``snakemake.wildcards``, ``snakemake.params``): ``workflow/report/figure.rst`` holds one section
  per figure name, chosen by ``snakemake.wildcards.fig`` (Snakemake takes one caption file per rule
  output, not per wildcard value), ``workflow/report/table_view.rst`` one per table view
  (``privacy_scores``, ``prompt_study``); each other table has its own ``workflow/report/<name>.rst``
  (:func:`caption`); ``workflow/report/workflow.rst`` is the landing page: the config, every
  figure embedded with its caption, by category, and the run section (``runs.csv``).
* :func:`labels`: what every result is labelled with in the report's lists (its name, and the
  generators and n of the run).

The landing page embeds the figures with :func:`register_rst_directives`' ``synthrisk-image``:
Snakemake 9.27's own ``embeddedimage``/``embeddedfigure`` set the data URI after docutils has
built the image node, so the page would point at ``results/figures/...`` and show nothing once the
HTML file is moved away from the results (checked by ``tests/test_report.py``).

Only what the plan produces is in the report: a caption or section whose figure or table this
run does not make (``factorial_effects`` without a factorial entry) is simply unused.
"""
from __future__ import annotations

FIDELITY, UTILITY, PRIVACY, PROMPT_STUDY, RUNS = "Fidelity", "Utility", "Privacy", "Prompt study", "Runs"
CATEGORIES = (FIDELITY, UTILITY, PRIVACY, PROMPT_STUDY, RUNS)

#: figures: name -> (category, subcategory)
FIGURE_SECTIONS = {
    "fidelity_utility_by_n": (FIDELITY, "Fidelity and utility against n"),
    "frontier": (UTILITY, "Privacy-utility frontier"),
    "auc_by_n": (PRIVACY, "Membership inference by generator and n"),
    "tpr_by_n": (PRIVACY, "Membership inference by generator and n"),
    "rare_leakage": (PRIVACY, "Rare and leaky records"),
    "leaky_records": (PRIVACY, "Rare and leaky records"),
    "factorial_effects": (PROMPT_STUDY, "Factorial effects"),
    "dp_curve": (PRIVACY, "Differential privacy"),
    "prompt_exposure": (PRIVACY, "Rare and leaky records"),
    "constraint_map": (UTILITY, "Constraints"),
}
#: tables: name -> (category, subcategory); metrics.parquet (``table``) is not reported (binary, large)
TABLE_SECTIONS = {
    "summary": (RUNS, "Summary tables"),
    "headline": (RUNS, "Summary tables"),
    "eps": (PRIVACY, "Tables"),
    "dp_audit": (PRIVACY, "Tables"),
    "runs": (RUNS, "What ran"),
    "runs_jobs": (RUNS, "What ran"),
}
#: table views (the ``{view}`` wildcard of rule ``table_view``, keys of
#: :data:`synthrisk.figures.TABLE_VIEWS`): name -> (category, subcategory)
VIEW_SECTIONS = {
    "privacy_scores": (PRIVACY, "Tables"),
    "prompt_study": (PROMPT_STUDY, "Tables"),
    "contamination": (PRIVACY, "Tables"),
    "exposure_records": (PRIVACY, "Rare and leaky records"),
    "constraint_satisfaction": (UTILITY, "Constraints"),
}
SECTIONS = {**FIGURE_SECTIONS, **TABLE_SECTIONS, **VIEW_SECTIONS}
#: caption files, relative to workflow/rules/ (where report() resolves them)
CAPTION_DIR = "../report"
FIGURE_CAPTION = f"{CAPTION_DIR}/figure.rst"
VIEW_CAPTION = f"{CAPTION_DIR}/table_view.rst"
#: what a name missing from SECTIONS is filed under (the test fails on it; the report still builds)
UNLISTED = ("Other", "Not yet filed in synthrisk.report.SECTIONS")


def category(name: str) -> str:
    return SECTIONS.get(name, UNLISTED)[0]


def subcategory(name: str) -> str:
    return SECTIONS.get(name, UNLISTED)[1]


def caption(name: str) -> str:
    """A result's caption file (relative to workflow/rules/): figures share :data:`FIGURE_CAPTION`,
    table views :data:`VIEW_CAPTION` (one section per name); each other table has its own."""
    if name in FIGURE_SECTIONS:
        return FIGURE_CAPTION
    return VIEW_CAPTION if name in VIEW_SECTIONS else f"{CAPTION_DIR}/{name}.rst"


def reported_tables(tables: dict[str, str]) -> dict[str, str]:
    """The tables of ``tables`` (``paths.TABLES``) that go into the report."""
    return {k: v for k, v in tables.items() if k in TABLE_SECTIONS}


def labels(name: str, generators: list[str], sizes: list[int]) -> dict[str, str]:
    """The report's label columns of one result: its name, then the generators and n of the run
    (the same for every result, so the report never turns them into toggles)."""
    return {"name": name, "generators": ", ".join(generators), "n": ", ".join(str(n) for n in sizes)}


def run_labels(plan, name: str) -> dict[str, str]:
    """:func:`labels` for a result of this run (:class:`synthrisk.plan.Plan`): the generators it
    runs (config order) and every n in their grids."""
    gens = [g for g in plan.generator_order() if g in plan.generators]
    sizes = sorted({int(n) for g in gens for _, n, _ in plan.grid(g)})
    return labels(name, gens, sizes)


def data_uri(path: str) -> str:
    """The file as a ``data:`` URI (images of the report's landing page)."""
    import base64
    import mimetypes

    mime = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
    with open(path, "rb") as f:
        return f"data:{mime};base64,{base64.b64encode(f.read()).decode('ascii')}"


def register_rst_directives() -> None:
    """Register the reStructuredText directive ``synthrisk-image``: docutils' ``image`` with the
    file (a path relative to the working directory, where ``results/`` is) embedded as a data URI.
    Called when the workflow is parsed by the main process, before Snakemake renders the report."""
    from docutils.parsers.rst import directives
    from docutils.parsers.rst.directives.images import Image

    class EmbeddedImage(Image):
        def run(self):
            self.arguments[0] = data_uri(directives.uri(self.arguments[0]))  # before the node is built
            return super().run()

    directives.register_directive("synthrisk-image", EmbeddedImage)
