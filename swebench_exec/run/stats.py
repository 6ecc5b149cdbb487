"""Honest uncertainty: percentile bootstrap intervals that resample tasks, and the verdict rule.

Five tasks cannot make a confident verdict by chance: a difference counts as real only when its 95% paired-bootstrap
interval excludes zero. The unit resampled is the task, with all its samples: k samples of one task are not k
independent tasks (at temperature 0 they are one answer k times), so they cannot narrow an interval on their own.
Seeded, so the same rows always give the same intervals.
"""
from __future__ import annotations

import random
from collections import defaultdict
from math import comb
from statistics import fmean
from typing import Iterable

RESAMPLES = 2000
SEED = 0
MIN_TASKS = 5  # below this a bootstrap interval collapses onto the few tasks there are: no verdict


def cluster_bootstrap(groups: list[list[float]], resamples: int = RESAMPLES, seed: int = SEED) -> tuple[float, float] | None:
    """95% percentile interval of the mean of all values, resampling whole groups (a task's samples move together).
    With one value a group this is the plain bootstrap of the mean. None when there is nothing to resample."""
    groups = [g for g in groups if g]
    if not groups:
        return None
    rng = random.Random(seed)
    n = len(groups)
    means = sorted(fmean([v for g in rng.choices(groups, k=n) for v in g]) for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def by_task(items: Iterable[tuple[str, float]]) -> list[list[float]]:
    """(task id, value) pairs grouped per task, in first-seen order."""
    groups: dict[str, list[float]] = defaultdict(list)
    for task, value in items:
        groups[task].append(value)
    return list(groups.values())


def paired_delta(pairs: list[tuple[str, float, float]]) -> dict:
    """Mean of (harnessed - bare) over paired units (task, harnessed score, bare score), with an interval that
    resamples tasks; `pairs` counts the units, `tasks` the distinct tasks among them (what a verdict needs)."""
    groups = by_task((task, h - b) for task, h, b in pairs)
    interval = cluster_bootstrap(groups)
    return {
        "mean": fmean([h - b for _, h, b in pairs]) if pairs else None,
        "ci95": list(interval) if interval else None,
        "pairs": len(pairs),
        "tasks": len(groups),
    }


def moves(delta: dict) -> int:
    """+1 / -1 when the interval lies wholly above / below zero, else 0."""
    ci = delta.get("ci95")
    if not ci:
        return 0
    return 1 if ci[0] > 0 else -1 if ci[1] < 0 else 0


def verdict(delta_format: dict, delta_exec: dict) -> str:
    """DESIGN §5: execution decides first; format moving alone is the Format Scorer Trap. With fewer than MIN_TASKS
    tasks paired there is no verdict (INSUFFICIENT_DATA): one task's delta would be an interval of width zero, however
    many samples it has."""
    if delta_exec.get("tasks", 0) < MIN_TASKS:
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
