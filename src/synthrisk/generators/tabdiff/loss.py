"""TabDiff training objective, Sec. 3.2-3.3.

* numerical: EDM-weighted denoising loss [LNUM]
  ``lambda(sigma) * (D(x_t; sigma) - x_0)^2`` with ``lambda = (sigma^2 + s_d^2) / (sigma s_d)^2``;
* categorical: continuous-time masked-diffusion ELBO [LCAT]
  ``-alpha'(t) / (1 - alpha(t)) * log p_theta(x_0 | x_t)`` on masked tokens (unmasked tokens
  are carried over and cost nothing, the "SUBS" parameterisation the paper adopts);
* total [LTOT]: ``lambda_num * L_num + lambda_cat * L_cat``, both averaged over rows and
  columns. The paper's recipe anneals ``lambda_num`` linearly from 1 to 0 over the epochs and
  keeps ``lambda_cat = 1`` (see :func:`loss_weights`).

The schedules' parameters (rho, k) receive gradients through sigma(t) / the ELBO weight and
the straight-through masking, and are trained jointly with the denoiser.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F


def numerical_loss(d_num: torch.Tensor, x0: torch.Tensor, sigma: torch.Tensor, sigma_data: float = 1.0) -> torch.Tensor:
    """lambda(sigma) ||D - x_0||^2, mean over rows and columns  # [LNUM] Sec. 3.2"""
    if x0.shape[1] == 0:
        return x0.new_zeros(())
    weight = (sigma ** 2 + sigma_data ** 2) / (sigma * sigma_data) ** 2
    return (weight * (d_num - x0) ** 2).mean()


def categorical_loss(logits: list[torch.Tensor], codes: torch.Tensor, masked: torch.Tensor,
                     elbo_weight: torch.Tensor, mask_prob: torch.Tensor) -> torch.Tensor:
    """sum over masked tokens of w_j(t) * CE_j, mean over rows and columns  # [LCAT] Sec. 3.2

    ``masked`` is the hard 0/1 mask. The term is written as ``w * p / stopgrad(p) * masked * CE``
    (p = mask probability): its value is the ELBO term, and its gradient in k is the exact
    derivative of the expected term ``w(t) p(t) CE`` (choice where the paper is silent: with
    the weight alone, k would only ever be pushed down).
    """
    if codes.shape[1] == 0:
        return elbo_weight.new_zeros(())
    scale = elbo_weight * mask_prob / mask_prob.detach()
    terms = []
    for j, lg in enumerate(logits):
        ce = F.cross_entropy(lg, codes[:, j], reduction="none")
        terms.append(scale[:, j] * ce * masked[:, j].to(ce.dtype))
    return torch.stack(terms, dim=1).mean()


def loss_weights(epoch: int, epochs: int, anneal_num: bool) -> tuple[float, float]:
    """(lambda_num, lambda_cat) for an epoch  # [LTOT] Sec. 3.2 / training details"""
    lam_num = 1.0 - epoch / max(epochs, 1) if anneal_num else 1.0
    return lam_num, 1.0
