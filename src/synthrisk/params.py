"""Parameter declarations of plugins (generators, metric families, attacks), and their check.

A plugin declares its parameters where it is defined, as a dict ``name -> Param``: the type,
the default and a one-line description, and optionally the allowed values or a check. The plan
(:mod:`synthrisk.plan`) checks every config entry against its plugin's declaration in the main
Snakemake process, before any job runs, and the plugin checks the same declaration when a job
builds it, so a typo fails at ``snakemake -n`` with the full key path
(``generators.ctgan.params.epochz``) and the accepted keys.

    PARAMS = {
        "k_neighbors": Param(5, "neighbours SMOTE interpolates between", int, check=at_least(1)),
    }
"""
from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable

class ConfigError(ValueError):
    """A bad config value; the message names its key path."""


class ParamError(ConfigError, TypeError):
    """A parameter that does not fit its plugin's declaration (also a ``TypeError``, as an
    unexpected keyword argument is)."""


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    ``type``: a type or tuple of types the value must be (``None`` allowed when the default is
    None; ``bool`` is never taken for ``int``; an ``int`` is accepted for ``float``);
    ``choices``: the allowed values (checked instead of ``type`` when given and ``type`` is
    None); ``check``: ``value -> problem or None``, for ranges and shapes.
    """

    default: Any
    doc: str
    type: type | tuple | None = None
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None

    def __post_init__(self):
        # no type given: the default's (a float default also takes an int); ``object``: any value
        if self.type is None and self.choices is None and self.default is not None:
            object.__setattr__(self, "type", type(self.default))
        if self.type is object:
            object.__setattr__(self, "type", None)

    def problem(self, value) -> str | None:
        if value is None and self.default is None:
            return None
        if self.choices is not None and value in self.choices and not _bool_vs_number(value, self.choices):
            return None
        if self.type is not None:
            types = self.type if isinstance(self.type, tuple) else (self.type,)
            if float in types:
                types = (*types, int)
            if isinstance(value, bool) and bool not in types:
                return f"expected {_type_names(self.type)}, got bool {value!r}"
            if not isinstance(value, types):
                allowed = f" or one of {list(self.choices)}" if self.choices else ""
                return f"expected {_type_names(self.type)}{allowed}, got {type(value).__name__} {_short(value)}"
        elif self.choices is not None:
            return f"{_short(value)} is not allowed; allowed values: {list(self.choices)}"
        if self.check is not None:
            return self.check(value)
        return None


def _bool_vs_number(value, choices) -> bool:
    # True == 1 in Python: a choice list (1, 2) must not accept True
    return isinstance(value, bool) and not any(isinstance(c, bool) for c in choices)


def _type_names(t) -> str:
    types = t if isinstance(t, tuple) else (t,)
    return " or ".join(x.__name__ for x in types)


def _short(x) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def check_params(declared: dict[str, Param], params: dict | None, where: str) -> dict:
    """``params`` checked against ``declared`` and completed with the defaults.

    ``where`` is the key path of the params (``generators.ctgan.params``); an unknown key, a
    wrong type or a bad value raises :class:`ParamError` naming ``where.<key>`` and, for an
    unknown key, the accepted ones.
    """
    if params is not None and not isinstance(params, dict):
        raise ParamError(f"{where}: expected a mapping, got {type(params).__name__}")
    params = dict(params or {})
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ParamError(f"{where}.{unknown[0]}: unknown key{' (and ' + ', '.join(unknown[1:]) + ')' if unknown[1:] else ''}"
                         f"; accepted: {', '.join(sorted(declared)) or '(none)'}")
    for key, value in params.items():
        why = declared[key].problem(value)
        if why:
            raise ParamError(f"{where}.{key}: {why}")
    return {**{k: p.default for k, p in declared.items()}, **params}


def check_plugin(plugin, params: dict | None, where: str) -> dict:
    """Check ``params`` against a plugin (a class or module): its own ``check_params(params,
    where)`` where it has one (checks across parameters), else its ``PARAMS`` declaration."""
    custom = getattr(plugin, "check_params", None)
    own = inspect.isclass(plugin) or getattr(custom, "__module__", None) == getattr(plugin, "__name__", None)
    if custom is not None and own:  # (a module's, not the generic one it imported)
        return custom(params, where)
    return check_params(getattr(plugin, "PARAMS", {}), params, where)


def describe(declared: dict[str, Param]) -> list[str]:
    """One line per parameter: name, default, description (for docs and error messages)."""
    return [f"{k} (default {p.default!r}): {p.doc}" for k, p in sorted(declared.items())]


def from_signature(fn: Callable, skip: tuple[str, ...] = ()) -> dict[str, Param]:
    """A declaration read from a function's keyword parameters (their defaults and type
    annotations): for plugins that are a plain function, e.g. an attack's ``score``."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: no type check for it
        hints = {}
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        out[name] = Param(default, f"keyword argument of {fn.__module__}.{fn.__name__}", _plain_types(hints.get(name)))
    return out


def _plain_types(hint) -> type | tuple | None:
    """A runtime-checkable type (or tuple) for a simple annotation, else None (unchecked)."""
    if hint is None:
        return None
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        parts = tuple(_plain_types(a) for a in args if a is not type(None))
        if any(p is None for p in parts):
            return None
        flat = tuple(t for p in parts for t in (p if isinstance(p, tuple) else (p,)))
        return flat
    if origin in (list, tuple) or hint in (list, tuple):
        return (list, tuple)  # a YAML sequence is a list
    if origin is not None:
        return origin if isinstance(origin, type) else None
    return hint if isinstance(hint, type) else None


# ------------------------------------------------------------------- checks
def at_least(lo) -> Callable[[Any], str | None]:
    return lambda v: None if v >= lo else f"must be >= {lo}, got {v!r}"


def in_range(lo, hi, *, open_low: bool = False, open_high: bool = False) -> Callable[[Any], str | None]:
    def check(v):
        ok = (v > lo if open_low else v >= lo) and (v < hi if open_high else v <= hi)
        return None if ok else f"must be in {'(' if open_low else '['}{lo}, {hi}{')' if open_high else ']'}, got {v!r}"
    return check


def items_in(allowed) -> Callable[[Any], str | None]:
    def check(v):
        bad = [x for x in v if x not in allowed]
        return f"unknown value(s) {bad}; allowed: {list(allowed)}" if bad else None
    return check
