"""The statistics behind verdicts: seeded bootstrap, the verdict rule, Wilson intervals, unbiased pass@k."""
from __future__ import annotations

import pytest

from swebench_exec.run.stats import MIN_TASKS, cluster_bootstrap, paired_delta, pass_at_k, verdict, wilson_interval


def test_bootstrap_is_seeded_and_brackets_the_mean():
    groups = [[v] for v in (0, 1, 3, 3, 2, 0, 1)]
    assert cluster_bootstrap(groups) == cluster_bootstrap(groups)
    lo, hi = cluster_bootstrap(groups)
    assert lo < 10 / 7 < hi
    assert cluster_bootstrap([]) is None and cluster_bootstrap([[], []]) is None


def test_a_tasks_samples_move_together():
    """Two tasks, many samples each: the interval is as wide as two tasks allow, not as narrow as 20 draws would
    make it."""
    groups = [[0.0] * 10, [3.0] * 10]
    assert cluster_bootstrap(groups) == (0.0, 3.0)
    lo, hi = cluster_bootstrap([[0.0], [3.0]] * 10)  # 20 independent values: much narrower
    assert 0.0 < lo < hi < 3.0


def test_many_samples_of_one_task_give_no_verdict():
    pairs = [("csv_totals", 3, 0)] * 10  # ten identical samples of one task, harnessed always right
    d = paired_delta(pairs)
    assert (d["pairs"], d["tasks"], d["mean"]) == (10, 1, 3)
    assert verdict(paired_delta([("csv_totals", 100, 0)] * 10), d) == "INSUFFICIENT_DATA"
    spread = [(f"t{i}", 3, 0) for i in range(MIN_TASKS)]
    assert verdict(paired_delta(spread), paired_delta(spread)) == "HARNESS_HELPS"


@pytest.mark.parametrize(
    ("format_deltas", "exec_deltas", "expected"),
    [
        ([100] * 5, [0] * 5, "FORMAT_ONLY"),
        ([100] * 5, [-3] * 5, "HARNESS_REGRESSES"),
        ([0] * 5, [3, 3, 3, 2, 3], "HARNESS_HELPS"),
        ([0] * 5, [0] * 5, "NO_EFFECT"),
        ([100, 0, 0, 0, 0], [3, 0, 0, 0, 0], "NO_EFFECT"),  # one task moving is not a confident verdict
        ([100] * (MIN_TASKS - 1), [3] * (MIN_TASKS - 1), "INSUFFICIENT_DATA"),  # too few tasks
        ([], [], "INSUFFICIENT_DATA"),  # nothing scored: no claim at all
    ],
)
def test_verdict_rule(format_deltas, exec_deltas, expected):
    d_format = paired_delta([(f"t{i}", d, 0) for i, d in enumerate(format_deltas)])
    d_exec = paired_delta([(f"t{i}", d, 0) for i, d in enumerate(exec_deltas)])
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
