"""Metric families: one module each, one line here.

A family is a module with a function ``evaluate(synthetic, split, schema, rng, params) ->
list[dict]``; each dict is one long row with at least ``metric`` and ``value`` and optionally
``against``, ``column``, ``model``, ``attack``, ``reason`` (see :mod:`synthrisk.metrics.base`).
The module declares ``PARAMS`` (:class:`synthrisk.params.Param` each; or a ``check_params(params,
where)`` for nested ones) and ``GOALS``: metric -> (goal, (low, high)), goal one of
``maximize``, ``minimize`` or ``target <value>``, as SDMetrics' metric classes declare theirs.
"""
import importlib

from synthrisk.registry import Registry

FAMILIES = Registry(
    "metric family",
    {
        "fidelity": "synthrisk.metrics.fidelity:evaluate",
        "utility": "synthrisk.metrics.utility:evaluate",
        "privacy": "synthrisk.metrics.privacy:evaluate",
        "diversity": "synthrisk.metrics.diversity:evaluate",
        "risk": "synthrisk.metrics.risk:evaluate",
        "constraints": "synthrisk.metrics.constraints:evaluate",
    },
)


def goal(family: str, metric: str) -> tuple[str, tuple[float, float]] | None:
    """The (goal, range) a family declares for one of its metrics, or None where it declares none."""
    return getattr(importlib.import_module(FAMILIES.module(family)), "GOALS", {}).get(metric)
