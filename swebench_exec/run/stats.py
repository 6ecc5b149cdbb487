"""Honest uncertainty: percentile bootstrap intervals, paired over units (task x sample), and the verdict rule.

Five tasks cannot make a confident verdict by chance: a difference counts as real only when its 95% paired-bootstrap
interval excludes zero. Seeded, so the same rows always give the same intervals.
"""
from __future__ import annotations

import random
from math import comb
from statistics import fmean

RESAMPLES = 2000
SEED = 0
MIN_PAIRS = 5  # below this a bootstrap interval collapses onto the few deltas there are: no verdict


def bootstrap_interval(values: list[float], resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float] | None:
    """95% percentile interval of the mean of `values` (None when there is nothing to resample)."""
    if not values:
        return None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(fmean(rng.choices(values, k=n)) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def paired_delta(pairs: list[tuple[float, float]]) -> dict:
    """Mean of (harnessed - bare) over paired units, with its bootstrap interval."""
    deltas = [h - b for h, b in pairs]
    interval = bootstrap_interval(deltas)
    return {
        "mean": fmean(deltas) if deltas else None,
        "ci95": list(interval) if interval else None,
        "pairs": len(deltas),
    }


def moves(delta: dict) -> int:
    """+1 / -1 when the interval lies wholly above / below zero (and rests on enough pairs), else 0."""
    ci = delta.get("ci95")
    if not ci:
        return 0
    return 1 if ci[0] > 0 else -1 if ci[1] < 0 else 0


def verdict(delta_format: dict, delta_exec: dict) -> str:
    """DESIGN §5: execution decides first; format moving alone is the Format Scorer Trap. With fewer than MIN_PAIRS
    paired units there is no verdict (INSUFFICIENT_DATA): one task's delta would be an interval of width zero."""
    if delta_exec.get("pairs", 0) < MIN_PAIRS:
        return "INSUFFICIENT_DATA"
    exec_move = moves(delta_exec)
    if exec_move > 0:
        return "HARNESS_HELPS"
    if exec_move < 0:
        return "HARNESS_REGRESSES"
    if moves(delta_format) != 0:
        return "FORMAT_ONLY"
    return "NO_EFFECT"


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion: honest at 0/n and n/n, where the normal interval is not."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): chance that at least one of k draws from n samples (c correct) passes."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)
