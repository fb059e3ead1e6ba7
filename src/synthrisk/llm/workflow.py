"""Helpers for ``workflow/rules/llm.smk``: which generate jobs use which LLM server.

Kept here (not in the .smk) so the rule file stays thin and lint-clean. See llm.smk for the
mechanism (a Snakemake ``service`` job per server, consumed by the generate jobs).
"""
from __future__ import annotations

import json

from synthrisk.llm.factorial import expand_factorial
from synthrisk.llm.server import SERVER_DIR


class LLMServers:
    def __init__(self, config: dict):
        self.servers = dict(config.get("llm_servers") or {})
        self.generators = expand_factorial(config.get("generators") or {})

    def server_of(self, generator: str) -> str | None:
        """The ``llm_servers`` name an llm_icl generator entry uses (``params.server``), or None."""
        entry = self.generators.get(generator) or {}
        if entry.get("kind") != "llm_icl":
            return None
        name = (entry.get("params") or {}).get("server")
        if name and name not in self.servers:
            raise ValueError(f"generator {generator!r}: server {name!r} is not in config llm_servers ({sorted(self.servers)})")
        return name

    def input(self, wildcards) -> list[str]:
        """Extra input of the generate rule: the server file of the generator's server, or none."""
        name = self.server_of(wildcards.generator)
        return [f"{SERVER_DIR}/{name}.json"] if name else []

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

    def spec_json(self, server: str) -> str:
        return json.dumps(self.servers[server], sort_keys=True)

    def threads(self, server: str) -> int:
        spec = self.servers[server]
        return int(spec.get("threads", 2)) if spec.get("kind") == "llama_cpp" else 1

    def resource(self, server: str, key: str, default: int) -> int:
        return int((self.servers[server].get("resources") or {}).get(key, default))
