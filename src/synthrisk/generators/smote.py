"""SMOTE family from imbalanced-learn, used as a generator of new rows.

The variant follows the column kinds of the features (the target is the class label):
``SMOTE`` when all features are numerical, ``SMOTEN`` when all are categorical, ``SMOTENC``
when mixed. Each class is oversampled by its share of the ``k`` requested rows (largest
remainder, so class proportions are kept), and only the newly interpolated rows are returned,
never the originals.

``k_neighbors`` (default 5) is capped at the smallest oversampled class's size minus one. A
class with a single member row cannot be interpolated: its quota goes to the other classes
(recorded in the sidecar as ``reallocated``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.io import child_seed
from synthrisk.params import Param, at_least
from synthrisk.schema import TableSchema
from synthrisk.splits import quotas


class SMOTEGenerator(Generator):
    kind = "smote"
    PARAMS = {"k_neighbors": Param(5, "neighbours interpolated between (capped at the smallest class size - 1)",
                                   check=at_least(1))}

    def __init__(self, **params):
        super().__init__(**params)
        self.k_neighbors = int(self.params["k_neighbors"])
        self._info: dict = {}

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        self.data, self.schema = data, schema
        if not schema.features:
            raise ValueError("smote needs at least one feature column besides the target")

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

        s = self.schema
        X, y = self.data[s.features], self.data[s.target].to_numpy(dtype=object)
        classes, counts = np.unique(y, return_counts=True)
        usable = counts >= 2
        if not usable.any():
            raise ValueError("smote: every class has a single member row; nothing to interpolate")
        q = np.zeros(len(classes), dtype=np.int64)
        q[usable] = quotas(counts[usable], k)
        self._info = {"reallocated": [str(c) for c in classes[~usable]]}
        k_nn = max(1, min(self.k_neighbors, int(counts[usable & (q > 0)].min()) - 1))
        strategy = {c: int(n + qq) for c, n, qq in zip(classes, counts, q) if qq > 0}
        cat_idx = [i for i, f in enumerate(s.features) if s.column(f).is_categorical]
        seed = child_seed(rng)
        if not cat_idx:
            sampler, variant = SMOTE(sampling_strategy=strategy, k_neighbors=k_nn, random_state=seed), "SMOTE"
        elif len(cat_idx) == len(s.features):
            sampler, variant = SMOTEN(sampling_strategy=strategy, k_neighbors=k_nn, random_state=seed), "SMOTEN"
        else:
            sampler = SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy, k_neighbors=k_nn, random_state=seed)
            variant = "SMOTENC"
        # classes not oversampled keep their rows; imblearn appends the new rows after the originals
        Xr, yr = sampler.fit_resample(X, y)
        new = pd.DataFrame(Xr).iloc[len(X):].reset_index(drop=True)
        new[s.target] = np.asarray(yr)[len(X):]
        self._info.update({"variant": variant, "k_neighbors": k_nn})
        return new[s.names]

    def info(self) -> dict:
        return dict(self._info)
