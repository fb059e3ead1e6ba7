"""DCR-Diff: DCR to the synthetic rows minus DCR to the reference rows.

Score ``d_ref(x) - d_syn(x)``: high when a target is much closer to the synthetic data than
to fresh population rows, which corrects DCR for targets that sit in dense regions anyway.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._neighbours import nearest_distance


def score(data, rng: np.random.Generator, metric: str = "l2") -> np.ndarray:
    d_syn = nearest_distance(data.targets, data.synthetic, metric, who="dcr_diff")
    d_ref = nearest_distance(data.targets, data.reference, metric, who="dcr_diff")
    return d_ref - d_syn
