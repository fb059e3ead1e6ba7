"""Local neighbourhood: number of synthetic rows within a fixed radius of the target.

The radius is in the shared encoded space (standardised numericals, one-hot categoricals).
Default ``radius=1.0``: two rows that differ in one categorical value are sqrt(2) apart, so
the default ball holds rows that agree on every category and are within about one standard
deviation on the numericals. Unlike :mod:`mc` the radius does not adapt to the data, so on
tables with many numerical columns it can be empty for every target (all ties, AUC 0.5).

Limitation (measured, copy control, 3 seeds): AUC 0.93-0.99 on AER CreditCard and diamonds
but 0.75/0.71 on carData Arrests at n = 32/64: with few columns, many non-members have some
synthetic row within the fixed radius, and a count does not tell "at distance 0" from "at
distance 0.9". It cannot reliably separate the copy control on such tables.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._neighbours import count_within


def score(data, rng: np.random.Generator, radius: float = 1.0, metric: str = "l2") -> np.ndarray:
    if not radius > 0:
        raise ValueError(f"local_neighbourhood: radius must be > 0, got {radius}")
    return count_within(data.targets, data.synthetic, radius, metric)
