"""LevAtt: the string attack for LLM generators.

Rows become canonical strings (:func:`synthrisk.encoding.canonical_strings`: fixed numeric
precision, stable category tokens, ``|`` delimiters); a target's score is minus its minimum
Levenshtein distance to any synthetic row string, computed by rapidfuzz (C++,
``process.cdist``, one worker) in blocks of targets to bound memory.
"""
from __future__ import annotations

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from synthrisk.encoding import canonical_strings

BLOCK = 512


def score(data, rng: np.random.Generator, precision: int = 4) -> np.ndarray:
    tgt = canonical_strings(data.targets_df, data.schema, precision)
    syn = canonical_strings(data.synthetic_df, data.schema, precision)
    out = np.empty(len(tgt))
    for s in range(0, len(tgt), BLOCK):
        d = process.cdist(tgt[s : s + BLOCK], syn, scorer=Levenshtein.distance, workers=1, dtype=np.int32)
        out[s : s + BLOCK] = d.min(axis=1)
    return -out
