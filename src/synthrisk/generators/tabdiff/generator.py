"""TabDiffGenerator: fit TabDiff on one member table, sample synthetic rows.

Training follows the paper's recipe: AdamW, uniform t ~ U(0, 1) per row, the joint loss
[LTOT] with lambda_num annealed from 1 to 0 over the epochs, ReduceLROnPlateau on the epoch
loss (factor 0.9, patience 50), and an EMA copy of denoiser and schedules (decay 0.997 per
epoch) that is used for sampling. Paper defaults are in :data:`PAPER_DEFAULTS`; the class
defaults are a CPU budget (see ``bench/bench_tabdiff.py``).

Choices where the paper is silent: the EMA uses the warm-up ``min(decay, (1+e)/(10+e))`` so
that short CPU runs do not sample from near-initial weights; ``device="auto"`` picks CUDA when
available; torch's thread count and deterministic-algorithms flag are set for the duration of
fit/sample and restored afterwards. Same seed -> same bytes holds on CPU (on CUDA it is not
promised).
"""
from __future__ import annotations

import copy
import math
import sys

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.generators.device import DEVICE, cuda_missing, resolve_device
from synthrisk.io import child_seed
from synthrisk.params import Param, at_least
from synthrisk.schema import TableSchema

# torch, sklearn and the model modules are imported where they are used (fit, sample): this module
# is imported at plan time for PARAMS and RESOURCES, and torch alone costs seconds per snakemake
# call (every dry run on a cluster's login node).

#: the paper's configuration (official release, tabdiff_configs.toml: 8000 epochs of full
#: batches, 50 sampling steps, d_token 4, MLP width 1024, lr 1e-3, sigma in [0.002, 80]).
#: rho_init / k_init are the starting rho and k themselves (EDM's rho = 7, linear masking k = 1);
#: the official code starts from rho = 5 + softplus(7) ~ 12 and k = 1 + softplus(-6) ~ 1.0.
PAPER_DEFAULTS = dict(
    epochs=8000, batch_size=4096, lr=1e-3, weight_decay=0.0, steps=50, d_token=4, width=1024,
    n_layers=2, n_heads=1, factor=32, sigma_min=0.002, sigma_max=80.0, sigma_data=1.0,
    rho_init=7.0, k_init=1.0, churn=1.0, s_noise=1.0, heun=True, anneal_num_loss=True, ema_decay=0.997,
)

DEFAULTS = dict(
    PAPER_DEFAULTS,
    epochs=1000, width=256,  # CPU budget (~30-40 s per 128-row table on one shared core); see bench/bench_tabdiff.py
    lr_factor=0.9, lr_patience=50, device="auto", num_threads=1, progress=True, sample_batch_size=4096,
)


#: one-line descriptions of :data:`DEFAULTS`, the declaration of the generator's params
DOCS = {
    "epochs": "training epochs (0 = untrained)", "batch_size": "rows per training batch",
    "lr": "AdamW learning rate", "weight_decay": "AdamW weight decay",
    "lr_factor": "ReduceLROnPlateau factor", "lr_patience": "ReduceLROnPlateau patience (epochs)",
    "ema_decay": "EMA decay per epoch of the sampling copy", "anneal_num_loss": "anneal lambda_num from 1 to 0",
    "d_token": "column token size", "width": "MLP / time-embedding width", "n_layers": "transformer layers",
    "n_heads": "attention heads", "factor": "transformer feed-forward = d_token * factor",
    "sigma_min": "smallest noise level", "sigma_max": "largest noise level", "sigma_data": "EDM data scale",
    "rho_init": "initial power-mean schedule exponent rho", "k_init": "initial masking schedule exponent k",
    "steps": "sampling steps", "churn": "EDM S_churn", "s_noise": "EDM S_noise", "heun": "Heun correction steps",
    "sample_batch_size": "rows per sampling batch", "device": DEVICE.doc,
    "num_threads": "torch threads during fit/sample (0 = leave torch's setting)",
    "progress": "tqdm bar over epochs on stderr",
}
_POSITIVE = ("batch_size", "steps", "d_token", "width", "n_layers", "n_heads", "factor", "sample_batch_size")
PARAMS = {
    k: DEVICE if k == "device" else Param(v, DOCS[k], check=at_least(1) if k in _POSITIVE else
                                          at_least(0) if k in ("epochs", "num_threads") else None)
    for k, v in DEFAULTS.items()
}


class TabDiffGenerator(Generator):
    """TabDiff as a synthrisk generator. Params (defaults in :data:`DEFAULTS`):

    ``epochs`` (0 = untrained), ``batch_size``, ``lr``, ``weight_decay``, ``lr_factor``,
    ``lr_patience`` (ReduceLROnPlateau), ``ema_decay``, ``anneal_num_loss``; model:
    ``d_token``, ``width`` (MLP / time-embedding width), ``n_layers``, ``n_heads``, ``factor``
    (transformer feed-forward = d_token * factor); diffusion: ``sigma_min``, ``sigma_max``,
    ``sigma_data``, ``rho_init``, ``k_init``; sampler: ``steps``, ``churn`` (EDM S_churn),
    ``s_noise``, ``heun``, ``sample_batch_size``; runtime: ``device`` (auto|cpu|cuda),
    ``num_threads`` (torch threads during fit/sample; 0 = leave torch's setting),
    ``progress`` (tqdm bar over epochs on stderr). Unknown params raise.
    """

    kind = "tabdiff"
    deterministic = True  # on CPU
    PARAMS = PARAMS
    RESOURCES = {"gpu": 1, "runtime": 120, "mem_mb": 16000}

    def __init__(self, **params):
        super().__init__(**params)
        self.p = self.params
        import torch

        self.device = torch.device(resolve_device(self.p["device"], "tabdiff"))
        self.deterministic = self.device.type == "cpu"  # byte-identical reruns promised on CPU only
        self._info: dict = {}

    @classmethod
    def unavailable(cls, params: dict, config: dict | None = None) -> str | None:
        return cuda_missing(str((params or {}).get("device", "auto")), "tabdiff")

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext | None = None) -> None:
        from .model import torch_settings
        from .preprocess import TablePreprocessor

        p = self.p
        self.schema = schema
        seed = child_seed(rng)
        self.pre = TablePreprocessor(schema).fit(data, seed)
        n_num, n_levels = len(self.pre.num_cols), self.pre.n_levels
        self._info = {"device": str(self.device), "modelled_columns": n_num + len(n_levels),
                      "constant_columns": sorted(self.pre.constants)}
        if n_num + len(n_levels) == 0:  # every column constant: nothing to learn
            self.model = None
            self._info.update(epochs_run=0, final_loss=None)
            return
        with torch_settings(p["num_threads"]):
            self._train(data, n_num, n_levels, seed)

    def _train(self, data: pd.DataFrame, n_num: int, n_levels: list[int], seed: int) -> None:
        import torch
        from tqdm import tqdm

        from .denoiser import init_weights
        from .loss import loss_weights
        from .model import TabDiffModel

        p, dev = self.p, self.device
        gen = torch.Generator(device=dev).manual_seed(seed)
        x_np, c_np = self.pre.transform(data)
        x0_all = torch.tensor(x_np, device=dev)
        c_all = torch.tensor(c_np, device=dev)
        with torch.random.fork_rng(devices=[]):  # torch's default init draws from the global RNG: keep it untouched
            model = TabDiffModel(n_num, n_levels, p)
        model = model.to(dev)
        init_weights(model.net, gen)  # every weight redrawn from our generator
        ema = copy.deepcopy(model)
        ema_params = list(ema.parameters())
        for q in ema_params:
            q.requires_grad_(False)
        opt = torch.optim.AdamW(model.parameters(), lr=p["lr"], weight_decay=p["weight_decay"], foreach=True)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=p["lr_factor"], patience=p["lr_patience"])
        n, bs, epochs = len(data), int(p["batch_size"]), int(p["epochs"])
        bar = tqdm(range(epochs), desc=f"tabdiff {self.schema.name}", file=sys.stderr,
                   disable=not p["progress"], mininterval=5.0)
        hist = {"loss": math.nan, "num": math.nan, "cat": math.nan}
        for epoch in bar:
            lam_num, lam_cat = loss_weights(epoch, epochs, p["anneal_num_loss"])
            perm = torch.randperm(n, generator=gen, device=dev)
            tot = num_tot = cat_tot = 0.0
            model.train()
            for start in range(0, n, bs):
                idx = perm[start : start + bs]
                l_num, l_cat = self._loss(model, x0_all[idx], c_all[idx], n_levels, gen)
                loss = lam_num * l_num + lam_cat * l_cat
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                w = len(idx) / n
                tot, num_tot, cat_tot = tot + w * loss.item(), num_tot + w * l_num.item(), cat_tot + w * l_cat.item()
            if not math.isfinite(tot):
                raise FloatingPointError(f"tabdiff: loss became {tot} at epoch {epoch + 1} on {self.schema.name!r}")
            plateau.step(tot)
            decay = min(p["ema_decay"], (1.0 + epoch) / (10.0 + epoch))
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, [q.detach() for q in model.parameters()], 1.0 - decay)
            hist = {"loss": tot, "num": num_tot, "cat": cat_tot}
            bar.set_postfix(loss=f"{tot:.3f}", refresh=False)
        bar.close()
        self.model = ema.eval()
        self._info.update(
            epochs_run=epochs, final_loss=round(hist["loss"], 6), final_num_loss=round(hist["num"], 6),
            final_cat_loss=round(hist["cat"], 6), final_lr=opt.param_groups[0]["lr"],
            rho={c: round(float(r), 4) for c, r in zip(self.pre.num_cols, self.model.num_sched.rho())},
            k={c: round(float(v), 4) for c, v in zip(self.pre.cat_cols, self.model.cat_sched.k())},
        )

    def _loss(self, model: "TabDiffModel", x0: "torch.Tensor", codes: "torch.Tensor", n_levels: list[int], gen):
        """One minibatch of the joint loss  # [QN], [QC], [LNUM], [LCAT]"""
        import torch

        from .denoiser import denoise
        from .forward import mask_categorical, noise_numerical, one_hot_with_mask
        from .loss import categorical_loss, numerical_loss

        b = x0.shape[0]
        t = torch.rand((b, 1), generator=gen, device=x0.device)  # t ~ U(0, 1), one per row
        sigma = model.num_sched.sigma(t)
        x_t = noise_numerical(x0, sigma, gen)
        mprob = model.cat_sched.mask_prob(t).expand(b, len(n_levels))
        m_st, m_hard = mask_categorical(codes, mprob, gen)
        oh = one_hot_with_mask(codes, m_st, n_levels)
        d_num, logits = denoise(model.net, x_t, sigma, oh, t[:, 0], self.p["sigma_data"])
        l_num = numerical_loss(d_num, x0, sigma, self.p["sigma_data"])
        l_cat = categorical_loss(logits, codes, m_hard, model.cat_sched.elbo_weight(t).expand(b, len(n_levels)), mprob)
        return l_num, l_cat

    # --------------------------------------------------------------- sample
    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        if not hasattr(self, "pre"):
            raise RuntimeError("tabdiff: sample() called before fit()")
        k = int(k)
        if self.model is None:
            return self.pre.inverse(np.zeros((k, 0)), np.zeros((k, 0), dtype=np.int64), k)
        import torch

        from .model import torch_settings
        from .sampler import sample_rows

        p = self.p
        with torch_settings(p["num_threads"]):
            gen = torch.Generator(device=self.device).manual_seed(child_seed(rng))
            xs, cs = [], []
            for start in range(0, k, int(p["sample_batch_size"])):
                m = min(int(p["sample_batch_size"]), k - start)
                x, c = sample_rows(self.model.net, self.model.num_sched, self.model.cat_sched, self.pre.n_levels, m,
                                   int(p["steps"]), gen, self.device, p["churn"], p["s_noise"], p["heun"], p["sigma_data"])
                xs.append(x.cpu().numpy())
                cs.append(c.cpu().numpy())
        x_all = np.concatenate(xs) if xs else np.zeros((0, 0))
        c_all = np.concatenate(cs) if cs else np.zeros((0, 0), dtype=np.int64)
        return self.pre.inverse(x_all, c_all, k)

    def info(self) -> dict:
        return dict(self._info)
