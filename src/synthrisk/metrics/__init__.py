"""Metric families: one module each, one line here.

A family is a function ``evaluate(synthetic, split, schema, rng, params) -> list[dict]``;
each dict is one long row with at least ``metric`` and ``value`` and optionally ``against``,
``column``, ``model``, ``attack``, ``reason`` (see :mod:`synthrisk.metrics.base`).
"""
from synthrisk.registry import Registry

FAMILIES = Registry(
    "metric family",
    {
        "fidelity": "synthrisk.metrics.fidelity:evaluate",
        "utility": "synthrisk.metrics.utility:evaluate",
        "privacy": "synthrisk.metrics.privacy:evaluate",
        "diversity": "synthrisk.metrics.diversity:evaluate",
    },
)
