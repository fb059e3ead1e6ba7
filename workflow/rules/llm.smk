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
# Helpers (input function, threads) live in synthrisk.llm.service_jobs.LLMServers (`LLM` below).
#
# Config:
#   llm_servers:
#     local-gemma: {kind: llama_cpp, threads: 2}   # instances: k -> k servers, consumers split among them
#   generators:
#     local-llm: {kind: llm_icl, params: {server: local-gemma, api_key_env: null, ...}}
from synthrisk.llm.server import SERVER_DIR as LLM_SERVER_DIR
from synthrisk.llm.service_jobs import LLMServers

LLM = LLMServers(config, PLAN.all_generators)  # the plan's entries, factorial variants expanded


rule llm_server:
    conda:
        "../../envs/generate.yaml"
    output:
        service(f"{LLM_SERVER_DIR}/{{server}}.json"),
    params:
        spec=lambda w: LLM.spec_json(w.server),
        python=LLM.python(workflow),
    log:
        "results/logs/llm/servers/{server}.log",
    resources:
        # cluster resources of the server job from the spec's `resources:` (e.g. vLLM on 4 GPUs:
        # {gpu: 4, runtime: 720, mem_mb: 200000}); Snakemake sums them over the pipe group
        gpu=lambda w: LLM.resource(w.server, "gpu", 0),
        runtime=lambda w: LLM.resource(w.server, "runtime", 720),
        mem_mb=lambda w: LLM.resource(w.server, "mem_mb", 4000),
    threads: lambda w: LLM.threads(w.server)
    wildcard_constraints:
        server="[A-Za-z0-9._@-]+",
    # shell, not script: Snakemake terminates a service through the process it started with
    # shell (a script job is never stopped). The interpreter is the one running Snakemake, as for
    # script jobs; in a conda env (--sdm conda) it is that env's python.
    shell:
        "{params.python} -m synthrisk.llm.server serve --spec {params.spec:q} --out {output:q} --log {log:q}"
