"""The torch device of a generator's ``device`` parameter (shared by tabdiff and tabpfn)."""
from __future__ import annotations

from synthrisk.params import Param


def _device_value(v) -> str | None:
    ok = v in ("auto", "cpu", "cuda") or (isinstance(v, str) and v.startswith("cuda:") and v[5:].isdigit())
    return None if ok else f"must be auto, cpu, cuda or cuda:<i>, got {v!r}"


#: the declaration of a ``device`` parameter
DEVICE = Param("auto", "auto (CUDA when torch sees a GPU) | cpu | cuda | cuda:<i>", str, check=_device_value)


def cuda_missing(name: str, who: str) -> str | None:
    """Why device ``name`` cannot be used here (CUDA asked for, none seen), or None."""
    if not str(name).startswith("cuda"):
        return None  # no torch import for "auto"/"cpu": plan-time checks call this (seconds per dry run)
    import torch

    if not torch.cuda.is_available():
        return f"{who}: device {name!r} was requested but torch sees no CUDA device"
    return None


def resolve_device(name: str, who: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; an explicit device is checked."""
    import torch

    why = _device_value(name)
    if why:
        raise ValueError(f"{who}: device {why}")
    missing = cuda_missing(name, who)
    if missing:
        raise RuntimeError(missing)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name
