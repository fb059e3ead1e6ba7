"""DOMIAS (van Breugel et al. 2023): density ratio p_synthetic(x) / p_reference(x).

As Synth-MIA runs it for the study: two Gaussian KDEs with Silverman's bandwidth, one on the
synthetic rows and one on the reference rows, each with its own covariance
(:mod:`synthrisk.attacks._density`, including the documented fallback for singular
covariances). The score is the log of the ratio (Synth-MIA: the ratio with a 1e-20 floor in
the denominator; the ranking is the same wherever the floor does not bind).
``bw_method``: ``"silverman"`` (default), ``"scott"`` or a bandwidth factor.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._density import fitted


def score(data, rng: np.random.Generator, bw_method: str | float = "silverman") -> np.ndarray:
    p_syn = fitted(data, data.synthetic, bw_method, "domias synthetic KDE").logpdf(data.targets)
    p_ref = fitted(data, data.reference, bw_method, "domias reference KDE").logpdf(data.targets)
    return p_syn - p_ref
