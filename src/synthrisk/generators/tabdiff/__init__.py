"""TabDiff (Shi et al., "TabDiff: a Mixed-type Diffusion Model for Tabular Data Generation",
ICLR 2025, arXiv 2410.20626), written from the paper in torch.

One module per piece; comments cite the paper by these tags (section numbers of arXiv v3):

* [QN]   Sec. 3.2  numerical forward process, VE Gaussian: x_t = x_0 + sigma(t) eps
* [QC]   Sec. 3.2  categorical forward process, masking: q(x_t|x_0) = Cat(alpha_t x_0 + (1-alpha_t) m)
* [POST] Sec. 3.2  masked reverse posterior q(x_s | x_t, x_0) used for unmasking
* [LNUM] Sec. 3.2  numerical denoising loss (EDM weighting)
* [LCAT] Sec. 3.2  continuous-time masked-diffusion ELBO, weight -alpha'(t)/(1-alpha(t))
* [LTOT] Sec. 3.2  joint loss lambda_num L_num + lambda_cat L_cat
* [PM]   Sec. 3.3  per-column power-mean schedule sigma_i(t), learnable rho_i
* [LK]   Sec. 3.3  per-column masking schedule alpha_j(t) = 1 - t^k_j, learnable k_j
* [NET]  Sec. 3.4  tokenizer + transformer + time-conditioned MLP + per-column heads
* [SAMP] Sec. 3.5  mixed-type stochastic sampler (churn, Euler/Heun, unmasking)
* [PRE]  EDM preconditioning (Karras et al., 2022, Table 1), which TabDiff uses

Modules: :mod:`.schedules`, :mod:`.forward`, :mod:`.denoiser`, :mod:`.loss`,
:mod:`.sampler`, :mod:`.preprocess`, :mod:`.model`, :mod:`.generator` (which imports torch only when it fits or samples).
"""
from .generator import DEFAULTS, PAPER_DEFAULTS, TabDiffGenerator

__all__ = ["TabDiffGenerator", "DEFAULTS", "PAPER_DEFAULTS"]
