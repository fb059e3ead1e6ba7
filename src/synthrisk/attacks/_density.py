"""Regularised Gaussian kernel density estimates for the density-based attacks.

Why not :class:`scipy.stats.gaussian_kde`: with 32-128 one-hot encoded rows the sample
covariance is singular (the rows span fewer dimensions than there are columns), and SciPy's
KDE crashes. We keep the Gaussian KDE but regularise its kernel covariance:

* the kernel shape is the **Ledoit-Wolf shrinkage covariance** of the attacker's pooled data
  (synthetic + reference rows), which is always positive definite (it shrinks towards a
  multiple of the identity), plus a 1e-6 ridge for the all-constant corner case;
* one shape is shared by every KDE of a split, so density ratios compare like with like;
* the bandwidth factor is Scott's rule ``m ** (-1 / (d + 4))`` for a KDE on ``m`` rows in
  ``d`` dimensions, as in SciPy.

Densities are evaluated in the whitened space (Cholesky factor of the shape), in blocks, with
a log-sum-exp, so they never underflow to ``-inf``.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, solve_triangular
from scipy.special import logsumexp
from sklearn.covariance import LedoitWolf

BLOCK = 2048


class Whitener:
    """Affine map ``x -> L^{-1} (x - mu)`` with ``L L^T`` the shrunk covariance."""

    def fit(self, x: np.ndarray) -> "Whitener":
        x = np.asarray(x, dtype=np.float64)
        self.mu = x.mean(axis=0)
        if x.shape[0] < 2:
            cov = np.eye(x.shape[1])
        else:
            cov = LedoitWolf(assume_centered=False).fit(x).covariance_
        cov = cov + 1e-6 * np.eye(x.shape[1])
        c, _ = cho_factor(cov, lower=True)
        self.L = np.tril(c)
        self.logdet = 2.0 * float(np.log(np.diag(self.L)).sum())
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return solve_triangular(self.L, (np.asarray(x, dtype=np.float64) - self.mu).T, lower=True).T


def scott_factor(m: int, d: int) -> float:
    return float(m) ** (-1.0 / (d + 4))


def sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, ``(len(a), len(b))``, clipped at 0."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def log_kernel_norm(d: int, h: float, logdet: float) -> float:
    """Log of the Gaussian kernel's normalising constant in the original space."""
    return -0.5 * d * np.log(2 * np.pi) - d * np.log(h) - 0.5 * logdet


def kde_logpdf(points_w: np.ndarray, data_w: np.ndarray, h: float, logdet: float) -> np.ndarray:
    """Log density at ``points_w`` of a Gaussian KDE on ``data_w`` (both whitened), bandwidth ``h``."""
    m, d = data_w.shape
    out = np.empty(len(points_w))
    for s in range(0, len(points_w), BLOCK):
        q = points_w[s : s + BLOCK]
        out[s : s + BLOCK] = logsumexp(-0.5 * sq_dists(q, data_w) / h**2, axis=1)
    return out - np.log(m) + log_kernel_norm(d, h, logdet)


class KDE:
    """A Gaussian KDE on ``data`` with a shared :class:`Whitener` and Scott bandwidth."""

    def __init__(self, data: np.ndarray, whitener: Whitener, bandwidth: float | None = None):
        if len(data) == 0:
            raise ValueError("KDE on an empty table")
        self.w = whitener
        self.data_w = whitener.transform(data)
        m, d = self.data_w.shape
        self.h = float(bandwidth) if bandwidth is not None else scott_factor(m, d)
        if not self.h > 0:
            raise ValueError(f"KDE bandwidth must be > 0, got {bandwidth!r}")

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        return kde_logpdf(self.w.transform(x), self.data_w, self.h, self.w.logdet)


def attacker_whitener(data) -> Whitener:
    """The split's shared kernel shape: fitted on synthetic + reference rows (cached)."""
    if "whitener" not in data._cache:
        data._cache["whitener"] = Whitener().fit(np.vstack([data.synthetic, data.reference]))
    return data._cache["whitener"]
