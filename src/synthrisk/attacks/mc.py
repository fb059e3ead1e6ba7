"""MC (Monte Carlo, Hilprecht et al. 2019 / GAN-Leaks style): share of synthetic rows in a ball.

Score: fraction of synthetic rows within ``radius`` of the target. Default radius (spec: the
median nearest-neighbour distance) is the median, over all targets, of the distance from a
target to its nearest synthetic row; it uses no labels. ``quantile`` changes that quantile,
``radius`` fixes it. Ties (e.g. many targets with no synthetic row in the ball) are left as
ties: the AUC counts them as half.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._neighbours import count_within, nearest_distance


def score(data, rng: np.random.Generator, radius: float | None = None, quantile: float = 0.5,
          metric: str = "l2") -> np.ndarray:
    if radius is None:
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f"mc: quantile must be in (0, 1], got {quantile}")
        radius = float(np.quantile(nearest_distance(data.targets, data.synthetic, metric, who="mc"), quantile))
    if radius < 0:
        raise ValueError(f"mc: radius must be >= 0, got {radius}")
    radius = max(radius, 1e-9)  # a zero radius still counts exact copies
    return count_within(data.targets, data.synthetic, radius, metric) / len(data.synthetic)
