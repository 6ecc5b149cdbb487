"""summarize(): per model x arm aggregates from rows alone — costs that never pass a part for the whole, rows not
called kept apart from failures, and deltas that count tasks."""
from __future__ import annotations

from swebench_exec.report.table import render_summary
from swebench_exec.run.summary import summarize


def _row(task: str, arm: str, sample: int = 0, *, score=3, fmt=100.0, cost=0.01, outcome="ok") -> dict:
    scored = outcome in ("ok", "truncated", "empty_answer", "context_truncated")
    return {
        "model": "m", "task_id": task, "arm": arm, "sample": sample, "outcome": outcome,
        "format": {"score": fmt} if scored else None,
        "executor": {"score": score, "max_score": 3, "status": "pass"} if scored else None,
        "response": None if outcome == "not_called" else {"usage": None, "cost_usd": cost},
    }  # fmt: skip


def test_an_answered_row_of_unknown_cost_makes_the_arm_cost_unknown():
    rows = [_row("a", "harnessed"), _row("b", "harnessed", cost=None), _row("a", "bare"), _row("b", "bare")]
    arms = summarize(rows)["models"]["m"]["arms"]
    assert arms["harnessed"]["cost_usd"] is None and arms["harnessed"]["cost_per_solved_usd"] is None
    assert arms["bare"]["cost_usd"] == 0.02


def test_an_infrastructure_failure_of_unknown_cost_does_not_hide_the_known_cost():
    rows = [_row("a", "harnessed"), _row("b", "harnessed", outcome="rate_limited", cost=None)]
    arm = summarize(rows)["models"]["m"]["arms"]["harnessed"]
    assert arm["cost_usd"] == 0.01 and arm["scored"] == 1


def test_rows_not_called_are_counted_apart_and_named_in_the_note():
    rows = [_row("a", "harnessed"), _row("a", "bare"), _row("b", "harnessed", outcome="provider_error", cost=0.0),
            _row("b", "bare", outcome="not_called"), _row("c", "harnessed", outcome="not_called")]
    info = summarize(rows)["models"]["m"]
    assert (info["infra_failures"], info["not_called"]) == (3, 2)
    assert "1 infra failure(s), 2 not called, not scored" in render_summary(summarize(rows))


def test_deltas_count_pairs_and_tasks():
    rows = [_row(t, arm, s, score=3 if arm == "harnessed" else 0) for t in "ab" for s in range(3)
            for arm in ("harnessed", "bare")]  # fmt: skip
    delta = summarize(rows)["models"]["m"]["delta_exec"]
    assert (delta["pairs"], delta["tasks"], delta["mean"]) == (6, 2, 3)
    info = summarize(rows)["models"]["m"]
    assert info["verdict"] == "INSUFFICIENT_DATA"
    assert "2 task(s) paired; a verdict needs 5" in render_summary(summarize(rows))


def test_pass_at_k_is_shown_only_when_there_are_several_samples():
    one = [_row(t, arm) for t in "ab" for arm in ("harnessed", "bare")]
    assert "pass@" not in render_summary(summarize(one))
    several = [_row(t, arm, s, score=3 if s == 0 else 0) for t in "ab" for s in range(2) for arm in ("harnessed", "bare")]
    table = render_summary(summarize(several))
    assert "pass@k" in table.splitlines()[0] and "pass@2 1.00" in table


def test_tokens_follow_the_same_unknown_rule_as_cost():
    known = dict(_row("a", "harnessed"), response={"usage": {"prompt_tokens": 10, "completion_tokens": 5}, "cost_usd": 0})
    unknown = _row("b", "harnessed")  # usage None
    arm = summarize([known, unknown])["models"]["m"]["arms"]["harnessed"]
    assert arm["prompt_tokens"] is None and arm["completion_tokens"] is None
    assert summarize([known])["models"]["m"]["arms"]["harnessed"]["prompt_tokens"] == 10


def test_pass_at_k_says_when_a_task_has_fewer_samples_than_k():
    rows = [_row(t, "harnessed", s) for t in "ab" for s in range(3)]
    rows[-1] = _row("b", "harnessed", 2, outcome="rate_limited")  # task b: 2 scored samples of 3
    arm = summarize(rows)["models"]["m"]["arms"]["harnessed"]
    assert arm["pass_at_k_tasks"] == {"pass@1": 2, "pass@3": 1} and arm["pass_at_k"]["pass@3"] == 1.0
    assert "pass@3 1.00 (1/2 tasks)" in render_summary(summarize(rows))


def test_rows_run_outside_the_sandbox_are_counted_and_named():
    row = _row("a", "harnessed")
    row["executor"]["process"] = {"isolation": {"sandboxed": False}}
    info = summarize([row, _row("a", "bare")])["models"]["m"]
    assert info["unsandboxed"] == 1 and "1 row(s) ran outside the sandbox" in render_summary(summarize([row]))


def test_replies_cut_at_max_tokens_are_counted_and_named():
    rows = [_row("a", "harnessed", outcome="truncated", score=0), _row("a", "bare"),
            _row("b", "bare", outcome="truncated")]
    info = summarize(rows)["models"]["m"]
    assert info["truncated"] == 2 and info["infra_failures"] == 0  # a model outcome: scored as it is
    assert "2 reply(s) cut at max_tokens" in render_summary(summarize(rows))


def test_the_terminal_table_cuts_a_long_stop_reason_the_markdown_keeps_it():
    from swebench_exec.report.table import model_note

    reason = "config_error: http://127.0.0.1:9/v1 answered 404 for model m: " + "check --model and --base-url " * 5
    info = summarize([_row("a", "harnessed")], stopped={"m": reason})["models"]["m"]
    assert reason in model_note(info)
    brief = model_note(info, brief=True)
    assert reason not in brief and brief.startswith("stopped: " + reason[:50]) and "…" in brief
