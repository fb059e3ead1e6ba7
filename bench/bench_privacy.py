"""Seconds for the whole privacy battery (prepare + all eleven attacks + scores) per split.

Grid: n in {32, 128} x reference rows in {1,000, 10,000} on ggplot2/diamonds (the one bundled
table with enough rows), copy control as synthetic data, ``--non-members`` targets of label 0
(default 1,000, the splits' default; ``n`` gives as many as members, the setting before
non_member_size existed), median of ``--repeats`` runs; then
the diversity family on the same splits, the "paper" protocol (1,000 test rows as
non-members) and a per-attack breakdown of the slowest cell. BLAS runs on one thread (as in
the battery).

    .venv/bin/python bench/bench_privacy.py [--repeats 3] [--non-members 1000|n]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _privacy_tables import copy_control, load, make_split  # noqa: E402

from synthrisk.attacks import ATTACKS, prepare, run_attack  # noqa: E402
from synthrisk.io import make_rng  # noqa: E402
from synthrisk.metrics import diversity, privacy  # noqa: E402


def _median(fn, repeats: int, cpu: bool = False) -> float:
    """Median seconds of ``fn`` over ``repeats`` runs: wall clock, or with ``cpu`` this process's
    CPU time (steadier than wall time when other work shares the cores)."""
    clock = time.process_time if cpu else time.perf_counter
    times = []
    for r in range(repeats):
        t0 = clock()
        fn(r)
        times.append(clock() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--non-members", default="1000", help="non-member targets: a number, or n (as many as members)")
    args = ap.parse_args()
    df, schema = load("diamonds", max_rows=12000)
    print(f"{'n':>5} {'non-members':>11} {'reference':>10} {'privacy s/split':>16} {'privacy cpu s':>14} "
          f"{'diversity s/split':>18}")
    for n in (32, 128):
        n_non = n if args.non_members == "n" else int(args.non_members)
        for n_ref in (1000, 10000):
            split = make_split(df, n, n_ref, seed=0, n_test=1000, n_non=n_non)
            syn = copy_control(split, 0)
            t_priv = _median(lambda r: privacy.evaluate(syn, split, schema, make_rng(r), {}), args.repeats)
            c_priv = _median(lambda r: privacy.evaluate(syn, split, schema, make_rng(r), {}), args.repeats, cpu=True)
            t_div = _median(lambda r: diversity.evaluate(syn, split, schema, make_rng(r), {}), args.repeats)
            print(f"{n:>5} {n_non:>11} {len(split.reference):>10} {t_priv:>16.3f} {c_priv:>14.3f} {t_div:>18.3f}")
    t_paper = _median(lambda r: privacy.evaluate(syn, split, schema, make_rng(r), {"protocol": "paper"}), args.repeats)
    print(f"paper protocol, n={n} (members/reference {n // 2} each, {len(split.test)} test rows as "
          f"non-members): {t_paper:.3f} s/split")
    data = prepare(split, syn, schema)
    print(f"\nper attack at n={n}, reference={len(split.reference)} (seconds, median of {args.repeats}):")
    for name in ATTACKS.names():
        print(f"  {name:<20} {_median(lambda r: run_attack(name, data, make_rng(r)), args.repeats):.3f}")


if __name__ == "__main__":
    main()
