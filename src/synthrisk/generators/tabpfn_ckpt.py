"""Build random-initialised TabPFN v2 checkpoints (test stand-ins for the real weights).

    python -m synthrisk.generators.tabpfn_ckpt OUT_DIR [--size tiny|v2] [--seed 0]

writes ``OUT_DIR/tabpfn-v2-classifier-random.ckpt`` and ``OUT_DIR/tabpfn-v2-regressor-random.ckpt``.

* The names contain ``v2`` and none of ``v2.5``/``v2.6``/``v3``, so tabpfn 9.2.0 reads them as
  v2 checkpoints (it takes the model version from the file name), and they end in
  ``-random.ckpt``, the names :mod:`synthrisk.generators.tabpfn` looks for after the real ones.
* Each file holds the usual ``{"state_dict", "config", "architecture_name": "tabpfn_v2"}``
  that tabpfn's loader reads, plus a marker key :data:`RANDOM_MARKER` that the generator reads
  back to label everything made with it as *random weights*. Such output measures the
  pipeline and the speed, never TabPFN's quality.
* ``--size tiny`` (emsize 32, 2 layers, 100 regression buckets; ~0.2 MB) is for tests;
  ``--size v2`` has the released v2 architecture's shape (emsize 192, 12 layers, 6 heads,
  5000 buckets; ~30 and ~45 MB) and stands in for the real weights in speed measurements.
* The weights are drawn from a ``torch.Generator`` seeded with ``--seed`` (no global RNG is
  touched): matrices ~ N(0, 1/fan_in), vectors ~ N(0, 0.02^2). The same seed gives the same
  tensors. The regressor's bar distribution has equal-width borders on [-5, 5] (tabpfn
  rescales them to the target's scale).
"""
from __future__ import annotations

import argparse
from pathlib import Path

#: the marker key stored in every checkpoint this module builds
RANDOM_MARKER = "synthrisk_random_init"
CLASSIFIER_NAME = "tabpfn-v2-classifier-random.ckpt"
REGRESSOR_NAME = "tabpfn-v2-regressor-random.ckpt"

SIZES = {
    "tiny": {"emsize": 32, "nlayers": 2, "nhead": 2, "num_buckets": 100},
    "v2": {"emsize": 192, "nlayers": 12, "nhead": 6, "num_buckets": 5000},
}
MAX_NUM_CLASSES = 10  # the v2 classifier's limit


def build_checkpoint(path: str | Path, task: str, size: str = "tiny", seed: int = 0) -> Path:
    """Write one random-initialised v2 checkpoint for ``task`` ("classifier" | "regressor")."""
    import torch
    from tabpfn.architectures import tabpfn_v2
    from tabpfn.architectures.shared.bar_distribution import FullSupportBarDistribution

    if task not in ("classifier", "regressor"):
        raise ValueError(f"task must be 'classifier' or 'regressor', not {task!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    s = SIZES[size]
    cfg = {"emsize": s["emsize"], "nlayers": s["nlayers"], "nhead": s["nhead"], "features_per_group": 2}
    if task == "classifier":
        cfg["max_num_classes"] = MAX_NUM_CLASSES
    else:
        cfg["max_num_classes"] = 0  # the head has num_buckets outputs only when this is 0
        cfg["num_buckets"] = s["num_buckets"]
    model_cfg, _ = tabpfn_v2.parse_config(cfg)
    model = tabpfn_v2.get_architecture(model_cfg)
    gen = torch.Generator().manual_seed(int(seed) + (0 if task == "classifier" else 1))
    params = dict(model.named_parameters())
    state = {}
    for name, t in model.state_dict().items():
        t = t.detach().clone()
        if name in params and t.is_floating_point():
            if t.dim() >= 2:
                t = torch.randn(t.shape, generator=gen) / float(t.shape[-1]) ** 0.5
            else:
                t = torch.randn(t.shape, generator=gen) * 0.02
        state[name] = t.contiguous()
    if task == "regressor":  # v2 stores the bar distribution as criterion.{borders,losses_per_bucket}
        crit = FullSupportBarDistribution(torch.linspace(-5.0, 5.0, s["num_buckets"] + 1))
        state.update({f"criterion.{k}": v.detach().clone() for k, v in crit.state_dict().items()})
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": state,
            "config": cfg,
            "architecture_name": "tabpfn_v2",
            RANDOM_MARKER: {"size": size, "seed": int(seed), "task": task},
        },
        path,
    )
    return path


def build_pair(out_dir: str | Path, size: str = "tiny", seed: int = 0) -> tuple[Path, Path]:
    """Write the classifier and regressor random checkpoints into ``out_dir``."""
    out = Path(out_dir)
    return (
        build_checkpoint(out / CLASSIFIER_NAME, "classifier", size, seed),
        build_checkpoint(out / REGRESSOR_NAME, "regressor", size, seed),
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m synthrisk.generators.tabpfn_ckpt",
        description="Build random-initialised TabPFN v2 checkpoints (pipeline tests only: NOT TabPFN's weights).",
    )
    ap.add_argument("out_dir")
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    for p in build_pair(a.out_dir, a.size, a.seed):
        print(f"{p} ({p.stat().st_size / 1e6:.1f} MB, random weights, size {a.size})")


if __name__ == "__main__":
    main()
