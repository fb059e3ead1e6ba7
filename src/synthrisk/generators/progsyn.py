"""``progsyn``: ProgSyn (Vero, Balunović, Vechev, "CuTS: Customizable Tabular Synthetic Data
Generation", arXiv 2307.03577), our implementation from the paper, on torch (CPU).

1. Discretise: a categorical column is its schema levels; a numerical column 32 (``bins``) equal-width
   bins between the schema's ``min``/``max`` (the whole prepared table's range, public as in
   :mod:`synthrisk.generators.dp_marginal`); an integer column whose range holds at most ``bins``
   integers gets one bin per integer.
2. Pre-train a generator network (noise -> MLP -> one softmax per column) so that the marginals of
   its sampled batches match the seed rows' marginals: every 1- and 2-way marginal, and the 3-way
   marginals of at most ``max_cells_3way`` cells (at most ``max_3way`` of them, the smallest first):
   the squared error of the probability tables, batches drawn by Gumbel-softmax at ``tau``.
3. Fine-tune with the dataset's declared constraints (:mod:`synthrisk.constraints`, given to the
   job by the plan) added to the loss, each with weight ``weights.<kind>`` (row, statistical,
   fairness; downstream constraints are scored, not trained on), by differentiable relaxations
   (:func:`relax`): a column is its soft one-hot; a numerical column's value the bins'
   representative values weighted by it; ``a >= b`` is ``sigmoid((a - b + h) / (t r))`` (``r`` the
   smallest spacing of the representative values involved, ``h = r / 2`` so ties count as true,
   ``t`` the comparison temperature), ``==`` on numbers ``exp(-((a - b) / (t r))^2)``; a level test
   the level's probability; ``and`` a product, ``or`` ``a + b - ab``, ``not`` ``1 - a``, ``if a then
   b`` ``1 - a (1 - b)``. A row constraint adds ``-mean log(sat)``; a statistic is computed on the
   sampled batch (quantiles through the share below the bound; parity through soft group rates)
   and adds the squared amount by which it misses its target by more than half its tolerance
   (scaled by the column's spread); a parity gap is aimed at a quarter of its bound, because the
   gap measured on n sampled rows is noisy (at n = 128 a group may hold 30 rows). Default weights:
   row 10, statistical 1, fairness 10. Fine-tuning keeps the marginal loss.
4. Sample: noise -> per-column categorical draws from the softmax (numpy stream), then a bin maps
   to its representative value: the mean of the seed values in the bin (integers rounded), or,
   in the private mode or for an empty bin, the bin's midpoint.

Private mode (``epsilon`` set): every marginal of step 2 is measured once with Gaussian noise
(L2 sensitivity 1 per marginal under adding/removing a row), the zCDP budget ``rho`` split equally
over them (``sigma = sqrt(K / (2 rho))``, K marginals); counts are clipped at 0 and normalised.
The accounting is :mod:`synthrisk.generators.dp_marginal`'s (zCDP, conversion of Canonne, Kamath,
Steinke 2020); ``delta`` defaults to ``1 / (10 n)``. Everything after is post-processing of the
noisy marginals: the representative values are midpoints, and a ``within T of real`` target is
taken from the pre-trained (DP) model's own samples, never from the seed rows. The sidecar's
``info.privacy`` carries the budget and the spent rho/epsilon; ``fit`` raises if it would exceed.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from synthrisk import constraints as C
from synthrisk.generators.base import FitContext, Generator
from synthrisk.io import child_seed
from synthrisk.params import Param, at_least
from synthrisk.schema import TableSchema


def _weights_ok(v) -> str | None:
    bad = [k for k in v if k not in ("row", "statistical", "fairness")]
    if bad:
        return f"unknown key(s) {bad}; allowed: row, statistical, fairness"
    if any(not isinstance(x, (int, float)) or x < 0 for x in v.values()):
        return "weights must be numbers >= 0"
    return None


PARAMS = {
    "bins": Param(32, "equal-width bins per numerical column (the paper's 32)", int, check=at_least(2)),
    "width": Param(256, "hidden width of the generator MLP (2 layers)", int, check=at_least(8)),
    "noise_dim": Param(64, "input noise dimension", int, check=at_least(1)),
    "batch_size": Param(512, "rows per sampled training batch", int, check=at_least(16)),
    "pretrain_steps": Param(1500, "Adam steps matching the marginals", int, check=at_least(0)),
    "finetune_steps": Param(800, "Adam steps with the constraint losses added", int, check=at_least(0)),
    "lr": Param(1e-3, "Adam learning rate", float),
    "tau": Param(0.5, "Gumbel-softmax temperature of the training batches", float,
                 check=lambda v: None if v > 0 else "must be > 0"),
    "cmp_temperature": Param(0.5, "temperature t of the relaxed comparisons (in units of the value spacing)",
                             float, check=lambda v: None if v > 0 else "must be > 0"),
    "weights": Param({"row": 10.0, "statistical": 1.0, "fairness": 10.0},
                     "loss weight per constraint kind (row, statistical, fairness)", dict, check=_weights_ok),
    "use_constraints": Param(True, "fine-tune with the dataset's constraints (false: ProgSyn without them)", bool),
    "three_way": Param(True, "also match the 3-way marginals (target, a, b)", bool),
    "max_cells_3way": Param(50000, "3-way marginals are matched while their cells add up to at most this", int,
                            check=at_least(0)),
    "epsilon": Param(None, "zCDP private mode: (epsilon, delta)-DP marginal measurements (null: not private)",
                     float, check=lambda v: None if v > 0 else "must be > 0"),
    "delta": Param(None, "delta of the private mode (default 1 / (10 n))", float,
                   check=lambda v: None if 0 < v < 1 else "must be in (0, 1)"),
    "num_threads": Param(1, "torch threads during fit/sample (0 = leave torch's setting)", int, check=at_least(0)),
}


class ProgSynGenerator(Generator):
    kind = "progsyn"
    PARAMS = PARAMS
    RESOURCES = {"mem_mb": 3000}

    @classmethod
    def uses_constraints(cls, params: dict) -> bool:
        return bool(params.get("use_constraints", True))

    def __init__(self, **params):
        super().__init__(**params)
        self._info: dict = {}

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        import torch

        p = self.params
        n = len(data)
        if n == 0:
            raise ValueError("progsyn: no member rows")
        self.schema = schema
        private = p["epsilon"] is not None
        self.cons = C.parse_all(ctx.constraints, schema.name, schema) if p["use_constraints"] else []
        self.disc = Bins(schema, p["bins"], None if private else data)
        codes = self.disc.encode(data)
        marg = self._marginals()
        measured, privacy = self._measure(codes, marg, n, rng)
        self._info.update(privacy=privacy, dp=private, epsilon=p["epsilon"] if private else None,
                          delta=privacy.get("delta") if private else None,
                          epsilon_spent=privacy.get("epsilon_spent") if private else None,
                          accountant="zcdp" if private else None,
                          marginals={"1way": sum(len(m) == 1 for m in marg), "2way": sum(len(m) == 2 for m in marg),
                                     "3way": sum(len(m) == 3 for m in marg)},
                          sizes=dict(self.disc.sizes), constraints=[c.name for c in self.cons])
        old = torch.get_num_threads()
        if p["num_threads"]:
            torch.set_num_threads(p["num_threads"])
        try:
            self._train(marg, measured, data if not private else None, rng)
        finally:
            torch.set_num_threads(old)

    def _marginals(self) -> list[tuple[str, ...]]:
        """Every 1- and 2-way marginal, and the 3-way marginals (target, a, b) over pairs of other
        columns while their cells stay under ``max_cells_3way`` in total (all of them on the
        default tables: a few thousand cells)."""
        names, t = self.schema.names, self.schema.target
        sz = self.disc.sizes
        out = [(a,) for a in names] + list(itertools.combinations(names, 2))
        others = [a for a in names if a != t]
        if self.params["three_way"]:
            budget = self.params["max_cells_3way"]
            for a, b in itertools.combinations(others, 2):
                cells = sz[t] * sz[a] * sz[b]
                if cells > budget:
                    continue
                budget -= cells
                out.append((t, a, b))
        return out

    def _measure(self, codes: dict, marg: list, n: int, rng: np.random.Generator) -> tuple[list, dict]:
        from synthrisk.generators.dp_marginal import cdp_delta, eps_from_rho, rho_from_eps

        sz = self.disc.sizes
        counts = []
        for m in marg:
            idx = np.ravel_multi_index([codes[a] for a in m], [sz[a] for a in m])
            counts.append(np.bincount(idx, minlength=math.prod(sz[a] for a in m)).astype(float).reshape([sz[a] for a in m]))
        eps = self.params["epsilon"]
        if eps is None:
            return [c / n for c in counts], {"dp": False}
        delta = float(self.params["delta"]) if self.params["delta"] is not None else 1.0 / (10 * n)
        if delta >= 1.0 / n:
            raise ValueError(f"progsyn: delta {delta:g} is not below 1/n = {1.0 / n:g}")
        rho = rho_from_eps(float(eps), delta) * (1 - 1e-9)
        sigma = math.sqrt(len(marg) / (2 * rho))
        spent = 0.0
        out = []
        for c in counts:
            spent += 1.0 / (2 * sigma**2)
            noisy = np.clip(c + rng.normal(0.0, sigma, size=c.shape), 0.0, None)
            out.append(noisy / noisy.sum() if noisy.sum() > 0 else np.full(c.shape, 1.0 / c.size))
        spent_eps = eps_from_rho(spent, delta)
        if cdp_delta(spent, float(eps)) <= delta:
            spent_eps = min(spent_eps, float(eps))
        if spent_eps > eps:
            raise RuntimeError(f"progsyn: spent rho {spent:.6g} (eps {spent_eps:.6g}) exceeds the budget eps {eps:g}")
        return out, {"dp": True, "accounting": "zCDP; (eps, delta) by Canonne, Kamath, Steinke 2020 Cor. 13",
                     "epsilon": float(eps), "delta": delta, "rho_budget": rho_from_eps(float(eps), delta),
                     "rho_spent": spent, "epsilon_spent": spent_eps, "sigma": sigma, "measurements": len(marg)}

    def _train(self, marg, measured, data, rng) -> None:
        import torch

        p = self.params
        gen = torch.Generator().manual_seed(child_seed(rng))
        names = self.schema.names
        sizes = [self.disc.sizes[a] for a in names]
        with torch.random.fork_rng(devices=[]):  # torch's default init draws from the global RNG: keep it untouched
            torch.manual_seed(child_seed(rng))
            self.net = torch.nn.Sequential(
                torch.nn.Linear(p["noise_dim"], p["width"]), torch.nn.ReLU(),
                torch.nn.Linear(p["width"], p["width"]), torch.nn.ReLU(),
                torch.nn.Linear(p["width"], sum(sizes)))
        self.sizes = sizes
        pos = {a: i for i, a in enumerate(names)}
        off = np.concatenate([[0], np.cumsum(sizes)])
        D = int(off[-1])
        t = pos[self.schema.target]
        K = sizes[t]
        # the measured marginals as one 1-way vector, one pairwise (Gram) matrix and one (K, D, D)
        # tensor of target-conditioned pairs, with masks of the blocks that hold a measurement
        T1, T2, T3 = np.zeros(D), np.zeros((D, D)), np.zeros((K, D, D))
        M2, M3 = np.zeros((D, D)), np.zeros((K, D, D))
        for m, v in zip(marg, measured):
            i = [pos[a] for a in m]
            sl = [slice(off[j], off[j + 1]) for j in i]
            if len(m) == 1:
                T1[sl[0]] = v
            elif len(m) == 2:
                T2[sl[0], sl[1]], M2[sl[0], sl[1]] = v, 1.0
            else:
                T3[:, sl[1], sl[2]], M3[:, sl[1], sl[2]] = v, 1.0
        T1, T2, T3, M2, M3 = (torch.tensor(x, dtype=torch.float32) for x in (T1, T2, T3, M2, M3))
        tsl = slice(int(off[t]), int(off[t + 1]))
        opt = torch.optim.Adam(self.net.parameters(), lr=p["lr"])
        ctx = RelaxContext(self.schema, self.disc, p["cmp_temperature"])

        def batch():
            z = torch.randn(p["batch_size"], p["noise_dim"], generator=gen)
            return gumbel_softmax_split(self.net(z), sizes, p["tau"], gen)

        def marginal_loss(probs):
            P = torch.cat(probs, 1)
            B = P.shape[0]
            loss = ((P.mean(0) - T1) ** 2).sum() + (M2 * (P.T @ P / B - T2) ** 2).sum()
            if M3.sum() > 0:
                Y = P[:, tsl]  # (B, K)
                G3 = torch.einsum("bk,bi,bj->kij", Y, P, P) / B
                loss = loss + (M3 * (G3 - T3) ** 2).sum()
            return loss

        hist = {}
        for step in range(p["pretrain_steps"]):
            opt.zero_grad()
            loss = marginal_loss(batch())
            loss.backward()
            opt.step()
        hist["pretrain_loss"] = float(loss.detach()) if p["pretrain_steps"] else None
        trained = [c for c in self.cons if c.kind != "downstream"]
        if trained and p["finetune_steps"]:
            reals = self._real_targets(trained, data, ctx, gen)
            w = {"row": 10.0, "statistical": 1.0, "fairness": 10.0, **p["weights"]}
            for step in range(p["finetune_steps"]):
                opt.zero_grad()
                probs = batch()
                soft = dict(zip(names, probs))
                closs = sum(w[c.kind] * constraint_loss(c, soft, ctx, reals.get(c.name)) for c in trained)
                loss = marginal_loss(probs) + closs
                loss.backward()
                opt.step()
            hist["finetune_loss"] = float(loss.detach())
            hist["constraint_loss"] = float(closs.detach())
        self._info["training"] = hist

    def _real_targets(self, cons, data, ctx, gen) -> dict:
        """The real value of each ``within T of real`` statistic: on the seed rows, or in the
        private mode on a large batch of the pre-trained (DP) model (post-processing)."""
        import torch

        out = {}
        for c in cons:
            if not c.against_real:
                continue
            if data is not None:
                out[c.name] = C.statistic(c, data, self.schema)
            else:
                with torch.no_grad():
                    z = torch.randn(4096, self.params["noise_dim"], generator=gen)
                    probs = [torch.softmax(x, -1) for x in torch.split(self.net(z), self.sizes, dim=1)]
                    soft = dict(zip(self.schema.names, probs))
                    out[c.name] = float(relax_stat(c.stat, soft, ctx))
        return out

    # --------------------------------------------------------------- sample
    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        import torch

        z = torch.tensor(rng.standard_normal((int(k), self.params["noise_dim"])), dtype=torch.float32)
        with torch.no_grad():
            probs = [torch.softmax(x, -1).double().numpy() for x in torch.split(self.net(z), self.sizes, dim=1)]
        codes = {}
        for a, pr in zip(self.schema.names, probs):
            u = rng.random((len(pr), 1))
            codes[a] = np.minimum((pr.cumsum(1) < u).sum(1), pr.shape[1] - 1)
        return self.disc.decode(codes)

    def info(self) -> dict:
        return self._info


# ------------------------------------------------------------------ discretisation
class Bins:
    """Per column: a code per row and back. Numerical: ``bins`` equal-width bins between the
    schema's min and max (one per integer for a short integer range); each bin decodes to its
    representative value (the mean of ``data``'s values in it, integers rounded; the midpoint
    without ``data`` or for an empty bin)."""

    def __init__(self, schema: TableSchema, bins: int, data: pd.DataFrame | None):
        self.schema = schema
        self.sizes, self.edges, self.rep = {}, {}, {}
        for c in schema.columns:
            if c.is_categorical:
                self.sizes[c.name] = len(c.levels)
                continue
            lo, hi = float(c.min), float(c.max)
            if c.dtype == "int" and hi - lo + 1 <= bins:
                edges = np.arange(lo - 0.5, hi + 1.0, 1.0)
            else:
                edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
            mids = (edges[:-1] + edges[1:]) / 2
            rep = mids.copy()
            if data is not None:
                b = self._bin(data[c.name].to_numpy(dtype=float), edges)
                for i in range(len(mids)):
                    if (b == i).any():
                        rep[i] = data[c.name].to_numpy(dtype=float)[b == i].mean()
            if c.dtype == "int":
                rep = np.clip(np.round(rep), lo, hi)
            self.edges[c.name], self.rep[c.name], self.sizes[c.name] = edges, rep, len(mids)

    @staticmethod
    def _bin(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2)

    def encode(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {}
        for c in self.schema.columns:
            if c.is_categorical:
                out[c.name] = pd.Categorical(df[c.name].astype(str), categories=list(c.levels)).codes.astype(np.int64)
            else:
                out[c.name] = self._bin(df[c.name].to_numpy(dtype=float), self.edges[c.name])
        return out

    def decode(self, codes: dict[str, np.ndarray]) -> pd.DataFrame:
        out = {}
        for c in self.schema.columns:
            out[c.name] = (np.asarray(c.levels, dtype=object)[codes[c.name]] if c.is_categorical
                           else self.rep[c.name][codes[c.name]])
        return pd.DataFrame(out)


# ------------------------------------------------------------------ relaxations
def gumbel_softmax_split(logits, sizes, tau: float, gen):
    """One Gumbel-softmax sample (soft one-hot at temperature ``tau``) per column block of ``logits``;
    the noise from ``gen`` (never torch's global generator)."""
    import torch

    u = torch.rand(logits.shape, generator=gen).clamp(1e-10, 1 - 1e-10)
    g = -torch.log(-torch.log(u))
    return [torch.softmax(x / tau, -1) for x in torch.split((logits + g), sizes, dim=1)]


class RelaxContext:
    """What the relaxations need besides the soft table: the schema, the bins' representative
    values and the comparison temperature."""

    def __init__(self, schema: TableSchema, disc: Bins, temperature: float):
        self.schema, self.disc, self.t = schema, disc, temperature
        self._spacing: dict = {}

    def spacing(self, node) -> float:
        if node not in self._spacing:
            self._spacing[node] = self._compute_spacing(node)
        return self._spacing[node]

    def _compute_spacing(self, node) -> float:
        cols = [c for c in C._columns(node) if self.schema.column(c).is_numerical]
        gaps = [np.min(np.diff(np.unique(self.disc.rep[c]))) for c in cols if len(np.unique(self.disc.rep[c])) > 1]
        return float(min(gaps)) if gaps else 1.0


def relax(node, soft: dict, ctx: RelaxContext):
    """A row node relaxed on a soft table (column -> (B, levels or bins) probabilities): a (B,)
    tensor of values (numbers) or of truth degrees in [0, 1] (conditions)."""
    import torch

    sch = ctx.schema
    if isinstance(node, C.Num):
        return torch.tensor(node.value)
    if isinstance(node, C.Col):
        col = sch.column(node.name)
        if col.is_categorical:
            raise TypeError("a categorical column is relaxed only inside a comparison")
        return soft[node.name] @ torch.tensor(ctx.disc.rep[node.name], dtype=soft[node.name].dtype)
    if isinstance(node, C.Neg):
        return -relax(node.x, soft, ctx)
    if isinstance(node, C.Arith):
        a, b = relax(node.left, soft, ctx), relax(node.right, soft, ctx)
        return {"+": a + b, "-": a - b, "*": a * b}.get(node.op) if node.op != "/" else a / b
    if isinstance(node, C.Cmp):
        cat = _categorical_side(node, sch)
        if cat is not None:
            eq = _level_prob(node, soft, sch)
            return eq if node.op == "==" else 1 - eq
        r = ctx.spacing(node)
        s, h = ctx.t * r, r / 2
        d = relax(node.left, soft, ctx) - relax(node.right, soft, ctx)
        if node.op == ">=":
            return torch.sigmoid((d + h) / s)
        if node.op == ">":
            return torch.sigmoid((d - h) / s)
        if node.op == "<=":
            return torch.sigmoid((-d + h) / s)
        if node.op == "<":
            return torch.sigmoid((-d - h) / s)
        eq = torch.exp(-((d / s) ** 2))
        return eq if node.op == "==" else 1 - eq
    if isinstance(node, C.In):
        if isinstance(node.x, C.Col) and sch.column(node.x.name).is_categorical:
            levels = list(sch.column(node.x.name).levels)
            idx = sorted({levels.index(v.value) for v in node.values})
            hit = soft[node.x.name][:, idx].sum(1)
        else:
            s = ctx.t * ctx.spacing(node.x)
            x = relax(node.x, soft, ctx)
            hit = torch.clamp(sum(torch.exp(-(((x - v.value) / s) ** 2)) for v in node.values), 0, 1)
        return 1 - hit if node.negate else hit
    if isinstance(node, C.And):
        return relax(node.left, soft, ctx) * relax(node.right, soft, ctx)
    if isinstance(node, C.Or):
        a, b = relax(node.left, soft, ctx), relax(node.right, soft, ctx)
        return a + b - a * b
    if isinstance(node, C.Not):
        return 1 - relax(node.x, soft, ctx)
    if isinstance(node, C.Implies):
        return 1 - relax(node.premise, soft, ctx) * (1 - relax(node.conclusion, soft, ctx))
    raise TypeError(f"cannot relax {type(node).__name__}")


def _categorical_side(node, sch) -> str | None:
    for side in (node.left, node.right):
        if isinstance(side, C.Col) and sch.column(side.name).is_categorical:
            return side.name
    return None


def _level_prob(node, soft, sch):
    """P(left == right) for a categorical comparison (column vs level, or column vs column)."""
    l, r = node.left, node.right
    if isinstance(l, C.Col) and isinstance(r, C.Col):
        la, lb = list(sch.column(l.name).levels), list(sch.column(r.name).levels)
        common = [v for v in la if v in lb]
        return sum(soft[l.name][:, la.index(v)] * soft[r.name][:, lb.index(v)] for v in common) if common else \
            soft[l.name][:, 0] * 0
    col, lev = (l, r) if isinstance(l, C.Col) else (r, l)
    return soft[col.name][:, list(sch.column(col.name).levels).index(lev.value)]


def relax_stat(stat: C.Stat, soft: dict, ctx: RelaxContext, bound: float | None = None):
    """A statistic on the soft batch. ``quantile`` needs ``bound``: it returns the share of the
    batch at or below it (compared with the quantile level)."""
    import torch

    a = stat.args
    if stat.fn == "mean":
        return relax(a[0], soft, ctx).mean()
    if stat.fn == "std":
        return relax(a[0], soft, ctx).std()
    if stat.fn == "share":
        return relax(a[0], soft, ctx).mean()
    if stat.fn == "corr":
        x, y = relax(a[0], soft, ctx), relax(a[1], soft, ctx)
        x, y = x - x.mean(), y - y.mean()
        return (x * y).mean() / (x.std(unbiased=False) * y.std(unbiased=False) + 1e-8)
    if stat.fn == "quantile":
        if bound is None:  # the value itself (private mode's real target): the soft quantile by sorting
            return torch.quantile(relax(a[0], soft, ctx), a[1].value)
        return relax(C.Cmp("<=", a[0], C.Num(bound)), soft, ctx).mean()
    if stat.fn == "parity":
        sch = ctx.schema
        y, g = soft[sch.target], soft[a[0].name]
        levels = list(sch.target_levels)
        cls = [levels.index(a[1].value)] if len(a) > 1 else range(len(levels))
        mass = g.sum(0) + 1e-6
        gaps = []
        for k in cls:
            rates = (g * y[:, k:k + 1]).sum(0) / mass
            gaps.append(rates.max() - rates.min())
        return torch.stack(gaps).max()
    raise TypeError(f"cannot relax {stat.fn}")


def constraint_loss(c: C.Constraint, soft: dict, ctx: RelaxContext, real: float | None = None):
    """The penalty of one constraint on a soft batch (0 when met with margin)."""
    import torch

    if c.kind == "row":
        return -torch.log(relax(c.expr, soft, ctx).clamp_min(1e-6)).mean()
    s = c.stat
    scale = _scale(s, ctx)
    if s.fn == "quantile":
        q = s.args[1].value
        if c.against_real:
            tol = c.tolerance / 100 * abs(real) if c.relative else c.tolerance
            lo = relax_stat(s, soft, ctx, bound=real - tol / 2)  # share <= real - tol/2 must stay <= q
            hi = relax_stat(s, soft, ctx, bound=real + tol / 2)  # share <= real + tol/2 must reach q
            return torch.relu(lo - q) ** 2 * 10 + torch.relu(q - hi) ** 2 * 10
        share = relax_stat(s, soft, ctx, bound=c.bound)
        return 10 * (torch.relu(q - share) ** 2 if c.op in ("<=", "<") else torch.relu(share - q) ** 2)
    v = relax_stat(s, soft, ctx)
    if c.against_real:
        tol = c.tolerance / 100 * abs(real) if c.relative else c.tolerance
        return 10 * torch.relu((v - real).abs() - tol / 2) ** 2 / scale**2
    margin = 0.75 * abs(c.bound) if c.kind == "fairness" else 0.0  # a gap on n rows is noisy: aim well below
    miss = (v - c.bound + margin) if c.op in ("<=", "<") else (c.bound - v)
    return 10 * torch.relu(miss) ** 2 / scale**2


def _scale(s: C.Stat, ctx: RelaxContext) -> float:
    """A statistic's natural unit: a numerical column's spread (its range / 4); 1 for shares,
    correlations and gaps."""
    if s.fn in ("mean", "std", "quantile"):
        col = ctx.schema.column(s.args[0].name)
        return max(1e-6, (float(col.max) - float(col.min)) / 4)
    return 1.0
