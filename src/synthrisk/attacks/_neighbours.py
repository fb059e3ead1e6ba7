"""Vectorised nearest-neighbour helpers shared by the distance-based attacks and diversity.

Everything goes through scikit-learn's tree/brute-force searches (``n_jobs=1``), so the cost
grows like ``n log n`` for trees, never like a Python loop over pairs.
"""
from __future__ import annotations

import numpy as np

METRICS = {"l2": "euclidean", "euclidean": "euclidean", "l1": "manhattan", "manhattan": "manhattan"}


def _metric(metric: str) -> str:
    try:
        return METRICS[metric.lower()]
    except KeyError:
        raise ValueError(f"distance metric {metric!r} unknown; choose one of {sorted(METRICS)}") from None


def knn(query: np.ndarray, data: np.ndarray, k: int = 1, metric: str = "l2", who: str = "attack"):
    """Distances and indices (each ``(len(query), k)``) of the ``k`` nearest rows of ``data``."""
    if len(data) < k:
        raise ValueError(f"{who}: needs {k} nearest neighbours but the table searched has {len(data)} rows")
    from sklearn.neighbors import NearestNeighbors  # here: plan-time imports of this module stay light

    nn = NearestNeighbors(n_neighbors=k, metric=_metric(metric), n_jobs=1).fit(data)
    return nn.kneighbors(query, return_distance=True)


def nearest_distance(query: np.ndarray, data: np.ndarray, metric: str = "l2", who: str = "attack") -> np.ndarray:
    """Distance from each query row to its closest row of ``data``."""
    return knn(query, data, 1, metric, who)[0][:, 0]


def count_within(query: np.ndarray, data: np.ndarray, radius: float | np.ndarray, metric: str = "l2") -> np.ndarray:
    """Number of ``data`` rows within ``radius`` (inclusive) of each query row."""
    from sklearn.neighbors import KDTree

    tree = KDTree(data, metric=_metric(metric))
    return tree.query_radius(query, r=radius, count_only=True).astype(np.float64)


def self_knn_distance(data: np.ndarray, k: int, who: str = "metric") -> np.ndarray:
    """Distance from each row of ``data`` to its k-th nearest *other* row."""
    if len(data) < k + 1:
        raise ValueError(f"{who}: needs at least {k + 1} rows for {k} neighbours, got {len(data)}")
    from sklearn.neighbors import NearestNeighbors

    d, _ = NearestNeighbors(n_neighbors=k + 1, n_jobs=1).fit(data).kneighbors(data)
    return d[:, k]
