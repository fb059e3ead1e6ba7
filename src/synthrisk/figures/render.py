"""Stage of rules ``figure`` and ``table_view``: one figure or table view from the metric table.

The plugin comes by its registry target (``"synthrisk.figures.frontier:draw"``, from the plan),
not through the registry, so the job's fingerprint covers this module, the figure's own module
and what they import (:meth:`synthrisk.plan.Plan.view_code`), not every figure.
"""
from __future__ import annotations

from synthrisk.figures.common import Context, save_figure, save_table, setup
from synthrisk.io import read_parquet
from synthrisk.registry import load_target


def render_figure(target: str, metrics_path: str, png: str, svg: str, ctx: dict) -> None:
    """Draw the figure at ``target`` from the metric table at ``metrics_path`` into ``png`` and ``svg``."""
    setup()
    fig = load_target(target)(read_parquet(metrics_path), Context(**ctx))
    save_figure(fig, png, svg)


def render_table(target: str, metrics_path: str, csv: str, tex: str, ctx: dict) -> None:
    """Build the table view at ``target`` from the metric table into ``csv`` and ``tex``."""
    df, tex_text = load_target(target)(read_parquet(metrics_path), Context(**ctx))
    save_table(df, csv, tex, tex_text)
