"""Per model x arm aggregates, paired deltas and verdicts, computed from rows alone (so `report` can redo it)."""
from __future__ import annotations

from collections import Counter, defaultdict
from statistics import fmean
from typing import Iterable

from ..models.outcomes import INFRA_OUTCOMES, MODEL_OUTCOMES
from .stats import by_task, cluster_bootstrap, paired_delta, pass_at_k, verdict, wilson_interval

ARMS = ("harnessed", "bare")
NOT_CALLED = "not_called"  # a row the run chose not to call (model stopped, --max-cost reached)


def is_scored(row: dict) -> bool:
    executor = row.get("executor") or {}
    return row["outcome"] not in INFRA_OUTCOMES and executor.get("score") is not None


def _mean_ci(scored: list[dict], field: str) -> dict:
    """Mean score of the scored rows, with an interval that resamples tasks (see stats)."""
    values = [r[field]["score"] for r in scored]
    interval = cluster_bootstrap(by_task((r["task_id"], r[field]["score"]) for r in scored))
    return {"mean": fmean(values) if values else None, "ci95": list(interval) if interval else None}


def _sum_known(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _total(rows: list[dict], value) -> float | None:
    """A sum over the rows' calls, unknown (None) as soon as one answered call's value is unknown: a sum of the known
    ones would pass for the whole. Calls that failed for infrastructure reasons count only where a value is known."""
    called = [r for r in rows if r.get("response")]
    if any(value(r) is None for r in called if r["outcome"] in MODEL_OUTCOMES):
        return None
    return _sum_known(value(r) for r in called)


def _usage(field: str):
    return lambda row: (row["response"].get("usage") or {}).get(field)


def _arm_summary(rows: list[dict]) -> dict:
    scored = [r for r in rows if is_scored(r)]
    max_score = max((r["executor"]["max_score"] for r in scored), default=3)
    solved = sum(1 for r in scored if r["executor"]["score"] == r["executor"]["max_score"])
    cost = _total(rows, lambda row: row["response"].get("cost_usd"))
    return {
        "rows": len(rows),
        "scored": len(scored),
        "format": _mean_ci(scored, "format"),
        "exec": _mean_ci(scored, "executor"),
        "max_exec": max_score,
        "solved": solved,
        "solve_rate": {"mean": solved / len(scored) if scored else None,
                       "ci95": list(wilson_interval(solved, len(scored)) or []) or None},  # Wilson: SWE-bench resolve rate
        "prompt_tokens": _total(rows, _usage("prompt_tokens")),
        "completion_tokens": _total(rows, _usage("completion_tokens")),
        "cost_usd": cost,
        "cost_per_solved_usd": (cost / solved) if cost is not None and solved else None,
        "outcomes": dict(Counter(r["outcome"] for r in rows)),
        "exec_statuses": dict(Counter((r.get("executor") or {}).get("status", "not_run") for r in scored)),
        **_pass_at_k(scored),
    }


def _pass_at_k(scored: list[dict]) -> dict:
    """pass@1 and pass@k for k = the most samples a task has, each over the tasks with at least k scored samples
    (an infrastructure failure leaves a task fewer: its pass@k is not defined, and `pass_at_k_tasks` says so)."""
    per_task: dict[str, list[bool]] = defaultdict(list)
    for r in scored:
        per_task[r["task_id"]].append(r["executor"]["score"] == r["executor"]["max_score"])
    if not per_task:
        return {"pass_at_k": {}, "pass_at_k_tasks": {}}
    values, tasks = {}, {}
    for k in sorted({1, max(len(v) for v in per_task.values())}):
        eligible = [v for v in per_task.values() if len(v) >= k]
        values[f"pass@{k}"] = fmean(pass_at_k(len(v), sum(v), k) for v in eligible)
        tasks[f"pass@{k}"] = len(eligible)
    return {"pass_at_k": values, "pass_at_k_tasks": tasks}


def _pairs(by_arm: dict[str, list[dict]], field: str) -> list[tuple[str, float, float]]:
    bare = {(r["task_id"], r["sample"]): r for r in by_arm.get("bare", []) if is_scored(r)}
    return [
        (r["task_id"], r[field]["score"], bare[(r["task_id"], r["sample"])][field]["score"])
        for r in by_arm.get("harnessed", [])
        if is_scored(r) and (r["task_id"], r["sample"]) in bare
    ]


def slim(row: dict) -> dict:
    """Only what the summary reads: a long run's summary holds numbers, not every response text."""
    response, executor = row.get("response") or {}, row.get("executor")
    return {
        "model": row["model"], "task_id": row["task_id"], "arm": row["arm"], "sample": row["sample"],
        "outcome": row["outcome"], "format": {"score": (row.get("format") or {}).get("score")},
        "executor": None if executor is None else {k: executor.get(k) for k in ("score", "max_score", "status")},
        "unsandboxed": ((executor or {}).get("process") or {}).get("isolation", {}) == {"sandboxed": False},
        "response": {"usage": response.get("usage"), "cost_usd": response.get("cost_usd")} if response else None,
    }  # fmt: skip


def summarize(rows: Iterable[dict], stopped: dict[str, str] | None = None) -> dict:
    """Group rows by model and arm; a model's verdict uses only units scored on both arms."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row["model"]][row["arm"]].append(slim(row))
    models = {}
    for model, by_arm in grouped.items():
        d_format = paired_delta(_pairs(by_arm, "format"))
        d_exec = paired_delta(_pairs(by_arm, "executor"))
        all_rows = [r for arm_rows in by_arm.values() for r in arm_rows]
        models[model] = {
            "arms": {arm: _arm_summary(by_arm.get(arm, [])) for arm in ARMS if arm in by_arm},
            "delta_format": d_format,
            "delta_exec": d_exec,
            "verdict": verdict(d_format, d_exec),
            "infra_failures": sum(1 for r in all_rows if r["outcome"] in INFRA_OUTCOMES or not is_scored(r)),
            "not_called": sum(1 for r in all_rows if r["outcome"] == NOT_CALLED),  # among infra_failures
            "unsandboxed": sum(1 for r in all_rows if r["unsandboxed"]),  # a task's invoke() ran its program bare
            "truncated": sum(1 for r in all_rows if r["outcome"] == "truncated"),  # cut at max_tokens: scored as is
            "stopped": (stopped or {}).get(model),
        }
    return {"models": models}
