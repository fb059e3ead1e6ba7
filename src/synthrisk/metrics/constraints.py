"""Constraints family: how well a synthetic table meets its dataset's declared constraints.

The constraints are the dataset's ``constraints:`` (:mod:`synthrisk.constraints`; the plan puts
them into this family's params per dataset, as ``constraints: {name: text}``). Every row names
its constraint in ``column``:

* a row constraint: ``row_satisfaction``, the share of rows that hold it;
* a statistical, fairness or downstream constraint: ``constraint_value`` (the statistic on the
  rows: mean, std, quantile, share, correlation, parity gap, or the downstream ROC AUC, for which
  ``model`` is ``logreg``), ``constraint_target`` (the bound, or for ``within T of real`` the value
  on the real seed rows) and ``constraint_satisfied`` (1 or 0);
* ``constraints_declared``: how many constraints the dataset declares (0: no other rows).

Baseline: with ``baseline: true`` (default) every row is given twice, ``against`` null for the
synthetic table and ``against="members"`` for the real seed rows themselves (the generator's
training rows), so each file carries what the real data achieves. ``within T of real`` is
trivially met by the members; their ``row_satisfaction`` says how often the real rows break a
rule. Downstream constraints train on the rows scored (synthetic, or the members) and test on
the split's real test rows; a model that cannot be trained (one class) is a NaN with the reason.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthrisk import constraints as C
from synthrisk.io import child_seed
from synthrisk.metrics.base import Split, nan_row, row
from synthrisk.params import Param, check_params as check_declared
from synthrisk.schema import TableSchema

PARAMS = {
    "baseline": Param(True, "also score the real seed rows (members), as rows with against='members'", bool),
}
GOALS = {
    "row_satisfaction": ("maximize", (0.0, 1.0)),
    "constraint_satisfied": ("maximize", (0.0, 1.0)),
}


def check_params(params: dict | None, where: str) -> dict:
    """:data:`PARAMS`, plus the ``constraints`` the plan fills in from the dataset entry."""
    p = dict(params or {})
    declared = p.pop("constraints", {}) or {}
    out = check_declared(PARAMS, p, where)
    out["constraints"] = C.declared(declared)
    return out


def evaluate(synthetic: pd.DataFrame, split: Split, schema: TableSchema, rng: np.random.Generator,
             params: dict) -> list[dict]:
    p = check_params(params, "constraints params")
    cs = C.parse_all(p["constraints"], schema.name, schema)
    seed = child_seed(rng)
    rows = [row("constraints_declared", len(cs))]
    subjects = [(None, synthetic)] + ([("members", split.members)] if p["baseline"] else [])
    for against, df in subjects:
        extra = {"against": against} if against else {}
        for c in cs:
            rows += score(c, df, split, schema, seed, **extra)
    return rows


def score(c: C.Constraint, df: pd.DataFrame, split: Split, schema: TableSchema, seed: int, **extra) -> list[dict]:
    """The rows of one constraint on the table ``df``."""
    if c.kind == "row":
        if len(df) == 0:
            return [nan_row("row_satisfaction", "no rows", column=c.name, **extra)]
        return [row("row_satisfaction", float(np.mean(C.holds(c, df))), column=c.name, **extra)]
    if c.kind == "downstream":
        model = {"model": "logreg"}
        value, reason = downstream_auc(df, split.test, schema, c.stat.args[0].name, seed)
    else:
        model = {}
        value, reason = C.statistic(c, df, schema), None
        if np.isnan(value):
            reason = f"{c.stat.fn} is undefined on these {len(df)} rows (constant column or too few rows)"
    target = C.statistic(c, split.members, schema) if c.against_real else c.bound
    out = []
    if reason:
        out.append(nan_row("constraint_value", reason, column=c.name, **model, **extra))
        out.append(nan_row("constraint_satisfied", reason, column=c.name, **model, **extra))
    else:
        out.append(row("constraint_value", value, column=c.name, **model, **extra))
        out.append(row("constraint_satisfied", float(C.compare(c, value, target if c.against_real else None)),
                       column=c.name, **model, **extra))
    if target is None or np.isnan(target):
        out.append(nan_row("constraint_target", "the statistic is undefined on the real seed rows",
                           column=c.name, **model, **extra))
    else:
        out.append(row("constraint_target", target, column=c.name, **model, **extra))
    return out


def downstream_auc(train: pd.DataFrame, test: pd.DataFrame, schema: TableSchema, column: str,
                   seed: int) -> tuple[float, str | None]:
    """ROC AUC (macro one-vs-rest) on ``test`` of a logistic regression trained on ``train`` to
    predict the categorical ``column`` from every other column; (NaN, reason) where undefined."""
    from sklearn.linear_model import LogisticRegression

    from synthrisk.encoding import TableEncoder
    from synthrisk.metrics.utility import expand_proba, macro_ovr_auc

    classes = list(schema.column(column).levels)
    y_tr = pd.Categorical(train[column].astype(str), categories=classes).codes
    y_te = pd.Categorical(test[column].astype(str), categories=classes).codes
    if len(np.unique(y_tr)) < 2:
        return float("nan"), f"the training rows hold {len(np.unique(y_tr))} class(es) of {column!r}"
    if len(np.unique(y_te)) < 2:
        return float("nan"), f"the test rows hold one class of {column!r}: AUC undefined"
    feats = [n for n in schema.names if n != column]
    enc = TableEncoder(schema, columns=feats).fit(train)
    present = np.unique(y_tr)
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=1000, random_state=seed).fit(enc.transform(train),
                                                                          np.searchsorted(present, y_tr))
        proba = expand_proba(model.predict_proba(enc.transform(test)), present, len(classes))
    return macro_ovr_auc(y_te, proba), None
