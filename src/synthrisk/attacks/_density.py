"""Gaussian kernel density estimates for the density-based attacks (density, DOMIAS, Gen-LRA).

The study ran Synth-MIA, whose KDE attacks use :class:`scipy.stats.gaussian_kde` with
``bw_method="silverman"``. :class:`KDE` is that estimator, written out so the attacks can work
in log space and Gen-LRA can use a closed form:

* kernel covariance ``h**2 * S``, with ``S`` the sample covariance of the KDE's own rows
  (``ddof=1``, as SciPy) and ``h`` Silverman's factor ``(m (d + 2) / 4) ** (-1 / (d + 4))``
  for ``m`` rows in ``d`` dimensions (``bw_method="scott"``: ``m ** (-1 / (d + 4))``; a number:
  that factor);
* densities are evaluated in the space whitened by the Cholesky factor of ``S``, in blocks,
  with a log-sum-exp, so they never underflow to ``-inf`` (SciPy's ``evaluate`` does; the
  attacks' scores are its logarithms, which rank the targets the same way).

**Documented fallback.** SciPy's KDE raises ``LinAlgError`` when ``S`` is singular, which it is
whenever the rows span fewer dimensions than the encoding has: on every table with a
categorical column (its one-hot columns sum to one), and whenever ``m <= d``. We treat a
Cholesky pivot at rounding level (condition number above 1e12) as singular too, where
SciPy would go on with a meaningless kernel. Synth-MIA's
attack then fails on that split. We instead replace ``S`` by the Ledoit-Wolf shrinkage
covariance of the same rows (always positive definite: it shrinks towards a multiple of the
identity; a 1e-6 ridge covers all-constant data), keep Silverman's factor, and record the
fallback in the ``reason`` of the attack's rows (:func:`synthrisk.attacks.note`).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular
from scipy.special import logsumexp
from sklearn.covariance import LedoitWolf

BLOCK = 2048
BW_METHODS = ("silverman", "scott")


def bandwidth_factor(bw_method: str | float, m: int, d: int) -> float:
    """SciPy's bandwidth factor for ``m`` rows in ``d`` dimensions."""
    if isinstance(bw_method, str):
        if bw_method == "silverman":
            return float((m * (d + 2) / 4.0) ** (-1.0 / (d + 4)))
        if bw_method == "scott":
            return float(m ** (-1.0 / (d + 4)))
        raise ValueError(f"KDE bw_method {bw_method!r} unknown; choose one of {BW_METHODS} or a number")
    h = float(bw_method)
    if not h > 0:
        raise ValueError(f"KDE bandwidth factor must be > 0, got {bw_method!r}")
    return h


def sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, ``(len(a), len(b))``, clipped at 0."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def log_kernel_norm(d: int, h: float, logdet: float) -> float:
    """Log of the Gaussian kernel's normalising constant in the original space."""
    return -0.5 * d * np.log(2 * np.pi) - d * np.log(h) - 0.5 * logdet


class KDE:
    """Gaussian KDE on ``data`` (rows), as ``scipy.stats.gaussian_kde(data.T, bw_method)``.

    ``fallback`` is True when the sample covariance was singular and the Ledoit-Wolf one was
    used (see the module docstring); ``why`` then says so.
    """

    def __init__(self, data: np.ndarray, bw_method: str | float = "silverman", who: str = "KDE"):
        data = np.asarray(data, dtype=np.float64)
        if len(data) == 0:
            raise ValueError(f"{who}: KDE on an empty table")
        m, d = data.shape
        self.h = bandwidth_factor(bw_method, m, d)
        self.fallback, self.why = False, None
        cov = np.cov(data, rowvar=False, ddof=1).reshape(d, d) if m > 1 else np.zeros((d, d))
        try:
            L = cholesky(cov, lower=True)
            dg = np.diag(L)
            if not np.all(np.isfinite(L)) or dg.min() <= 0 or (dg.min() / dg.max()) ** 2 < 1e-12:
                raise LinAlgError("numerically singular")  # a pivot at rounding level is singular
        except (LinAlgError, ValueError):
            shrunk = LedoitWolf(assume_centered=False).fit(data).covariance_ if m > 1 else np.zeros((d, d))
            L = cholesky(shrunk + 1e-6 * np.eye(d), lower=True)
            self.fallback = True
            self.why = (f"{who}: the sample covariance of its {m} rows in {d} encoded dimensions is singular "
                        f"(SciPy's gaussian_kde fails); Ledoit-Wolf shrinkage covariance used")
        self.L = L
        self.logdet = 2.0 * float(np.log(np.diag(L)).sum())
        self.data_w = self.whiten(data)

    def whiten(self, x: np.ndarray) -> np.ndarray:
        return solve_triangular(self.L, np.asarray(x, dtype=np.float64).T, lower=True).T

    def log_kernel(self, sq_dist_w: np.ndarray) -> np.ndarray:
        """Log kernel value for squared distances measured in the whitened space."""
        d = self.data_w.shape[1]
        return -0.5 * sq_dist_w / self.h**2 + log_kernel_norm(d, self.h, self.logdet)

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        xw = self.whiten(x)
        m = len(self.data_w)
        out = np.empty(len(xw))
        for s in range(0, len(xw), BLOCK):
            out[s : s + BLOCK] = logsumexp(-0.5 * sq_dists(xw[s : s + BLOCK], self.data_w) / self.h**2, axis=1)
        d = self.data_w.shape[1]
        return out - np.log(m) + log_kernel_norm(d, self.h, self.logdet)


def fitted(data, rows: np.ndarray, bw_method: str | float, who: str) -> KDE:
    """A KDE on ``rows``; a fallback is noted on the running attack's rows."""
    from synthrisk.attacks import note

    kde = KDE(rows, bw_method, who=who)
    if kde.fallback:
        note(data, kde.why)
    return kde
