"""Shared helpers of the figures and tables: context, order, colours, selection, intervals, saving.

**Order**: generators in config order (:meth:`synthrisk.plan.Plan.generator_order`, factorial
variants in expansion order); a label such as ``tabpfn [random weights]`` is placed by its base
name; a generator the plan does not name follows, alphabetically.

**Colours** are fixed per generator *kind* (:data:`PALETTE`; the kind comes from the plan as a
rule param), never per name: controls are greys (``copy`` dark, ``holdout`` light), every other
kind its own colour; a kind without an entry gets one of :data:`SPARE` by its sorted position
among such kinds. Several generators of one kind (e.g. factorial variants) share the hue and
differ in lightness and marker.

**Intervals** (:func:`pooled`): the values of one generator are first averaged over whatever
is pooled (e.g. the seed sizes n) within each (dataset, seed), then the mean of those and a
95% interval for it from :func:`synthrisk.aggregate.cluster_interval` (two-stage bootstrap,
dataset as resampling unit; seed where there is one dataset; none for a single value).

**Byte-stable output**: a fixed font (DejaVu Sans, shipped with matplotlib), a fixed SVG hash
salt, no dates or software names in the metadata, and deterministic ordering, so the same
``metrics.parquet`` gives byte-identical PNG, SVG, CSV and TeX files.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from synthrisk.aggregate import RANDOM_WEIGHTS, cluster_interval  # noqa: E402
from synthrisk.io import atomic_path, make_rng  # noqa: E402

#: colour of each generator kind: controls grey, the rest one hue each
PALETTE = {
    "copy": "#3a3a3a", "holdout": "#a0a0a0", "smote": "#8c564b", "ctgan": "#1f77b4", "tvae": "#17becf",
    "tabdiff": "#2ca02c", "tabpfn": "#9467bd", "llm_icl": "#d62728", "fail": "#000000",
}
#: colours for kinds without a :data:`PALETTE` entry (by their sorted position)
SPARE = ("#ff7f0e", "#e377c2", "#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "synthrisk", "svg.fonttype": "path",
    "axes.titlesize": 9, "axes.labelsize": 9, "legend.fontsize": 8, "xtick.labelsize": 8, "ytick.labelsize": 8,
}
DPI = 130
STUDY_ATTACK = "worst"  # the study's worst case: max over its ten attacks (biased upwards)
LABEL_WORST = "worst (study, biased up)"
LABEL_SELECTED = "selected (unbiased)"


@dataclass
class Context:
    """What a figure or table knows beyond the metric rows (rule params, from the plan).

    ``order``: generator names in config order; ``kinds``: name -> kind; ``factorials``: base
    entry -> ``{"factors": {param: levels}, "baseline": {param: level}, "cells": {variant: {param:
    level}}}`` (:meth:`synthrisk.plan.Plan.factorials`); ``params``: the figure's own params
    (``figure_params.<name>`` of the config, defaults filled by the plan); ``extra``: figure-specific
    inputs (e.g. the split files of ``leaky_records``)."""

    order: list = field(default_factory=list)
    kinds: dict = field(default_factory=dict)
    factorials: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def base_name(label: str) -> str:
    """``tabpfn [random weights]`` -> ``tabpfn``."""
    return label.split(" [")[0]


def order(gens, ctx: Context) -> list[str]:
    gens = list(dict.fromkeys(gens))
    key = {g: i for i, g in enumerate(ctx.order or ())}
    return sorted(gens, key=lambda g: (key.get(g, key.get(base_name(g), len(key))), g))


def kind_of(gen: str, ctx: Context) -> str:
    return ctx.kinds.get(gen, ctx.kinds.get(base_name(gen), ""))


def _kind_colour(kind: str, ctx: Context) -> str:
    if kind in PALETTE:
        return PALETTE[kind]
    spare = sorted({k for k in ctx.kinds.values() if k not in PALETTE} | {kind})
    return SPARE[spare.index(kind) % len(SPARE)]


def styles(gens: list[str], ctx: Context) -> dict[str, dict]:
    """generator -> ``{"color", "marker"}``: the kind's colour, lightened for the 2nd, 3rd, ...
    generator of the same kind (in the given order), with its own marker."""
    seen: dict[str, int] = {}
    out = {}
    for g in gens:
        k = kind_of(g, ctx)
        i = seen.get(k, 0)
        seen[k] = i + 1
        r, gr, b = mcolors.to_rgb(_kind_colour(k, ctx))
        h, lum, s = colorsys.rgb_to_hls(r, gr, b)
        lum = min(0.85, lum + 0.12 * (i % 4))
        out[g] = {"color": mcolors.to_hex(colorsys.hls_to_rgb(h, lum, s)), "marker": MARKERS[i % len(MARKERS)]}
    return out


def setup() -> None:
    plt.rcParams.update(STYLE)


def rows(metrics: pd.DataFrame, family: str, metric: str, **eq) -> pd.DataFrame:
    """Whole-table rows (no ``column``) of one metric; ``eq``: column -> value (None/"" = unset)."""
    s = metrics[(metrics.family == family) & (metrics.metric == metric) & metrics["column"].isna()]
    for k, v in eq.items():
        s = s[s[k].fillna("") == (v or "")]
    return s


def pooled(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group of ``by``: the values averaged within (dataset, seed) over whatever else varies
    (n, when n is not in ``by``), then ``mean``, ``std`` (over those averages, ddof 1), ``ci_low``/
    ``ci_high`` (cluster bootstrap, dataset as unit), ``splits`` (finite values) and ``nan``."""
    cols = [*by, "mean", "std", "ci_low", "ci_high", "ci_unit", "splits", "nan"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for key, g in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        fin = g[np.isfinite(g["value"].to_numpy(dtype=np.float64))]
        unit = fin.groupby(["dataset", "seed"], sort=True)["value"].mean().reset_index()
        v = unit["value"].to_numpy(dtype=np.float64)
        lo, hi, cu = cluster_interval(v, unit["dataset"].to_numpy(dtype=object),
                                      make_rng(0, "figures", *map(str, key)))
        out.append({**dict(zip(by, key)), "mean": float(v.mean()) if len(v) else np.nan,
                    "std": float(v.std(ddof=1)) if len(v) > 1 else np.nan, "ci_low": lo, "ci_high": hi,
                    "ci_unit": cu, "splits": int(len(fin)), "nan": int(len(g) - len(fin))})
    return pd.DataFrame(out, columns=cols)


def err(sel: pd.DataFrame, lo: str = "ci_low", hi: str = "ci_high", mean: str = "mean") -> np.ndarray:
    """Asymmetric error bars (2, k) from interval columns (zero where there is none)."""
    a = (sel[mean] - sel[lo]).clip(lower=0).fillna(0).to_numpy(dtype=np.float64)
    b = (sel[hi] - sel[mean]).clip(lower=0).fillna(0).to_numpy(dtype=np.float64)
    return np.vstack([a, b])


def note(ax, text: str, y: float = 0.5, size: float = 8) -> None:
    """Say in the panel what is missing (the figure is drawn regardless)."""
    ax.text(0.5, y, text, ha="center", va="center", transform=ax.transAxes, fontsize=size, color="#444444",
            wrap=True)


def better(family: str, metric: str) -> str:
    """'higher is better' / 'lower is better' from the family's declared goal (``GOALS``)."""
    from synthrisk.metrics import goal

    g = (goal(family, metric) or ("",))[0]
    return {"maximize": "higher is better", "minimize": "lower is better"}.get(g, g)


def random_weights_note(gens) -> str:
    return ("results labelled [random weights] come from stand-in weights, not the real model"
            if any(RANDOM_WEIGHTS in g for g in gens) else "")


# --------------------------------------------------------------------- saving
def save_figure(fig, png: str | Path, svg: str | Path) -> None:
    """PNG and SVG, byte-stable (no date, no software string; fixed hash salt and font)."""
    for path, fmt, meta in ((png, "png", {"Software": None}),
                            (svg, "svg", {"Date": None, "Creator": None, "Format": None, "Type": None})):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format=fmt, metadata=meta)
    plt.close(fig)


def tex_escape(s) -> str:
    s = str(s)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}")):
        s = s.replace(a, b) if a != "\\" else s.replace(a, "\0")
    return s.replace("\0", r"\textbackslash{}")


def to_tabular(df: pd.DataFrame, columns: dict[str, str], note_text: str = "") -> str:
    """A LaTeX ``tabular`` (no preamble) of ``df[columns]`` with header labels ``columns.values()``;
    NaN cells are ``--``; ``note_text`` becomes a comment line above it."""
    head = " & ".join(tex_escape(v) for v in columns.values()) + r" \\"
    lines = [f"% {line}" for line in note_text.splitlines() if line]
    lines += [r"\begin{tabular}{l" + "r" * (len(columns) - 1) + "}", r"\hline", head, r"\hline"]
    for _, r in df.iterrows():
        cells = []
        for c in columns:
            v = r[c]
            cells.append("--" if v is None or (isinstance(v, float) and np.isnan(v)) else
                         tex_escape(f"{v:.3f}" if isinstance(v, float) else v))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\hline", r"\end{tabular}", ""]
    return "\n".join(lines)


def save_table(df: pd.DataFrame, csv: str | Path, tex: str | Path, tex_text: str) -> None:
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    with atomic_path(tex) as tmp:
        Path(tmp).write_text(tex_text, encoding="utf-8")


def mean_std(m: float, s: float) -> str:
    """The study's "mean (std)" cell; NaN parts stay visible."""
    if not np.isfinite(m):
        return "NaN"
    return f"{m:.3f} ({s:.3f})" if np.isfinite(s) else f"{m:.3f} (NaN)"
