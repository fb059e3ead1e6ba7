"""ProgSyn fit time and constraint satisfaction against CTGAN (and the rejection baseline) on the
two default tables that declare constraints, on this CPU.

    python bench/bench_progsyn.py [--datasets arrests cps88wages] [--sizes 128] [--seeds 0]
        [--gens progsyn progsyn-free ctgan ctgan-reject] [--params '{"pretrain_steps": 1000}']
        [--config config/config.yaml] [--threads 1] [--out results.csv]

The tables and their constraints come from ``--config`` (the default config's
``datasets.<name>.constraints``). For every (dataset, n, seed) one split is drawn with
:func:`synthrisk.splits.make_split`; each generator is fitted on the members and samples k = n rows
through :func:`synthrisk.generators.base.run_generator` (``ctgan-reject``: ctgan with
``constraints_mode="reject"``; ``progsyn-free``: ``use_constraints: false``); ``--params`` overrides
progsyn's params (default: the config entry's). Per run: fit and sample seconds, ``shape`` against the
members and against test, TSTR AUC (logreg), the lowest row-constraint satisfaction and how many of the
statistical/fairness constraints are met (the constraints family). Prints one JSON line per run and a
summary by generator; writes a CSV with ``--out``.
"""
import argparse
import json
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", nargs="+", default=["arrests", "cps88wages"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[128])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--gens", nargs="+", default=["progsyn", "progsyn-free", "ctgan", "ctgan-reject"])
    ap.add_argument("--params", default=None, help="JSON params of progsyn (default: the config entry's)")
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    import numpy as np
    import pandas as pd
    import torch
    import yaml

    torch.set_num_threads(a.threads)
    from synthrisk.datasets import load_dataset
    from synthrisk.generators import GENERATORS
    from synthrisk.generators.base import FitContext, run_generator
    from synthrisk.metrics import constraints as cons_family, fidelity, utility
    from synthrisk.metrics.base import Split
    from synthrisk.splits import make_split

    cfg = yaml.safe_load(open(a.config))
    ps = json.loads(a.params) if a.params else dict(cfg["generators"].get("progsyn", {}).get("params") or {})
    ps["num_threads"] = a.threads
    plan = {"progsyn": ("progsyn", ps, None), "progsyn-free": ("progsyn", {**ps, "use_constraints": False}, None),
            "ctgan": ("ctgan", {"epochs": 300}, None), "ctgan-reject": ("ctgan", {"epochs": 300}, "reject")}
    rows = []
    for name in a.datasets:
        spec = dict(cfg["datasets"][name])
        constraints = spec.pop("constraints", {})
        df, schema, _ = load_dataset(name, spec)
        for n in a.sizes:
            for seed in a.seeds:
                parts = make_split(df, schema, n, seed, reference_size=200, test_size=500)
                split = Split(**parts)
                for gen in a.gens:
                    kind, params, mode = plan[gen]
                    ctx = FitContext(dataset=name, n=n, seed=seed, constraints=constraints)
                    t0 = time.perf_counter()
                    syn, side = run_generator(gen, GENERATORS.get(kind), params, parts["members"], schema, n, seed,
                                              ctx, constraints_mode=mode)
                    wall = time.perf_counter() - t0
                    rng = np.random.default_rng(0)
                    fid = fidelity.evaluate(syn, split, schema, rng, {"against": ["members", "test"]})
                    shape = {r["against"]: r["value"] for r in fid if r["metric"] == "shape"}
                    ut = utility.evaluate(syn, split, schema, rng, {"models": ["logreg"]})
                    cr = cons_family.evaluate(syn, split, schema, rng, {"constraints": constraints, "baseline": False})
                    rowsat = [r["value"] for r in cr if r["metric"] == "row_satisfaction"]
                    met = [r["value"] for r in cr if r["metric"] == "constraint_satisfied" and r.get("model") is None]
                    rec = dict(dataset=name, n=n, seed=seed, gen=gen, fit_s=side["fit_seconds"],
                               sample_s=side["sample_seconds"], wall_s=round(wall, 2),
                               shape_members=shape.get("members"), shape_test=shape.get("test"),
                               tstr_auc=[r["value"] for r in ut if r.get("model") == "mean"][0],
                               min_row_satisfaction=min(rowsat) if rowsat else None,
                               stats_met=f"{int(sum(met))}/{len(met)}",
                               rejected=side["info"].get("reject", {}).get("rows_rejected"))
                    rows.append(rec)
                    print(json.dumps(rec), flush=True)
    out = pd.DataFrame(rows)
    if a.out:
        out.to_csv(a.out, index=False)
    print(out.groupby(["gen"])[["fit_s", "sample_s", "shape_members", "shape_test", "tstr_auc",
                                "min_row_satisfaction"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
