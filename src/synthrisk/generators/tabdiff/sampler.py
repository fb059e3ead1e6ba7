"""TabDiff's mixed-type stochastic sampler [SAMP] (Sec. 3.5, Algorithm "Sampling").

From t = 1 to 0 on a uniform grid of ``steps`` intervals, each step:

1. churn [SAMP]: raise the noise level from t to t_hat, where sigma_i(t_hat) <= (1 + gamma)
   sigma_i(t) for every numerical column (gamma = min(churn / steps, sqrt(2) - 1), EDM's
   S_churn rule), add the matching Gaussian noise to the numerical columns and re-mask
   unmasked tokens with probability 1 - alpha(t_hat) / alpha(t);
2. numerical: Euler step of the probability-flow ODE from sigma(t_hat) to sigma(t_next),
   with Heun's second-order correction unless t_next = 0 [SAMP] (EDM Alg. 2);
3. categorical: reverse masking posterior [POST]: a masked token stays masked with
   probability (1 - alpha(t_next)) / (1 - alpha(t_hat)), else it takes a level drawn from
   the denoiser's softmax; unmasked tokens are kept. The last step unmasks everything.

Every random draw comes from the given ``torch.Generator``.
"""
from __future__ import annotations

import math

import torch

from .denoiser import denoise
from .forward import one_hot_with_mask


@torch.no_grad()
def sample_rows(net, num_sched, cat_sched, n_levels: list[int], k: int, steps: int, gen: torch.Generator,
                device: torch.device, churn: float = 1.0, s_noise: float = 1.0, heun: bool = True,
                sigma_data: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw k rows in model space: (x_num (k, n_num), codes (k, n_cat))."""
    n_num, n_cat = num_sched.raw.numel(), len(n_levels)
    grid = torch.linspace(1.0, 0.0, steps + 1, device=device)
    x = torch.randn((k, n_num), generator=gen, device=device) * num_sched.sigma_max  # prior N(0, sigma_max^2)
    mask_code = torch.tensor(n_levels, device=device, dtype=torch.long)
    codes = mask_code[None, :].repeat(k, 1)  # prior: every token is [MASK]
    masked = torch.ones((k, n_cat), dtype=torch.bool, device=device)
    gamma = min(churn / steps, math.sqrt(2.0) - 1.0) if n_num else 0.0
    for i in range(steps):
        t_cur, t_next = grid[i].reshape(1, 1), grid[i + 1].reshape(1, 1)
        # 1. churn  # [SAMP]
        sig_cur = num_sched.sigma(t_cur)
        t_hat = t_cur
        if gamma > 0:
            t_hat = num_sched.t_of_sigma(sig_cur * (1.0 + gamma)).min().clamp(max=1.0).reshape(1, 1)
            t_hat = torch.maximum(t_hat, t_cur)
        sig_hat = num_sched.sigma(t_hat)
        if n_num:
            extra = (sig_hat ** 2 - sig_cur ** 2).clamp(min=0.0).sqrt()
            x = x + extra * s_noise * torch.randn(x.shape, generator=gen, device=device)
        if n_cat and gamma > 0:
            p_remask = (1.0 - cat_sched.alpha(t_hat) / cat_sched.alpha(t_cur)).clamp(0.0, 1.0)
            remask = (torch.rand(masked.shape, generator=gen, device=device) < p_remask) & ~masked
            masked |= remask
            codes = torch.where(masked, mask_code[None, :], codes)
        # 2. numerical ODE step  # [SAMP]
        oh = one_hot_with_mask(codes, masked.float(), n_levels)
        t_vec = t_hat.reshape(1).expand(k)
        d_num, logits = denoise(net, x, sig_hat, oh, t_vec, sigma_data)
        last = i == steps - 1
        sig_next = torch.zeros_like(sig_hat) if last else num_sched.sigma(t_next)
        if n_num:
            slope = (x - d_num) / sig_hat
            x_next = x + (sig_next - sig_hat) * slope
            if heun and not last:
                d2, _ = denoise(net, x_next, sig_next, oh, t_next.reshape(1).expand(k), sigma_data)
                x_next = x + (sig_next - sig_hat) * 0.5 * (slope + (x_next - d2) / sig_next)
            x = x_next
        # 3. unmasking  # [POST]
        if n_cat:
            a_hat = cat_sched.alpha(t_hat)
            p_unmask = torch.ones_like(a_hat) if last else ((cat_sched.alpha(t_next) - a_hat) / (1.0 - a_hat)).clamp(0.0, 1.0)
            unmask = masked & (torch.rand(masked.shape, generator=gen, device=device) < p_unmask)
            for j, lg in enumerate(logits):
                draw = torch.multinomial(torch.softmax(lg.float(), dim=1), 1, generator=gen)[:, 0]
                codes[:, j] = torch.where(unmask[:, j], draw, codes[:, j])
            masked &= ~unmask
    return x, codes
