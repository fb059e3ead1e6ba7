"""Membership-inference attacks: one module each, one registry, one shared input.

Threat model (no-box): the attacker sees the synthetic table and auxiliary ``reference`` rows
from the same population, never the generator. Targets are the split's ``members`` (label 1)
followed by its ``non_members`` (label 0). Every attack has the signature

    score(data: AttackData, rng: np.random.Generator, **params) -> np.ndarray

and returns one score per target (members first, then non-members); higher means "more
likely a member". Bad parameters or inputs an attack cannot handle raise ``ValueError`` with
a message naming the attack; :mod:`synthrisk.metrics.privacy` turns that into NaN rows.

:func:`prepare` builds the one :class:`AttackData` of a split. The shared
:class:`~synthrisk.encoding.TableEncoder` (one-hot over the schema's levels, standardised
numericals) is fitted on the **reference** rows only: they are the attacker's own auxiliary
data (the attacker could not standardise with the targets' statistics without knowing them),
and they are disjoint from the targets under the default protocol, so no label information
leaks into the preprocessing. All distance- and density-based attacks therefore differ only
in how they score.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from synthrisk.encoding import TableEncoder
from synthrisk.registry import Registry
from synthrisk.schema import TableSchema

ATTACKS = Registry(
    "attack",
    {
        "dcr": "synthrisk.attacks.dcr:score",
        "dcr_diff": "synthrisk.attacks.dcr_diff:score",
        "domias": "synthrisk.attacks.domias:score",
        "density": "synthrisk.attacks.density:score",
        "mc": "synthrisk.attacks.mc:score",
        "local_neighbourhood": "synthrisk.attacks.local_neighbourhood:score",
        "dpi": "synthrisk.attacks.dpi:score",
        "gen_lra": "synthrisk.attacks.gen_lra:score",
        "logan": "synthrisk.attacks.logan:score",
        "classifier": "synthrisk.attacks.classifier:score",
        "levatt": "synthrisk.attacks.levatt:score",
    },
)

#: the study's ten Synth-MIA attacks (its ``get_attackers()``), the set of the ``worst`` case.
#: ``levatt`` and any attack added later count only in ``worst_all``. Defaults follow Synth-MIA's
#: (each module says where it differs and why).
STUDY_ATTACKS = ("dcr", "dcr_diff", "domias", "density", "mc", "local_neighbourhood", "dpi", "gen_lra", "logan",
                 "classifier")

PROTOCOLS = ("default", "paper")


@dataclass
class AttackData:
    """Encoded and raw tables of one split, shared by every attack.

    ``members``/``non_members``/``synthetic``/``reference`` are float arrays from one shared
    encoder; the ``*_df`` frames are the canonical tables (for the string attack).
    """

    members: np.ndarray
    non_members: np.ndarray
    synthetic: np.ndarray
    reference: np.ndarray
    members_df: pd.DataFrame
    non_members_df: pd.DataFrame
    synthetic_df: pd.DataFrame
    reference_df: pd.DataFrame
    schema: TableSchema
    encoder: TableEncoder
    protocol: str = "default"
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def targets(self) -> np.ndarray:
        """Members then non-members, encoded."""
        if "targets" not in self._cache:
            self._cache["targets"] = np.vstack([self.members, self.non_members])
        return self._cache["targets"]

    @property
    def targets_df(self) -> pd.DataFrame:
        return pd.concat([self.members_df, self.non_members_df], ignore_index=True)

    @property
    def labels(self) -> np.ndarray:
        """1 for members, 0 for non-members, in target order."""
        return np.r_[np.ones(len(self.members), dtype=int), np.zeros(len(self.non_members), dtype=int)]


def prepare(split, synthetic: pd.DataFrame, schema: TableSchema, protocol: str = "default") -> AttackData:
    """Build the shared attack input of one split.

    ``protocol="default"``: members, non-members and reference are the split's own parts.
    ``protocol="paper"`` (the study's, its ``train_test_split(seed_rows, test_size=0.5,
    random_state=42, shuffle=True)``): the seed rows (``split.members``, which the generator
    was trained on) are shuffled and cut in two halves, ``floor(n/2)`` members and the rest
    reference, and the whole ``split.test`` is the non-members. The shuffle is seeded by the
    split's own content (:func:`paper_halves`), so every generator scored on a split is
    attacked on the same halves; the study's exact permutation (sklearn's, on its own row
    order) cannot be reproduced and is not needed.

    The synthetic table is conformed to the schema first, so a missing column or an unknown
    category level raises :class:`~synthrisk.schema.SchemaError` naming the column.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"privacy protocol {protocol!r} unknown; choose one of {PROTOCOLS}")
    syn = schema.conform(synthetic, who="synthetic table")
    if len(syn) == 0:
        raise ValueError("synthetic table has no rows")
    if protocol == "default":
        mem, non, ref = split.members, split.non_members, split.reference
    else:
        seed = split.members.reset_index(drop=True)
        mem_idx, ref_idx = paper_halves(seed, schema)
        mem, ref, non = seed.iloc[mem_idx], seed.iloc[ref_idx], split.test
    mem = schema.conform(mem, who="members")
    non = schema.conform(non, who="non_members")
    ref = schema.conform(ref, who="reference")
    for name, part in (("members", mem), ("non_members", non), ("reference", ref)):
        if len(part) == 0:
            raise ValueError(f"privacy protocol {protocol!r}: {name} has no rows")
    enc = TableEncoder(schema).fit(ref)
    return AttackData(
        members=enc.transform(mem),
        non_members=enc.transform(non),
        synthetic=enc.transform(syn),
        reference=enc.transform(ref),
        members_df=mem,
        non_members_df=non,
        synthetic_df=syn,
        reference_df=ref,
        schema=schema,
        encoder=enc,
        protocol=protocol,
    )


def paper_halves(seed_rows: pd.DataFrame, schema: TableSchema) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the paper protocol's member and reference halves of the seed rows.

    A random half, from a stream seeded by a hash of the seed rows' content (the split's
    identity): the same for every generator and rerun, independent for every split.
    """
    from synthrisk.io import make_rng
    from synthrisk.splits import row_keys

    digest = int(row_keys(seed_rows, schema.names).astype(np.uint64).sum() % np.uint64(2**32))
    perm = make_rng(digest, "paper-protocol-halves", len(seed_rows)).permutation(len(seed_rows))
    half = len(seed_rows) // 2
    return np.sort(perm[:half]), np.sort(perm[half:])


def note(data: "AttackData", text: str) -> None:
    """Record a remark about how the running attack ran on this split (e.g. a documented
    fallback); :mod:`synthrisk.metrics.privacy` writes it into the ``reason`` of its rows."""
    notes = data._cache.setdefault("notes", {}).setdefault(data._cache.get("running", "?"), [])
    if text not in notes:
        notes.append(text)


def notes_of(data: "AttackData", attack: str) -> str | None:
    """The remarks recorded while ``attack`` ran, joined, or None."""
    got = data._cache.get("notes", {}).get(attack)
    return "; ".join(got) if got else None


_CONTROLLER: list = []


def single_thread():
    """Context limiting BLAS and OpenMP pools to one thread.

    One controller per process: building it scans the loaded libraries (~10 ms).
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1)


def run_attack(name: str, data: AttackData, rng: np.random.Generator, **params) -> np.ndarray:
    """Run one registered attack and check its output (one finite score per target).

    BLAS/OpenMP pools are limited to one thread: the matrices are small, and the pipeline
    runs many jobs side by side, where multi-threaded BLAS is many times slower.
    """
    fn = ATTACKS.get(name)
    data._cache["running"] = name
    try:
        with single_thread():
            scores = np.asarray(fn(data, rng, **params), dtype=np.float64)
    finally:
        data._cache.pop("running", None)
    n = len(data.members) + len(data.non_members)
    if scores.shape != (n,):
        raise ValueError(f"attack {name!r} returned shape {scores.shape}, expected ({n},)")
    bad = int((~np.isfinite(scores)).sum())
    if bad:
        raise ValueError(f"attack {name!r} returned {bad} non-finite score(s)")
    return scores
