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
from synthrisk.params import Param, at_least
from synthrisk.schema import TableSchema

TABLE = "table"

#: parameters both SDV 2.0 synthesizers take (their defaults); ``enable_gpu: None`` = CUDA when torch sees one
_COMMON = {
    "epochs": Param(300, "training epochs", check=at_least(1)),
    "batch_size": Param(500, "rows per training batch", check=at_least(1)),
    "embedding_dim": Param(128, "size of the random noise / latent vector", check=at_least(1)),
    "enforce_min_max_values": Param(True, "clip numerical values to the members' range"),
    "enforce_rounding": Param(True, "round numerical values to the members' decimals"),
    "verbose": Param(False, "print training progress"),
    "enable_gpu": Param(None, "train on CUDA (default: when torch sees a GPU)", bool),
}


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
        self.checked(params)  # unknown keys raise here, naming them, not later inside SDV's fit
        self.params = dict(params)  # only what the config sets goes to SDV (and into the sidecar)

    def _make(self, metadata):
        import sdv.single_table as st
        import torch

        params = {**self.params}
        if params.get("enable_gpu") is None:
            params["enable_gpu"] = torch.cuda.is_available()
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


_pair = lambda v: None if len(v) >= 1 and all(isinstance(x, int) and x >= 1 for x in v) else (  # noqa: E731
    f"must be a list of positive layer widths, got {v!r}")


class CTGANGenerator(_SDVGenerator):
    kind = "ctgan"
    synthesizer = "CTGANSynthesizer"
    PARAMS = {
        **_COMMON,
        "generator_dim": Param((256, 256), "generator layer widths", (list, tuple), check=_pair),
        "discriminator_dim": Param((256, 256), "discriminator layer widths", (list, tuple), check=_pair),
        "generator_lr": Param(2e-4, "generator learning rate"),
        "generator_decay": Param(1e-6, "generator weight decay"),
        "discriminator_lr": Param(2e-4, "discriminator learning rate"),
        "discriminator_decay": Param(1e-6, "discriminator weight decay"),
        "discriminator_steps": Param(1, "discriminator updates per generator update", check=at_least(1)),
        "log_frequency": Param(True, "sample categories by log frequency in training"),
        "pac": Param(10, "rows per discriminator pack (batch_size must be a multiple)", check=at_least(1)),
        "locales": Param(("en_US",), "Faker locales (unused: no PII columns)", (list, tuple)),
    }


class TVAEGenerator(_SDVGenerator):
    kind = "tvae"
    synthesizer = "TVAESynthesizer"
    PARAMS = {
        **_COMMON,
        "compress_dims": Param((128, 128), "encoder layer widths", (list, tuple), check=_pair),
        "decompress_dims": Param((128, 128), "decoder layer widths", (list, tuple), check=_pair),
        "l2scale": Param(1e-5, "L2 weight regularisation"),
        "loss_factor": Param(2, "weight of the reconstruction loss", (int, float)),
    }
