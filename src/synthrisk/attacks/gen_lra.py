"""Gen-LRA (Ward et al. 2025): local likelihood ratio with and without the target.

For a target ``x`` take its ``k`` nearest synthetic rows ``S_k(x)``. Model the population
with a Gaussian KDE on the reference rows, ``p_R``, and the population *plus the target* with
the same KDE on reference + {x}: ``p_Rx(s) = (m p_R(s) + K_h(s - x)) / (m + 1)``. The score
is the log likelihood ratio ``sum_{s in S_k(x)} log p_Rx(s) - log p_R(s)``: large when the
synthetic rows near x are better explained once x is added, i.e. the generator saw x.

The closed form needs ``p_R`` only at the synthetic rows, so the attack is one KDE pass plus
one k-NN query. KDE regularisation as in :mod:`synthrisk.attacks._density`. Default ``k=5``;
fewer synthetic rows than ``k`` raises an error.

Measured on the copy control (3 seeds, n = 32/64): AUC 0.96 on AER CreditCard, 0.97-1.0 on
diamonds, 0.89/0.87 on carData Arrests (few columns: the reference KDE is wide there too).
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._density import KDE, attacker_whitener, log_kernel_norm
from synthrisk.attacks._neighbours import knn


def score(data, rng: np.random.Generator, k: int = 5, bandwidth: float | None = None) -> np.ndarray:
    if k < 1:
        raise ValueError(f"gen_lra: k must be >= 1, got {k}")
    w = attacker_whitener(data)
    kde = KDE(data.reference, w, bandwidth)
    m, d = kde.data_w.shape
    syn_w = w.transform(data.synthetic)
    log_pr = kde.logpdf(data.synthetic)  # p_R at every synthetic row
    tw = w.transform(data.targets)
    dist, idx = knn(tw, syn_w, k, "l2", who="gen_lra")  # neighbours in the whitened space
    log_k = -0.5 * dist**2 / kde.h**2 + log_kernel_norm(d, kde.h, w.logdet)
    lp = log_pr[idx]
    log_prx = np.logaddexp(np.log(m) + lp, log_k) - np.log(m + 1)
    return (log_prx - lp).sum(axis=1)
