"""The task protocol: what a task dict must hold, loading users' task files, and picking tasks by id.

A task is a plain dict (the public tasks and users' own tasks have the same shape)::

    {
      "id": "csv_totals",                      # unique; letters, digits, "_", "-", "."
      "category": "csv-aggregation",           # optional
      "prompt": "...",                         # what the model is asked
      "expected_files": ["csv_totals.py"],     # relative paths; the first one is the program that is run
      "entry_point": "main",                   # optional: a top-level function the program must define
      "run": "python csv_totals.py case1.csv",  # optional: the command line the prompt states (gold's RUN line)
      "harness": {"prepare": prepare, "invoke": invoke, "check": check},
      "reference": {"csv_totals.py": "..."},   # optional: a known-good answer (the `gold` model replies with it)
    }

- ``prepare(tmp_dir)`` writes the inputs; ``invoke(tmp_dir, script_path)`` runs the program through
  ``swebench_exec.sandbox.base.run_program`` and returns the completed process; ``check(proc, tmp_dir)`` returns
  ``(score, reason)``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Mapping
from importlib.machinery import SourceFileLoader
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

REQUIRED_KEYS = ("id", "prompt", "expected_files", "harness")
HARNESS_FUNCTIONS = ("prepare", "invoke", "check")
EXPORT_NAMES = ("TASKS", "PUBLIC_TASKS")
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TaskError(ValueError):
    """A task (or a tasks file) is malformed; the message is one line naming the task and what is wrong."""


def _name(task: Any, position: int | None) -> str:
    if isinstance(task, Mapping) and isinstance(task.get("id"), str) and task.get("id"):
        return f"task {task['id']!r}"
    return f"task #{position}" if position is not None else "task"


def validate_task(task: Any, position: int | None = None) -> None:
    """Raise `TaskError` (one line, naming the task) unless `task` has the shape described in this module."""
    if not isinstance(task, Mapping):
        where = f"task #{position}" if position is not None else "task"
        raise TaskError(f"{where} is a {type(task).__name__}, expected a dict with keys {', '.join(REQUIRED_KEYS)}")
    name = _name(task, position)
    missing = [key for key in REQUIRED_KEYS if key not in task]
    if missing:
        raise TaskError(f"{name}: missing key{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    task_id = task["id"]
    if not isinstance(task_id, str) or not _ID_PATTERN.match(task_id):
        raise TaskError(f"{name}: 'id' must be a non-empty string of letters, digits, '_', '-', '.' (got {task_id!r})")
    if not isinstance(task["prompt"], str) or not task["prompt"].strip():
        raise TaskError(f"{name}: 'prompt' must be a non-empty string")
    _validate_expected_files(name, task["expected_files"])
    harness = task["harness"]
    if not isinstance(harness, Mapping):
        raise TaskError(f"{name}: 'harness' must be a dict with callables {', '.join(HARNESS_FUNCTIONS)}")
    for key in HARNESS_FUNCTIONS:
        if key not in harness:
            raise TaskError(f"{name}: harness[{key!r}] is missing (needs {', '.join(HARNESS_FUNCTIONS)})")
        if not callable(harness[key]):
            raise TaskError(f"{name}: harness[{key!r}] is not callable (got {type(harness[key]).__name__})")
    for key in ("category", "entry_point", "run"):
        if key in task and task[key] is not None and not (isinstance(task[key], str) and task[key].strip()):
            raise TaskError(f"{name}: {key!r} must be a non-empty string when given")
    if isinstance(task.get("entry_point"), str) and not task["entry_point"].isidentifier():
        raise TaskError(f"{name}: 'entry_point' must be a Python identifier (got {task['entry_point']!r})")
    reference = task.get("reference")
    if reference is not None:
        if not isinstance(reference, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in reference.items()
        ):
            raise TaskError(f"{name}: 'reference' must map file paths to file contents (strings)")
        unknown = sorted(set(reference) - set(task["expected_files"]))
        if unknown:
            raise TaskError(f"{name}: 'reference' has files not in expected_files: {', '.join(unknown)}")


def _validate_expected_files(name: str, expected: Any) -> None:
    if not isinstance(expected, (list, tuple)) or not expected:
        raise TaskError(f"{name}: 'expected_files' must be a non-empty list of relative paths (got {expected!r})")
    seen = set()
    for path in expected:
        if not isinstance(path, str) or not path.strip():
            raise TaskError(f"{name}: 'expected_files' entries must be non-empty strings (got {path!r})")
        pure = PurePosixPath(path)
        if pure.is_absolute() or "\\" in path or re.match(r"^[A-Za-z]:", path):
            raise TaskError(f"{name}: expected file {path!r} must be a relative path")
        if any(part == ".." for part in pure.parts) or path.endswith("/"):
            raise TaskError(f"{name}: expected file {path!r} must stay inside the task directory")
        if path in seen:
            raise TaskError(f"{name}: expected file {path!r} is listed twice")
        seen.add(path)


def load_tasks_file(path: str | Path) -> list[dict]:
    """Import a Python file by path and return its validated task list (`TASKS`, or `PUBLIC_TASKS`)."""
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "not found"
        raise TaskError(f"tasks file {what}: {path}")
    module = _import_by_path(path)
    exported = next((name for name in EXPORT_NAMES if hasattr(module, name)), None)
    if exported is None:
        raise TaskError(f"{path} exports no task list: define {' or '.join(EXPORT_NAMES)} = [task dicts]")
    tasks = getattr(module, exported)
    if not isinstance(tasks, (list, tuple)):
        raise TaskError(f"{path}: {exported} must be a list of task dicts (got {type(tasks).__name__})")
    if not tasks:
        raise TaskError(f"{path}: {exported} is empty")
    first_position: dict[str, int] = {}
    for position, task in enumerate(tasks, 1):
        try:
            validate_task(task, position)
        except TaskError as exc:
            raise TaskError(f"{path}: {exc}") from None
        if task["id"] in first_position:
            raise TaskError(
                f"{path}: duplicate task id {task['id']!r} (tasks #{first_position[task['id']]} and #{position})"
            )
        first_position[task["id"]] = position
    return list(tasks)


def _import_by_path(path: Path):
    resolved = path.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    module_name = f"bench_user_tasks_{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{digest}"
    loader = SourceFileLoader(module_name, str(resolved))
    spec = importlib.util.spec_from_file_location(module_name, str(resolved), loader=loader)
    if spec is None:  # pragma: no cover - SourceFileLoader accepts any path
        raise TaskError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses, pickling and friends look modules up by name
    folder = str(resolved.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)  # so a tasks file can import its own helpers
    try:
        loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        where = f"{path}:{exc.lineno}" if exc.lineno else str(path)
        raise TaskError(f"{where}: syntax error: {exc.msg}") from None
    except Exception as exc:  # noqa: BLE001 - any failure while importing a user's file is reported the same way
        sys.modules.pop(module_name, None)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == resolved]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        message = " ".join(str(exc).split())
        raise TaskError(f"{where}: importing the tasks file raised {type(exc).__name__}: {message}") from None
    finally:
        if added:
            try:
                sys.path.remove(folder)
            except ValueError:
                pass
    return module


def select_tasks(tasks: Iterable[dict], ids: Iterable[str] | str | None) -> list[dict]:
    """The tasks named by `ids` (in the order asked; "a,b" strings are split), or all of them when `ids` is empty."""
    tasks = list(tasks)
    if isinstance(ids, str):
        ids = [ids]
    wanted: list[str] = []
    for item in ids or []:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in wanted:
                wanted.append(part)
    if not wanted:
        return tasks
    by_id = {task["id"]: task for task in tasks}
    unknown = [task_id for task_id in wanted if task_id not in by_id]
    if unknown:
        known = ", ".join(by_id) or "none"
        raise TaskError(f"unknown task id{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: {known})")
    return [by_id[task_id] for task_id in wanted]


def load_reference(task_id: str, filenames: Iterable[str]) -> dict[str, str]:
    """A public task's reference solution, shipped as plain files under swebench_exec/tasks/reference/<task_id>/."""
    root = files("swebench_exec.tasks").joinpath("reference").joinpath(task_id)
    return {name: root.joinpath(name).read_text(encoding="utf-8") for name in filenames}
