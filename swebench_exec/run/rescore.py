"""`rescore RESULTS.json`: re-execute every stored response with today's scorers; any score that moved is listed.

Scores are only worth publishing if the same responses always give the same scores. This is the check (and the
regression test for every scorer change): exit 0 when every row matches, 1 when any differs.
"""
from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..models.outcomes import MODEL_OUTCOMES
from .store import OutputError, load_results

COMPARED = (("format", "score"), ("executor", "score"), ("executor", "status"))


def _stored(row: dict) -> tuple:
    return tuple((row.get(part) or {}).get(key) for part, key in COMPARED)


def _public_scorer(config: dict, args: argparse.Namespace, rows: list[dict]):
    from ..cli import UserError
    from ..tasks import PUBLIC_TASKS, TaskError, load_tasks_file
    from .public import public_sandbox
    from .runner import score_response

    tasks_file = args.tasks_file or config.get("tasks_file")
    try:
        tasks = {t["id"]: t for t in (load_tasks_file(tasks_file) if tasks_file else PUBLIC_TASKS)}
    except TaskError as exc:
        raise UserError(f"{exc} (the run's tasks file; give it with --tasks-file)") from None
    unknown = sorted({row["task_id"] for row in rows} - tasks.keys())
    if unknown:
        where = f"tasks file {tasks_file}" if tasks_file else "the public tasks"
        raise UserError(f"task(s) {', '.join(unknown)} of this run are not in {where}: give the run's --tasks-file")
    recorded = config.get("sandbox") or {}
    provider = recorded.get("provider") if args.sandbox == "auto" else args.sandbox
    timeout_s = args.timeout or config.get("timeout_s") or 10.0
    sandbox = public_sandbox(provider, recorded.get("image"), timeout_s)
    print(f"rescore: {sandbox.name} sandbox, {timeout_s:g} s a program", file=sys.stderr)
    return lambda row: score_response(tasks[row["task_id"]], row["response"]["text"], row["outcome"], sandbox)


def _swebench_scorer(config: dict, args: argparse.Namespace, stack):
    from ..cli import UserError
    from ..swebench.dataset import DatasetError, load_instances
    from ..swebench.repos import WorktreePool
    from .swebench_tier import build_tasks, choose_sandbox, make_scorer, repo_cache

    args.dataset = args.dataset or config["dataset"]
    args.repo_cache = args.repo_cache or config.get("repo_cache")  # the run's mirrors, when it named them
    if args.sandbox == "auto":
        args.sandbox = (config.get("sandbox") or {}).get("provider") or "auto"
    args.timeout = args.timeout or config.get("timeout_s") or 1800.0
    try:
        instances = load_instances(args.dataset, config["instances"])
    except DatasetError as exc:
        raise UserError(f"{exc} (the run's dataset; give it with --dataset)") from None
    repos = repo_cache(args)
    pool = WorktreePool(repos)
    stack.callback(pool.close)
    tasks = {t["id"]: t for t in build_tasks(instances, pool)}
    score = make_scorer(pool, choose_sandbox(args, instances, repos))
    return lambda row: score(tasks[row["task_id"]], row["response"]["text"], row["outcome"])


def rescore(path: Path, args: argparse.Namespace) -> int:
    import contextlib

    from tqdm import tqdm

    document = load_results(path)
    config = document["config"]
    rows = [r for r in document["rows"] if r["outcome"] in MODEL_OUTCOMES and (r.get("executor") or {}).get("score") is not None]
    for row in rows:
        if not isinstance((row.get("response") or {}).get("text"), str):
            raise OutputError(f"{path}: the scored row {row['model']} {row['task_id']} {row['arm']} has no response text")
    with contextlib.ExitStack() as stack:
        if config.get("tier") == "swebench":
            scorer = _swebench_scorer(config, args, stack)
        else:
            scorer = _public_scorer(config, args, rows)
        with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
            fresh = list(tqdm(pool.map(scorer, rows), total=len(rows), desc="rescore", unit="row",
                              disable=args.quiet or None, file=sys.stderr))  # fmt: skip
    moved = [(row, now) for row, now in zip(rows, fresh) if _stored(row) != _stored(now)]
    for row, now in moved:
        print(f"{row['model']} {row['task_id']} {row['arm']} #{row['sample']}: stored {_describe(row)} -> now {_describe(now)}")
    skipped = len(document["rows"]) - len(rows)
    print(f"{len(rows) - len(moved)}/{len(rows)} rows match" + (f" ({skipped} infrastructure rows not rescored)" if skipped else ""))
    return 1 if moved else 0


def _describe(scores: dict) -> str:
    executor = scores.get("executor") or {}
    return f"format {scores['format']['score']:g}, exec {executor.get('score')}/{executor.get('max_score')} ({executor.get('status')})"
