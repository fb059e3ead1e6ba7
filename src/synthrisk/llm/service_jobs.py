"""The LLM service jobs of ``workflow/rules/llm.smk``: which generate jobs use which LLM server.

Kept here (not in the .smk) so the rule file stays thin and lint-clean. See llm.smk for the
mechanism (a Snakemake ``service`` job per server, consumed by the generate jobs).
"""
from __future__ import annotations

import json

from synthrisk.io import stable_int
from synthrisk.llm.factorial import expand_factorial
from synthrisk.llm.server import SERVER_DIR

#: separates a server's name from its instance number in server file names (``llama-node@3``)
INSTANCE_SEP = "@"


class LLMServers:
    def __init__(self, config: dict, generators: dict | None = None):
        """``generators``: the plan's entries (factorial variants expanded); default: expanded here."""
        self.servers = dict(config.get("llm_servers") or {})
        self.generators = generators if generators is not None else expand_factorial(config.get("generators") or {})

    def server_of(self, generator: str) -> str | None:
        """The ``llm_servers`` name an llm_icl generator entry uses (``params.server``), or None."""
        entry = self.generators.get(generator) or {}
        if entry.get("kind") != "llm_icl":
            return None
        name = (entry.get("params") or {}).get("server")
        if name and name not in self.servers:
            raise ValueError(f"generator {generator!r}: server {name!r} is not in config llm_servers ({sorted(self.servers)})")
        return name

    def instance(self, name: str, wildcards) -> str:
        """The server instance a generate job uses: ``name`` itself, or ``name@i`` when the entry
        asks for ``instances: k`` (k > 1) servers.

        Each instance is its own service group, i.e. one cluster job holding one server and its
        consumers, so a study-sized grid does not put every consumer into one job. Generate
        cells are assigned by a stable hash of (generator, dataset): adding datasets moves no
        existing cell to another instance.
        """
        k = int(self.servers[name].get("instances", 1))
        if k <= 1:
            return name
        key = f"{wildcards.generator}|{wildcards.dataset}"
        return f"{name}{INSTANCE_SEP}{stable_int(key) % k}"

    def input(self, wildcards) -> list[str]:
        """Extra input of the generate rule: the server file of the generator's server, or none."""
        name = self.server_of(wildcards.generator)
        return [f"{SERVER_DIR}/{self.instance(name, wildcards)}.json"] if name else []

    def generate_threads(self, generator: str, default: int) -> int:
        """0 for a consumer of a server (a pipe group's threads are summed), else ``default``."""
        return 0 if self.server_of(generator) else default

    @staticmethod
    def python(workflow) -> str:
        """The interpreter for the service's shell command: Snakemake's own (as for script jobs),
        or ``python`` from the job's conda env when software deployment uses conda."""
        import sys

        methods = {str(m).lower() for m in (getattr(workflow.deployment_settings, "deployment_method", None) or ())}
        return "python" if any("conda" in m for m in methods) else sys.executable

    def spec(self, server: str) -> dict:
        """The ``llm_servers`` entry of a server or of one of its instances (``name@i``)."""
        return self.servers[server.split(INSTANCE_SEP)[0]]

    def spec_json(self, server: str) -> str:
        return json.dumps({k: v for k, v in self.spec(server).items() if k != "instances"}, sort_keys=True)

    def threads(self, server: str) -> int:
        spec = self.spec(server)
        return int(spec.get("threads", 2)) if spec.get("kind") == "llama_cpp" else 1

    def resource(self, server: str, key: str, default: int) -> int:
        return int((self.spec(server).get("resources") or {}).get(key, default))
