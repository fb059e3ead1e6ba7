"""DP-SGD accounting shared by the opacus generators (``dptvae``, ``dp_llm``).

The budget is a target ``(epsilon, delta)``; training uses opacus's ``PrivacyEngine(accountant="prv")``
with Poisson sampling at a constant rate and a constant noise multiplier. opacus's PRV accountant keeps
the history ``[(noise, rate, steps)]`` (constant noise and rate merge into one entry), so the epsilon
after t steps is exactly that of a fresh PRV accountant with history ``[(noise, rate, t)]``, monotone
in t. :func:`step_cap` finds, before the first step, the largest step count within the target by
bisection on it (:func:`max_steps`), so training stops there (mid-epoch if need be; an epoch-based
plan would overshoot by up to an epoch). After the last step :func:`released_epsilon` reads the
engine's own ``get_epsilon(delta)``, checks that its history is the planned one and raises when the
spent epsilon exceeds the target: such a model is never released. No epsilon here is hand-computed:
every number is the opacus accountant's.
"""
from __future__ import annotations

import math
import warnings
from contextlib import contextmanager


def epsilon_value(v) -> str | None:
    """The ``check`` of an ``epsilon`` param: a positive number, or inf (no DP)."""
    if isinstance(v, str):
        return None if v.strip().lower() in ("inf", "infinity") else f"must be a positive number or inf, got {v!r}"
    return None if v > 0 else f"must be > 0 (or inf for no DP), got {v!r}"


def is_private(epsilon) -> bool:
    """Whether an ``epsilon`` param asks for DP (``inf`` does not)."""
    return not (isinstance(epsilon, str) or math.isinf(float(epsilon)))


def resolve_delta(delta, n: int, private: bool, who: str) -> float:
    """``delta`` as given, else ``1 / (10 n)``; a private run needs it below ``1/n``."""
    d = float(delta) if delta is not None else 1.0 / (10.0 * n)
    if private and d >= 1.0 / n:
        raise ValueError(f"{who}: delta {d:g} is not below 1/n = {1.0 / n:g} (n = {n} member rows)")
    return d


@contextmanager
def torch_threads(n: int):
    """torch's intra-op thread count set to ``n`` (0: unchanged) inside, restored after."""
    import torch

    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@contextmanager
def quiet_opacus():
    """Silence opacus's known, expected warnings (insecure RNG by choice; the full backward hook on
    inputs without grad; PRV's internal RDP domain bound; log(0) at rate 1)."""
    with warnings.catch_warnings():
        for msg in (".*[Ss]ecure RNG.*", ".*Full backward hook.*", ".*Optimal order is the largest alpha.*"):
            warnings.filterwarnings("ignore", message=msg)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="opacus")
        yield


def prv_epsilon(noise: float, sample_rate: float, steps: int, delta: float) -> float:
    """The epsilon of opacus's PRV accountant after ``steps`` steps at constant noise and rate."""
    from opacus.accountants import PRVAccountant

    if steps <= 0:
        return 0.0
    acc = PRVAccountant()
    acc.history = [(noise, sample_rate, int(steps))]
    return float(acc.get_epsilon(delta))


def max_steps(noise: float, sample_rate: float, delta: float, epsilon: float, planned: int) -> tuple[int, float]:
    """The largest step count <= ``planned`` whose PRV epsilon (the history opacus's PRV accountant
    keeps for constant noise and rate) is within ``epsilon``, and that epsilon (0 steps: 0.0)."""
    e = prv_epsilon(noise, sample_rate, planned, delta)
    if e <= epsilon:
        return planned, e
    lo, hi, e_lo = 0, planned, 0.0  # eps(lo) <= epsilon < eps(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        e_mid = prv_epsilon(noise, sample_rate, mid, delta)
        if e_mid <= epsilon:
            lo, e_lo = mid, e_mid
        else:
            hi = mid
    return lo, e_lo


def noise_for(epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """The noise multiplier opacus picks so that ``steps`` steps at ``sample_rate`` spend ``epsilon``
    (``opacus.accountants.utils.get_noise_multiplier``, PRV accountant)."""
    from opacus.accountants.utils import get_noise_multiplier

    return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                      steps=int(steps), accountant="prv"))


def step_cap(noise: float, sample_rate: float, delta: float, epsilon: float, planned: int, who: str) -> tuple[int, float]:
    """:func:`max_steps`, raising when not one step fits the budget."""
    allowed, eps_allowed = max_steps(noise, sample_rate, delta, epsilon, planned)
    if allowed == 0:
        raise ValueError(f"{who}: not one DP-SGD step fits epsilon {epsilon:g} at delta {delta:g} "
                         f"(noise multiplier {noise:.4g}, sample rate {sample_rate:.4g}); raise epsilon or the noise")
    return allowed, eps_allowed


def released_epsilon(engine, noise: float, sample_rate: float, steps: int, delta: float, epsilon: float,
                     who: str) -> float:
    """The engine accountant's spent epsilon after training; raises (the model is not released) when
    its history is not the planned ``[(noise, rate, steps)]`` or the spent epsilon exceeds the target."""
    spent = float(engine.get_epsilon(delta))
    if [tuple(h) for h in engine.accountant.history] != [(noise, sample_rate, steps)]:
        raise RuntimeError(f"{who}: the accountant's history {engine.accountant.history} is not the planned "
                           f"{[(noise, sample_rate, steps)]}; the step cap does not apply, the model is not released")
    check_within(spent, epsilon, steps, who)
    return spent


def check_within(spent: float, epsilon: float, steps: int, who: str) -> None:
    """Raise when ``spent`` exceeds the target ``epsilon``."""
    if spent > epsilon:
        raise RuntimeError(f"{who}: spent epsilon {spent:.4f} exceeds the target {epsilon:g} after "
                           f"{steps} steps; the model is not released")
