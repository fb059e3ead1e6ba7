"""Expand a generator entry's ``factorial:`` map into one named variant per combination.

    generators:
      llama-3.3-70b:
        kind: llm_icl
        params: {model: ..., batch_size: all, temperature: 1.0, summary_stats: true}
        factorial: {batch_size: [all, 10], temperature: [1.0, 0.5, 0.1], summary_stats: [true, false]}

becomes 12 entries named like ``llama-3.3-70b~bsall~t1~stats1`` with the levels written into
``params`` (the base entry itself is replaced by its variants; include the base levels in the
lists to keep the base condition). The one-factor-at-a-time conditions are a subset.

Name parts: ``<abbrev><level>`` joined by ``~`` in the order the factorial map lists them.
Abbreviations: batch_size=bs, temperature=t, summary_stats=stats, no_copy=nc, prompt=pr,
top_p=p, max_tokens=mt, prompt_style=ps, constrained=c, seed=s, model=m; any other param is
written with its underscores removed. Levels: booleans 1/0, numbers in shortest form (1.0 -> 1, 0.5 -> 0.5),
strings as they are; characters other than letters, digits, ``.`` and ``-`` become ``-`` so
names are safe as Snakemake wildcards and file names.

The explicit no-copy instruction is a factor like the others: ``factorial: {no_copy: [false,
true]}`` gives ``<name>~nc0`` (the study's prompt as it was) and ``<name>~nc1`` (the same prompt
plus "Do not copy the example rows."), so its effect on copying is measured on its own;
``prompt: [study, guarded]`` (``~prstudy``, ``~prguarded``) compares the two whole prompts.
"""
from __future__ import annotations

import copy
import itertools
import re

ABBREV = {
    "batch_size": "bs", "temperature": "t", "summary_stats": "stats", "no_copy": "nc", "prompt": "pr",
    "top_p": "p", "max_tokens": "mt", "prompt_style": "ps", "constrained": "c", "seed": "s", "model": "m",
}
SEP = "~"


def level_token(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        s = f"{v:.10g}"
    else:
        s = str(v)
    return re.sub(r"[^A-Za-z0-9.\-]", "-", s)


def variant_name(base: str, combo: dict) -> str:
    parts = [f"{ABBREV.get(k, k.replace('_', ''))}{level_token(v)}" for k, v in combo.items()]
    return SEP.join([base] + parts)


def expand_factorial(entries: dict) -> dict:
    """Return a new ``generators`` map with every ``factorial:`` entry expanded (order kept)."""
    out: dict = {}
    for name, entry in entries.items():
        if not isinstance(entry, dict) or "factorial" not in entry:
            out[name] = entry
            continue
        grid = entry["factorial"]
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"generator {name!r}: factorial must be a non-empty map of param -> list of levels")
        for p, levels in grid.items():
            if not isinstance(levels, list) or not levels:
                raise ValueError(f"generator {name!r}: factorial[{p!r}] must be a non-empty list of levels")
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            combo = dict(zip(keys, values))
            vname = variant_name(name, combo)
            if vname in out or vname in entries:
                raise ValueError(f"generator {name!r}: factorial variant name {vname!r} is not unique")
            variant = copy.deepcopy({k: v for k, v in entry.items() if k != "factorial"})
            variant["params"] = {**(variant.get("params") or {}), **copy.deepcopy(combo)}
            out[vname] = variant
    return out
