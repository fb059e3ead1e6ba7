"""The privacy battery under the null, over many splits: is the holdout control at chance?

The default run has one seed, so its holdout control's means at a given n average only 8 splits
(one per table), each with an AUC standard deviation of about 0.05 at n = 32. This script draws
many more splits of the default tables with the pipeline's own ``make_split`` and scores the
holdout control (fresh real rows, disjoint from every part) with the full battery, so the mean
of ``selected`` and of the study's ``worst`` can be read with a small standard error.

    .venv/bin/python bench/calibrate_null.py [--n 32] [--seeds 10] [--tables arrests,cps88wages,...]

Prints the per-split values, then the means with their standard errors (over splits) and the
per-attack mean AUCs. Not a test: at 10 seeds x 4 tables it takes about 2 minutes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from synthrisk.attacks import STUDY_ATTACKS
from synthrisk.datasets import load_dataset
from synthrisk.io import make_rng
from synthrisk.metrics import privacy
from synthrisk.metrics.base import Split
from synthrisk.splits import make_split

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--seeds", type=int, default=10, help="split seeds 100, 101, ... (the default run uses 0)")
    ap.add_argument("--tables", default="arrests,cps88wages,health_insurance,college_distance")
    ap.add_argument("--bootstrap", type=int, default=20, help="replicates (only the intervals need them)")
    args = ap.parse_args()
    specs = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["datasets"]
    rows = []
    for name in args.tables.split(","):
        df, schema, _ = load_dataset(name, specs[name])
        for seed in range(100, 100 + args.seeds):
            split = Split(**make_split(df, schema, args.n, seed))
            out = privacy.evaluate(split.holdout.copy(), split, schema, make_rng(seed, name, "null"),
                                   {"bootstrap": args.bootstrap})
            v = {(r["metric"], r.get("attack")): r["value"] for r in out}
            rows.append({"table": name, "seed": seed, "selected_auc": v["auc", "selected"],
                         "worst_auc": v["auc", "worst"], "worst_tpr@1%": v["tpr_at_fpr_0.01", "worst"],
                         "selected_tpr@1%": v["tpr_at_fpr_0.01", "selected"],
                         **{f"auc_{a}": v["auc", a] for a in STUDY_ATTACKS}})
            print(f"{name:<18} seed {seed}: selected {rows[-1]['selected_auc']:.3f}  worst {rows[-1]['worst_auc']:.3f}"
                  f"  worst TPR@1% {rows[-1]['worst_tpr@1%']:.3f}", flush=True)
    r = pd.DataFrame(rows).drop(columns=["table", "seed"])
    print(f"\nholdout control, n = {args.n}, {len(r)} splits: mean (standard error over splits)")
    for col in r.columns:
        print(f"  {col:<28} {r[col].mean():.3f} ({r[col].std(ddof=1) / np.sqrt(len(r)):.3f})")


if __name__ == "__main__":
    main()
