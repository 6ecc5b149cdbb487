"""bench-by-execution: benchmark LLMs by running the code they write, not by checking whether it looks right.

Public API (also importable as `bench_by_execution`): `HarnessedClient`, `executor_score`, `format_score`;
the public tasks are `swebench_exec.tasks.PUBLIC_TASKS`. Attributes load lazily so the CLI starts fast.
"""
from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "HarnessedClient": "swebench_exec.models.client",
    "Response": "swebench_exec.models.base",
    "executor_score": "swebench_exec.scoring.executor",
    "format_score": "swebench_exec.scoring.format",
    "ExecResult": "swebench_exec.scoring.executor",
    "FormatResult": "swebench_exec.scoring.format",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'swebench_exec' has no attribute {name!r}")
