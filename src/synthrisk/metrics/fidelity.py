"""Fidelity: how closely the synthetic table matches real rows, column by column and pair by pair.

The synthetic table is compared to ``split.members`` (the rows the generator saw) and,
separately, to ``split.test`` (real rows no generator saw); every row carries ``against``
(``"members"`` or ``"test"``), since similarity to members alone rewards copying.

Rows (``column`` names the column, or ``"a|b"`` for a pair):

* ``ks_complement`` (numerical) and ``tv_complement`` (categorical) per column, and their
  mean ``shape``;
* ``correlation_similarity`` per numerical pair and ``contingency_similarity`` per
  categorical or mixed pair, and their mean ``trend``;
* ``chisq_pvalue`` per categorical column.

The scores reproduce SDMetrics 0.32 (``KSComplement``, ``TVComplement``,
``CorrelationSimilarity``, ``ContingencySimilarity`` ``.compute``; the pair choice of its
``QualityReport``) to 1e-9, but are computed here with a few vectorised numpy operations
over all columns (KS) or all pairs (contingency: one ``bincount`` over combined codes;
correlations: one matrix product). Choices made where SDMetrics was not the spec:

* **KS** rounds values to 14 decimals first, as SDMetrics does, so values equal to 14
  decimals count as ties.
* **TV** reproduces SDMetrics' regularisation: a level seen only in the synthetic table gets
  a count of 1e-6 on the real side (so the real frequencies sum to 1 over real+1e-6·m).
* **Correlation** is Pearson (param ``correlation: spearman`` for Spearman). A column that
  is constant in either table has no correlation: its pairs get NaN rows with a reason and
  are left out of the ``trend`` mean (as QualityReport's mean skips NaN). Unlike SDMetrics,
  a real correlation of exactly 0 is scored normally (SDMetrics returns NaN there).
* **Mixed pairs** discretise the numerical column. Default (``mixed_binning: shared``) is
  ``ContingencySimilarity.compute(..., continuous_column_names=[col])``: ``num_bins`` equal
  width bins with edges from the *real* column (``np.histogram_bin_edges``), outer edges
  opened to ±inf, applied to both tables, so a bin means the same range on both sides.
  ``mixed_binning: report`` instead reproduces QualityReport, which bins each table with
  its *own* edges (a synthetic bin then need not cover the same range as the real one);
  it exists to check agreement with QualityReport, not for the study.
* **Thresholds**: SDMetrics 0.32's QualityReport averages only the pairs whose real
  correlation exceeds 0.5 in absolute value, or whose real Cramér's V exceeds 0.3. We
  score every pair by default (thresholds 0, the metrics' own default);
  ``real_correlation_threshold`` / ``real_association_threshold`` reproduce the report
  (pairs at or under the threshold become NaN rows with a reason, left out of ``trend``).
* **Chi-square** (``chisq_pvalue``): a test of homogeneity on the 2×K table of counts
  (real row, synthetic row) over the levels seen in either table, no continuity
  correction, ``dof = K - 1``. A level absent from one side keeps its zero cell (its
  expected count is positive since the other side has it); levels absent from both are
  dropped; a column with a single level seen in both tables has p = 1.
  (SDMetrics' ``CSTest`` applies the test to frequencies, not counts; we do not follow it.)
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from synthrisk.metrics.base import SPLIT_PARTS, Split, nan_row, row
from synthrisk.params import Param, at_least, check_params, in_range, items_in
from synthrisk.schema import TableSchema

PARAMS = {
    "against": Param(["members", "test"], "split parts the synthetic table is compared with", list,
                     check=items_in(SPLIT_PARTS)),
    "correlation": Param("pearson", "coefficient of the correlation similarity", choices=("pearson", "spearman")),
    "mixed_binning": Param("shared", "bins of numerical columns in mixed pairs: shared, or report (QualityReport's "
                           "per-table bins)", choices=("shared", "report")),
    "num_bins": Param(10, "bins of a numerical column in a mixed pair", check=at_least(1)),
    "real_correlation_threshold": Param(0.0, "skip numerical pairs whose real |correlation| is below (QualityReport "
                                        "0.32 uses 0.5)", check=in_range(0, 1)),
    "real_association_threshold": Param(0.0, "skip categorical pairs whose real Cramer's V is below (QualityReport "
                                        "0.32 uses 0.3)", check=in_range(0, 1)),
}
DEFAULTS = {k: p.default for k, p in PARAMS.items()}
#: what each aggregate metric means: (goal, range); per-column rows share their metric's
GOALS = {
    "shape": ("maximize", (0.0, 1.0)), "trend": ("maximize", (0.0, 1.0)),
    "ks_complement": ("maximize", (0.0, 1.0)), "tv_complement": ("maximize", (0.0, 1.0)),
    "correlation_similarity": ("maximize", (0.0, 1.0)), "contingency_similarity": ("maximize", (0.0, 1.0)),
    "chisq_pvalue": ("maximize", (0.0, 1.0)),
}
#: SDMetrics rounds to sys.float_info.dig - 1 decimals before the KS test
KS_DECIMALS = 14
#: SDMetrics' pseudo-count for a level seen only in the synthetic table (TVComplement)
TV_EPS = 1e-6


def evaluate(synthetic: pd.DataFrame, split: Split, schema: TableSchema, rng: np.random.Generator, params: dict) -> list[dict]:
    """All fidelity rows, once per table in ``params['against']``. ``rng`` is unused (deterministic)."""
    p = _params(params)
    missing = [c for c in schema.names if c not in synthetic.columns]
    if missing:
        raise ValueError(f"fidelity: synthetic table lacks column(s) {missing}")
    rows: list[dict] = []
    for against in p["against"]:
        real = getattr(split, against)
        rows += compare(real, synthetic, schema, against=against, **{k: p[k] for k in DEFAULTS if k != "against"})
    return rows


def _params(params: dict | None) -> dict:
    return check_params(PARAMS, params, "fidelity params")


def compare(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: TableSchema,
    *,
    against: str,
    correlation: str = "pearson",
    mixed_binning: str = "shared",
    num_bins: int = 10,
    real_correlation_threshold: float = 0.0,
    real_association_threshold: float = 0.0,
) -> list[dict]:
    """Fidelity rows of ``synthetic`` against one real table (SDMetrics' ``real_data``)."""
    tag = {"against": against}
    if len(synthetic) == 0 or len(real) == 0:
        who = "synthetic" if len(synthetic) == 0 else against
        reason = f"the {who} table has no rows"
        return [nan_row("shape", reason, **tag), nan_row("trend", reason, **tag)]
    num = schema.numerical
    cat = schema.categorical
    rows: list[dict] = []

    # ---- column shapes
    shape_vals = {}
    if num:
        ks = ks_complement(_floats(real, num), _floats(synthetic, num))
        shape_vals.update(zip(num, ks))
    codes = {c: factorize(real[c], synthetic[c]) for c in cat}
    if cat:
        tv, pv = tv_complement_and_chisq([codes[c] for c in cat])
        shape_vals.update(zip(cat, tv))
    for c in schema.names:
        kind = "ks_complement" if c in num else "tv_complement"
        rows.append(row(kind, shape_vals[c], column=c, **tag))
    rows.append(row("shape", float(np.mean([shape_vals[c] for c in schema.names])), **tag))
    if cat:
        rows += [row("chisq_pvalue", v, column=c, **tag) for c, v in zip(cat, pv)]

    # ---- pair trends, in QualityReport's order (combinations of the schema's columns)
    pair_vals: dict[tuple[str, str], dict] = {}
    if len(num) >= 2:
        corr, r_real, why = correlation_similarity(_floats(real, num), _floats(synthetic, num), num, against, correlation)
        thr = real_correlation_threshold
        for i, j in combinations(range(len(num)), 2):
            if not np.isfinite(corr[i, j]):
                r = nan_row("correlation_similarity", why[i] or why[j], **tag)
            elif thr > 0 and abs(r_real[i, j]) <= thr:
                r = nan_row("correlation_similarity", f"real |r| = {abs(r_real[i, j]):.3f} <= threshold {thr}", **tag)
            else:
                r = row("correlation_similarity", corr[i, j], **tag)
            pair_vals[(num[i], num[j])] = r
    disc_pairs = [(a, b) for a, b in combinations(schema.names, 2) if not (a in num and b in num)]
    if disc_pairs:
        for c in {x for pr in disc_pairs for x in pr if x in num}:
            codes[c] = _discretize(real[c], synthetic[c], num_bins, mixed_binning)
        sims = contingency_similarity(codes, disc_pairs)
        thr = real_association_threshold
        assoc = cramers_v(codes, disc_pairs) if thr > 0 else np.full(len(disc_pairs), np.inf)
        for pr, v, a in zip(disc_pairs, sims, assoc):
            if np.isnan(a):
                pair_vals[pr] = nan_row("contingency_similarity", "real association undefined (a column has one value)", **tag)
            elif a <= thr:
                pair_vals[pr] = nan_row("contingency_similarity", f"real Cramer's V = {a:.3f} <= threshold {thr}", **tag)
            else:
                pair_vals[pr] = row("contingency_similarity", v, **tag)
    values = []
    for a, b in combinations(schema.names, 2):
        r = pair_vals[(a, b)]
        rows.append({**r, "column": f"{a}|{b}"})
        values.append(r["value"])
    values = np.array(values, dtype=np.float64)
    if np.isfinite(values).any():
        n_nan = int((~np.isfinite(values)).sum())
        note = {"reason": f"mean over {len(values) - n_nan} of {len(values)} pairs; {n_nan} undefined"} if n_nan else {}
        rows.append(row("trend", float(np.nanmean(values)), **tag, **note))
    else:
        rows.append(nan_row("trend", "no column pair with a defined score" if len(values) else "fewer than 2 columns", **tag))
    return rows


# ------------------------------------------------------------------ kernels
def ks_complement(real: np.ndarray, syn: np.ndarray) -> np.ndarray:
    """1 - two-sample KS statistic for every column of two (rows × columns) float arrays.

    Sorts the pooled values of each column once; at the last element of each tie group the
    running counts of real and synthetic values are the two empirical CDFs there.
    """
    real = np.round(real, KS_DECIMALS)
    syn = np.round(syn, KS_DECIMALS)
    n1, n2 = len(real), len(syn)
    pooled = np.concatenate([real, syn], axis=0)
    order = np.argsort(pooled, axis=0, kind="stable")
    v = np.take_along_axis(pooled, order, axis=0)
    c1 = np.cumsum(order < n1, axis=0)
    c2 = np.arange(1, n1 + n2 + 1)[:, None] - c1
    last = np.ones(v.shape, dtype=bool)
    last[:-1] = v[1:] != v[:-1]
    d = np.abs(c1 / n1 - c2 / n2)
    return 1.0 - np.max(np.where(last, d, 0.0), axis=0)


def tv_complement_and_chisq(codes: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """TV complement (SDMetrics' regularisation) and chi-square p-value per categorical column.

    ``codes`` holds, per column, (real codes, synthetic codes, number of levels in the union).
    All columns are counted with one ``bincount`` per table, levels laid end to end.
    """
    sizes = np.array([k for _, _, k in codes])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    total = int(sizes.sum())
    n1, n2 = len(codes[0][0]), len(codes[0][1])
    cr = np.bincount(np.concatenate([r + s for (r, _, _), s in zip(codes, starts)]), minlength=total).astype(np.float64)
    cs = np.bincount(np.concatenate([y + s for (_, y, _), s in zip(codes, starts)]), minlength=total).astype(np.float64)
    col = np.repeat(np.arange(len(codes)), sizes)
    syn_only = (cr == 0) & (cs > 0)
    m = np.bincount(col, weights=syn_only, minlength=len(codes))
    f_exp = np.where(syn_only, TV_EPS, cr) / (n1 + TV_EPS * m[col])
    f_obs = cs / n2
    tv = 1.0 - 0.5 * np.add.reduceat(np.abs(f_obs - f_exp), starts)

    # chi-square homogeneity test on counts; every level is seen on at least one side
    expected_r = (cr + cs) * n1 / (n1 + n2)
    expected_s = (cr + cs) * n2 / (n1 + n2)
    stat = np.add.reduceat((cr - expected_r) ** 2 / expected_r + (cs - expected_s) ** 2 / expected_s, starts)
    dof = sizes - 1
    from scipy.stats import chi2  # here, not at the top: the plan imports this module for PARAMS

    with np.errstate(invalid="ignore"):
        p = np.where(dof > 0, chi2.sf(stat, np.maximum(dof, 1)), 1.0)
    return tv, p


def correlation_similarity(
    real: np.ndarray, syn: np.ndarray, names: list[str], against: str, coefficient: str = "pearson"
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Matrix of 1 - |r_real - r_syn| / 2 over all numerical pairs, the real correlation
    matrix, and a reason per column (None, or why its correlations are undefined: constant
    in one of the tables)."""
    why: list[str | None] = [None] * len(names)
    for side, x in ((against, real), ("synthetic", syn)):
        for i in np.nonzero(np.ptp(x, axis=0) == 0)[0]:
            why[i] = why[i] or f"column {names[i]!r} is constant in the {side} table: correlation undefined"
    r_real = _corr(real, coefficient)
    r_syn = _corr(syn, coefficient)
    sim = 1.0 - np.abs(r_real - r_syn) / 2.0
    bad = np.array([w is not None for w in why])
    sim[bad, :] = np.nan
    sim[:, bad] = np.nan
    return sim, r_real, why


def _corr(x: np.ndarray, coefficient: str) -> np.ndarray:
    if coefficient == "spearman":
        from scipy.stats import rankdata

        x = rankdata(x, axis=0)
    xc = x - x.mean(axis=0)
    norm = np.linalg.norm(xc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = xc / norm
    return np.clip(z.T @ z, -1.0, 1.0)


def contingency_similarity(codes: dict[str, tuple[np.ndarray, np.ndarray, int]], pairs: list[tuple[str, str]]) -> np.ndarray:
    """1 - total variation between the joint frequency tables of every pair of discrete columns.

    Each pair's cells get a block of ids (code_a · k_b + code_b plus the pair's offset); one
    ``bincount`` per table counts every cell of every pair at once.
    """
    _, _, starts = _blocks(codes, pairs)
    p = _joint_counts(codes, pairs, 0)
    q = _joint_counts(codes, pairs, 1)
    p = p / len(codes[pairs[0][0]][0])
    q = q / len(codes[pairs[0][0]][1])
    return 1.0 - 0.5 * np.add.reduceat(np.abs(p - q), starts)


def cramers_v(codes: dict[str, tuple[np.ndarray, np.ndarray, int]], pairs: list[tuple[str, str]]) -> np.ndarray:
    """Cramér's V (no continuity correction) of every pair in the real table, as
    ``scipy.stats.contingency.association`` on the table of observed values; NaN where a
    column has a single observed value."""
    ka, kb, starts = _blocks(codes, pairs)
    o = _joint_counts(codes, pairs, 0).astype(np.float64)
    n = float(len(codes[pairs[0][0]][0]))
    pair = np.repeat(np.arange(len(pairs)), ka * kb)
    local = np.arange(len(o)) - starts[pair]
    row_id = np.repeat(np.concatenate([[0], np.cumsum(ka)[:-1]]), ka * kb) + local // kb[pair]
    col_id = np.repeat(np.concatenate([[0], np.cumsum(kb)[:-1]]), ka * kb) + local % kb[pair]
    rows = np.bincount(row_id, weights=o, minlength=int(ka.sum()))
    cols = np.bincount(col_id, weights=o, minlength=int(kb.sum()))
    e = rows[row_id] * cols[col_id] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.bincount(pair, weights=np.where(e > 0, (o - e) ** 2 / np.where(e > 0, e, 1), 0.0), minlength=len(pairs))
        r = np.bincount(np.repeat(np.arange(len(pairs)), ka), weights=rows > 0, minlength=len(pairs))
        c = np.bincount(np.repeat(np.arange(len(pairs)), kb), weights=cols > 0, minlength=len(pairs))
        k = np.minimum(r, c) - 1
        return np.where(k >= 1, np.sqrt(stat / n / np.maximum(k, 1)), np.nan)


def _blocks(codes, pairs):
    ka = np.array([codes[a][2] for a, _ in pairs])
    kb = np.array([codes[b][2] for _, b in pairs])
    return ka, kb, np.concatenate([[0], np.cumsum(ka * kb)[:-1]])


def _joint_counts(codes, pairs, side: int) -> np.ndarray:
    """Counts of every (code_a, code_b) cell of every pair in one table, blocks end to end."""
    ka, kb, starts = _blocks(codes, pairs)
    ids = np.stack([codes[a][side] * k + codes[b][side] for (a, b), k in zip(pairs, kb)], axis=1) + starts
    return np.bincount(ids.ravel(), minlength=int((ka * kb).sum()))


# ------------------------------------------------------------------ helpers
def _floats(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return df[cols].to_numpy(dtype=np.float64)


def factorize(real: pd.Series, syn: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer codes of a discrete column over the union of the values of both tables."""
    codes, uniques = pd.factorize(np.concatenate([real.to_numpy(), syn.to_numpy()]))
    return codes[: len(real)], codes[len(real):], len(uniques)


def _discretize(real: pd.Series, syn: pd.Series, bins: int, mode: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin codes of a numerical column for a mixed pair, as SDMetrics does (see module doc)."""
    r = real.to_numpy(dtype=np.float64)
    s = syn.to_numpy(dtype=np.float64)
    if mode == "shared":  # ContingencySimilarity.compute(continuous_column_names=...)
        edges = np.histogram_bin_edges(r, bins=bins)
        edges[0], edges[-1] = -np.inf, np.inf
        return np.digitize(r, edges), np.digitize(s, edges), bins + 2
    # QualityReport: each table binned with its own edges
    return (
        np.digitize(r, np.histogram_bin_edges(r, bins=bins)),
        np.digitize(s, np.histogram_bin_edges(s, bins=bins)),
        bins + 2,
    )
