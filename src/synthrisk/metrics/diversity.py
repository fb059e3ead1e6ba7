"""Diversity family: how the synthetic rows cover, and copy, the real training rows.

All distances are Euclidean in the encoded space of :func:`synthrisk.attacks.prepare` (the
shared encoder, fitted on the reference rows). "Real" rows are the members (the generator's
training rows); every row has ``against="members"``.

* ``alpha_precision``, ``beta_recall``, ``authenticity``: Alaa et al. (2022), naive k-NN
  variant (no learned one-class embedding; balls around the data mean in the encoded space).
  For alpha in {0.05, 0.10, ..., 1}: the alpha-support of the real rows is the ball around
  their mean whose radius is the alpha-quantile of the real rows' distances to it;
  P(alpha) = share of synthetic rows inside it. For beta likewise: the beta-support of the
  synthetic rows (ball around the synthetic mean), and R(beta) = share of real rows whose
  nearest synthetic row lies inside it *and* is closer to the real row than that real row's
  nearest other real row. Scores are the integrated deviations from the ideal curves,
  ``1 - 2 * mean_alpha |P(alpha) - alpha|`` (same for beta), so 1 is best.
  Authenticity: share of synthetic rows farther from their nearest real row than that real
  row is from its own nearest other real row (a copy is not authentic).
* ``density`` and ``coverage``: Naeem et al. (2020) with ``k`` (default 5) nearest real
  neighbours defining each real row's ball; needs more than ``k`` real rows.
* ``exact_copy_rate``: share of synthetic rows whose canonical string
  (:func:`synthrisk.encoding.canonical_strings`) equals some member's.
* ``dcr_share``: share of synthetic rows closer to the members than to the non-members
  (ties count half); 0.5 is ideal, 1.0 means every synthetic row sits on the training rows.

A metric that cannot be computed becomes a NaN row with the reason; ``params``: ``k``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from synthrisk.attacks import prepare, single_thread
from synthrisk.attacks._neighbours import nearest_distance, self_knn_distance
from synthrisk.encoding import canonical_strings
from synthrisk.metrics.base import nan_row, row
from synthrisk.schema import TableSchema

ALPHAS = np.arange(1, 21) / 20
METRICS = ("alpha_precision", "beta_recall", "authenticity", "density", "coverage", "exact_copy_rate", "dcr_share")


def _curve_score(curve: np.ndarray) -> float:
    return float(1.0 - 2.0 * np.mean(np.abs(curve - ALPHAS)))


def alpha_precision(real: np.ndarray, syn: np.ndarray) -> float:
    c = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - c, axis=1), ALPHAS)
    ds = np.linalg.norm(syn - c, axis=1)
    return _curve_score((ds[:, None] <= radii[None, :]).mean(axis=0))


def beta_recall(real: np.ndarray, syn: np.ndarray) -> float:
    c = syn.mean(axis=0)
    radii = np.quantile(np.linalg.norm(syn - c, axis=1), ALPHAS)
    d_rs, j = NearestNeighbors(n_neighbors=1, n_jobs=1).fit(syn).kneighbors(real)
    d_rr = self_knn_distance(real, 1, who="beta_recall")
    close = d_rs[:, 0] <= d_rr
    inside = np.linalg.norm(syn[j[:, 0]] - c, axis=1)[:, None] <= radii[None, :]
    return _curve_score((close[:, None] & inside).mean(axis=0))


def authenticity(real: np.ndarray, syn: np.ndarray) -> float:
    d_sr, i = NearestNeighbors(n_neighbors=1, n_jobs=1).fit(real).kneighbors(syn)
    d_rr = self_knn_distance(real, 1, who="authenticity")
    return float(np.mean(d_sr[:, 0] > d_rr[i[:, 0]]))


def density_coverage(real: np.ndarray, syn: np.ndarray, k: int = 5) -> tuple[float, float]:
    r = self_knn_distance(real, k, who=f"density/coverage (k={k})")
    d = np.sqrt(np.maximum(  # (n_real, n_syn) distances; small tables, one block
        (real**2).sum(1)[:, None] + (syn**2).sum(1)[None, :] - 2 * real @ syn.T, 0.0))
    inside = d <= r[:, None]
    return float(inside.sum() / (k * len(syn))), float(inside.any(axis=1).mean())


def exact_copy_rate(syn_df: pd.DataFrame, members_df: pd.DataFrame, schema: TableSchema) -> float:
    mem = set(canonical_strings(members_df, schema))
    return float(np.mean([s in mem for s in canonical_strings(syn_df, schema)]))


def dcr_share(syn: np.ndarray, members: np.ndarray, non_members: np.ndarray) -> float:
    dm = nearest_distance(syn, members, who="dcr_share")
    dn = nearest_distance(syn, non_members, who="dcr_share")
    return float(np.mean((dm < dn) + 0.5 * (dm == dn)))


def evaluate(synthetic: pd.DataFrame, split, schema: TableSchema, rng: np.random.Generator,
             params: dict | None = None) -> list[dict]:
    params = dict(params or {})
    unknown = set(params) - {"k"}
    if unknown:
        raise ValueError(f"diversity: unknown param(s) {sorted(unknown)}; known: ['k']")
    k = int(params.get("k", 5))
    try:
        data = prepare(split, synthetic, schema, "default")
    except Exception as e:  # noqa: BLE001 - NaN rows with the reason
        return [nan_row(m, f"cannot prepare data: {type(e).__name__}: {e}", against="members") for m in METRICS]
    real, syn = data.members, data.synthetic
    dc: dict = {}

    def dens_cov(i: int) -> float:  # computed once for both metrics; a failure fails both
        if "value" not in dc:
            dc["value"] = density_coverage(real, syn, k)
        return dc["value"][i]

    jobs = {
        "alpha_precision": lambda: alpha_precision(real, syn),
        "beta_recall": lambda: beta_recall(real, syn),
        "authenticity": lambda: authenticity(real, syn),
        "density": lambda: dens_cov(0),
        "coverage": lambda: dens_cov(1),
        "exact_copy_rate": lambda: exact_copy_rate(data.synthetic_df, data.members_df, schema),
        "dcr_share": lambda: dcr_share(syn, real, data.non_members),
    }
    rows = []
    with single_thread():  # small matrices; threads only contend with the other jobs
        for m in METRICS:
            try:
                rows.append(row(m, jobs[m](), against="members"))
            except Exception as e:  # noqa: BLE001 - one failing metric must not stop the others
                rows.append(nan_row(m, f"{type(e).__name__}: {e}", against="members"))
    return rows
