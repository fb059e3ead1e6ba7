"""Risk family: privacy beyond membership. Anonymeter's three attacks, and attribute inference.

**Anonymeter** (Giomi et al. 2023; the ``anonymeter`` library, the reference implementation,
called as is): *original* = the split's members (the rows the generator saw), *control* = as
many of its non-members (real rows no generator saw; a seeded sample, :func:`control_rows`),
*synthetic* = the table. Each attack is run on the
original and on the control rows; the risk is the main attack's excess success over the
control attack's, ``(main - control) / (1 - control)``, clipped to [0, 1], with anonymeter's
interval (Wilson rates, propagated error) at ``confidence``. Metrics:

* ``singling_out_univariate`` / ``singling_out_multivariate``: predicates built from the
  synthetic rows (one column / ``n_cols`` columns) that single out exactly one original row.
  A small table may not yield ``n_attacks`` distinct singling-out predicates (all univariate
  ones, or ``max_attempts`` multivariate tries); anonymeter then logs a warning and still
  divides by ``n_attacks``, so the rates are lower bounds there.
* ``linkability``: the auxiliary columns are split in two halves, schema order: the first
  ``ceil(k/2)`` columns and the rest (k columns in all; ``aux_columns`` overrides with two
  lists); a target is linked when its nearest synthetic row on one half is among its
  ``n_neighbors`` nearest on the other.
* ``inference`` (``column`` = the secret): each column in turn (or ``secrets``) is guessed
  from all the others by the nearest synthetic row (anonymeter's Gower k-NN); numerical
  secrets count as correct within anonymeter's 5% relative tolerance.

Per metric: the risk row (``value`` the risk, ``ci_low``/``ci_high`` its interval) and three
rate rows, ``<metric>_main_rate``, ``<metric>_control_rate``, ``<metric>_baseline_rate`` (the
success rates of the main attack, the control attack and anonymeter's random-guess baseline,
each with its Wilson interval). When the baseline is as good as the main attack (anonymeter
warns: "analysis results cannot be trusted"), or the control attack always succeeds, the
risk row's ``reason`` says so (the value is kept). Any error inside anonymeter becomes NaN
rows with the error as reason: notably anonymeter issue #32, a math domain error of the
rates when a success count exceeds the attacks (reported for a synthetic table equal to the
original; with a control larger than the original, singling-out's size correction did it on
most of our tables, hence the equal-sized control).

Seeds: the singling-out queries take anonymeter's ``seed``, and run with polars' hash-ordered
``group_by``/``unique`` kept in row order (:func:`_polars_in_order`; polars randomises that order
on every call, which made anonymeter's univariate queries and random baseline differ from run to
run); anonymeter draws its linkability
and inference targets with pandas' ``sample`` (numpy's legacy global generator), so that draw
runs under a numpy state seeded from the family's stream and restored afterwards
(:func:`_legacy_seeded`); the linkability baseline, which anonymeter 1.1.0 draws from an
unseeded ``default_rng()``, is redrawn from the family's stream by the same rule (per target
and half, ``n_neighbors`` distinct synthetic rows uniformly) and counted with anonymeter's own
:class:`LinkabilityIndexes`. Same seed, same bytes. anonymeter's Gower k-NN is numba code
compiled on first use (~6 s a process); it is compiled with numba's on-disk cache enabled
(``NUMBA_CACHE_DIR`` if set, else numba's default), so only the first job pays.

**Attribute inference** (``attribute_inference_*``, ``column`` = the secret): a random
forest (``trees``, seeded) trained on the synthetic rows predicts the secret from the other
columns for every member and every non-member. Categorical secret: a target is *correct* when
the predicted class is its value, its *score* the predicted probability of its value;
numerical: correct within 5% relative error (anonymeter's rule), score minus the absolute
error in the reference rows' (else the members') standard deviations. ``attribute_inference_acc_gap`` = accuracy
on members minus on non-members (0 for a generator that leaks nothing about its members
beyond the population), ``attribute_inference_auc`` = ROC AUC of the score as a membership
score (0.5 = none), ``attribute_inference_acc_members`` / ``_acc_non_members`` beside them.
Intervals: the privacy family's stratified bootstrap over targets
(:func:`synthrisk.metrics.roc.bootstrap_weights`, ``bootstrap`` replicates, percentile
intervals); rows with ``attack="worst"`` (no column) take the maximum over the secrets, the
bootstrap of the maximum on the same resamples, ``reason`` naming the column.

**Matches** (``match_exact_rate``, ``match_near_rate``; ``against`` = ``members``,
``non_members`` or ``public``: the reference, holdout and test rows together): the share of
synthetic rows equal to some row of that set (canonical strings, as the diversity family's
copies), and the share closer to it (Euclidean, the shared encoding fitted on the reference
rows) than ``match_near_threshold``, the members' median distance to their nearest other member.
They are the contamination control's numbers (``llm_icl`` with ``seed_rows: none``, the
``contamination`` table view): a model shown no row that still writes rows of the public table
knows the table from pretraining. The holdout control is drawn from the public rows, so it
matches them by construction.

``params``: :data:`PARAMS`.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pandas as pd

from synthrisk.io import make_rng
from synthrisk.metrics import roc
from synthrisk.metrics.base import nan_row, row
from synthrisk.params import Param, at_least, in_range, items_in
from synthrisk.schema import TableSchema

ANONYMETER = ("singling_out_univariate", "singling_out_multivariate", "linkability", "inference")
ATTACKS = (*ANONYMETER, "attribute_inference", "matches")
#: the real rows a synthetic row is matched against; ``public``: every split part no generator
#: trained on besides the non-members (reference, holdout, test)
MATCH_AGAINST = ("members", "non_members", "public")
MATCH_METRICS = ("match_exact_rate", "match_near_rate")
RATES = ("main", "control", "baseline")
AI_METRICS = ("attribute_inference_acc_gap", "attribute_inference_auc",
              "attribute_inference_acc_members", "attribute_inference_acc_non_members")
TOLERANCE = 0.05  # anonymeter's relative tolerance for a numerical secret

PARAMS = {
    "attacks": Param(list(ATTACKS), "attacks run", list, check=items_in(ATTACKS)),
    "n_attacks": Param(50, "anonymeter attacks per evaluator (targets, queries); the paper uses 500; "
                       "capped by the rows there are", check=at_least(1)),
    "n_cols": Param(3, "columns per multivariate singling-out predicate", check=at_least(2)),
    "max_attempts": Param(20000, "multivariate singling out: candidate predicates tried before giving up on "
                          "n_attacks (anonymeter's default 10,000,000 runs for many minutes on a 32-row table)",
                          check=at_least(1)),
    "n_neighbors": Param(1, "linkability: neighbours searched in each half", check=at_least(1)),
    "aux_columns": Param(None, "linkability: two lists of columns (default: the schema's columns split in "
                         "two halves)", list, check=lambda v: None if len(v) == 2 and all(isinstance(x, list) for x in v)
                         else "must be two lists of column names"),
    "secrets": Param(None, "inference/attribute-inference secrets (default: every column)", list),
    "trees": Param(10, "attribute inference: trees of the random forest (study: 100)", check=at_least(1)),
    "bootstrap": Param(200, "attribute inference: replicates of the intervals", check=at_least(1)),
    "confidence": Param(0.95, "level of the intervals", check=in_range(0, 1, open_low=True, open_high=True)),
}
GOALS = {**{m: ("minimize", (0.0, 1.0)) for m in (*ANONYMETER, *MATCH_METRICS)},
         "attribute_inference_acc_gap": ("target 0", (-1.0, 1.0)),
         "attribute_inference_auc": ("target 0.5", (0.0, 1.0))}


# ------------------------------------------------------------------ anonymeter glue
_NUMBA_CACHED = False


def _anonymeter():
    """Import anonymeter with its numba kernels' on-disk cache enabled (once per process)."""
    global _NUMBA_CACHED
    import anonymeter.evaluators as ev
    from anonymeter.neighbors import mixed_types_kneighbors as knn

    if not _NUMBA_CACHED:
        for f in (knn.gower_distance, knn._nearest_neighbors):
            with contextlib.suppress(Exception):  # a read-only install: compiled in memory, as before
                f.enable_caching()
        _NUMBA_CACHED = True
    return ev


@contextlib.contextmanager
def _legacy_seeded(rng: np.random.Generator):
    """numpy's legacy global state seeded from ``rng`` inside, the caller's state restored after."""
    state = np.random.get_state()
    np.random.seed(int(rng.integers(2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(state)


@contextlib.contextmanager
def _polars_in_order():
    """polars' ``DataFrame.group_by`` and ``Series.unique`` in first-seen order inside.

    anonymeter 1.1.0 lists the univariate singling-out candidates with ``group_by(col).len()``
    and draws its baseline queries' values from ``Series.unique()``, both in polars' hash order,
    which polars randomises on every call: the same seed gave different rates from run to run.
    Inside this block both keep their rows' order (polars' own ``maintain_order=True``), so the
    seeded draws are reproducible; nothing else of anonymeter changes. Restored on exit.
    """
    import polars as pl

    group_by, unique = pl.DataFrame.group_by, pl.Series.unique

    def ordered_group_by(self, *by, maintain_order=True, **kw):
        return group_by(self, *by, maintain_order=True, **kw)

    def ordered_unique(self, *, maintain_order=True):
        return unique(self, maintain_order=True)

    pl.DataFrame.group_by, pl.Series.unique = ordered_group_by, ordered_unique
    try:
        yield
    finally:
        pl.DataFrame.group_by, pl.Series.unique = group_by, unique


def _frame(df: pd.DataFrame, schema: TableSchema, columns: list[str]) -> pd.DataFrame:
    """Columns as anonymeter types them: numerical float, categorical string; fresh index."""
    out = {}
    for c in columns:
        out[c] = (df[c].astype(str) if schema.column(c).is_categorical else pd.to_numeric(df[c]).astype(np.float64))
    return pd.DataFrame(out).reset_index(drop=True)


def _rate_row(metric: str, rate, **extra) -> dict:
    v, e = float(rate.value), float(rate.error)
    return row(metric, v, ci_low=max(v - e, 0.0), ci_high=min(v + e, 1.0), **extra)


def _anonymeter_rows(metric: str, results, level: float, **extra) -> list[dict]:
    risk = results.risk()
    value, (lo, hi) = float(risk.value), risk.ci
    notes = []
    if results.baseline_rate.value >= results.attack_rate.value:
        notes.append(f"baseline as good as the main attack (baseline {results.baseline_rate.value:.3f} >= "
                     f"main {results.attack_rate.value:.3f}): anonymeter warns the result cannot be trusted")
    if results.control_rate is not None and results.control_rate.value >= 1:
        notes.append("control attack succeeds every time: residual risk not measurable")
    out = [row(metric, value, ci_low=float(min(lo, value)), ci_high=float(max(hi, value)),
               **({"reason": "; ".join(notes)} if notes else {}), **extra)]
    rates = {"main": results.attack_rate, "control": results.control_rate, "baseline": results.baseline_rate}
    for name in RATES:
        out.append(_rate_row(f"{metric}_{name}_rate", rates[name], **extra))
    return out


def _nan_rows(metric: str, reason: str, **extra) -> list[dict]:
    return [nan_row(metric, reason, **extra)] + [nan_row(f"{metric}_{r}_rate", reason, **extra) for r in RATES]


def _run(metric: str, fn, level: float, **extra) -> list[dict]:
    """One anonymeter evaluation -> its rows; any error (anonymeter issue #32 among them) -> NaN rows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the conditions are re-checked and written into `reason`
            results = fn()
        return _anonymeter_rows(metric, results, level, **extra)
    except Exception as e:  # noqa: BLE001 - recorded, never a crash
        known = (" (anonymeter issue #32: a success count above the number of attacks leaves the rate's "
                 "interval undefined)") if isinstance(e, ValueError) and "math domain" in str(e) else ""
        return _nan_rows(metric, f"anonymeter failed: {type(e).__name__}: {e}{known}", **extra)


def control_rows(split, rng: np.random.Generator) -> pd.DataFrame:
    """Anonymeter's control: a seeded sample of the non-members as large as the members (all of
    them if fewer). With a larger control anonymeter rescales the control's singling-out count
    by a fitted size correction, which can exceed the number of attacks (issue #32's error)."""
    non = split.non_members
    k = min(len(split.members), len(non))
    return non.iloc[np.sort(rng.permutation(len(non))[:k])].reset_index(drop=True)


def aux_halves(columns: list[str]) -> tuple[list[str], list[str]]:
    """The default linkability split: the first ceil(k/2) columns, and the rest."""
    h = math.ceil(len(columns) / 2)
    return list(columns[:h]), list(columns[h:])


def _singling_out(ev, ori, syn, ctrl, mode, p, seed, level):
    def fn():
        e = ev.SinglingOutEvaluator(ori=ori, syn=syn, control=ctrl, n_attacks=int(p["n_attacks"]),
                                    n_cols=int(p["n_cols"]), max_attempts=int(p["max_attempts"]), seed=seed)
        with _polars_in_order():
            e.evaluate(mode=mode)
        return e.results(confidence_level=level)
    return _run(f"singling_out_{mode}", fn, level)


def _linkability(ev, ori, syn, ctrl, aux, p, rng, level):
    from anonymeter.evaluators.linkability_evaluator import LinkabilityIndexes

    k = int(p["n_neighbors"])
    n = min(int(p["n_attacks"]), len(ori), len(ctrl))

    def fn():
        e = ev.LinkabilityEvaluator(ori=ori, syn=syn, control=ctrl, aux_cols=aux, n_attacks=n, n_neighbors=k)
        with _legacy_seeded(rng):
            e.evaluate(n_jobs=1)
        pick = lambda: np.array([rng.choice(len(syn), size=min(k, len(syn)), replace=False) for _ in range(n)])  # noqa: E731
        e._baseline_links = LinkabilityIndexes(idx_0=pick(), idx_1=pick())  # seeded, as anonymeter's rule
        return e.results(confidence_level=level)
    return _run("linkability", fn, level)


def _inference(ev, ori, syn, ctrl, secret, schema, p, rng, level):
    aux = [c for c in ori.columns if c != secret]

    def fn():
        e = ev.InferenceEvaluator(ori=ori, syn=syn, control=ctrl, aux_cols=aux, secret=secret,
                                  regression=schema.column(secret).is_numerical, n_attacks=int(p["n_attacks"]))
        with _legacy_seeded(rng):
            e.evaluate(n_jobs=1)
        return e.results(confidence_level=level)
    return _run("inference", fn, level, column=secret)


def _worst_inference(rows: list[dict]) -> list[dict]:
    """``inference`` with ``attack="worst"``: the highest risk over the secrets, with its interval."""
    risks = [r for r in rows if r["metric"] == "inference" and math.isfinite(r["value"])]
    if not risks:
        return [nan_row("inference", "no secret gave an inference risk", attack="worst")]
    best = max(risks, key=lambda r: r["value"])  # first secret on a tie
    note = f"max over {len(risks)} secret(s): {best['column']}" + (f"; {best['reason']}" if best.get("reason") else "")
    return [row("inference", best["value"], ci_low=best["ci_low"], ci_high=best["ci_high"], attack="worst",
                reason=note)]


# ------------------------------------------------------------------ attribute inference
def _encode(df: pd.DataFrame, schema: TableSchema, columns: list[str]) -> np.ndarray:
    """Numerical as is, categorical as integer codes over the schema's levels (unknown -1);
    a missing value becomes -1e9 (a tree splits it off)."""
    blocks = []
    for c in columns:
        col = schema.column(c)
        if col.is_categorical:
            blocks.append(pd.Categorical(df[c].astype(str), categories=list(col.levels)).codes.astype(np.float64))
        else:
            blocks.append(pd.to_numeric(df[c]).to_numpy(dtype=np.float64))
    x = np.column_stack(blocks) if blocks else np.zeros((len(df), 0))
    return np.where(np.isfinite(x), x, -1e9)


def _secret_scores(syn, targets, secret, schema, scale, trees, seed):
    """(correct, score) per target for one secret, from a forest trained on the synthetic rows."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    aux = [c for c in schema.names if c != secret]
    xs, xt = _encode(syn, schema, aux), _encode(targets, schema, aux)
    if schema.column(secret).is_categorical:
        ys, yt = syn[secret].astype(str).to_numpy(), targets[secret].astype(str).to_numpy()
        m = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1).fit(xs, ys)
        proba = m.predict_proba(xt)
        cls = {c: i for i, c in enumerate(m.classes_)}
        idx = np.array([cls.get(v, -1) for v in yt])
        score = np.where(idx >= 0, proba[np.arange(len(yt)), np.maximum(idx, 0)], 0.0)
        correct = m.classes_[proba.argmax(axis=1)] == yt
    else:
        ys = pd.to_numeric(syn[secret]).to_numpy(dtype=np.float64)
        yt = pd.to_numeric(targets[secret]).to_numpy(dtype=np.float64)
        ok = np.isfinite(ys)
        if not ok.any():
            raise ValueError(f"secret {secret!r}: no finite value among the synthetic rows")
        m = RandomForestRegressor(n_estimators=trees, random_state=seed, n_jobs=1).fit(xs[ok], ys[ok])
        err = np.abs(m.predict(xt) - yt)
        correct = np.nan_to_num(err <= TOLERANCE * np.abs(yt), nan=False)
        score = np.nan_to_num(-err / scale, nan=-np.inf)
    return correct.astype(np.float64), score.astype(np.float64)


def _attribute_inference(syn, split, schema, secrets, p, rng, level) -> list[dict]:
    members, non = split.members, split.non_members
    n1, n0 = len(members), len(non)
    if n1 == 0 or n0 == 0:
        why = f"attribute inference needs members and non-members; got {n1} and {n0}"
        return [nan_row(m, why, column=s) for s in secrets for m in AI_METRICS] + \
            [nan_row(m, why, attack="worst") for m in AI_METRICS[:2]]
    targets = pd.concat([members, non], ignore_index=True)
    b = int(p["bootstrap"])
    seed = int(rng.integers(2**31))
    boot = make_rng(seed, "bootstrap")
    w1, w0 = roc.bootstrap_weights(boot, n1, b), roc.bootstrap_weights(boot, n0, b)
    rows: list[dict] = []
    gaps, aucs = {}, {}
    for s in secrets:
        try:
            ref = split.reference if len(split.reference) else members  # the scale of a numerical secret
            scale = float(np.nanstd(pd.to_numeric(ref[s], errors="coerce"))) if schema.column(s).is_numerical else 1.0
            correct, score = _secret_scores(syn, targets, s, schema, scale if scale > 0 else 1.0, int(p["trees"]), seed)
        except Exception as e:  # noqa: BLE001 - one secret failing must not stop the others
            rows += [nan_row(m, f"attribute inference on {s!r} failed: {type(e).__name__}: {e}", column=s)
                     for m in AI_METRICS]
            continue
        c1, c0 = correct[:n1], correct[n1:]
        acc1, acc0 = float(c1.mean()), float(c0.mean())
        r1, r0 = (w1 @ c1) / w1.sum(axis=1), (w0 @ c0) / w0.sum(axis=1)
        gap, gap_r = acc1 - acc0, r1 - r0
        a = float(roc.auc(score[:n1], score[n1:], roc.ones(n1), roc.ones(n0))[0])
        a_r = roc.auc(score[:n1], score[n1:], w1, w0)
        gaps[s], aucs[s] = (gap, gap_r), (a, a_r)
        for metric, v, reps in (("attribute_inference_acc_gap", gap, gap_r), ("attribute_inference_auc", a, a_r),
                                ("attribute_inference_acc_members", acc1, r1),
                                ("attribute_inference_acc_non_members", acc0, r0)):
            lo, hi = roc.percentile_interval(np.asarray(reps, dtype=np.float64), v, level)
            rows.append(row(metric, v, ci_low=lo, ci_high=hi, column=s))
    for metric, got in (("attribute_inference_acc_gap", gaps), ("attribute_inference_auc", aucs)):
        if not got:
            rows.append(nan_row(metric, "no secret gave a value", attack="worst"))
            continue
        best = max(sorted(got), key=lambda k: got[k][0])
        reps = np.max(np.vstack([np.asarray(got[k][1], dtype=np.float64) for k in got]), axis=0)
        lo, hi = roc.percentile_interval(reps, got[best][0], level)
        rows.append(row(metric, got[best][0], ci_low=lo, ci_high=hi, attack="worst",
                        reason=f"max over {len(got)} secret(s): {best}"))
    return rows


# ------------------------------------------------------------------ matches
def _matches(syn: pd.DataFrame, split, schema: TableSchema) -> list[dict]:
    from synthrisk.attacks._neighbours import nearest_distance, self_knn_distance
    from synthrisk.encoding import TableEncoder, canonical_strings

    sets = {"members": split.members, "non_members": split.non_members,
            "public": pd.concat([split.reference, split.holdout, split.test], ignore_index=True)}
    fit_on = split.reference if len(split.reference) else split.members
    enc = TableEncoder(schema).fit(fit_on)
    x = lambda d: np.nan_to_num(enc.transform(d))  # noqa: E731 - a missing value at the column mean
    xs, keys = x(syn), canonical_strings(syn, schema)
    tau = float(np.median(self_knn_distance(x(split.members), 1, who="match_near_rate")))
    rows = [row("match_near_threshold", tau, against="members",
                reason="median distance of a member to its nearest other member (encoded space)")]
    for name, real in sets.items():
        if len(real) == 0 or len(syn) == 0:
            rows += [nan_row(m, f"no {name} rows" if len(real) == 0 else "no synthetic rows", against=name)
                     for m in MATCH_METRICS]
            continue
        exact = np.isin(np.asarray(keys, dtype=object), np.asarray(canonical_strings(real, schema), dtype=object))
        near = nearest_distance(xs, x(real), who="match_near_rate") < tau
        rows.append(row("match_exact_rate", float(exact.mean()), against=name))
        rows.append(row("match_near_rate", float((near | exact).mean()), against=name))
    return rows


# ------------------------------------------------------------------ family
def check_params(params: dict | None, where: str) -> dict:
    from synthrisk.params import check_params as check_declared

    return check_declared(PARAMS, params, where)


def evaluate(synthetic: pd.DataFrame, split, schema: TableSchema, rng: np.random.Generator,
             params: dict | None = None) -> list[dict]:
    p = check_params(params, "risk params")
    level = float(p["confidence"])
    attacks = list(p["attacks"])
    columns = schema.names
    secrets = list(p["secrets"] or columns)
    bad = [s for s in secrets if s not in columns]
    base = int(rng.integers(2**31))
    rows: list[dict] = []

    anon = [a for a in attacks if a in ANONYMETER]
    if anon:
        try:
            missing = [c for c in columns if c not in synthetic.columns]
            if missing:
                raise ValueError(f"synthetic table lacks column(s) {missing}")
            if bad:
                raise ValueError(f"secrets not in the table: {bad}")
            ev = _anonymeter()
            ori, syn = _frame(split.members, schema, columns), _frame(synthetic, schema, columns)
            ctrl = _frame(control_rows(split, make_rng(base, "control")), schema, columns)
        except Exception as e:  # noqa: BLE001 - every anonymeter row NaN with the reason
            why = f"cannot prepare the anonymeter data: {type(e).__name__}: {e}"
            for a in anon:
                if a == "inference":
                    for s in secrets:
                        rows += _nan_rows(a, why, column=s)
                else:
                    rows += _nan_rows(a, why)
            anon = []
        for a in anon:
            arng = make_rng(base, a)
            if a.startswith("singling_out_"):
                rows += _singling_out(ev, ori, syn, ctrl, a.removeprefix("singling_out_"), p,
                                      int(arng.integers(2**31)), level)
            elif a == "linkability":
                aux = tuple(p["aux_columns"]) if p["aux_columns"] else aux_halves(columns)
                unknown = [c for half in aux for c in half if c not in columns]
                if unknown or not aux[0] or not aux[1]:
                    rows += _nan_rows(a, f"linkability needs two non-empty halves of known columns; got {aux}")
                else:
                    rows += _linkability(ev, ori, syn, ctrl, (list(aux[0]), list(aux[1])), p, arng, level)
            else:
                got = []
                for s in secrets:
                    got += _inference(ev, ori, syn, ctrl, s, schema, p, make_rng(base, a, s), level)
                rows += got + _worst_inference(got)
    if "matches" in attacks:
        try:
            rows += _matches(schema.conform(synthetic, who="synthetic rows"), split, schema)
        except Exception as e:  # noqa: BLE001
            why = f"matches failed: {type(e).__name__}: {e}"
            rows += [nan_row("match_near_threshold", why, against="members")]
            rows += [nan_row(m, why, against=a) for a in MATCH_AGAINST for m in MATCH_METRICS]
    if "attribute_inference" in attacks:
        if bad:
            why = f"secrets not in the table: {bad}"
            rows += [nan_row(m, why, column=s) for s in secrets for m in AI_METRICS]
        else:
            try:
                syn = schema.conform(synthetic, who="synthetic rows")
                rows += _attribute_inference(syn, split, schema, secrets, p, make_rng(base, "attribute_inference"),
                                             level)
            except Exception as e:  # noqa: BLE001
                why = f"attribute inference failed: {type(e).__name__}: {e}"
                rows += [nan_row(m, why, column=s) for s in secrets for m in AI_METRICS]
    return rows
