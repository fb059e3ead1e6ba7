"""The run plan: which (generator, dataset, n, seed) jobs a config asks for.

The Snakefile builds one :class:`Plan` when it is parsed. Kept here, in the package, so the
rules stay thin and the grid logic is tested without Snakemake.

* Generator entries with a ``factorial:`` map expand into one named variant per combination
  (:func:`synthrisk.llm.factorial.expand_factorial`).
* An entry may restrict its grid with ``datasets``, ``sizes`` and ``seeds``.
* ``only_generators`` builds only those generators; the aggregate still reads the other
  generators' metric files that already exist (as params, so they are never rebuilt).
* Requested means required: a generator that cannot run on this machine
  (``Generator.unavailable``, e.g. TabPFN without its weights, a missing API key) fails the plan
  with the reason, unless its entry says ``optional: true``; then it is left out, with one
  message, and listed with its reason in ``headline.csv`` and ``summary.csv`` (:attr:`Plan.skipped`).
* Fingerprints: a hash of the source of the package modules a job runs, passed as a rule
  param, so that editing ``generators/ctgan.py`` reruns the ctgan jobs and nothing else.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from synthrisk.io import fingerprint

GRID_KEYS = ("datasets", "sizes", "seeds")
SPLIT_PARTS = ("members", "non_members", "reference", "test", "holdout")
#: package code a generator kind runs besides its own module (fingerprinted with it)
GENERATOR_EXTRA = {
    "llm_icl": ("synthrisk.llm", "synthrisk/resources/prompt_study.txt", "synthrisk/resources/prompt_guarded.txt"),
    "smote": ("synthrisk.splits",),
}
FAMILY_EXTRA = {
    "privacy": ("synthrisk.attacks", "synthrisk.encoding", "synthrisk.metrics.roc", "synthrisk.splits"),
    "diversity": ("synthrisk.attacks", "synthrisk.encoding", "synthrisk.splits"),
    "utility": ("synthrisk.encoding",),
}


# Cluster resources of a generate job, by generator kind (all generators share the rule
# `generate`, so they cannot come from the profile's per-rule `set-resources`). A config entry's
# `resources:` overrides them key by key. runtime is minutes, mem_mb MB. Measured here: CTGAN,
# 300 epochs, 128 rows x 17 columns, 60-125 s on 2 cores; TabPFN v2 import ~4 s + fit/sample
# under a minute. Budgets are ~10x those, since a job that hits its wall time is lost.
# gpu_model "" = any GPU (the site's model goes in the entry, e.g. resources: {gpu_model: a100}).
# An llm_icl entry with a `server:` only waits on HTTP inside its server's group job, where
# Snakemake sums the members' requests: LLM_CONSUMER_RESOURCES (the server job asks for the node).
GENERATOR_RESOURCES = {
    "default": {"gpu": 0, "gpu_model": "", "runtime": 30, "mem_mb": 4000, "cpus_per_task": 1},
    "tabdiff": {"gpu": 1, "runtime": 120, "mem_mb": 16000},
    "tabpfn": {"gpu": 1, "runtime": 60, "mem_mb": 16000},
}
LLM_CONSUMER_RESOURCES = {"cpus_per_task": 0, "mem_mb": 500}


class ConfigError(ValueError):
    pass


def check_config(config: dict, schema_path: str | Path) -> None:
    """Validate ``config`` against the JSON schema and raise a short :class:`ConfigError` per
    violation: the offending key (dotted path), what is wrong and the allowed values or keys,
    not the schema dump that ``snakemake.utils.validate`` prints. Defaults are not filled here
    (the Snakefile's ``validate`` does that once this passes)."""
    import yaml
    from jsonschema import Draft202012Validator

    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    lines = [_schema_error_line(e) for e in errors[:10]]
    more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
    raise ConfigError("invalid config (workflow/schemas/config.schema.yaml):\n  " + "\n  ".join(lines) + more)


def _schema_error_line(e) -> str:
    key = ".".join(map(str, e.absolute_path)) or "(top level)"
    v, val = e.validator, e.validator_value
    short = lambda x: (repr(x) if len(repr(x)) <= 60 else repr(x)[:57] + "...")  # noqa: E731
    if v == "additionalProperties":
        extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
        return f"{key}: unknown key(s) {extra}; allowed: {sorted(e.schema.get('properties', {}))}"
    if v == "enum":
        return f"{key}: {short(e.instance)} is not allowed; allowed values: {list(val)}"
    if v == "required":
        return f"{key}: {e.message}"
    if v in ("oneOf", "anyOf"):
        return f"{key}: {short(e.instance)} is not allowed; allowed: {' or '.join(_describe(sub) for sub in val)}"
    if v == "propertyNames" or (e.relative_path == e.absolute_path and e.schema_path and "propertyNames" in e.schema_path):
        return f"{key}: name {short(e.instance)} is not allowed ({e.message.split(' should')[0]})"
    if v == "not":
        return f"{key}: {short(e.instance)} is not allowed (reserved)"
    return f"{key}: {short(e.instance)}: {e.validator} {short(val)} ({_describe(e.schema)})"


def _describe(sub: dict) -> str:
    if "const" in sub:
        return repr(sub["const"])
    if "enum" in sub:
        return f"one of {sub['enum']}"
    bits = [str(sub.get("type", "value"))]
    for k, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if k in sub:
            bits.append(f"{op} {sub[k]}")
    if "pattern" in sub:
        bits.append(f"matching {sub['pattern']}")
    return " ".join(bits)


@dataclass
class Plan:
    config: dict
    generators: dict[str, dict]  # name -> entry (after factorial expansion), runnable ones only
    skipped: dict[str, str] = field(default_factory=dict)  # name -> reason
    uncached_openml: list[tuple[str, int]] = field(default_factory=list)  # (dataset, id) not cached yet
    messages: list[str] = field(default_factory=list)
    root: Path = Path(".")
    _codes: dict = field(default_factory=dict, repr=False)  # fingerprint cache

    # ------------------------------------------------------------------ build
    @classmethod
    def from_config(cls, config: dict, root: str | Path = ".", check_available: bool = True) -> "Plan":
        """``check_available``: ask each generator kind whether it can run here (imports its
        module: torch for tabdiff, about 3 s). The main Snakemake process does; a cluster job,
        which parses the workflow again only to run its own target, need not."""
        from synthrisk.generators import GENERATORS

        entries = dict(config["generators"])
        if any("factorial" in e for e in entries.values()):
            from synthrisk.llm.factorial import expand_factorial

            entries = expand_factorial(entries)
        for name, e in entries.items():
            if e["kind"] not in GENERATORS:
                raise ConfigError(
                    f"generators.{name}.kind: unknown kind {e['kind']!r}; known: {', '.join(GENERATORS.names())}"
                )
            for key in ("datasets",):
                bad = [d for d in e.get(key, []) if d not in config["datasets"]]
                if bad:
                    raise ConfigError(f"generators.{name}.datasets: unknown dataset(s) {bad}")
        only = list(config.get("only_generators") or [])
        unknown = [g for g in only if g not in entries]
        if unknown:
            raise ConfigError(f"only_generators: unknown generator(s) {unknown}; known: {sorted(entries)}")
        from synthrisk.llm.client import LLMConfigError, check_key_env

        for name, e in entries.items():  # before anything could print a pasted key
            if e["kind"] == "llm_icl":
                try:
                    check_key_env((e.get("params") or {}).get("api_key_env"), f"generators.{name}.params.api_key_env")
                except LLMConfigError as err:
                    raise ConfigError(str(err)) from None
        plan = cls(config=config, generators={}, root=Path(root))
        plan.all_generators = entries
        for name, e in entries.items():
            reason = GENERATORS.get(e["kind"]).unavailable(e.get("params") or {}, config) if check_available else None
            if reason:
                if not e.get("optional"):
                    raise ConfigError(
                        f"generator {name!r} is requested but cannot run here: {reason}\n"
                        f"Fix that, or mark the entry `optional: true` (generators.{name}) to run without it "
                        f"(it is then listed with this reason in headline.csv and summary.csv)"
                    )
                plan.skipped[name] = reason
                plan.messages.append(f"optional generator {name!r} is left out of this run: {reason}")
                continue
            plan.generators[name] = e
        plan.selected = [g for g in plan.generators if not only or g in only]
        if check_available:
            plan.check_data()
        return plan

    def check_data(self) -> None:
        """Plan-time data checks (:func:`synthrisk.datasets.check_plan`): each dataset's file or
        table header and row count against its entry and the n the plan asks of it."""
        from synthrisk.datasets import check_plan
        from synthrisk.openml import DEFAULT_CACHE, not_cached_message

        demands: dict[str, list] = {d: [] for d in self.config["datasets"]}
        for g in self.selected:
            for d, n, _ in self.grid(g):
                demands[d].append((int(n), self.rows(int(n))))
        defaults = dict(self.config.get("data") or {})
        uncached: dict[str, list] = {}
        for name, spec in self.config["datasets"].items():
            full = {**defaults, **spec}
            if "path" in full and not Path(full["path"]).is_absolute():
                full["path"] = str(self.root / full["path"])
            if full.get("source") == "openml":
                cache_dir = full.get("cache_dir") or DEFAULT_CACHE
                full["cache_dir"] = cache_dir if Path(cache_dir).is_absolute() else str(self.root / cache_dir)
            res = check_plan(name, full, dict(self.config.get("splits") or {}), demands[name])
            if full.get("source") == "openml" and res["columns"] is None:
                uncached.setdefault(spec.get("cache_dir") or DEFAULT_CACHE, []).append((name, int(spec["id"])))
        # not cached yet: their columns and sizes are checked when the job has fetched them
        if uncached:
            for cache_dir, entries in uncached.items():
                self.messages.append(f"{not_cached_message(entries, cache_dir)}. Without that, each table's "
                                     f"prepare_dataset job fetches it (network needed there); its columns and "
                                     f"row count are checked then, not at plan time")
            self.uncached_openml = [e for entries in uncached.values() for e in entries]

    # ----------------------------------------------------------------- access
    def runnable(self, name: str) -> dict:
        """The entry of a generator this run builds; a clear error for one left out or unknown
        (e.g. asking Snakemake for a file of ``tabpfn`` without its weights)."""
        if name in self.generators:
            return self.generators[name]
        if name in self.skipped:
            raise ConfigError(f"generator {name!r} is left out of this run: {self.skipped[name]}")
        raise ConfigError(f"generator {name!r} is not in the config's generators; known: {sorted(self.all_generators)}")

    def entry(self, name: str) -> dict:
        """What a generate job depends on: kind and params (not the grid restrictions)."""
        e = self.runnable(name)
        return {"kind": e["kind"], "params": e.get("params") or {}}

    def resources(self, name: str) -> dict:
        """Cluster resources of one generator's generate jobs: the kind's defaults
        (:data:`GENERATOR_RESOURCES`) updated with the config entry's ``resources:``."""
        e = self.runnable(name)
        consumer = LLM_CONSUMER_RESOURCES if e["kind"] == "llm_icl" and (e.get("params") or {}).get("server") else {}
        return {**GENERATOR_RESOURCES["default"], **GENERATOR_RESOURCES.get(e["kind"], {}), **consumer,
                **(e.get("resources") or {})}

    def rows(self, n: int) -> int:
        from synthrisk.pipeline import synthetic_rows

        return synthetic_rows(self.config.get("synthetic_rows", "n"), n)

    @property
    def families(self) -> list[str]:
        return list(self.config["metrics"]["families"])

    @property
    def figures(self) -> list[str]:
        return list(self.config.get("figures", ["fidelity_utility"]))

    split_parts = SPLIT_PARTS

    def family_params(self, family: str) -> dict:
        return dict(self.config["metrics"].get(family) or {})

    def generator_code(self, name: str) -> str:
        from synthrisk.generators import GENERATORS

        kind = self.runnable(name)["kind"]
        key = ("gen", kind)
        if key not in self._codes:
            self._codes[key] = fingerprint(GENERATORS.module(kind), "synthrisk.generators.base", "synthrisk.pipeline",
                                           *GENERATOR_EXTRA.get(kind, ()))
        return self._codes[key]

    def families_code(self) -> str:
        """Fingerprint of the code of every metric family this run evaluates (one job runs them all)."""
        from synthrisk.metrics import FAMILIES

        key = ("fam", tuple(self.families))
        if key not in self._codes:
            mods = [FAMILIES.module(f) for f in self.families]
            mods += [m for f in self.families for m in FAMILY_EXTRA.get(f, ())]
            self._codes[key] = fingerprint(*mods, "synthrisk.metrics.base", "synthrisk.pipeline")
        return self._codes[key]

    # ------------------------------------------------------------------- grid
    def grid(self, name: str) -> list[tuple[str, int, int]]:
        """(dataset, n, seed) combinations of one generator."""
        e = self.all_generators[name]
        datasets = e.get("datasets") or list(self.config["datasets"])
        sizes = e.get("sizes") or self.config["splits"]["sizes"]
        seeds = e.get("seeds") if e.get("seeds") is not None else self.config["splits"]["seeds"]
        return list(itertools.product(datasets, sizes, seeds))

    def synthetic_files(self, generators=None) -> list[str]:
        gens = self.selected if generators is None else generators
        return [f"results/synthetic/{g}/{d}/n{n}/s{s}.parquet" for g in gens for d, n, s in self.grid(g)]

    def metric_files(self, generators=None) -> list[str]:
        gens = self.selected if generators is None else generators
        files = [
            f"results/metrics/{f}/{g}/{d}/n{n}/s{s}.parquet"
            for g in gens for d, n, s in self.grid(g) for f in self.families
        ]
        if "utility" in self.families:
            splits = sorted({(d, n, s) for g in gens for d, n, s in self.grid(g)})
            files += [f"results/metrics/reference/{d}/n{n}/s{s}.parquet" for d, n, s in splits]
        return files

    def split_files(self, generators=None) -> list[str]:
        gens = self.selected if generators is None else generators
        splits = sorted({(d, n, s) for g in gens for d, n, s in self.grid(g)})
        files = [f"results/data/{d}.{ext}" for d in sorted({d for d, _, _ in splits}) for ext in ("parquet", "json")]
        return files + [f"results/splits/{d}/n{n}/s{s}/{p}" for d, n, s in splits
                        for p in (*[f"{part}.parquet" for part in SPLIT_PARTS], "split.json")]

    def all_files(self) -> list[str]:
        """Every per-dataset, per-split, synthetic and metric file of the run, sidecars included:
        ``rule all`` depends on them, so whatever is deleted is rebuilt (Snakemake does not rebuild
        a missing intermediate of a complete target) and the tables are refreshed."""
        side = lambda files: [f for p in files for f in (p, p + ".json")]  # noqa: E731
        return self.split_files() + side(self.synthetic_files()) + side(self.metric_files())

    def other_existing(self) -> dict[str, list[str]]:
        """Metric and synthetic files of generators not selected by ``only_generators`` that
        already exist: the aggregate reads them without asking Snakemake to (re)build them."""
        others = [g for g in self.generators if g not in self.selected]
        if not others:
            return {"metrics": [], "synthetic": []}
        ok = lambda p: (self.root / p).exists()  # noqa: E731
        return {
            "metrics": [p for p in self.metric_files(others) if ok(p)],
            "synthetic": [p for p in self.synthetic_files(others) if ok(p)],
        }
