"""Utility: train on synthetic rows, test on real ``split.test`` rows (TSTR).

Five classifiers with small fixed hyperparameters predict the target from
``schema.features``: logistic regression (``logreg``), decision tree (``tree``), random
forest (``forest``), XGBoost (``xgboost``) and CatBoost (``catboost``). Each is scored by the
macro one-vs-rest ROC AUC over the classes present in the test table (:func:`macro_ovr_auc`).
Rows: ``tstr_auc`` with ``model=<name>`` and their mean with ``model="mean"``.
:func:`evaluate_reference` trains the same models on ``split.members`` (``trtr_auc``): the
train-real-test-real reference, computed once per split.

Choices where the spec was silent:

* Features: :class:`synthrisk.encoding.TableEncoder` over ``schema.features``, fitted on the
  training table (one-hot over the schema's levels, numericals standardised) — the same
  matrix for every model, CatBoost included (its own categorical handling is not used).
* Classes: the models see only the classes present in the training table (relabelled
  0..k-1); a test class absent from training gets probability 0 from every model, so it
  contributes an AUC of 0.5 (no information) to the macro mean, not a crash.
* A training table with fewer than 2 classes (or no rows) gives NaN rows with a reason for
  every model and the mean; a test table with fewer than 2 classes likewise.
* A model that raises gives a NaN row with the error as reason; the mean is then taken over
  the models that ran, and says so in its ``reason``.
* Seeds: one int per model drawn from ``rng`` in the fixed order of :data:`MODELS`, whichever
  models are enabled, so enabling or disabling a model leaves the others' seeds unchanged.
  Everything runs on one thread (``n_jobs=1`` and a BLAS/OpenMP limit of 1).

Params: ``models`` (list, default all five) and one dict per model name overriding its
hyperparameters (e.g. ``{forest: {n_estimators: 50}}``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthrisk.encoding import TableEncoder
from synthrisk.io import child_seed
from synthrisk.metrics.base import Split, nan_row, row
from synthrisk.metrics.roc import rank_auc
from synthrisk.params import Param, ParamError, check_params as check_declared, items_in
from synthrisk.schema import TableSchema

MODELS = ("logreg", "tree", "forest", "xgboost", "catboost")
HYPER = {
    "logreg": {"C": 1.0, "max_iter": 1000},
    "tree": {"max_depth": 6, "min_samples_leaf": 2},
    "forest": {"n_estimators": 100, "max_depth": 8, "min_samples_leaf": 1},
    "xgboost": {"n_estimators": 100, "max_depth": 4, "learning_rate": 0.1, "subsample": 1.0},
    "catboost": {"iterations": 200, "depth": 4, "learning_rate": 0.1},
}


PARAMS = {
    "models": Param(list(MODELS), "classifiers trained on the synthetic table", list, check=items_in(MODELS)),
    **{m: Param({}, f"hyperparameters of {m} (over the defaults {HYPER[m] or '{}'})") for m in MODELS},
}
GOALS = {"tstr_auc": ("maximize", (0.0, 1.0)), "trtr_auc": ("maximize", (0.0, 1.0))}


def evaluate(synthetic: pd.DataFrame, split: Split, schema: TableSchema, rng: np.random.Generator, params: dict) -> list[dict]:
    """TSTR rows: models trained on ``synthetic``, scored on ``split.test``."""
    return auc_rows(synthetic, split.test, schema, rng, params, metric="tstr_auc", train_name="synthetic")


def evaluate_reference(split: Split, schema: TableSchema, rng: np.random.Generator, params: dict) -> list[dict]:
    """TRTR rows: the same models trained on ``split.members``, scored on ``split.test``."""
    return auc_rows(split.members, split.test, schema, rng, params, metric="trtr_auc", train_name="members")


def auc_rows(
    train: pd.DataFrame,
    test: pd.DataFrame,
    schema: TableSchema,
    rng: np.random.Generator,
    params: dict | None,
    *,
    metric: str,
    train_name: str = "training",
) -> list[dict]:
    models, hyper = _params(params)
    seeds = {m: child_seed(rng) for m in MODELS}  # fixed order: see module doc
    target = schema.target
    for name, df in ((train_name, train), ("test", test)):
        missing = [c for c in schema.names if c not in df.columns]
        if missing:
            raise ValueError(f"utility: {name} table lacks column(s) {missing}")

    classes = list(schema.target_levels)
    y_train = _codes(train[target], classes, f"{train_name} table, target {target!r}")
    y_test = _codes(test[target], classes, f"test table, target {target!r}")
    reason = None
    if len(np.unique(y_train)) < 2:
        seen = sorted({classes[i] for i in np.unique(y_train)})
        reason = f"{train_name} table has {len(train)} rows and {len(seen)} target class(es) {seen}: cannot train a classifier"
    elif len(np.unique(y_test)) < 2:
        seen = sorted({classes[i] for i in np.unique(y_test)})
        reason = f"test table has {len(test)} rows and target class(es) {seen}: AUC undefined"
    if reason:
        return [nan_row(metric, reason, model=m) for m in models] + [nan_row(metric, reason, model="mean")]

    enc = TableEncoder(schema, columns=schema.features).fit(train)
    x_train, x_test = enc.transform(train), enc.transform(test)
    present = np.unique(y_train)  # training classes, relabelled 0..k-1 for the models
    y_fit = np.searchsorted(present, y_train)

    rows, values, failed = [], [], []
    with threadpool_limits(limits=1):
        for m in models:
            try:
                model = _make(m, hyper[m], seeds[m], n_classes=len(present))
                model.fit(x_train, y_fit)
                proba = expand_proba(model.predict_proba(x_test), present, len(classes))
                auc = macro_ovr_auc(y_test, proba)
            except Exception as e:  # a failing model is a recorded NaN, not a crash
                rows.append(nan_row(metric, f"{m} failed: {type(e).__name__}: {e}", model=m))
                failed.append(m)
                continue
            rows.append(row(metric, auc, model=m))
            values.append(auc)
    if values:
        note = {"reason": f"mean over {len(values)} of {len(models)} models; failed: {failed}"} if failed else {}
        rows.append(row(metric, float(np.mean(values)), model="mean", **note))
    else:
        rows.append(nan_row(metric, f"every model failed: {failed}", model="mean"))
    return rows


# ------------------------------------------------------------------ helpers
def expand_proba(proba: np.ndarray, present: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities over all ``n_classes`` schema classes.

    ``proba`` has one column per training class (``present``, sorted class indices); every
    class absent from the training table gets probability 0.
    """
    out = np.zeros((proba.shape[0], n_classes), dtype=np.float64)
    out[:, present] = proba
    return out


def macro_ovr_auc(y: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC: the mean, over the classes present in ``y`` (class indices
    into the columns of ``proba``), of the AUC of that class's probability column.

    Needs at least two classes in ``y``. A class whose column is constant (e.g. absent from
    the training table, probability 0) scores 0.5. Ties count one half (Mann-Whitney U).
    """
    labels = np.unique(y)
    if len(labels) < 2:
        raise ValueError("macro_ovr_auc needs at least two classes in y")
    return float(np.mean([rank_auc(y == c, proba[:, c]) for c in labels]))


def _codes(s: pd.Series, classes: list[str], what: str) -> np.ndarray:
    codes = pd.Categorical(s.astype(str), categories=classes).codes
    if (codes < 0).any():
        bad = sorted(set(s.astype(str)[codes < 0]))[:5]
        raise ValueError(f"utility: {what} has value(s) {bad} outside the schema levels {classes[:10]}")
    return codes.astype(np.int64)


def check_params(params: dict | None, where: str) -> dict:
    """The declared keys (:data:`PARAMS`), then each model's hyperparameters: an estimator is
    built with them, so a misspelt one fails naming ``<where>.<model>.<key>``."""
    p = check_declared(PARAMS, params, where)
    for m in p["models"]:  # a misspelt hyperparameter is a config error, not a NaN row
        if not p[m]:
            continue  # only ours (HYPER): nothing to check, and no import of the model's library
        hp = {**HYPER[m], **p[m]}
        try:
            est = _make(m, hp, 0, n_classes=2)
        except TypeError as e:
            raise ParamError(f"{where}.{m}: bad hyperparameter for model {m!r}: {e}") from None
        if m == "xgboost":  # XGBClassifier takes any keyword and only warns at fit time
            unknown = sorted(set(hp) - set(type(est)().get_params()))
            if unknown:
                raise ParamError(f"{where}.xgboost.{unknown[0]}: unknown hyperparameter of model 'xgboost'")
    return p


def _params(params: dict | None) -> tuple[list[str], dict]:
    p = check_params(params, "utility params")
    return list(p["models"]), {m: {**HYPER[m], **p[m]} for m in MODELS}


def _make(name: str, hp: dict, seed: int, n_classes: int):
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(random_state=seed, **hp)
    if name == "tree":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(random_state=seed, **hp)
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(random_state=seed, n_jobs=1, **hp)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(random_state=seed, n_jobs=1, tree_method="hist", verbosity=0, **hp)
    if name == "catboost":
        from catboost import CatBoostClassifier

        return CatBoostClassifier(
            random_seed=seed, thread_count=1, verbose=False, allow_writing_files=False,
            loss_function="MultiClass" if n_classes > 2 else "Logloss", **hp,
        )
    raise ValueError(f"utility: unknown model {name!r}")
