"""CTGAN and TVAE through SDV's single-table synthesizers (SDV 2.0).

The SDV metadata is written from our schema (categorical -> ``categorical``; numerical ->
``numerical``), never auto-detected, so SDV cannot
mistake a column for an id or PII. ``params`` go to the synthesizer unchanged (``epochs``,
``batch_size``, ``embedding_dim`` ...); ``enable_gpu`` defaults to CUDA when available.

Seeding: sampling uses SDV's own random state, set from the job's seed. Training draws from
torch's global generator inside SDV/ctgan, which we do not touch (no global seeding), so the
fitted model, and hence the output, is not byte-reproducible: ``deterministic = False``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.io import child_seed
from synthrisk.schema import TableSchema

TABLE = "table"


def sdv_metadata(schema: TableSchema):
    from sdv.metadata import Metadata

    cols = {}
    for c in schema.columns:
        if c.is_categorical:
            cols[c.name] = {"sdtype": "categorical"}
        else:
            cols[c.name] = {"sdtype": "numerical"}  # SDV 2.0 infers int/float from the data
    return Metadata.load_from_dict({"tables": {TABLE: {"columns": cols}}})


class _SDVGenerator(Generator):
    deterministic = False
    synthesizer: str = ""

    def __init__(self, **params):
        # unknown keys raise here (as the Generator contract asks), not later inside SDV's fit
        import inspect

        import sdv.single_table as st

        known = set(inspect.signature(getattr(st, self.synthesizer).__init__).parameters) - {"self", "metadata"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise TypeError(f"{self.kind}: unknown param(s) {unknown}; {self.synthesizer} takes {sorted(known)}")
        self.params = dict(params)

    def _make(self, metadata):
        import sdv.single_table as st
        import torch

        params = {"enable_gpu": torch.cuda.is_available(), **self.params}
        return getattr(st, self.synthesizer)(metadata, **params)

    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        self.schema = schema
        self.model = self._make(sdv_metadata(schema))
        self.model.fit({TABLE: data})

    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        self.model._set_random_state(child_seed(rng))
        out = self.model.sample(k)
        return out[TABLE] if isinstance(out, dict) else out

    def info(self) -> dict:
        return {"synthesizer": self.synthesizer, "params": self.params}


class CTGANGenerator(_SDVGenerator):
    kind = "ctgan"
    synthesizer = "CTGANSynthesizer"


class TVAEGenerator(_SDVGenerator):
    kind = "tvae"
    synthesizer = "TVAESynthesizer"
