"""Density estimator (Synth-MIA's ``DensityEstimate``, KDE): log p_synthetic(x).

The study's setting: a Gaussian KDE on the synthetic rows with Silverman's bandwidth
(``scipy.stats.gaussian_kde(bw_method="silverman")``); see :mod:`synthrisk.attacks._density`
for the estimator and its documented fallback when the covariance is singular. Unlike DOMIAS
it does not divide by the population density, so targets in dense regions score high whether
or not they were trained on.

``bw_method``: ``"silverman"`` (default, the study's), ``"scott"`` or a bandwidth factor.
Limitation (measured on the copy control with the earlier Scott/Ledoit-Wolf kernel, 3 seeds):
AUC 0.74/0.71 on carData Arrests at n = 32/64: with few encoded dimensions the kernels are
about as wide as the data, so a member's own kernel is one of many comparable terms. A small
factor (e.g. ``bw_method: 0.3``) makes it more DCR-like.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._density import fitted


def score(data, rng: np.random.Generator, bw_method: str | float = "silverman") -> np.ndarray:
    return fitted(data, data.synthetic, bw_method, "density").logpdf(data.targets)
