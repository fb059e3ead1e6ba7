"""DCR: minus the distance from each target to its closest synthetic row.

A generator that copies its training rows puts members at distance 0. ``metric``: ``"l2"``
(default) or ``"l1"``, in the shared encoded space.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._neighbours import nearest_distance


def score(data, rng: np.random.Generator, metric: str = "l2") -> np.ndarray:
    return -nearest_distance(data.targets, data.synthetic, metric, who="dcr")
