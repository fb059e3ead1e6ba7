"""Differentially private marginal-based generators: ``mst`` and ``aim``.

Both are our implementations, from the papers, on private-pgm's estimation API (``mbi`` 2.0:
``Domain``, ``Dataset``, ``LinearMeasurement``, ``estimation.MirrorDescent``); the mechanisms
themselves are not in that package.

* ``mst``: McKenna, Miklau, Sheldon (2021), "Winning the NIST Contest: A scalable and general
  approach to differentially private synthetic data" (J. Privacy and Confidentiality 11(3)).
  A third of the zCDP budget measures every 1-way marginal; a third selects a maximum spanning
  tree of 2-way marginals (Kruskal's algorithm, each edge picked by the exponential mechanism,
  scored by the L1 distance between the pair's data marginal and its estimate from the 1-way
  model); a third measures the tree's 2-way marginals. Private-PGM estimates a model from all
  measurements; rows are sampled from it. Not done here: the paper's domain compression step
  (merging values whose noisy 1-way count is small); our domains are already small (public bins).
* ``aim``: McKenna, Mullins, Sheldon, Miklau (2022), "AIM: An Adaptive and Iterative Mechanism
  for Differentially Private Synthetic Data" (PVLDB 15(11)), Algorithm 1: measure every 1-way
  marginal, then per round select a marginal of the workload's downward closure by the
  exponential mechanism with the paper's quality score
  ``w_r (||M_r(D) - M_r(p)||_1 - sqrt(2/pi) sigma n_r)``, restricted to marginals whose model
  stays under ``(rho_used / rho) * max_model_size_mb``; measure it, re-estimate (warm start),
  and halve sigma / double epsilon when the model's marginal on it moved by less than
  ``sqrt(2/pi) sigma n_r``. The round that leaves too little budget for two more spends all
  that remains. Workload: all 2-way marginals (a seeded, data-independent subset of
  ``max_workload`` of them when there are more), weight 1 each. CPU cap: the ``max_rounds``-th
  round is the last one and spends all that remains (the first rounds are sized, as in the
  paper, for ``T = 16 d`` rounds, so with a small cap the last round takes the largest share).

Privacy accounting (zCDP, Bun & Steinke 2016): a Gaussian measurement of one marginal (L2
sensitivity 1 under adding or removing a row) with standard deviation sigma costs
``1 / (2 sigma^2)``; an epsilon-DP exponential mechanism costs ``epsilon^2 / 8`` (bounded-range
analysis, Cesar & Rogers 2021, as both papers use); costs add. (epsilon, delta) <-> rho uses
the conversion of Canonne, Kamath, Steinke (2020), "The Discrete Gaussian for Differential
Privacy", Proposition 12 / Corollary 13 (the one AIM and MST use):

    delta(rho, eps) = inf_{a > 1}  exp((a - 1)(a rho - eps)) / (a - 1) * (1 - 1/a)^a

``rho_from_eps`` is the largest rho with delta(rho, eps) <= delta and ``eps_from_rho`` the
smallest eps with delta(rho, eps) <= delta, both by bisection on the numeric infimum (an
inexact infimum only over-estimates delta, so both errs on the safe side). The sidecar's
``info.privacy`` records the rho budget, the rho spent (summed measurement by measurement) and
the (eps, delta) that rho converts to; ``fit`` raises when the spent eps would exceed the
configured one. ``epsilon: .inf`` (YAML) is the non-private limit: exact marginals (no noise),
arg-max selection, reported as eps = inf.

``delta`` defaults to ``1 / (10 n)``, n the number of member rows.

Public domain (the benchmark's threat model): the privacy unit is a member row. A column's
domain is taken from public information only, never from the member rows:

* categorical columns: the schema's levels, i.e. the level list of the whole prepared dataset
  (``results/data/<name>.json``), which the benchmark treats as public domain knowledge;
* numerical columns: ``bins`` equal-width bins between public bounds, ``params.bounds:
  {column: [lo, hi]}`` where given, else the schema's ``min`` / ``max`` (the range of the
  whole prepared dataset, also in its sidecar: treated as public domain knowledge, like the
  levels). Member values outside the bounds fall in the edge bins. An integer column whose
  range holds at most ``bins`` integers gets one bin per integer.

Decoding: a numerical value is drawn uniformly within its bin (integers rounded, one-integer
bins exact); a categorical value is its level. Sampling is ours (i.i.d. forward sampling over
the model's junction tree, from the generator's numpy stream), not mbi's ``synthetic_data``
(that one draws from numpy's global generator), so the same seed gives the same bytes.
"""
from __future__ import annotations

import itertools
import math
import os

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.params import Param, ParamError, at_least
from synthrisk.schema import TableSchema


# ------------------------------------------------------------------ accounting (zCDP)
def _log_delta(rho: float, eps: float, a: float) -> float:
    return (a - 1.0) * (a * rho - eps) - math.log(a - 1.0) + a * math.log1p(-1.0 / a)


def cdp_delta(rho: float, eps: float) -> float:
    """delta of (eps, delta)-DP implied by rho-zCDP (Canonne, Kamath, Steinke 2020, Cor. 13):
    the infimum over a > 1, found numerically (a grid in log(a - 1), then a bounded refinement)."""
    if rho <= 0:
        return 0.0
    if math.isinf(rho):
        return 1.0
    from scipy.optimize import minimize_scalar

    grid = np.logspace(-6, 6, 241)
    vals = [_log_delta(rho, eps, 1.0 + g) for g in grid]
    i = int(np.argmin(vals))
    lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, len(grid) - 1)])
    res = minimize_scalar(lambda t: _log_delta(rho, eps, 1.0 + math.exp(t)), bounds=(lo, hi), method="bounded")
    best = min(vals[i], float(res.fun))
    return float(min(1.0, math.exp(best)))


def _bisect(ok, lo: float, hi: float) -> tuple[float, float]:
    """The final bracket of 100 bisection steps on ``[lo, hi]``, with ``ok(lo)`` true and
    ``ok(hi)`` false: ``lo`` stays on the side where ``ok`` holds, ``hi`` on the other."""
    for _ in range(100):
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def rho_from_eps(eps: float, delta: float) -> float:
    """The largest rho whose zCDP guarantee implies (eps, delta)-DP (bisection, the lower end)."""
    if math.isinf(eps):
        return math.inf
    lo, hi = 0.0, max(1.0, eps)
    while cdp_delta(hi, eps) <= delta:
        lo, hi = hi, 2 * hi
    return _bisect(lambda rho: cdp_delta(rho, eps) <= delta, lo, hi)[0]


def eps_from_rho(rho: float, delta: float) -> float:
    """The smallest eps such that rho-zCDP implies (eps, delta)-DP (bisection, the upper end)."""
    if math.isinf(rho):
        return math.inf
    if rho <= 0:
        return 0.0
    hi = rho + 2 * math.sqrt(rho * math.log(1 / delta)) + 1.0  # Bun & Steinke's bound holds there
    # the guarantee fails below eps and holds above it: bisect on "fails", return the holding end
    return _bisect(lambda eps: cdp_delta(rho, eps) > delta, 0.0, hi)[1]


def exponential_mechanism(scores: np.ndarray, eps: float, sensitivity: float, rng: np.random.Generator) -> int:
    """Index drawn with probability proportional to exp(eps * score / (2 * sensitivity))
    (eps-DP; eps^2/8-zCDP). eps = inf: the arg-max (first one)."""
    scores = np.asarray(scores, dtype=np.float64)
    if math.isinf(eps):
        return int(np.argmax(scores))
    logits = eps * (scores - scores.max()) / (2.0 * sensitivity)
    p = np.exp(logits)
    return int(rng.choice(len(p), p=p / p.sum()))


# ------------------------------------------------------------------ public domain
class Discretizer:
    """Codes 0..m-1 per column from public information only (see the module docstring)."""

    def __init__(self, schema: TableSchema, bins: int, bounds: dict):
        self.schema = schema
        self.edges: dict[str, np.ndarray] = {}
        self.int_bins: dict[str, bool] = {}
        self.sizes: dict[str, int] = {}
        self.bounds_source: dict[str, str] = {}
        for c in schema.columns:
            if c.is_categorical:
                self.sizes[c.name] = len(c.levels)
                continue
            if c.name in bounds:
                lo, hi = (float(v) for v in bounds[c.name])
                self.bounds_source[c.name] = "params.bounds"
            else:
                if c.min is None or c.max is None:
                    raise ValueError(f"column {c.name!r}: no public bounds (the schema has no range; "
                                     f"give params.bounds.{c.name})")
                lo, hi = float(c.min), float(c.max)
                self.bounds_source[c.name] = "dataset schema (full prepared table)"
            if c.dtype == "int" and math.floor(hi) - math.ceil(lo) + 1 <= bins:
                lo_i, hi_i = math.ceil(lo), math.floor(hi)
                self.edges[c.name] = np.arange(lo_i, hi_i + 2, dtype=np.float64) - 0.5
                self.int_bins[c.name] = True
            else:
                self.edges[c.name] = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo, lo])
                self.int_bins[c.name] = False
            self.sizes[c.name] = len(self.edges[c.name]) - 1

    def encode(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {}
        for c in self.schema.columns:
            if c.is_categorical:
                index = {lev: i for i, lev in enumerate(c.levels)}
                out[c.name] = np.array([index[v] for v in df[c.name]], dtype=np.int64)
            else:
                e = self.edges[c.name]
                inner = e[1:-1]  # bins [e0, e1), ..., [e_{m-1}, e_m]; outside values in the edge bins
                out[c.name] = np.searchsorted(inner, df[c.name].to_numpy(dtype=np.float64), side="right").astype(np.int64)
        return out

    def decode(self, codes: dict[str, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
        out = {}
        for c in self.schema.columns:  # fixed column order: one stream, the same bytes per seed
            k = codes[c.name]
            if c.is_categorical:
                out[c.name] = np.asarray(c.levels, dtype=object)[k]
                continue
            e = self.edges[c.name]
            if self.int_bins[c.name]:
                out[c.name] = np.round((e[k] + e[k + 1]) / 2)
                continue
            v = e[k] + rng.random(len(k)) * (e[k + 1] - e[k])
            out[c.name] = np.clip(v, e[0], e[-1])
        return pd.DataFrame(out, columns=self.schema.names)


# ------------------------------------------------------------------ model fitting and sampling
def _jax():
    """Import jax/mbi on one thread, float32 (the tables are small)."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mbi
    return mbi


#: the full joint is materialised (float64) up to this many cells (32 MB)
JOINT_MAX_CELLS = 1 << 22


class _MarginalModel:
    """Shared plumbing: the encoded members, noisy measurements, estimation, sampling."""

    def __init__(self, codes: dict[str, np.ndarray], sizes: dict[str, int], names: list[str]):
        mbi = _jax()
        self.mbi = mbi
        self.domain = mbi.Domain(names, [sizes[c] for c in names])
        self.data = mbi.Dataset({c: codes[c] for c in names}, self.domain)
        self.measurements: list = []
        self.model = None
        self._joint = None

    def clique(self, attrs) -> tuple:
        return tuple(self.domain.canonical(attrs))

    def counts(self, cl: tuple) -> np.ndarray:
        return np.asarray(self.data.project(cl).datavector(), dtype=np.float64)

    def measure(self, cl: tuple, sigma: float, rng: np.random.Generator) -> np.ndarray:
        x = self.counts(cl)
        y = x if sigma == 0 else x + rng.normal(0.0, sigma, size=x.shape)
        self.measurements.append(self.mbi.LinearMeasurement(y, cl, stddev=sigma if sigma > 0 else 1.0))
        return y

    def estimate(self, iters: int, warm: bool = True) -> None:
        est = self.mbi.estimation.MirrorDescent()
        self.model = est.estimate(self.domain, list(self.measurements), iters=int(iters),
                                  warm_start=self.model if warm else None)
        self._joint = self._full_joint()

    def _full_joint(self) -> np.ndarray | None:
        """The model's full joint table (counts, axes in domain order), in numpy, where the domain
        is small enough (JOINT_MAX_CELLS): every marginal is then a sum, with no jax compile per
        marginal (jax's variable elimination compiles each new clique: it dominated the run time)."""
        shape = tuple(self.domain.shape)
        if math.prod(shape) > JOINT_MAX_CELLS:
            return None
        attrs = list(self.domain.attributes)
        logj = np.zeros(shape, dtype=np.float64)
        pot = self.model.potentials
        for cl in pot.cliques:
            f = pot[cl]
            fa = list(f.domain.attributes)
            order = sorted(fa, key=attrs.index)
            arr = np.transpose(np.asarray(f.values, dtype=np.float64), [fa.index(a) for a in order])
            logj = logj + arr.reshape([shape[i] if a in fa else 1 for i, a in enumerate(attrs)])
        p = np.exp(logj - logj.max())
        return p * (float(self.model.total) / p.sum())

    def model_marginal(self, cl: tuple) -> np.ndarray:
        if self._joint is not None:
            attrs = list(self.domain.attributes)
            other = tuple(i for i, a in enumerate(attrs) if a not in cl)
            return self._joint.sum(axis=other).ravel()
        return np.asarray(self.model.project(cl).datavector(), dtype=np.float64)

    def sample(self, k: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """i.i.d. sampling from the model with our numpy stream: from the full joint where it is
        small enough, else forward sampling over the model's junction tree."""
        if self._joint is not None:
            cdf = np.cumsum(self._joint.ravel())
            idx = np.minimum(np.searchsorted(cdf, rng.random(k) * cdf[-1], side="right"), len(cdf) - 1)
            return {a: np.asarray(v, dtype=np.int64)
                    for a, v in zip(self.domain.attributes, np.unravel_index(idx, tuple(self.domain.shape)))}
        from mbi import junction_tree

        cliques = [tuple(m.clique) for m in self.measurements]
        jtree, order = junction_tree.make_junction_tree(self.domain, cliques)
        jcl = [set(c) for c in jtree.nodes]
        data: dict[str, np.ndarray] = {}
        used: list[str] = []
        for col in list(order)[::-1]:
            near = set().union(*[c for c in jcl if col in c]) if any(col in c for c in jcl) else set()
            parents = [a for a in self.domain.attributes if a in near and a in used]
            attrs = self.clique(parents + [col])
            f = self.model.project(attrs)
            arr = np.asarray(f.datavector(flatten=False), dtype=np.float64)
            fa = list(f.domain.attributes)
            arr = np.moveaxis(arr, [fa.index(a) for a in parents + [col]], list(range(len(parents) + 1)))
            arr = np.clip(arr, 0, None)
            probs = arr[tuple(data[p] for p in parents)] if parents else np.broadcast_to(arr, (k, arr.shape[-1]))
            tot = probs.sum(axis=1, keepdims=True)
            probs = np.where(tot > 0, probs / np.where(tot > 0, tot, 1), 1.0 / probs.shape[1])
            cdf = np.cumsum(probs, axis=1)
            u = rng.random(k)[:, None] * cdf[:, -1:]
            data[col] = np.minimum((cdf <= u).sum(axis=1), probs.shape[1] - 1).astype(np.int64)
            used.append(col)
        return data


# ------------------------------------------------------------------ the generator kinds
def _positive(v) -> str | None:
    return None if v > 0 else f"must be > 0, got {v!r}"


def _delta_ok(v) -> str | None:
    return None if v is None or 0 < v < 1 else f"must be in (0, 1), got {v!r}"


def _bounds_ok(v) -> str | None:
    for col, b in (v or {}).items():
        if not (isinstance(b, (list, tuple)) and len(b) == 2 and all(isinstance(x, (int, float)) for x in b)
                and b[0] <= b[1]):
            return f"bounds.{col}: expected [lo, hi] with lo <= hi, got {b!r}"
    return None


COMMON = {
    "epsilon": Param(1.0, "the (epsilon, delta)-DP budget's epsilon (.inf: no noise, not private)", float,
                     check=_positive),
    "delta": Param(None, "the budget's delta (default 1 / (10 n), n the member rows)", float, check=_delta_ok),
    "bins": Param(8, "equal-width bins per numerical column between its public bounds", int, check=at_least(1)),
    "bounds": Param({}, "public bounds {column: [lo, hi]} (default: the full prepared table's range)", dict,
                    check=_bounds_ok),
    "iters": Param(1000, "mirror-descent iterations of the final model estimate", int, check=at_least(1)),
}


class _DPMarginalGenerator(Generator):
    PARAMS = COMMON
    RESOURCES = {"mem_mb": 3000}

    def __init__(self, **params):
        super().__init__(**params)
        self._info: dict = {}

    @classmethod
    def check_params(cls, params, where):
        p = super().check_params(params, where)
        for col in p["bounds"]:
            if not isinstance(col, str):
                raise ParamError(f"{where}.bounds: column names must be strings, got {col!r}")
        return p

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        unknown = [c for c in self.params["bounds"] if c not in schema.numerical]
        if unknown:
            raise ValueError(f"{self.kind} params.bounds: {unknown} are not numerical columns of {schema.name!r}")
        n = len(data)
        if n == 0:
            raise ValueError(f"{self.kind}: no member rows")
        eps = float(self.params["epsilon"])
        delta = float(self.params["delta"]) if self.params["delta"] is not None else 1.0 / (10 * n)
        self.disc = Discretizer(schema, int(self.params["bins"]), self.params["bounds"])
        self.m = _MarginalModel(self.disc.encode(data), self.disc.sizes, schema.names)
        rho = rho_from_eps(eps, delta)
        self.spent = 0.0
        self.rho = rho
        # plan with a hair less than the budget: float rounding of the per-step costs never tips it over
        self._run(rho if math.isinf(rho) else rho * (1 - 1e-9), rng)
        spent_eps = eps_from_rho(self.spent, delta)
        if not math.isinf(eps) and self.spent <= rho * (1 + 1e-12) and cdp_delta(self.spent, eps) <= delta:
            spent_eps = min(spent_eps, eps)  # eps itself is a valid bound for the spent rho
        if spent_eps > eps or self.spent > rho * (1 + 1e-9):
            raise RuntimeError(f"{self.kind}: spent rho {self.spent:.6g} (eps {spent_eps:.6g}) exceeds the budget "
                               f"rho {rho:.6g} (eps {eps:g}, delta {delta:g})")
        self._info["privacy"] = {
            "accounting": "zCDP; (eps, delta) by Canonne, Kamath, Steinke 2020 Cor. 13",
            "epsilon": eps, "delta": delta, "rho_budget": rho, "rho_spent": self.spent, "epsilon_spent": spent_eps,
            "measurements": len(self.m.measurements),
        }
        # the claim the DP audit reads (aggregate.claimed_privacy), as dptvae records it: epsilon inf
        # adds no noise and claims nothing
        private = not math.isinf(eps)
        self._info.update(dp=private, epsilon=eps if private else None, delta=delta,
                          epsilon_spent=spent_eps if private else None, accountant="zcdp")
        self._info["domain"] = {"sizes": dict(self.disc.sizes), "bounds_source": dict(self.disc.bounds_source),
                                "bins": int(self.params["bins"])}
        self._info["cliques"] = [list(mm.clique) for mm in self.m.measurements if len(mm.clique) > 1]

    def _charge(self, rho: float) -> None:
        self.spent += rho

    def _measure(self, cl: tuple, sigma: float, rng: np.random.Generator) -> np.ndarray:
        self._charge(0.0 if sigma == 0 else 1.0 / (2 * sigma**2))
        return self.m.measure(cl, sigma, rng)

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        return self.disc.decode(self.m.sample(int(k), rng), rng)

    def info(self) -> dict:
        return dict(self._info)


class MSTGenerator(_DPMarginalGenerator):
    """MST (McKenna, Miklau, Sheldon 2021); see the module docstring."""

    kind = "mst"

    def _run(self, rho: float, rng: np.random.Generator) -> None:
        m, names = self.m, list(self.m.domain.attributes)
        d = len(names)
        third = rho / 3
        sigma1 = 0.0 if math.isinf(rho) else math.sqrt(d / (2 * third))
        for c in names:
            self._measure(m.clique([c]), sigma1, rng)
        m.estimate(self.params["iters"], warm=False)
        # candidate weights: L1 distance between the data's 2-way marginal and the 1-way model's
        pairs = [m.clique(p) for p in itertools.combinations(names, 2)]
        score = {p: float(np.abs(m.counts(p) - m.model_marginal(p)).sum()) for p in pairs}
        r = d - 1
        eps_round = math.inf if math.isinf(rho) else (math.sqrt(8 * third / r) if r else 0.0)
        comp = {c: c for c in names}

        def find(a):
            while comp[a] != a:
                comp[a] = comp[comp[a]]
                a = comp[a]
            return a

        tree = []
        for _ in range(r):
            cand = [p for p in pairs if find(p[0]) != find(p[1])]
            i = exponential_mechanism(np.array([score[p] for p in cand]), eps_round, 1.0, rng)
            self._charge(0.0 if math.isinf(eps_round) else eps_round**2 / 8)
            a, b = cand[i]
            comp[find(a)] = find(b)
            tree.append(cand[i])
        sigma2 = 0.0 if math.isinf(rho) else (math.sqrt(r / (2 * third)) if r else 0.0)
        for p in tree:
            self._measure(p, sigma2, rng)
        m.estimate(self.params["iters"])
        self._info.update({"sigma_1way": sigma1, "sigma_2way": sigma2, "eps_select": eps_round})


class AIMGenerator(_DPMarginalGenerator):
    """AIM (McKenna et al. 2022); see the module docstring."""

    kind = "aim"
    PARAMS = {
        **COMMON,
        "workload": Param("all_2way", "the workload: all 2-way marginals (weight 1 each)", choices=("all_2way",)),
        "max_workload": Param(45, "at most this many workload marginals (a seeded, data-independent subset)", int,
                              check=at_least(1)),
        "max_rounds": Param(4, "rounds after the 1-way measurements (the last spends all that remains)", int,
                            check=at_least(1)),
        "max_model_size_mb": Param(80.0, "cap on the model's junction-tree size, MB (the paper's 80)", float,
                                   check=_positive),
        "round_iters": Param(100, "mirror-descent iterations of each round's re-estimate (warm start)", int,
                             check=at_least(1)),
    }

    def _run(self, rho: float, rng: np.random.Generator) -> None:
        from mbi.junction_tree import hypothetical_model_size

        m, names = self.m, list(self.m.domain.attributes)
        d = len(names)
        work = [m.clique(p) for p in itertools.combinations(names, 2)]
        cap = int(self.params["max_workload"])
        if len(work) > cap:  # data-independent choice: costs no budget
            work = [work[i] for i in sorted(rng.choice(len(work), cap, replace=False))]
        # the downward closure with the paper's weights w_r = sum_s |r & s| over the workload
        cand = sorted({m.clique(sub) for s in work for k in (1, 2) for sub in itertools.combinations(s, k)},
                      key=lambda c: (len(c), c))
        weight = {r: float(sum(len(set(r) & set(s)) for s in work)) for r in cand}
        finite = not math.isinf(rho)
        T = 16 * d  # the paper's initial round count (sizes sigma and eps of the first rounds)
        sigma = math.sqrt(T / (2 * 0.9 * rho)) if finite else 0.0
        eps_t = math.sqrt(8 * 0.1 * rho / T) if finite else math.inf
        for c in names:
            self._measure(m.clique([c]), sigma, rng)
        m.estimate(self.params["round_iters"], warm=False)
        max_mb = float(self.params["max_model_size_mb"])
        rounds, chosen, annealed = 0, [], 0
        last = False
        while not last:
            rounds += 1
            if finite:
                left = (rho - self.spent) * (1 - 1e-9)  # a margin for float rounding: never over rho
                if rounds >= int(self.params["max_rounds"]) or left <= 2 * (1 / (2 * sigma**2) + eps_t**2 / 8):
                    sigma = math.sqrt(1 / (2 * 0.9 * left))
                    eps_t = math.sqrt(8 * 0.1 * left)
                    last = True
            elif rounds >= int(self.params["max_rounds"]):
                last = True
            size_cap = (self.spent / rho if finite else 1.0) * max_mb
            current = [tuple(mm.clique) for mm in m.measurements]
            ok = [r for r in cand if hypothetical_model_size(m.domain, current + [r]) <= size_cap]
            if not ok:
                break
            n_r = np.array([m.domain.size(r) for r in ok], dtype=np.float64)
            err = np.array([np.abs(m.counts(r) - m.model_marginal(r)).sum() for r in ok])
            w = np.array([weight[r] for r in ok])
            q = w * (err - math.sqrt(2 / math.pi) * sigma * n_r)
            i = exponential_mechanism(q, eps_t, float(w.max()), rng)
            self._charge(eps_t**2 / 8 if finite else 0.0)
            r = ok[i]
            before = m.model_marginal(r)
            self._measure(r, sigma, rng)
            m.estimate(self.params["round_iters"])
            chosen.append(list(r))
            if finite and not last and np.abs(m.model_marginal(r) - before).sum() <= math.sqrt(2 / math.pi) * sigma * n_r[i]:
                sigma, eps_t, annealed = sigma / 2, eps_t * 2, annealed + 1
        m.estimate(self.params["iters"])
        self._info.update({"rounds": rounds, "selected": chosen, "annealed": annealed, "workload": len(work),
                           "final_sigma": sigma})
