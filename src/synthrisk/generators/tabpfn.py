"""TabPFN v2 used autoregressively as a synthetic-data generator (kind ``tabpfn``).

Each column is sampled from TabPFN's predictive distribution given the columns already
sampled, with the member rows as the in-context training set:

1. Columns are visited in a random order drawn from the fit stream (``feature_order:
   random``, the default) or in the schema's order (``natural``).
2. The first column is sampled from its marginal: TabPFN is fitted on one pure-noise input
   column and queried at fresh noise, so its prediction carries no information but the
   column's own distribution.
3. Column ``j`` at position ``p``: TabPFN is fitted on the members' columns ``order[:p]`` ->
   column ``j`` and predicts at the synthetic rows' columns ``order[:p]``; one value is drawn
   per synthetic row.

   * categorical with at most ``max_classes`` levels: ``TabPFNClassifier``; the class
     probabilities are tempered (``p ** (1/temperature)``, renormalised) and one class is
     drawn; it is mapped back to the schema's own level (``"7"`` stays ``"7"``).
   * numerical: ``TabPFNRegressor``; ``predict(..., output_type="full")`` gives the bar
     distribution (bucket logits and borders in the target's scale); a bucket is drawn from
     ``softmax(logits / temperature)`` and a value uniformly inside it (half-normal tails in
     the two outer buckets, as tabpfn's own ``sample``). ``int`` columns are rounded at once
     (so later columns condition on the values that will be written). Values are not clipped
     to the observed range.
   * categorical with more levels than ``max_classes`` (the v2 classifier handles at most
     10): the regressor on the level codes, rounded and clipped to ``0..K-1``. Codes follow
     the numeric order of the levels when they all parse as numbers, else the schema's order.

   Categorical conditioning columns are passed to TabPFN as ordinal codes listed in
   ``categorical_features_indices``. A column that is constant among the members is copied.

Randomness: all draws use the numpy stream passed to :meth:`fit` / :meth:`sample`; TabPFN's
``random_state`` is an int drawn from that stream for each model. No global RNG is seeded.
With the same seed, thread count and device the output is the same bytes.

Environment: ``tabpfn`` (and torch, for the checkpoints) is imported only inside
:meth:`fit`/:meth:`sample`, so :meth:`unavailable` answers from file checks alone. Before
tabpfn runs, ``TABPFN_DISABLE_TELEMETRY=1`` is set, ``TABPFN_MODEL_CACHE_SIZE`` defaults to 2
(the built model is reused across the per-column fits instead of being rebuilt each time), and
``FAST_TEST_MODE`` is removed for the duration of the sampling and restored afterwards (it
shrinks outputs in tabpfn-extensions, which this module does not use; the loop here always
returns exactly ``k`` rows). tabpfn-extensions' ``generate_synthetic_data`` is not used: it
returns class indices instead of labels, ignores the temperature for categorical columns and
always uses the natural column order.

Weights (never downloaded here; a missing file makes tabpfn retry downloads for ~25 s):
``weights_dir`` if given, else ``$TABPFN_MODEL_CACHE_DIR``, else tabpfn's own cache folder
(``$XDG_CACHE_HOME/tabpfn`` or ``~/.cache/tabpfn``). The classifier is
``tabpfn-v2-classifier-finetuned-zk73skhh.ckpt`` (tabpfn 9.2's v2 default) or
``tabpfn-v2-classifier.ckpt``; the regressor is ``tabpfn-v2-regressor.ckpt``. When those are
absent, the random-initialised stand-ins built by :mod:`synthrisk.generators.tabpfn_ckpt`
(``tabpfn-v2-*-random.ckpt``) are used if present; their output is labelled
``info()["random_weights"] = True`` with a warning in the log, and must never be reported as
TabPFN's results.

Params (defaults are tabpfn's own, as the study used them):

* ``weights_dir``: folder with the checkpoints (see above).
* ``n_estimators``: ensemble size per TabPFN model, an int or ``"auto"`` (tabpfn: 8 for v2).
* ``temperature``: > 0, applied to numerical and categorical columns alike (1 = as predicted).
* ``feature_order``: ``random`` | ``natural``.
* ``device``: ``auto`` (CUDA when torch sees a GPU) | ``cpu`` | ``cuda``.
* ``max_classes``: 2..10; categorical columns with more levels go through the regressor.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthrisk.generators.base import FitContext, Generator
from synthrisk.generators.device import DEVICE, resolve_device
from synthrisk.io import child_seed, file_sha256
from synthrisk.params import Param, in_range
from synthrisk.schema import TableSchema

CLASSIFIER_FILES = ("tabpfn-v2-classifier-finetuned-zk73skhh.ckpt", "tabpfn-v2-classifier.ckpt")
REGRESSOR_FILES = ("tabpfn-v2-regressor.ckpt",)
# random-initialised stand-ins (kept in sync with synthrisk.generators.tabpfn_ckpt, which
# imports torch and so is not imported here)
RANDOM_CLASSIFIER_FILE = "tabpfn-v2-classifier-random.ckpt"
RANDOM_REGRESSOR_FILE = "tabpfn-v2-regressor-random.ckpt"
RANDOM_MARKER = "synthrisk_random_init"
V2_MAX_CLASSES = 10
RANDOM_LABEL = "[random weights]"

_log = logging.getLogger(__name__)
_SHA_CACHE: dict[tuple[str, int, int], str] = {}


# ------------------------------------------------------------------------- weights
def weights_location(weights_dir: str | None) -> tuple[Path, str]:
    """The folder searched for checkpoints and where that choice came from."""
    if weights_dir:
        return Path(weights_dir).expanduser(), "params.weights_dir"
    env = os.environ.get("TABPFN_MODEL_CACHE_DIR")
    if env:
        return Path(env).expanduser(), "$TABPFN_MODEL_CACHE_DIR"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tabpfn", "tabpfn's default cache; neither params.weights_dir nor $TABPFN_MODEL_CACHE_DIR is set"


def find_weights(weights_dir: str | None) -> tuple[Path | None, Path | None, Path, str]:
    """(classifier path, regressor path, searched folder, source); a path is None when absent.

    Real files win over the random stand-ins; only file existence is checked (fast, no imports).
    """
    folder, source = weights_location(weights_dir)

    def first(names):
        for name in names:
            p = folder / name
            if p.is_file():
                return p
        return None

    clf = first(CLASSIFIER_FILES + (RANDOM_CLASSIFIER_FILE,))
    reg = first(REGRESSOR_FILES + (RANDOM_REGRESSOR_FILE,))
    return clf, reg, folder, source


def missing_weights_message(weights_dir: str | None) -> str | None:
    clf, reg, folder, source = find_weights(weights_dir)
    if clf is not None and reg is not None:
        return None
    missing = []
    if clf is None:
        missing.append(f"{CLASSIFIER_FILES[0]} (or {CLASSIFIER_FILES[1]})")
    if reg is None:
        missing.append(REGRESSOR_FILES[0])
    return (
        f"tabpfn: TabPFN v2 weights not found in {folder} (from {source}). The generator needs "
        f"{CLASSIFIER_FILES[0]} (or {CLASSIFIER_FILES[1]}) and {REGRESSOR_FILES[0]}; missing: "
        f"{'; '.join(missing)}. Obtain them from Hugging Face (v2 is not gated): "
        f"https://huggingface.co/Prior-Labs/TabPFN-v2-clf/resolve/main/{CLASSIFIER_FILES[0]} and "
        f"https://huggingface.co/Prior-Labs/TabPFN-v2-reg/resolve/main/{REGRESSOR_FILES[0]}; put both "
        f"in one folder and set TABPFN_MODEL_CACHE_DIR to it (or the generator's params.weights_dir). "
        f"For pipeline tests only, `python -m synthrisk.generators.tabpfn_ckpt DIR` builds "
        f"random-weight stand-ins (results labelled {RANDOM_LABEL}, not TabPFN's)."
    )


def _sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(path)
    return _SHA_CACHE[key]


def _random_marker(path: Path):
    """The marker dict stored by tabpfn_ckpt, or None for any other checkpoint."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # real checkpoints may hold objects weights_only refuses: not ours
        return None
    return ckpt.get(RANDOM_MARKER) if isinstance(ckpt, dict) else None


@contextlib.contextmanager
def _tabpfn_env():
    """Telemetry off, built-model cache on, and no stray FAST_TEST_MODE while tabpfn runs."""
    os.environ["TABPFN_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("TABPFN_MODEL_CACHE_SIZE", "2")
    fast = os.environ.pop("FAST_TEST_MODE", None)
    try:
        yield
    finally:
        if fast is not None:
            os.environ["FAST_TEST_MODE"] = fast


# ----------------------------------------------------------------------- sampling
def _draw_rows(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row of a (rows, options) probability matrix (inverse CDF)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _temper(probs: np.ndarray, t: float) -> np.ndarray:
    p = np.clip(probs, 0.0, None) ** (1.0 / t)
    s = p.sum(axis=1, keepdims=True)
    return np.where(s > 0, p / np.where(s > 0, s, 1.0), 1.0 / p.shape[1])


def sample_bar_distribution(logits: np.ndarray, borders: np.ndarray, t: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one value per row from a full-support bar distribution.

    ``logits`` (rows, B) are the bucket logits, ``borders`` (B+1) the bucket edges. Inner
    buckets are uniform; the two outer buckets are half-normal tails that put half of their
    mass within one bucket width of the inner edge (tabpfn's convention).
    """
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    b = _draw_rows(np.exp(z), rng)
    widths = np.diff(borders)
    u = rng.random(len(b))
    out = borders[b] + widths[b] * u
    q75 = 0.6744897501960817  # median of |N(0,1)|
    tail = np.abs(rng.standard_normal(len(b)))
    left = borders[1] - tail * widths[0] / q75
    right = borders[-2] + tail * widths[-1] / q75
    out = np.where(b == 0, left, out)
    return np.where(b == len(widths) - 1, right, out)


def _level_order(levels: tuple[str, ...]) -> list[str]:
    """Levels in numeric order when they all parse as numbers, else as the schema lists them."""
    try:
        vals = [float(v) for v in levels]
    except ValueError:
        return list(levels)
    return [lv for _, lv in sorted(zip(vals, levels))]


class TabPFNGenerator(Generator):
    kind = "tabpfn"
    deterministic = True

    PARAMS = {
        "weights_dir": Param(None, "folder of the v2 checkpoints (default $TABPFN_MODEL_CACHE_DIR, then tabpfn's cache)",
                             str),
        "n_estimators": Param("auto", "ensemble members per fitted model ('auto': tabpfn's default)", int,
                              choices=("auto",), check=lambda v: None if v == "auto" or v >= 1 else
                              f"must be a positive int or 'auto', got {v!r}"),
        "temperature": Param(1.0, "sampling temperature of every column (> 0)", check=lambda v: None if v > 0 else
                             f"must be > 0, got {v!r}"),
        "feature_order": Param("random", "order features are drawn in: random (per seed) | natural",
                               choices=("random", "natural")),
        "device": DEVICE,
        "max_classes": Param(V2_MAX_CLASSES, "categorical columns with more levels go through the regressor",
                             check=in_range(2, V2_MAX_CLASSES)),
    }
    RESOURCES = {"gpu": 1, "runtime": 60, "mem_mb": 16000}

    def __init__(self, **params):
        super().__init__(**params)
        p = self.params
        self.weights_dir = p["weights_dir"]
        self.n_estimators = p["n_estimators"]
        self.temperature = float(p["temperature"])
        self.feature_order = p["feature_order"]
        self.device = p["device"]
        self.max_classes = p["max_classes"]
        self._info: dict = {}

    @classmethod
    def unavailable(cls, params: dict, config: dict | None = None) -> str | None:
        """A message naming the missing checkpoint files, or None (checks files only: fast)."""
        return missing_weights_message((params or {}).get("weights_dir"))

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, schema: TableSchema, rng: np.random.Generator, ctx: FitContext) -> None:
        msg = missing_weights_message(self.weights_dir)
        if msg:
            raise FileNotFoundError(msg)
        log = ctx.log if ctx is not None and ctx.log is not None else _log
        clf, reg, _, _ = find_weights(self.weights_dir)
        self._paths = {"classifier": clf, "regressor": reg}
        ckpts = {}
        for task, path in self._paths.items():
            marker = _random_marker(path)
            ckpts[task] = {"file": path.name, "path": str(path), "sha256": _sha256(path),
                           "random_weights": marker is not None, "random_init": marker}
        random_weights = any(c["random_weights"] for c in ckpts.values())
        if random_weights:
            log.warning("tabpfn: using RANDOM-INITIALISED test checkpoints (%s, %s): the output tests the "
                        "pipeline only and is NOT TabPFN's; it is labelled %s",
                        clf.name, reg.name, RANDOM_LABEL)

        self._schema = schema
        self._cols = schema.names
        self._levels = {c.name: _level_order(c.levels) for c in schema.columns if c.is_categorical}
        X = np.empty((len(data), len(self._cols)), dtype=np.float64)
        for i, c in enumerate(schema.columns):
            if c.is_categorical:
                code = {lv: k for k, lv in enumerate(self._levels[c.name])}
                X[:, i] = data[c.name].map(code).to_numpy(dtype=np.float64)
            else:
                X[:, i] = data[c.name].to_numpy(dtype=np.float64)
        self._X = X
        d = len(self._cols)
        self._order = list(rng.permutation(d)) if self.feature_order == "random" else list(range(d))
        self._device = resolve_device(self.device, "tabpfn")
        self._info = {
            "checkpoints": ckpts,
            "random_weights": random_weights,
            "label": RANDOM_LABEL if random_weights else "",
            "feature_order": [self._cols[j] for j in self._order],
            "regressor_on_codes": [c for c, lv in self._levels.items() if len(lv) > self.max_classes],
            "device": self._device,
            "n_estimators": self.n_estimators,
            "temperature": self.temperature,
        }

    # --------------------------------------------------------------- sample
    def sample(self, k: int, rng: np.random.Generator) -> pd.DataFrame:
        with _tabpfn_env():
            from tabpfn import TabPFNClassifier, TabPFNRegressor

            X, n = self._X, len(self._X)
            S = np.zeros((k, X.shape[1]), dtype=np.float64)
            seconds = {}
            for p, j in enumerate(self._order):
                t0 = time.perf_counter()
                name = self._cols[j]
                y = X[:, j]
                if p == 0:  # marginal: condition on noise only
                    Xc, Xq, cat_idx = rng.standard_normal((n, 1)), rng.standard_normal((k, 1)), []
                else:
                    prev = self._order[:p]
                    Xc, Xq = X[:, prev], S[:, prev]
                    cat_idx = [i for i, c in enumerate(prev) if self._cols[c] in self._levels]
                common = dict(n_estimators=self.n_estimators, device=self._device,
                              random_state=child_seed(rng), categorical_features_indices=cat_idx or None)
                levels = self._levels.get(name)
                if np.unique(y).size == 1:
                    S[:, j] = y[0]
                elif levels is not None and len(levels) <= self.max_classes:
                    m = TabPFNClassifier(**{**common, "model_path": str(self._paths["classifier"])})
                    m.fit(Xc, y.astype(np.int64))
                    probs = _temper(np.asarray(m.predict_proba(Xq), dtype=np.float64), self.temperature)
                    S[:, j] = np.asarray(m.classes_, dtype=np.float64)[_draw_rows(probs, rng)]
                else:
                    m = TabPFNRegressor(**{**common, "model_path": str(self._paths["regressor"])})
                    m.fit(Xc, y)
                    full = m.predict(Xq, output_type="full")
                    logits = full["logits"].detach().float().cpu().numpy().astype(np.float64)
                    borders = full["criterion"].borders.detach().float().cpu().numpy().astype(np.float64)
                    v = sample_bar_distribution(logits, borders, self.temperature, rng)
                    if levels is not None:  # too many classes: regressor on codes
                        v = np.clip(np.round(v), 0, len(levels) - 1)
                    elif self._schema.column(name).dtype == "int":
                        v = np.round(v)
                    S[:, j] = v
                seconds[name] = round(time.perf_counter() - t0, 3)
        self._info["seconds_per_feature"] = seconds
        self._info["mean_seconds_per_feature"] = round(float(np.mean(list(seconds.values()))), 3)

        out = {}
        for i, c in enumerate(self._schema.columns):
            if c.is_categorical:
                out[c.name] = np.asarray(self._levels[c.name], dtype=object)[S[:, i].astype(np.int64)]
            elif c.dtype == "int":
                out[c.name] = S[:, i].astype(np.int64)
            else:
                out[c.name] = S[:, i]
        return pd.DataFrame(out, columns=self._cols)

    def info(self) -> dict:
        return dict(self._info)
