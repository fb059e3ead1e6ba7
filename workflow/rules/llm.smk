# LLM servers for llm_icl generators: ONE server per `llm_servers` entry, shared by all the
# generate jobs whose generator params name it (`server: <name>`), stopped when they finish.
#
# Mechanism: a Snakemake `service` job. Snakemake runs the service job and all its consumers
# as one pipe group, at the same time, and terminates the service (SIGTERM) when the last
# consumer is done; `python -m synthrisk.llm.server serve` then stops the server (it also dies
# with its parent if the job is killed). The server file is written at once (status
# "starting": Snakemake checks a service output a few seconds after launch) and consumers wait
# for it to answer /v1/models (synthrisk.llm.server.wait_for_server, via the generator).
#
# Resources: a pipe group's threads are SUMMED, so the generate jobs of llm_icl entries with a
# server must declare `threads: 0` (they only wait on HTTP); the service declares the server's
# threads (llama_cpp: `threads`, default 2). Consumers must use `shell:` or `script:` (Snakemake
# refuses `run:` for service consumers). On Slurm the group runs on one node (resources in the
# profile); vLLM's tensor parallelism uses the GPUs of that node.
#
# Config:
#   llm_servers:
#     local-gemma: {kind: llama_cpp, threads: 2}
#   generators:
#     local-llm: {kind: llm_icl, params: {server: local-gemma, api_key_env: null, ...}}
import json as _llm_json

from synthrisk.llm.factorial import expand_factorial as _llm_expand
from synthrisk.llm.server import SERVER_DIR as LLM_SERVER_DIR

LLM_SERVERS = config.get("llm_servers") or {}
_LLM_GENERATORS = _llm_expand(config.get("generators") or {})


def llm_server_of(generator):
    """The llm_servers name an llm_icl generator entry uses, or None."""
    entry = _LLM_GENERATORS.get(generator) or {}
    if entry.get("kind") != "llm_icl":
        return None
    name = (entry.get("params") or {}).get("server")
    if name and name not in LLM_SERVERS:
        raise ValueError(f"generator {generator!r}: server {name!r} is not in config llm_servers ({sorted(LLM_SERVERS)})")
    return name


def llm_server_input(wildcards):
    """Extra input for the generate rule: the server file of the generator's server (or none)."""
    name = llm_server_of(wildcards.generator)
    return [f"{LLM_SERVER_DIR}/{name}.json"] if name else []


def llm_generate_threads(generator, default):
    """Threads for a generate job: 0 for a consumer of an LLM server (see above)."""
    return 0 if llm_server_of(generator) else default


rule llm_server:
    output:
        service(LLM_SERVER_DIR + "/{server}.json"),
    params:
        spec=lambda w: _llm_json.dumps(LLM_SERVERS[w.server]),
    log:
        "logs/llm/servers/{server}.log",
    threads: lambda w: int(LLM_SERVERS[w.server].get("threads", 2)) if LLM_SERVERS[w.server].get("kind") == "llama_cpp" else 1
    wildcard_constraints:
        server="[A-Za-z0-9._-]+",
    shell:
        "python -m synthrisk.llm.server serve --spec {params.spec:q} --out {output:q} --log {log:q}"
