"""The TabDiff model (denoiser plus the two learnable schedules) and torch's run settings."""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from .denoiser import Denoiser
from .schedules import MaskSchedule, PowerMeanSchedule


class TabDiffModel(nn.Module):
    """Denoiser plus the two learnable schedule modules (trained jointly)."""

    def __init__(self, n_num: int, n_levels: list[int], p: dict):
        super().__init__()
        self.net = Denoiser(n_num, n_levels, p["d_token"], p["n_layers"], p["n_heads"], p["factor"], p["width"])
        self.num_sched = PowerMeanSchedule(n_num, p["sigma_min"], p["sigma_max"], p["rho_init"])
        self.cat_sched = MaskSchedule(len(n_levels), p["k_init"])


@contextmanager
def torch_settings(num_threads: int):
    """Set torch's thread count / deterministic flag, restore them afterwards."""
    old_threads, old_det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    if num_threads and num_threads > 0:
        torch.set_num_threads(int(num_threads))
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
