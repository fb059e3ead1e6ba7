"""Gen-LRA (Ward et al. 2025): local likelihood ratio with and without the target.

For a target ``x`` take its ``k`` nearest synthetic rows ``S_k(x)``. Model the population
with a Gaussian KDE on the reference rows, ``p_R`` (Silverman's bandwidth, as Synth-MIA), and
the population *plus the target* with the same kernel on reference + {x}:
``p_Rx(s) = (m p_R(s) + K(s - x)) / (m + 1)``. The score is the log likelihood ratio
``sum_{s in S_k(x)} log p_Rx(s) - log p_R(s)``: large when the synthetic rows near x are
better explained once x is added, i.e. the generator saw x.

The study's setting is ``k = 5``, the default we keep. Its script asks for
``gen_lra(hyper_parameters={"closest_compare_n": 1})``, but the Synth-MIA version it ships
(``synth_mia_script_updates/synth_mia/attackers/gen_lra.py`` in the first author's
``tabular-fe-synth-research``) reads only ``k_nearest`` (default 5) and ignores that key, so
the study's numbers were computed with 5 neighbours. (Synth-MIA's current release defaults to
``k_nearest = 200``.) ``k = 1`` is the setting the script meant. Differences from Synth-MIA,
both named here: (1) the
closed form keeps the kernel of ``p_R`` for ``p_Rx``, where SciPy would refit covariance and
bandwidth on the ``m + 1`` rows (a relative change of order 1/m); (2) log densities without
the 1e-20 floor. The ``k`` nearest synthetic rows are found in the encoded space, as Synth-MIA's
``KDTree`` does; the kernel between them and x is evaluated with the KDE's covariance. KDE and its
documented fallback for singular covariances: :mod:`synthrisk.attacks._density`. Fewer
synthetic rows than ``k`` raises an error.
"""
from __future__ import annotations

import numpy as np

from synthrisk.attacks._density import fitted
from synthrisk.attacks._neighbours import knn


def score(data, rng: np.random.Generator, k: int = 5, bw_method: str | float = "silverman") -> np.ndarray:
    if k < 1:
        raise ValueError(f"gen_lra: k must be >= 1, got {k}")
    kde = fitted(data, data.reference, bw_method, "gen_lra reference KDE")
    m = len(kde.data_w)
    syn_w = kde.whiten(data.synthetic)
    log_pr = kde.logpdf(data.synthetic)  # p_R at every synthetic row
    _, idx = knn(data.targets, data.synthetic, k, "l2", who="gen_lra")  # Synth-MIA: KDTree on the encoded rows
    tw = kde.whiten(data.targets)
    log_k = kde.log_kernel(((syn_w[idx] - tw[:, None, :]) ** 2).sum(axis=2))  # kernel of x at those rows
    lp = log_pr[idx]
    log_prx = np.logaddexp(np.log(m) + lp, log_k) - np.log(m + 1)
    return (log_prx - lp).sum(axis=1)
