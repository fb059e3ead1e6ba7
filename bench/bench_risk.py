"""Seconds for the risk family (metrics/risk.py: Anonymeter + attribute inference) per split,
beside the membership battery (the privacy family) on the same splits.

Grid: three bundled tables (carData/Arrests 8 columns, ggplot2/diamonds 10, AER/CreditCard 12:
the inference attacks run once per column) x n in {32, 128}, 1,000 non-members, copy control as
synthetic data, the default params (50 anonymeter attacks) and the study's (500; 100 trees);
median of ``--repeats`` runs in this process (numba kernels already compiled). Then a per-attack
breakdown of one cell and the cost of a fresh process's first call (imports, numba's cached
kernels loaded), which every evaluate job pays once.

    .venv/bin/python bench/bench_risk.py [--repeats 3] [--no-privacy]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _privacy_tables import copy_control, load, make_split  # noqa: E402

from synthrisk.io import make_rng  # noqa: E402
from synthrisk.metrics import privacy, risk  # noqa: E402

STUDY = {"n_attacks": 500, "trees": 100, "max_attempts": 200000}
FIRST_CALL = """
import sys, time; t0 = time.perf_counter()
sys.path.insert(0, {tests!r})
import numpy as np
from _privacy_tables import copy_control, load, make_split
from synthrisk.metrics import risk
df, schema = load("arrests"); split = make_split(df, 128, 1000, 0, n_non=1000)
t1 = time.perf_counter()
risk.evaluate(copy_control(split, 0), split, schema, np.random.default_rng(0), {{}})
t2 = time.perf_counter()
risk.evaluate(copy_control(split, 0), split, schema, np.random.default_rng(1), {{}})
print(f"{{t2 - t1:.3f}} {{time.perf_counter() - t2:.3f}}")
"""


def _median(fn, repeats: int) -> float:
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-privacy", action="store_true", help="skip the membership battery column")
    args = ap.parse_args()
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    out = subprocess.run([sys.executable, "-c", FIRST_CALL.format(tests=tests)], capture_output=True, text=True,
                         check=True).stdout.split()
    print(f"fresh process, arrests n=128: first risk call {out[0]} s, second {out[1]} s "
          "(the difference: anonymeter's numba kernels loaded from numba's cache)\n")
    print(f"{'table':<11} {'cols':>4} {'n':>4} {'risk s/split':>13} {'risk study s':>13} {'privacy s/split':>16}")
    for name in ("arrests", "diamonds", "creditcard"):
        df, schema = load(name)
        for n in (32, 128):
            split = make_split(df, n, 1000, seed=0, n_non=1000)
            syn = copy_control(split, 0)
            t_risk = _median(lambda r: risk.evaluate(syn, split, schema, make_rng(r), {}), args.repeats)
            t_study = _median(lambda r: risk.evaluate(syn, split, schema, make_rng(r), STUDY), 1)
            t_priv = (float("nan") if args.no_privacy else
                      _median(lambda r: privacy.evaluate(syn, split, schema, make_rng(r), {}), 1))
            print(f"{name:<11} {len(schema.names):>4} {n:>4} {t_risk:>13.3f} {t_study:>13.3f} {t_priv:>16.3f}")
    print(f"\nper attack, creditcard n=128 (seconds, median of {args.repeats}):")
    for attack in risk.ATTACKS:
        t = _median(lambda r: risk.evaluate(syn, split, schema, make_rng(r), {"attacks": [attack]}), args.repeats)
        print(f"  {attack:<26} {t:.3f}")


if __name__ == "__main__":
    main()
