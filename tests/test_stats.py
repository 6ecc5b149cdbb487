"""The statistics behind verdicts: seeded bootstrap, the verdict rule, Wilson intervals, unbiased pass@k."""
from __future__ import annotations

import pytest

from swebench_exec.run.stats import MIN_PAIRS, bootstrap_interval, paired_delta, pass_at_k, verdict, wilson_interval


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0, 1, 3, 3, 2, 0, 1]
    assert bootstrap_interval(values) == bootstrap_interval(values)
    lo, hi = bootstrap_interval(values)
    assert lo < sum(values) / len(values) < hi
    assert bootstrap_interval([]) is None


@pytest.mark.parametrize(
    ("format_deltas", "exec_deltas", "expected"),
    [
        ([100] * 5, [0] * 5, "FORMAT_ONLY"),
        ([100] * 5, [-3] * 5, "HARNESS_REGRESSES"),
        ([0] * 5, [3, 3, 3, 2, 3], "HARNESS_HELPS"),
        ([0] * 5, [0] * 5, "NO_EFFECT"),
        ([100, 0, 0, 0, 0], [3, 0, 0, 0, 0], "NO_EFFECT"),  # one task moving is not a confident verdict
        ([100] * (MIN_PAIRS - 1), [3] * (MIN_PAIRS - 1), "INSUFFICIENT_DATA"),  # too few pairs
        ([], [], "INSUFFICIENT_DATA"),  # nothing scored: no claim at all
    ],
)
def test_verdict_rule(format_deltas, exec_deltas, expected):
    d_format = paired_delta([(d, 0) for d in format_deltas])
    d_exec = paired_delta([(d, 0) for d in exec_deltas])
    assert verdict(d_format, d_exec) == expected


def test_wilson_interval_matches_known_values():
    assert wilson_interval(7, 20) == pytest.approx((0.1812, 0.5671), abs=1e-4)
    assert wilson_interval(0, 20)[0] == 0 and wilson_interval(20, 20)[1] == 1
    assert wilson_interval(0, 0) is None


def test_pass_at_k_unbiased_estimator():
    assert pass_at_k(5, 0, 1) == 0
    assert pass_at_k(5, 5, 1) == 1
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2)/C(5,2)
