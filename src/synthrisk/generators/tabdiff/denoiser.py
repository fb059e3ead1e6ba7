"""The joint denoiser of TabDiff, Sec. 3.4 [NET], with EDM preconditioning [PRE].

Layout (as in the paper, after TabSyn's tokenizer/transformer): every column becomes a token
of width ``d_token`` (numerical: ``x * w_i + b_i``; categorical: a linear embedding of the
one-hot incl. [MASK]); a small transformer encoder mixes the column tokens; the tokens are
flattened and passed through an MLP of width ``width`` to which a sinusoidal embedding of
the diffusion time is added; a second transformer block and per-column heads give a raw
numerical output ``F_i`` and logits over column j's levels.

Choices where the paper is silent: the network is conditioned on the time ``t`` (shared by
all columns; every per-column sigma_i(t) and alpha_j(t) is a function of it) rather than on
the per-column sigmas; weights are initialised from an explicit ``torch.Generator`` so that
fitting never touches torch's global RNG.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of t in [0, 1] (scaled by 1000), (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=t.dtype) / half)
    ang = 1000.0 * t[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(ang), torch.sin(ang)], dim=1)
    return F.pad(emb, (0, dim - emb.shape[1]))


class Block(nn.Module):
    """Pre-norm transformer block over the column tokens."""

    def __init__(self, d: int, heads: int, factor: int):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, d * factor), nn.ReLU(), nn.Linear(d * factor, d))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a = self.n1(h)
        h = h + self.attn(a, a, a, need_weights=False)[0]
        return h + self.ff(self.n2(h))


class Denoiser(nn.Module):
    """(x_num_in, cat_onehot, t) -> (F_num raw output, list of per-column logits)  # [NET] Sec. 3.4"""

    def __init__(self, n_num: int, n_levels: list[int], d_token: int = 4, n_layers: int = 2,
                 n_heads: int = 1, factor: int = 32, width: int = 1024):
        super().__init__()
        if d_token % n_heads:
            raise ValueError(f"tabdiff: d_token ({d_token}) must be a multiple of n_heads ({n_heads})")
        self.n_num, self.n_levels, self.d = n_num, list(n_levels), d_token
        n_tok = n_num + len(n_levels)
        self.num_w = nn.Parameter(torch.empty(n_num, d_token))
        self.num_b = nn.Parameter(torch.empty(n_num, d_token))
        self.cat_emb = nn.ModuleList([nn.Linear(k + 1, d_token) for k in n_levels])
        self.enc = nn.ModuleList([Block(d_token, n_heads, factor) for _ in range(n_layers)])
        self.width = width
        self.proj_in = nn.Linear(n_tok * d_token, width)
        self.t_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.mlp = nn.Sequential(
            nn.SiLU(), nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width),
            nn.SiLU(), nn.Linear(width, n_tok * d_token),
        )
        self.dec = nn.ModuleList([Block(d_token, n_heads, factor) for _ in range(n_layers)])
        self.num_head = nn.Parameter(torch.empty(n_num, d_token))
        self.num_head_b = nn.Parameter(torch.empty(n_num))
        self.cat_heads = nn.ModuleList([nn.Linear(d_token, k) for k in n_levels])

    def forward(self, x_num: torch.Tensor, cat_oh: torch.Tensor, t: torch.Tensor):
        b = t.shape[0]
        toks = []
        if self.n_num:
            toks.append(x_num[:, :, None] * self.num_w[None] + self.num_b[None])
        off = 0
        for k, emb in zip(self.n_levels, self.cat_emb):
            toks.append(emb(cat_oh[:, off : off + k + 1])[:, None, :])
            off += k + 1
        h = torch.cat(toks, dim=1)
        for blk in self.enc:
            h = blk(h)
        z = self.proj_in(h.reshape(b, -1)) + self.t_mlp(time_embedding(t, self.width))
        h = h + self.mlp(z).reshape(h.shape)
        for blk in self.dec:
            h = blk(h)
        f_num = (h[:, : self.n_num] * self.num_head[None]).sum(-1) + self.num_head_b
        logits = [head(h[:, self.n_num + j]) for j, head in enumerate(self.cat_heads)]
        return f_num, logits


def init_weights(module: nn.Module, gen: torch.Generator) -> None:
    """Uniform(+-1/sqrt(fan_in)) for every weight, zero biases, ones for LayerNorm gains.

    Drawn from ``gen`` so fitting is reproducible without seeding torch's global RNG.
    """
    norms = {id(p) for m in module.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    with torch.no_grad():
        for name, p in module.named_parameters():
            if id(p) in norms:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias") or name.endswith("_b"):
                p.zero_()
            else:
                fan_in = p.shape[-1] if p.dim() > 1 else 1
                bound = 1.0 / math.sqrt(fan_in)
                p.copy_((torch.rand(p.shape, generator=gen, device=p.device) * 2 - 1) * bound)


def edm_precondition(sigma: torch.Tensor, sigma_data: float = 1.0):
    """EDM coefficients (c_skip, c_out, c_in)  # [PRE] Karras et al. 2022, Table 1; used by TabDiff"""
    s2, d2 = sigma ** 2, sigma_data ** 2
    c_skip = d2 / (s2 + d2)
    c_out = sigma * sigma_data / torch.sqrt(s2 + d2)
    c_in = 1.0 / torch.sqrt(s2 + d2)
    return c_skip, c_out, c_in


def denoise(net: Denoiser, x_num_t: torch.Tensor, sigma: torch.Tensor, cat_oh: torch.Tensor, t: torch.Tensor,
            sigma_data: float = 1.0):
    """D(x_t; sigma) = c_skip x_t + c_out F(c_in x_t, t) and categorical logits  # [PRE], [NET]"""
    c_skip, c_out, c_in = edm_precondition(sigma, sigma_data)
    f_num, logits = net(c_in * x_num_t, cat_oh, t)
    return c_skip * x_num_t + c_out * f_num, logits
