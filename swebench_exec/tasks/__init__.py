"""The public tasks and the task protocol.

`PUBLIC_TASKS` holds the five seed tasks, one per category, in a stable order. A task is a plain dict; users write
their own in the same shape (see `protocol`) and load them with `load_tasks_file`.
"""
from __future__ import annotations

from . import async_jobs, csv_totals, grid_path, log_levels, lru_replay
from .protocol import TaskError, load_tasks_file, select_tasks, validate_task

PUBLIC_TASKS: list[dict] = [
    csv_totals.TASK,
    log_levels.TASK,
    grid_path.TASK,
    async_jobs.TASK,
    lru_replay.TASK,
]

for _task in PUBLIC_TASKS:
    validate_task(_task)

__all__ = ["PUBLIC_TASKS", "TaskError", "load_tasks_file", "select_tasks", "validate_task"]
