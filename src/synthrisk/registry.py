"""Lazy registries: a name maps to ``"module:attribute"`` and is imported on first use.

Lazy so that a job importing one generator does not import torch, SDV and the OpenAI client
for all of them, and so that a fingerprint of a kind's module can be taken without importing it.
"""
from __future__ import annotations

import importlib
from typing import Any


class Registry:
    def __init__(self, family: str, entries: dict[str, str]):
        self.family = family
        self._entries = dict(entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self):
        """Names in registration order."""
        return iter(self._entries)

    def module(self, name: str) -> str:
        return self.target(name).split(":")[0]

    def target(self, name: str) -> str:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.family} {name!r}; known: {', '.join(self.names())}"
            ) from None

    def get(self, name: str) -> Any:
        return load_target(self.target(name))


def load_target(target: str) -> Any:
    """The object a ``"module:attribute"`` target names (imported now)."""
    mod, _, attr = target.partition(":")
    return getattr(importlib.import_module(mod), attr)
