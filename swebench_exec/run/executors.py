"""Where executions run. Model calls stay on the orchestrator's threads; each scoring call goes to an executor.

`LocalExecutor` bounds concurrent executions on this machine (`--workers`); `RayExecutor` (run/ray_executor.py,
optional extra `ray`) sends them as Ray tasks to an existing cluster. Both take the same pure function and
arguments and return its result, so the same responses give the same scores wherever they ran.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Protocol, TypeVar

T = TypeVar("T")


class Executor(Protocol):
    name: str

    def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...


class LocalExecutor:
    """At most `workers` executions at once; the calling thread runs the function itself."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self._slots = threading.Semaphore(max(1, workers))

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._slots:
            return fn(*args)

    def close(self) -> None:
        pass


def make_executor(kind: str, workers: int, address: str | None = None) -> Executor:
    if kind == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers)
    return LocalExecutor(workers)
