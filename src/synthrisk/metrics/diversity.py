"""Diversity family: how the synthetic rows cover, and copy, the real training rows.

Unless said otherwise, distances are Euclidean in the encoded space of
:func:`synthrisk.attacks.prepare` (the shared encoder, fitted on the reference rows: one-hot
categoricals, standardised numericals). "Real" rows are the members (the generator's training
rows); every row has ``against="members"``.

* ``alpha_precision``, ``beta_recall``, ``authenticity``: Alaa et al. (2022), our naive k-NN
  reading of the paper (no learned one-class embedding; balls around the data means in the
  encoded space). For alpha in {0.05, 0.10, ..., 1}: the alpha-support of the real rows is the
  ball around their mean whose radius is the alpha-quantile of the real rows' distances to it;
  P(alpha) = share of synthetic rows inside it. For beta likewise: the beta-support of the
  synthetic rows is the ball around the synthetic mean whose radius is the beta-quantile of
  *all synthetic rows'* distances to it, and R(beta) = share of real rows whose nearest
  synthetic row lies inside it *and* is at most as far from the real row as that real row's
  nearest other real row. Scores are the integrated deviations from the ideal curves,
  ``1 - 2 * mean_alpha |P(alpha) - alpha|`` (same for beta), so 1 is best.
  Authenticity: share of synthetic rows strictly farther from their nearest real row than that
  real row is from its own nearest other real row (a copy is not authentic).
* ``alpha_precision_naive``, ``beta_recall_naive``: the variant the study ran, synthcity's
  ``AlphaPrecision`` naive scores ``delta_precision_alpha_naive`` and
  ``delta_coverage_beta_naive`` (synthcity 0.2.12), recomputed here in synthcity's own
  preprocessing, not in the shared encoded space; see :func:`beta_recall_naive` and
  :func:`synthcity_naive_space` for the definition and for what differs from the study.
* ``density`` and ``coverage``: Naeem et al. (2020) with ``k`` (default 5) nearest real
  neighbours defining each real row's ball; needs more than ``k`` real rows.
* Copies, by canonical string (:func:`synthrisk.encoding.canonical_strings`, so "identical"
  means the same thing as in the string attack). The split's parts are disjoint by *index*,
  not by content: a real table may hold identical rows, so a member's exact twin can also sit
  among the real rows the generator never saw (``non_members``, ``reference``, ``holdout``,
  ``test``: the *public* rows). Reproducing such a row is not evidence of copying (the
  holdout control does it by chance). Hence, per synthetic row:

  - ``member_match_rate``: share equal to some member (the old, raw exact-copy rate);
  - ``exact_copy_rate``: share equal to some member **and** to no public row: only these can
    only have come from the training rows;
  - ``member_match_public_rate``: share equal to some member that also occurs among the
    public rows; ``member_match_rate = exact_copy_rate + member_match_public_rate``.

  So the holdout control scores ``exact_copy_rate`` 0 by construction, and the copy control
  scores 1 minus the share of members that have a public twin.
* ``dcr_share``: share of synthetic rows closer to the members than to an equally large,
  seeded random sample of the non-members (ties count half); 0.5 is what an independent
  sample of the population scores, 1.0 means every synthetic row sits on the training rows.
  The sample keeps the comparison fair: the pipeline's splits have up to 1,000 non-members
  against n members, and against all of them an independent sample would score about
  ``n / (n + 1000)``.

Duplicates and ties in the distance scores (no public-row rule is applied there):

* ``dcr_share`` compares with (a sample of) the non-members only. A synthetic row equal to a member that
  also occurs among the non-members is a tie (distance 0 to both) and counts half. One equal
  to a member with a twin only in ``reference``/``holdout``/``test`` counts as closer to the
  members. Members and non-members are draws from the same pool, so duplicates in the
  population favour neither side: an independent sample expects exactly 0.5 with or without
  duplicates.
* ``authenticity`` compares with the members only, and a tie (synthetic row exactly as close
  as its nearest member's nearest other member) counts as *not* authentic. A member with an
  identical twin among the members has a nearest-other-member distance of 0, so a synthetic
  row near it is authentic unless it equals it. A synthetic row equal to a member is never
  authentic, even when the row also occurs among the public rows (e.g. the holdout control on
  a table with duplicates): read it together with ``member_match_public_rate``.
* ``alpha_precision``/``beta_recall`` and their naive variants, ``density`` and ``coverage``
  use inclusive balls (``<=``), so exact duplicates are inside each other's balls.

A metric that cannot be computed becomes a NaN row with the reason; ``params``: ``k``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.attacks import prepare, single_thread
from synthrisk.attacks._neighbours import knn, nearest_distance, self_knn_distance
from synthrisk.encoding import canonical_strings
from synthrisk.metrics.base import nan_row, row
from synthrisk.params import Param, at_least, check_params
from synthrisk.schema import TableSchema

ALPHAS = np.arange(1, 21) / 20
#: synthcity's grid for the naive scores: 30 evenly spaced levels from 0 to 1, both included
NAIVE_ALPHAS = np.linspace(0.0, 1.0, 30)
#: synthcity label-encodes a column with fewer distinct values than this (real and synthetic together)
SYNTHCITY_FEW_VALUES = 15
#: the split parts the generator never saw (a member's twin there is not evidence of copying)
PUBLIC_PARTS = ("non_members", "reference", "holdout", "test")
METRICS = ("alpha_precision", "beta_recall", "alpha_precision_naive", "beta_recall_naive", "authenticity",
           "density", "coverage", "exact_copy_rate", "member_match_rate", "member_match_public_rate", "dcr_share")

PARAMS = {"k": Param(5, "neighbours of the density/coverage k-NN balls", check=at_least(1))}
#: (goal, range): closeness to the members' distribution is better; copies are worse
GOALS = {**{m: ("maximize", (0.0, 1.0)) for m in ("alpha_precision", "beta_recall", "alpha_precision_naive",
                                                  "beta_recall_naive", "authenticity", "coverage")},
         "density": ("maximize", (0.0, float("inf"))),
         **{m: ("minimize", (0.0, 1.0)) for m in ("exact_copy_rate", "member_match_rate", "member_match_public_rate")},
         "dcr_share": ("target 0.5", (0.0, 1.0))}


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
    d_rs, j = knn(real, syn, 1, who="beta_recall")
    d_rr = self_knn_distance(real, 1, who="beta_recall")
    close = d_rs[:, 0] <= d_rr
    inside = np.linalg.norm(syn[j[:, 0]] - c, axis=1)[:, None] <= radii[None, :]
    return _curve_score((close[:, None] & inside).mean(axis=0))


def _naive_score(curve: np.ndarray) -> float:
    """synthcity's integrated deviation ``1 - sum_a |curve(a) - a| / sum_a a`` on :data:`NAIVE_ALPHAS`.

    The grid's mean is 1/2, so this is ``1 - 2 * mean_a |curve(a) - a|`` as in
    :func:`_curve_score`, only on a 30-level grid that includes alpha = 0.
    """
    return float(1.0 - np.abs(curve - NAIVE_ALPHAS).sum() / NAIVE_ALPHAS.sum())


def alpha_precision_naive(real: np.ndarray, syn: np.ndarray) -> float:
    """synthcity's ``delta_precision_alpha_naive`` on already prepared arrays.

    Source: synthcity 0.2.12 (github.com/vanderschaarlab/synthcity, commit 23f322fe),
    ``synthcity.metrics.eval_statistical.AlphaPrecision.metrics`` called with
    ``emb_center=None``. Centre: the real rows' mean. Radii: the alpha-quantiles (numpy's
    default linear interpolation) of the real rows' distances to it, for alpha in
    :data:`NAIVE_ALPHAS`. P(alpha): share of synthetic rows within the radius (inclusive).
    Score: :func:`_naive_score`. It is :func:`alpha_precision` on a different alpha grid (30
    levels including 0, instead of 0.05, ..., 1); the real difference is the input space
    (:func:`synthcity_naive_space`).
    """
    c = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - c, axis=1), NAIVE_ALPHAS)
    ds = np.linalg.norm(syn - c, axis=1)
    return _naive_score((ds[:, None] <= radii[None, :]).mean(axis=0))


def beta_recall_naive(real: np.ndarray, syn: np.ndarray) -> float:
    """synthcity's ``delta_coverage_beta_naive`` (the study's beta-recall) on prepared arrays.

    Source: synthcity 0.2.12 (github.com/vanderschaarlab/synthcity, commit 23f322fe),
    ``synthcity.metrics.eval_statistical.AlphaPrecision.metrics`` (``emb_center=None``, the
    naive branch of ``AlphaPrecision._evaluate``; the inputs come from
    ``_normalize_covariates``, see :func:`synthcity_naive_space`). ``real`` is synthcity's
    ``X`` (the study: its holdout rows; here: the members), ``syn`` its ``X_syn``. Steps:

    1. for every real row i: its nearest synthetic row ``s(i)`` and the distance ``d_rs(i)``
       to it, and the distance ``d_rr(i)`` to its nearest *other* real row;
    2. ``close(i) = d_rs(i) <= d_rr(i)``;
    3. ``u(i)``: distance of ``s(i)`` to the mean of *all* synthetic rows;
    4. radii: the beta-quantiles (numpy's linear interpolation) of the ``n_real`` values
       ``u(i)``, for beta in :data:`NAIVE_ALPHAS`;
    5. R(beta) = share of real rows with ``close(i)`` and ``u(i) <= radius(beta)``;
    6. score ``1 - sum_beta |R(beta) - beta| / sum_beta beta`` (:func:`_naive_score`).

    How it differs from :func:`beta_recall` (ours, after the paper's definition):

    * step 4: ours takes the quantiles of *all synthetic rows'* distances to the synthetic
      mean (the beta-support of the synthetic distribution); synthcity's takes them over the
      matched rows ``s(i)``, one per real row, with repeats. Under synthcity's version a
      share of about beta of the real rows passes the ball test by construction, whatever
      the synthetic spread, so R(beta) is about beta times the share of ``close`` rows and
      the score stays near that share. Under ours the matched rows are compared with the
      whole synthetic cloud: for independent data from the same distribution they are more
      central than a typical synthetic row (nearest neighbours favour central "hub" rows),
      which lifts our score; for a collapsed or shrunk table they are its outermost rows
      (the real rows lie around it), which fall outside most quantile balls, so our curve
      stays near 0 until beta nears 1. On 64 x 5 standard Gaussian real rows (mean of 500
      draws; ours on the raw values, synthcity's after its loader drops the last column as
      the target and min-max scales): independent synthetic rows give 0.57 under ours and
      0.49 under synthcity's; synthetic rows drawn from N(0, 0.3^2) give 0.09 and 0.25;
    * the alpha grid (30 levels including 0 instead of 20 from 0.05);
    * the input space (:func:`synthcity_naive_space`; ours: the shared encoded space).

    synthcity insists on ``len(real) == len(syn)`` (its authenticity indexes one by the
    other); this function does not need it, :func:`synthcity_naive_space` equalises the
    lengths the way synthcity's ``Metrics.evaluate`` does.
    """
    cs = syn.mean(axis=0)
    d_rs, j = knn(real, syn, 1, who="beta_recall_naive")
    d_rr = self_knn_distance(real, 1, who="beta_recall_naive")
    close = d_rs[:, 0] <= d_rr
    u = np.linalg.norm(syn[j[:, 0]] - cs, axis=1)
    radii = np.quantile(u, NAIVE_ALPHAS)
    return _naive_score((close[:, None] & (u[:, None] <= radii[None, :])).mean(axis=0))


def _sorted_values(values: np.ndarray) -> np.ndarray:
    """Distinct values in the order a label encoder of the raw column would give them:
    numerically when every value parses as a number, else as strings."""
    uniq = pd.unique(values)
    try:
        keys = [float(v) for v in uniq]
    except (TypeError, ValueError):
        keys = None
    if keys is None or not np.all(np.isfinite(keys)):
        return np.array(sorted(uniq, key=str), dtype=object)
    return np.array([v for _, v in sorted(zip(keys, uniq), key=lambda t: t[0])], dtype=object)


def synthcity_naive_space(real_df: pd.DataFrame, syn_df: pd.DataFrame, schema: TableSchema
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The arrays synthcity's naive alpha/beta scores see, built from canonical tables.

    Reproduces synthcity 0.2.12 (commit 23f322fe), as reached through
    ``synthcity.metrics.Metrics.evaluate(X_gt=real, X_syn=synthetic)``:

    1. ``Metrics.evaluate`` label-encodes, fitted on real and synthetic rows together
       (``DataLoader.encode``), every column that is object/boolean or has fewer than
       :data:`SYNTHCITY_FEW_VALUES` distinct values: each value becomes its rank among the
       distinct values (``LabelEncoder``). Other columns stay as they are. Here: every
       categorical column, and every numerical column with few distinct values.
    2. It passes ``X_gt.sample(m)`` and ``X_syn.sample(m)`` with ``m`` the smaller length
       (pandas, ``random_state=0``: the first ``m`` of ``RandomState(0).permutation``);
       done here the same way, so equal lengths just reorder the rows.
    3. ``AlphaPrecision._normalize_covariates`` drops the loader's target column and
       min-max scales both tables with the real rows' per-column minimum and range
       (``MinMaxScaler`` fitted on the real rows; a zero range counts as 1), so synthetic
       values may fall outside [0, 1].

    What may differ from the study (its "Alfred" evaluator is not public; see the spec §11):
    a direct ``AlphaPrecision().evaluate`` call skips steps 1 and 2 (the caller must then have
    encoded categoricals itself, and lengths must match); the target dropped is
    ``schema.target`` (synthcity drops the loader's ``target_column``, the last column unless
    named; in the study's files the target was the last column); a categorical level's rank
    follows the numeric order when all its column's values are numbers, else the string
    order, as a label encoder of the raw file column would (our canonical tables hold
    strings, so the raw dtype is a guess). Numbers are the canonical values (integers
    rounded by the schema). The real side: the study passed its holdout, 20% of the seed rows
    the generator was trained on (spec §11), so through ``Metrics.evaluate`` the synthetic
    rows were also cut to that size; :func:`evaluate` passes all the members and all the
    synthetic rows (equal lengths in the pipeline, n each): a five times larger sample of
    the same kind of rows, so less noisy, though not equal in expectation (the scores depend
    on the sample sizes).
    """
    cols = [c for c in schema.columns if c.name != schema.target]
    n_real, n_syn = len(real_df), len(syn_df)
    xr = np.zeros((n_real, len(cols)))
    xs = np.zeros((n_syn, len(cols)))
    for i, c in enumerate(cols):
        r = real_df[c.name].to_numpy()
        s = syn_df[c.name].to_numpy()
        both = np.concatenate([r, s])
        if c.is_categorical or len(pd.unique(both)) < SYNTHCITY_FEW_VALUES:
            order = _sorted_values(both)
            codes = pd.Index(order).get_indexer(both)
            xr[:, i], xs[:, i] = codes[:n_real], codes[n_real:]
        else:
            xr[:, i], xs[:, i] = r.astype(np.float64), s.astype(np.float64)
    m = min(n_real, n_syn)
    xr = xr[np.random.RandomState(0).permutation(n_real)[:m]]
    xs = xs[np.random.RandomState(0).permutation(n_syn)[:m]]
    lo = xr.min(axis=0) if m else np.zeros(len(cols))
    span = (xr.max(axis=0) - lo) if m else np.ones(len(cols))
    span = np.where(span < 10 * np.finfo(np.float64).eps, 1.0, span)
    return (xr - lo) / span, (xs - lo) / span


def authenticity(real: np.ndarray, syn: np.ndarray) -> float:
    d_sr, i = knn(syn, real, 1, who="authenticity")
    d_rr = self_knn_distance(real, 1, who="authenticity")
    return float(np.mean(d_sr[:, 0] > d_rr[i[:, 0]]))


def density_coverage(real: np.ndarray, syn: np.ndarray, k: int = 5) -> tuple[float, float]:
    r = self_knn_distance(real, k, who=f"density/coverage (k={k})")
    d = np.sqrt(np.maximum(  # (n_real, n_syn) distances; small tables, one block
        (real**2).sum(1)[:, None] + (syn**2).sum(1)[None, :] - 2 * real @ syn.T, 0.0))
    inside = d <= r[:, None]
    return float(inside.sum() / (k * len(syn))), float(inside.any(axis=1).mean())


def copy_rates(syn_df: pd.DataFrame, members_df: pd.DataFrame, public_dfs: list[pd.DataFrame],
               schema: TableSchema) -> dict[str, float]:
    """``exact_copy_rate``, ``member_match_rate`` and ``member_match_public_rate`` (module docstring).

    ``public_dfs``: the canonical real tables the generator did not see (:data:`PUBLIC_PARTS`).
    """
    mem = set(canonical_strings(members_df, schema))
    public: set[str] = set()
    for df in public_dfs:
        public.update(canonical_strings(df, schema))
    syn = canonical_strings(syn_df, schema)
    match = np.fromiter((s in mem for s in syn), dtype=bool, count=len(syn))
    seen = np.fromiter((s in public for s in syn), dtype=bool, count=len(syn))
    return {"exact_copy_rate": float(np.mean(match & ~seen)),
            "member_match_rate": float(np.mean(match)),
            "member_match_public_rate": float(np.mean(match & seen))}


def exact_copy_rate(syn_df: pd.DataFrame, members_df: pd.DataFrame, public_dfs: list[pd.DataFrame],
                    schema: TableSchema) -> float:
    """Share of synthetic rows equal to a member and to no public row (module docstring)."""
    return copy_rates(syn_df, members_df, public_dfs, schema)["exact_copy_rate"]


def public_tables(split, schema: TableSchema) -> list[pd.DataFrame]:
    """The split's :data:`PUBLIC_PARTS`, conformed (an absent or empty part is skipped)."""
    out = []
    for part in PUBLIC_PARTS:
        df = getattr(split, part, None)
        if df is not None and len(df):
            out.append(schema.conform(df, who=part))
    return out


def equal_sample(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` rows drawn without replacement (all of them when there are no more)."""
    return rows if len(rows) <= k else rows[np.sort(rng.choice(len(rows), k, replace=False))]


def dcr_share(syn: np.ndarray, members: np.ndarray, non_members: np.ndarray) -> float:
    dm = nearest_distance(syn, members, who="dcr_share")
    dn = nearest_distance(syn, non_members, who="dcr_share")
    return float(np.mean((dm < dn) + 0.5 * (dm == dn)))


def evaluate(synthetic: pd.DataFrame, split, schema: TableSchema, rng: np.random.Generator,
             params: dict | None = None) -> list[dict]:
    k = int(check_params(PARAMS, params, "diversity params")["k"])
    try:
        data = prepare(split, synthetic, schema, "default")
    except Exception as e:  # noqa: BLE001 - NaN rows with the reason
        return [nan_row(m, f"cannot prepare data: {type(e).__name__}: {e}", against="members") for m in METRICS]
    real, syn = data.members, data.synthetic
    cache: dict = {}

    def once(key: str, fn):  # shared by several metrics; a failure fails all of them
        if key not in cache:
            cache[key] = fn()
        return cache[key]

    def dens_cov(i: int) -> float:
        return once("dens_cov", lambda: density_coverage(real, syn, k))[i]

    def naive_space():
        return once("naive", lambda: synthcity_naive_space(data.members_df, data.synthetic_df, schema))

    def copies(metric: str) -> float:
        return once("copies", lambda: copy_rates(data.synthetic_df, data.members_df,
                                                 public_tables(split, schema), schema))[metric]

    jobs = {
        "alpha_precision": lambda: alpha_precision(real, syn),
        "beta_recall": lambda: beta_recall(real, syn),
        "alpha_precision_naive": lambda: alpha_precision_naive(*naive_space()),
        "beta_recall_naive": lambda: beta_recall_naive(*naive_space()),
        "authenticity": lambda: authenticity(real, syn),
        "density": lambda: dens_cov(0),
        "coverage": lambda: dens_cov(1),
        "exact_copy_rate": lambda: copies("exact_copy_rate"),
        "member_match_rate": lambda: copies("member_match_rate"),
        "member_match_public_rate": lambda: copies("member_match_public_rate"),
        "dcr_share": lambda: dcr_share(syn, real, equal_sample(data.non_members, len(real), rng)),
    }
    rows = []
    with single_thread():  # small matrices; threads only contend with the other jobs
        for m in METRICS:
            try:
                rows.append(row(m, jobs[m](), against="members"))
            except Exception as e:  # noqa: BLE001 - one failing metric must not stop the others
                rows.append(nan_row(m, f"{type(e).__name__}: {e}", against="members"))
    return rows
