"""MC (Monte Carlo, Hilprecht et al. 2019 / GAN-Leaks style): share of synthetic rows in a ball.

Score: fraction of synthetic rows *strictly* closer than ``radius`` to the target. Default
radius, as Synth-MIA's ``MC`` (Hilprecht's median heuristic): the median, over all targets,
of the distance from a target to its nearest synthetic row (Synth-MIA takes the median of
squared distances and compares squared distances; the same ball, except that for an even
number of targets it averages the two middle squared distances, which we follow). It uses no
labels. ``quantile`` changes that quantile, ``radius`` fixes it. A zero radius (most targets
have an exact copy) gives every target 0, as in Synth-MIA. Ties are left as ties: the AUC
counts them as half.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._neighbours import count_within, nearest_distance


def score(data, rng: np.random.Generator, radius: float | None = None, quantile: float = 0.5,
          metric: str = "l2") -> np.ndarray:
    if radius is None:
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f"mc: quantile must be in (0, 1], got {quantile}")
        d = nearest_distance(data.targets, data.synthetic, metric, who="mc")
        radius = float(np.sqrt(np.quantile(d**2, quantile)))
    if radius < 0:
        raise ValueError(f"mc: radius must be >= 0, got {radius}")
    if radius == 0:
        return np.zeros(len(data.targets))
    inside = np.nextafter(radius, 0.0)  # strictly closer than the radius
    return count_within(data.targets, data.synthetic, inside, metric) / len(data.synthetic)
