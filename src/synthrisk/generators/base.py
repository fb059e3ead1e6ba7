"""The generator interface and the driver that runs one generator on one split."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from synthrisk.io import make_rng, versions
from synthrisk.params import Param, check_params
from synthrisk.schema import TableSchema


@dataclass
class FitContext:
    """What a generator may know besides the member rows.

    ``extra`` holds real rows that only the controls use (``holdout``: pool rows disjoint
    from members, non-members and reference). ``dataset``, ``n``, ``seed`` identify the split
    (for caches and logs); ``workdir`` is a scratch/cache folder a generator may use.
    """

    dataset: str = ""
    n: int = 0
    seed: int = 0
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    workdir: str | None = None
    log: object = None  # a logging.Logger or None
    #: the dataset's declared constraints (name -> text, :mod:`synthrisk.constraints`), given only to
    #: generators that use them (progsyn, llm_icl with constraints_in_prompt, constraints_mode reject)
    constraints: dict[str, str] = field(default_factory=dict)


class Generator:
    """Base class. Subclasses set ``kind`` and implement :meth:`fit` and :meth:`sample`.

    What the workflow needs to know about a kind is declared on its class:

    * ``PARAMS``: its parameters (name -> :class:`~synthrisk.params.Param`: default, one-line
      description, type and allowed values). The plan checks every config entry's ``params``
      against it before any job runs; ``__init__`` checks them again (:meth:`checked`).
    * ``RESOURCES``: its default cluster resources (``gpu``, ``runtime`` minutes, ``mem_mb``,
      ...), updated by the config entry's ``resources:``.
    * ``RESOURCE_FILES``: package data files it reads (e.g. prompt templates), paths relative
      to the package, hashed into its jobs' code fingerprint with its imports.
    * ``USES_HOLDOUT``: whether it is given the split's holdout rows (only the holdout control).

    * ``__init__(**params)`` takes the config entry's ``params`` (unknown keys raise).
    * ``fit(data, schema, rng, ctx)``: ``data`` is the canonical member table (see
      :mod:`synthrisk.schema`), the only real rows a generator may learn from.
    * ``sample(k, rng)`` returns a frame with the schema's columns (the driver conforms
      dtypes and checks levels; values outside the schema raise, naming the column).
    * ``info()`` adds entries to the sidecar (e.g. epochs run, rows rejected).
    * ``unavailable(params, config)`` (classmethod) returns a reason string when the kind cannot
      run on this machine (e.g. missing model weights, no LLM server software) so the workflow
      can skip it loudly; ``config`` is the whole run config (e.g. for ``llm_servers``).
    """

    kind: str = "base"
    deterministic: bool = True  # same seed -> same bytes
    PARAMS: dict[str, Param] = {}
    RESOURCES: dict = {}
    RESOURCE_FILES: tuple[str, ...] = ()
    USES_HOLDOUT: bool = False

    def __init__(self, **params):
        self.params = self.checked(params)

    @classmethod
    def check_params(cls, params: dict | None, where: str) -> dict:
        """``params`` checked against :attr:`PARAMS` (errors name ``where.<key>``), defaults filled.
        A kind with checks across parameters extends this."""
        return check_params(cls.PARAMS, params, where)

    @classmethod
    def checked(cls, params: dict | None) -> dict:
        return cls.check_params(params, f"{cls.kind} params")

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        raise NotImplementedError

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        raise NotImplementedError

    def info(self) -> dict:
        return {}

    @classmethod
    def unavailable(cls, params: dict, config: dict | None = None) -> str | None:
        return None


def run_generator(
    name: str,
    cls: type[Generator],
    params: dict | None,
    members: pd.DataFrame,
    schema: TableSchema,
    k: int,
    seed: int,
    ctx: FitContext,
    constraints_mode: str | None = None,
    max_draws: int | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Fit generator class ``cls`` on ``members`` and sample ``k`` rows; return (table, sidecar dict).

    The fit and sample streams are derived from (seed, generator name, dataset, n), so a
    generator's output depends on nothing else. ``constraints_mode="reject"`` wraps the sampler in
    :class:`synthrisk.generators.reject.RejectSampler` (the row constraints of ``ctx.constraints``,
    at most ``max_draws`` times ``k`` rows drawn).
    """
    gen = cls(**(params or {}))
    kind = cls.kind
    sampler = gen
    if constraints_mode == "reject":
        from synthrisk.generators.reject import DEFAULT_MAX_DRAWS, RejectSampler

        sampler = RejectSampler(gen, schema, ctx.constraints, max_draws or DEFAULT_MAX_DRAWS, name=name)
    elif constraints_mode not in (None, "ignore"):
        raise ValueError(f"generators.{name}.constraints_mode: unknown mode {constraints_mode!r}; known: ignore, reject")
    fit_rng = make_rng(seed, "fit", name, ctx.dataset, ctx.n)
    sample_rng = make_rng(seed, "sample", name, ctx.dataset, ctx.n)
    t0 = time.perf_counter()
    gen.fit(schema.conform(members, who=f"{ctx.dataset} members"), schema, fit_rng, ctx)
    t1 = time.perf_counter()
    raw = sampler.sample(int(k), sample_rng)
    t2 = time.perf_counter()
    out = schema.conform(raw, who=f"generator {name!r} ({kind}) output")
    if len(out) != k:
        raise RuntimeError(f"generator {name!r} returned {len(out)} rows, {k} were requested")
    sidecar = {
        "generator": name,
        "kind": kind,
        "params": params or {},
        "dataset": ctx.dataset,
        "n": ctx.n,
        "seed": seed,
        "rows_requested": int(k),
        "rows_returned": int(len(out)),
        "fit_seconds": round(t1 - t0, 3),
        "sample_seconds": round(t2 - t1, 3),
        "deterministic": gen.deterministic,
        "info": {**gen.info(), **({"reject": sampler.stats} if sampler is not gen else {})},
        "versions": versions(),
    }
    return out, sidecar
