"""Learnable per-column noise schedules of TabDiff (Shi et al., ICLR 2025, Sec. 3.3, "feature-wise learnable
 diffusion processes").

* Numerical column i: power-mean schedule [PM]
  ``sigma_i(t) = (sigma_min^(1/rho_i) + t (sigma_max^(1/rho_i) - sigma_min^(1/rho_i)))^rho_i``.
* Categorical column j: masking schedule [LK] ``alpha_j(t) = 1 - t^(k_j)``, where
  ``alpha`` is the probability that a token is still unmasked at time ``t``.

Choices where the paper is silent (documented, not from the paper):

* ``rho = rho_floor + softplus(raw)`` and ``k = k_floor + softplus(raw)`` keep both positive
  while they are learned; the raw parameters start so that ``rho = rho_init``, ``k = k_init``.
* ``alpha`` is squeezed into ``[eps_max, 1 - eps_min]`` (``1 - alpha = eps_min + (1 - eps_min -
  eps_max) t^k``) so the masked-diffusion ELBO weight stays finite at t = 0 and t = 1; the
  official code does the same with eps_min = 1e-5, eps_max = 1e-3.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

RHO_FLOOR = 1.0
K_FLOOR = 0.1
EPS_MIN = 1e-5
EPS_MAX = 1e-3


def inverse_softplus(y: float) -> float:
    """raw such that softplus(raw) = y (y > 0)."""
    return y + math.log(-math.expm1(-y))


class PowerMeanSchedule(nn.Module):
    """sigma_i(t) for every numerical column i, with a learnable rho_i ([PM], Sec. 3.3)."""

    def __init__(self, n_cols: int, sigma_min: float = 0.002, sigma_max: float = 80.0, rho_init: float = 7.0):
        super().__init__()
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"tabdiff: need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        if rho_init <= RHO_FLOOR:
            raise ValueError(f"tabdiff: rho_init must exceed {RHO_FLOOR}, got {rho_init}")
        self.sigma_min = float(sigma_min)
        self.sigma_max = float(sigma_max)
        self.raw = nn.Parameter(torch.full((n_cols,), inverse_softplus(rho_init - RHO_FLOOR)))

    def rho(self) -> torch.Tensor:
        return RHO_FLOOR + F.softplus(self.raw)

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """t: (B, 1) in [0, 1] -> sigma: (B, n_cols)  # [PM] Sec. 3.3"""
        rho = self.rho()
        lo, hi = self.sigma_min ** (1.0 / rho), self.sigma_max ** (1.0 / rho)
        return (lo + t * (hi - lo)) ** rho

    def t_of_sigma(self, sigma: torch.Tensor) -> torch.Tensor:
        """Inverse of [PM] (used by the sampler's churn step)."""
        rho = self.rho()
        lo, hi = self.sigma_min ** (1.0 / rho), self.sigma_max ** (1.0 / rho)
        return (sigma ** (1.0 / rho) - lo) / (hi - lo)


class MaskSchedule(nn.Module):
    """alpha_j(t) = 1 - t^(k_j) for every categorical column j, with a learnable k_j ([LK], Sec. 3.3)."""

    def __init__(self, n_cols: int, k_init: float = 1.0):
        super().__init__()
        if k_init <= K_FLOOR:
            raise ValueError(f"tabdiff: k_init must exceed {K_FLOOR}, got {k_init}")
        self.raw = nn.Parameter(torch.full((n_cols,), inverse_softplus(k_init - K_FLOOR)))

    def k(self) -> torch.Tensor:
        return K_FLOOR + F.softplus(self.raw)

    def mask_prob(self, t: torch.Tensor) -> torch.Tensor:
        """1 - alpha_j(t): probability that column j is masked at time t, (B, n_cols)  # [LK] Sec. 3.3"""
        return EPS_MIN + (1.0 - EPS_MIN - EPS_MAX) * t.clamp(min=0.0) ** self.k()

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return 1.0 - self.mask_prob(t)

    def elbo_weight(self, t: torch.Tensor) -> torch.Tensor:
        """-alpha'(t) / (1 - alpha(t)): the continuous-time masked-diffusion ELBO weight  # [LCAT] Sec. 3.2"""
        k = self.k()
        dmask = (1.0 - EPS_MIN - EPS_MAX) * k * t.clamp(min=1e-12) ** (k - 1.0)
        return dmask / self.mask_prob(t)
