"""``dptvae``: a TVAE-style variational autoencoder trained with DP-SGD (opacus 1.6), written here.

**Why a VAE and not a GAN.** DP-SGD needs each training row's gradient, clipped to a norm bound,
before the noise is added. A VAE is one network trained on one per-row loss (reconstruction plus
KL), which is exactly that setting: every parameter, encoder and decoder alike, gets clipped
per-sample gradients, and releasing the decoder is post-processing of a DP model. CTGAN needs a
discriminator that sees the private rows, a generator trained through it, alternation between the
two and a gradient penalty (a gradient of a gradient per row), which per-sample clipping handles
awkwardly and whose accounting must cover only the discriminator's steps. So the DP deep generator
of this benchmark is a VAE in the manner of TVAE (Xu et al. 2019): an MLP encoder to a Gaussian
latent, an MLP decoder to per-column outputs, the loss ``loss_factor * reconstruction + KL``.

**Model.** Encoder ``d -> width -> width`` (ReLU) to the latent mean and log-variance; decoder
``latent -> width -> width`` (ReLU) to, per numerical column, a mean and a log-scale (a Gaussian in
the encoded space; the scale is a decoder output, not a free parameter, because opacus computes
per-sample gradients of layers, not of bare parameters), and per categorical column one logit per
schema level. Sampling draws z ~ N(0, I), a numerical value from its Gaussian (clipped to the
encoded range) and a level from the softmax (TVAE takes the arg max; sampling keeps rare levels).
No batch norm (DP-SGD cannot use it: it mixes rows).

**Encoding does not look at the members** (so it cannot leak them): a categorical column is one-hot
over the schema's full level list (the levels of the whole prepared table); a numerical column is
scaled to [-1, 1] from public bounds: the param ``bounds: {column: [low, high]}`` where given, else
the schema's ``min``/``max``, which the data stage takes from the full prepared table (every split
part, not the members), and members outside them are clipped. A column whose bounds are equal is
not modelled (emitted as that value). TVAE's mode-specific normalisation (a Gaussian mixture fitted
on the rows) would leak and is not used.

**Privacy.** ``epsilon`` and ``delta`` (default ``1 / (10 n)``, n the member rows; it must be
below 1/n) are the target. opacus's ``PrivacyEngine(accountant="prv")`` (the PRV accountant),
Poisson sampling with rate ``1 / ceil(n / batch_size)`` (``batch_size`` above n is clamped to n,
recorded as ``batch_size_used``), flat clipping at ``max_grad_norm``, and the noise multiplier from
``make_private_with_epsilon`` for the planned ``epochs`` (or the param ``noise_multiplier`` where
given). Before the first step, the number of steps is capped at the largest count whose PRV epsilon
is within ``epsilon``: opacus's PRV accountant keeps the history ``[(noise, rate, steps)]`` (constant
noise and rate merge into one entry), so the epsilon after t steps is exactly that of a fresh PRV
accountant with history ``[(noise, rate, t)]``, monotone in t; the cap is found by bisection on it
(:func:`synthrisk.generators.dp_sgd.max_steps`) and training stops there, mid-epoch if need be (``stopped_early``). This is the
per-step check, done up front (asking the accountant after every step would cost about 0.5 s a
step). After the last step the engine's own ``get_epsilon(delta)`` is read and a model whose spent
epsilon exceeds the target is never released (raises). A plan that cannot take one step
within the budget raises. The sidecar info records ``epsilon`` (target), ``epsilon_spent``
(``privacy_engine.get_epsilon(delta)`` after the last step), ``delta``, ``noise_multiplier``,
``sample_rate``, ``steps``, ``steps_planned``, ``epochs_run`` and ``accountant``.

``epsilon: inf`` (YAML ``.inf`` or the string ``inf``) trains the same model without DP (no
clipping, no noise, shuffled minibatches): the non-private end of an epsilon sweep; its info says
``dp: false`` and claims no epsilon.

**Determinism.** Every random draw comes from torch Generators seeded from the numpy Generator the
driver passes (never the global torch RNG): weight initialisation, the latent noise, Poisson
sampling (the data loader's generator, which opacus's DP loader reuses) and the DP noise
(``noise_generator=`` of ``make_private*`` with ``secure_mode=False``). So the same seed gives the
same bytes on CPU. That noise is a seeded pseudo-random stream, which is what reproducibility
needs; a deployment that must resist an attacker who can predict the stream would use
``secure_mode=True`` (torchcsprng) and give up byte-identical reruns. CPU only; torch's thread
count is set for fit/sample (``num_threads``) and restored.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.generators.dp_sgd import (  # noqa: F401  (max_steps, is_private: re-exported)
    epsilon_value, is_private, max_steps, quiet_opacus, released_epsilon, resolve_delta, step_cap,
    torch_threads,
)
from synthrisk.io import child_seed
from synthrisk.params import Param, at_least
from synthrisk.schema import TableSchema


def _bounds_value(v) -> str | None:
    if not isinstance(v, dict):
        return f"expected a mapping column -> [low, high], got {type(v).__name__}"
    for col, b in v.items():
        if (not isinstance(b, (list, tuple)) or len(b) != 2 or not all(isinstance(x, (int, float)) for x in b)
                or not b[0] <= b[1]):
            return f"{col}: expected [low, high] with low <= high, got {b!r}"
    return None


PARAMS = {
    "epsilon": Param(1.0, "DP target epsilon (inf: train without DP)", (float, str), check=epsilon_value),
    "delta": Param(None, "DP delta (default 1/(10 n), n the member rows; must be < 1/n)", float,
                   check=lambda v: None if 0 < v < 1 else f"must be in (0, 1), got {v!r}"),
    "epochs": Param(30, "planned training epochs (the noise is set so that they fit the budget)", int,
                    check=at_least(1)),
    "batch_size": Param(32, "expected rows per step (Poisson rate 1/ceil(n/batch_size)); above n: clamped to n",
                        int, check=at_least(1)),
    "max_grad_norm": Param(1.0, "per-sample gradient clipping norm", float,
                           check=lambda v: None if v > 0 else f"must be > 0, got {v!r}"),
    "noise_multiplier": Param(None, "fixed noise multiplier (default: from epsilon for the planned epochs; "
                              "training then stops where the budget ends)", float,
                              check=lambda v: None if v > 0 else f"must be > 0, got {v!r}"),
    "lr": Param(1e-3, "Adam learning rate", float),
    "weight_decay": Param(1e-5, "Adam weight decay", float),
    "width": Param(128, "hidden width of encoder and decoder", int, check=at_least(1)),
    "latent": Param(32, "latent dimension", int, check=at_least(1)),
    "loss_factor": Param(2.0, "weight of the reconstruction loss against the KL term (TVAE's)", float),
    "bounds": Param({}, "public bounds of numerical columns, {column: [low, high]} (default: the schema's)",
                    dict, check=_bounds_value),
    "num_threads": Param(1, "torch threads during fit/sample (0 = leave torch's setting)", int, check=at_least(0)),
}
LOG_SCALE = (math.log(1e-3), math.log(1.0))  # clamp of the decoder's numerical log-scales


class PublicEncoder:
    """Columns <-> model space from public information only (schema levels, public bounds)."""

    def __init__(self, schema: TableSchema, bounds: dict | None = None):
        self.schema = schema
        self.num_cols, self.cat_cols, self.bounds, self.constants = [], [], {}, {}
        for c in schema.columns:
            if c.is_categorical:
                self.cat_cols.append(c.name)
                continue
            lo, hi = (bounds or {}).get(c.name, (c.min, c.max))
            if lo is None or hi is None:
                raise ValueError(f"dptvae: numerical column {c.name!r} has no public bounds "
                                 f"(schema min/max missing; give params.bounds.{c.name})")
            lo, hi = float(lo), float(hi)
            if hi > lo:
                self.num_cols.append(c.name)
                self.bounds[c.name] = (lo, hi)
            else:
                self.constants[c.name] = lo
        self.cat_sizes = [len(schema.column(c).levels) for c in self.cat_cols]

    @property
    def width(self) -> int:
        return len(self.num_cols) + sum(self.cat_sizes)

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for name in self.num_cols:
            lo, hi = self.bounds[name]
            v = np.clip(df[name].to_numpy(dtype=np.float64), lo, hi)
            blocks.append((2.0 * (v - lo) / (hi - lo) - 1.0)[:, None])
        for name in self.cat_cols:
            levels = list(self.schema.column(name).levels)
            codes = pd.Categorical(df[name].astype(str), categories=levels).codes
            if (codes < 0).any():
                raise ValueError(f"dptvae: column {name!r} has a level not in the schema")
            blocks.append(np.eye(len(levels))[codes])
        return np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(df), 0), dtype=np.float32)

    def inverse(self, num: np.ndarray, codes: np.ndarray, k: int) -> pd.DataFrame:
        out = {}
        for c in self.schema.columns:
            if c.name in self.constants:
                v = np.full(k, self.constants[c.name])
                out[c.name] = np.round(v).astype(np.int64) if c.dtype == "int" else v
            elif c.name in self.bounds:
                lo, hi = self.bounds[c.name]
                v = lo + (np.clip(num[:, self.num_cols.index(c.name)], -1.0, 1.0) + 1.0) * (hi - lo) / 2.0
                out[c.name] = np.round(v).astype(np.int64) if c.dtype == "int" else v
            else:
                out[c.name] = np.array(c.levels, dtype=object)[codes[:, self.cat_cols.index(c.name)]]
        return pd.DataFrame(out, columns=self.schema.names)


def _build_model(d_in: int, n_num: int, cat_sizes: list[int], width: int, latent: int):
    from torch import nn

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
            self.mu = nn.Linear(width, latent)
            self.logvar = nn.Linear(width, latent)
            self.dec = nn.Sequential(nn.Linear(latent, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                     nn.Linear(width, 2 * n_num + sum(cat_sizes)))

        def forward(self, x, eps):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h).clamp(-10.0, 10.0)
            z = mu + eps * (0.5 * logvar).exp()
            return self.dec(z), mu, logvar

    return VAE()


def _init_weights(model, gen) -> None:
    """Every Linear drawn from ``gen`` (torch's default init scheme, without its global RNG)."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                bound = 1.0 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.uniform_(-bound, bound, generator=gen)


class DPTVAEGenerator(Generator):
    """TVAE-style VAE trained with DP-SGD (opacus, PRV accountant); see the module docstring."""

    kind = "dptvae"
    deterministic = True  # on CPU
    PARAMS = PARAMS
    RESOURCES = {"runtime": 30, "mem_mb": 4000}

    def __init__(self, **params):
        super().__init__(**params)
        self.p = self.params
        self._info: dict = {}

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext | None = None) -> None:
        import torch

        p, n = self.p, len(data)
        if n < 1:
            raise ValueError(f"dptvae: no member rows for {schema.name!r}")
        self.schema = schema
        self.enc = PublicEncoder(schema, p["bounds"])
        private = is_private(p["epsilon"])
        delta = resolve_delta(p["delta"], n, private, "dptvae")
        bs = min(int(p["batch_size"]), n)
        self._info = {"dp": private, "accountant": "prv" if private else None,
                      "epsilon": float(p["epsilon"]) if private else None, "delta": delta if private else None,
                      "batch_size_used": bs, "modelled_columns": len(self.enc.num_cols) + len(self.enc.cat_cols),
                      "encoding": "levels: schema; numerical: public bounds " + str(
                          {c: list(b) for c, b in self.enc.bounds.items()})}
        with torch_threads(p["num_threads"]):
            self.gen = torch.Generator().manual_seed(child_seed(rng))
            x = torch.tensor(self.enc.transform(data))
            self.model = _build_model(x.shape[1], len(self.enc.num_cols), self.enc.cat_sizes, p["width"], p["latent"])
            _init_weights(self.model, self.gen)
            if self.enc.width == 0:
                self._info.update(epochs_run=0, steps=0)
                return
            with quiet_opacus():
                (self._fit_dp if private else self._fit_plain)(x, bs, delta)
        self.model.eval()

    def _loss(self, model, x):
        """Per-row TVAE loss, averaged over the batch: loss_factor * reconstruction + KL."""
        import torch
        import torch.nn.functional as F

        eps = torch.randn((x.shape[0], self.p["latent"]), generator=self.gen)
        out, mu, logvar = model(x, eps)
        k = len(self.enc.num_cols)
        rec = torch.zeros(x.shape[0])
        if k:
            m, ls = out[:, :k], out[:, k:2 * k].clamp(*LOG_SCALE)
            rec = rec + (((x[:, :k] - m) ** 2) / (2 * torch.exp(2 * ls)) + ls).sum(dim=1)
        pos, col = 2 * k, k
        for size in self.enc.cat_sizes:
            target = x[:, col:col + size].argmax(dim=1)
            rec = rec + F.cross_entropy(out[:, pos:pos + size], target, reduction="none")
            pos, col = pos + size, col + size
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)
        return (self.p["loss_factor"] * rec + kl).mean()

    def _optimizer(self):
        import torch

        return torch.optim.Adam(self.model.parameters(), lr=self.p["lr"], weight_decay=self.p["weight_decay"])

    def _fit_plain(self, x, bs: int, delta: float) -> None:
        import torch

        opt, n, steps = self._optimizer(), x.shape[0], 0
        self.model.train()
        for _ in range(int(self.p["epochs"])):
            perm = torch.randperm(n, generator=self.gen)
            for s in range(0, n, bs):
                opt.zero_grad(set_to_none=True)
                loss = self._loss(self.model, x[perm[s:s + bs]])
                loss.backward()
                opt.step()
                steps += 1
        self._info.update(epochs_run=int(self.p["epochs"]), steps=steps, epsilon_spent=None,
                          final_loss=round(float(loss.detach()), 6))

    def _fit_dp(self, x, bs: int, delta: float) -> None:
        import torch
        from opacus import PrivacyEngine
        from torch.utils.data import DataLoader, TensorDataset

        p, n = self.p, x.shape[0]
        target = float(p["epsilon"])
        loader = DataLoader(TensorDataset(x), batch_size=bs, generator=torch.Generator().manual_seed(
            int(torch.randint(0, 2**31 - 1, (1,), generator=self.gen))))
        noise_gen = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self.gen)))
        engine = PrivacyEngine(accountant="prv", secure_mode=False)
        epochs = int(p["epochs"])
        common = dict(module=self.model, optimizer=self._optimizer(), data_loader=loader,
                      max_grad_norm=float(p["max_grad_norm"]), poisson_sampling=True, noise_generator=noise_gen)
        if p["noise_multiplier"] is None:
            model, opt, dl = engine.make_private_with_epsilon(target_epsilon=target, target_delta=delta,
                                                              epochs=epochs, **common)
        else:
            model, opt, dl = engine.make_private(noise_multiplier=float(p["noise_multiplier"]), **common)
        q, sigma, per_epoch = 1.0 / len(loader), float(opt.noise_multiplier), len(dl)
        planned = epochs * per_epoch
        allowed, eps_allowed = step_cap(sigma, q, delta, target, planned, "dptvae")
        steps, loss = 0, torch.zeros(())
        model.train()
        while steps < allowed:
            for (xb,) in dl:
                if steps >= allowed:
                    break
                opt.zero_grad(set_to_none=True)
                if xb.shape[0]:
                    loss = self._loss(model, xb)
                    loss.backward()
                else:  # an empty Poisson batch: still a step of the mechanism (noise only)
                    for prm in model.parameters():
                        prm.grad_sample = torch.zeros((0, *prm.shape))
                opt.step()
                steps += 1
        spent = released_epsilon(engine, sigma, q, steps, delta, target, "dptvae")
        self.model = model._module if hasattr(model, "_module") else model
        self._info.update(epsilon_spent=round(spent, 6), noise_multiplier=round(sigma, 6), sample_rate=q,
                          steps=steps, steps_planned=planned, epochs_run=round(steps / per_epoch, 4),
                          epochs_planned=epochs, stopped_early=steps < planned,
                          epsilon_predicted=round(eps_allowed, 6), final_loss=round(float(loss.detach()), 6))

    # --------------------------------------------------------------- sample
    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        import torch

        if not hasattr(self, "enc"):
            raise RuntimeError("dptvae: sample() called before fit()")
        k, kn = int(k), len(self.enc.num_cols)
        with torch_threads(self.p["num_threads"]), torch.no_grad():
            gen = torch.Generator().manual_seed(child_seed(rng))
            codes = np.zeros((k, len(self.enc.cat_cols)), dtype=np.int64)
            if self.enc.width == 0:
                return self.enc.inverse(np.zeros((k, 0)), codes, k)
            out = self.model.dec(torch.randn((k, self.p["latent"]), generator=gen))
            m, ls = out[:, :kn], out[:, kn:2 * kn].clamp(*LOG_SCALE)
            num = (m + torch.exp(ls) * torch.randn(m.shape, generator=gen)).numpy().astype(np.float64)
            pos = 2 * kn
            for j, size in enumerate(self.enc.cat_sizes):
                probs = torch.softmax(out[:, pos:pos + size], dim=1)
                codes[:, j] = torch.multinomial(probs, 1, generator=gen)[:, 0].numpy()
                pos += size
        return self.enc.inverse(num, codes, k)

    def info(self) -> dict:
        return dict(self._info)
