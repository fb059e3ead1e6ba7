"""Forward (noising) processes of TabDiff, Sec. 3.2.

* numerical: variance-exploding Gaussian perturbation [QN] ``x_t = x_0 + sigma(t) * eps``;
* categorical: absorbing-state masking [QC], each token independently replaced by the column's
  [MASK] with probability ``1 - alpha(t)``.

The masking is returned both as hard codes (what the model "sees") and as a one-hot input
whose gradient reaches the schedule parameter ``k`` through a straight-through estimate of
the Bernoulli mask (value = hard 0/1, gradient = d(mask_prob)). The paper trains ``k`` jointly
with the denoiser but does not spell out the estimator; the official code uses a hard
Gumbel-softmax, which is the same straight-through idea.
"""
from __future__ import annotations

import torch


def noise_numerical(x0: torch.Tensor, sigma: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """x_t = x_0 + sigma * eps, eps ~ N(0, I)  # [QN] Sec. 3.2"""
    eps = torch.randn(x0.shape, generator=gen, device=x0.device, dtype=x0.dtype)
    return x0 + sigma * eps


def mask_categorical(codes: torch.Tensor, mask_prob: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mask each token with probability ``mask_prob``  # [QC] Sec. 3.2

    codes: (B, C) int level codes; mask_prob: (B, C). Returns (masked flag as float with a
    straight-through gradient to ``mask_prob``, hard masked flag as bool).
    """
    u = torch.rand(codes.shape, generator=gen, device=codes.device)
    hard = u < mask_prob
    st = hard.to(mask_prob.dtype) + mask_prob - mask_prob.detach()
    return st, hard


def one_hot_with_mask(codes: torch.Tensor, masked: torch.Tensor, n_levels: list[int]) -> torch.Tensor:
    """Concatenated per-column one-hot over (levels + [MASK]); ``masked`` may be soft (B, C).

    Column j occupies ``n_levels[j] + 1`` slots, the last being [MASK].
    """
    parts = []
    for j, k in enumerate(n_levels):
        oh = torch.nn.functional.one_hot(codes[:, j].clamp(max=k - 1), k + 1).to(masked.dtype)
        m = masked[:, j : j + 1]
        mask_slot = torch.zeros_like(oh)
        mask_slot[:, k] = 1.0
        parts.append((1.0 - m) * oh + m * mask_slot)
    if not parts:
        return torch.zeros(codes.shape[0], 0, device=codes.device, dtype=masked.dtype)
    return torch.cat(parts, dim=1)
