"""Density estimator: log p_synthetic(x) alone (regularised Gaussian KDE).

See :mod:`synthrisk.attacks._density` for the regularisation. Unlike DOMIAS it does not
divide by the population density, so targets in dense regions score high whether or not
they were trained on.

Limitation (measured, copy control, 3 seeds): AUC 0.92/0.83 on AER CreditCard and 0.74/0.71
on carData Arrests at n = 32/64 (1.00 on diamonds). With Scott's factor (~0.8 at these sizes)
the kernels are about as wide as the data, so in few encoded dimensions a member's own
kernel is one of many comparable terms, and the attack cannot reliably separate a copy on
low-dimensional tables; it gets worse as n grows. A smaller ``bandwidth`` (e.g. 0.3) makes it
more DCR-like (Arrests n = 32: 0.97) without moving the holdout control.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._density import KDE, attacker_whitener


def score(data, rng: np.random.Generator, bandwidth: float | None = None) -> np.ndarray:
    return KDE(data.synthetic, attacker_whitener(data), bandwidth).logpdf(data.targets)
