"""executor_score: the ground truth. Extract the program, run it in a sandbox against the task's cases, count passes.

The program is run exactly as written (a stray `python` line inside a block is a NameError, not something to heal):
the executor measures what a user would get by running the reply.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..parse import extract_program, write_files
from ..sandbox.base import Sandbox, SandboxError, SandboxedProcess, how_it_ended, remove_tree, use_sandbox

MAX_SCORE = 3
INFRA_STATUSES = ("sandbox_error", "harness_error", "env_error")

WORKDIR_PREFIX = "bbe-task-"  # then the owner's pid: a run killed before its cleanup is swept by the next one


@dataclass
class ExecResult:
    score: int | None  # None when infrastructure failed: such a row is never counted against the model
    reason: str
    status: str  # pass | wrong_output | crashed | timeout | output_limit | syntax_error | no_code | sandbox_error | harness_error
    max_score: int = MAX_SCORE
    extraction: dict = field(default_factory=dict)
    process: dict | None = None
    duration_s: float = 0.0
    grade: dict | None = None  # SWE-bench: the official-parity grade (per-test statuses, F2P/P2P fractions)

    @property
    def infra(self) -> bool:
        return self.status in INFRA_STATUSES

    def record(self) -> dict:
        return {
            "score": self.score,
            "max_score": self.max_score,
            "reason": self.reason,
            "status": self.status,
            "extraction": self.extraction,
            "process": self.process,
            "duration_s": round(self.duration_s, 4),
            **({"grade": self.grade} if self.grade is not None else {}),
        }


def _resolve_task(task: dict | None, task_id: str | None, harness: dict | None) -> dict:
    if task is None:
        from ..tasks import PUBLIC_TASKS

        task = next((t for t in PUBLIC_TASKS if t["id"] == task_id), None)
        if task is None:
            raise ValueError(f"unknown task id {task_id!r}: pass task=<your task dict> for a task of your own")
    return {**task, "harness": harness or task["harness"]}


def _status_of(proc: SandboxedProcess, score: int) -> str:
    if score == MAX_SCORE:
        return "pass"
    if proc.timed_out:
        return "timeout"
    if proc.output_limited:
        return "output_limit"
    return "crashed" if proc.returncode != 0 else "wrong_output"


def _explain(proc: SandboxedProcess, check_reason: str) -> str:
    """The check's reason, prefixed with how the run ended unless the check already said so."""
    ending = how_it_ended(proc)
    return f"{ending}; {check_reason}" if ending and ending not in check_reason else check_reason


def _as_sandboxed(proc) -> SandboxedProcess:
    """A user's `invoke` may hand back a plain CompletedProcess; treat it as a run with nothing special recorded."""
    if isinstance(proc, SandboxedProcess):
        return proc
    if not isinstance(proc, subprocess.CompletedProcess):
        raise TypeError(f"task invoke() returned {type(proc).__name__}, not a CompletedProcess (a missing return?)")
    return SandboxedProcess(proc.args, proc.returncode, proc.stdout or "", proc.stderr or "",
                            isolation={"sandboxed": False})  # recorded: this run was not contained  # fmt: skip


def _syntax_error(path: Path) -> str | None:
    if path.suffix != ".py":
        return None
    try:
        compile(path.read_bytes(), path.name, "exec")
    except SyntaxError as exc:
        return f"SyntaxError at {path.name}:{exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; expressions too deep for the compiler
        return f"does not compile: {path.name}: {type(exc).__name__}"
    return None


def executor_score(
    text: str,
    task_id: str | None = None,
    harness: dict | None = None,
    *,
    task: dict | None = None,
    sandbox: Sandbox | None = None,
) -> ExecResult:
    """Run the program in `text` against a task's three cases. Public tasks are found by id; your own go in `task`."""
    task = _resolve_task(task, task_id, harness)
    expected = list(task["expected_files"])
    extraction = extract_program(text or "", expected, task.get("entry_point"))
    record = {"method": extraction.method, "detail": extraction.detail, "files": sorted(extraction.files)}
    if not extraction.files:
        return ExecResult(0, f"no code found: {extraction.detail}", "no_code", extraction=record)
    if expected[0] not in extraction.files:
        return ExecResult(0, f"no code found: {expected[0]} is not among {sorted(extraction.files)}", "no_code",
                          extraction=record)  # fmt: skip
    started = time.monotonic()
    sweep_abandoned_workdirs()
    workdir = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-"))
    try:
        return _execute(task, extraction.files, workdir, record, sandbox, started)
    finally:
        remove_tree(workdir)


@lru_cache(maxsize=None)
def sweep_abandoned_workdirs() -> int:
    """Remove the work dirs of harness processes that are gone (killed with -9, or abandoned with a second Ctrl-C).
    Once per process; returns how many."""
    removed = 0
    pattern = re.compile(rf"{WORKDIR_PREFIX}(\d+)-")
    for entry in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not Path(f"/proc/{match.group(1)}").exists():
            remove_tree(entry)
            removed += 1
    return removed


def _execute(task: dict, files: dict, workdir: Path, record: dict, sandbox: Sandbox | None, started: float) -> ExecResult:
    harness = task["harness"]
    try:
        harness["prepare"](workdir)
    except Exception as exc:  # noqa: BLE001 - the task's own code failed, not the model's
        return ExecResult(None, f"task prepare() failed: {exc!r}", "harness_error", extraction=record)
    # Only the expected files run: a reply's extra files may not overwrite the task's inputs or pre-write its outputs.
    record["ignored"] = sorted(set(files) - set(task["expected_files"]))
    record["refused"] = write_files(workdir, {p: c for p, c in files.items() if p in task["expected_files"]})
    script = workdir / task["expected_files"][0]
    if error := _syntax_error(script):
        return ExecResult(0, error, "syntax_error", extraction=record, duration_s=time.monotonic() - started)
    try:
        if sandbox is None:
            proc = harness["invoke"](workdir, script)
        else:
            with use_sandbox(sandbox):
                proc = harness["invoke"](workdir, script)
    except SandboxError as exc:
        return ExecResult(None, f"sandbox failed: {exc}", "sandbox_error", extraction=record)
    except Exception as exc:  # noqa: BLE001 - the task's own invoke() failed, not the model
        return ExecResult(None, f"task invoke() failed: {exc!r}", "harness_error", extraction=record)
    try:
        proc = _as_sandboxed(proc)
    except TypeError as exc:
        return ExecResult(None, str(exc), "harness_error", extraction=record)
    process = proc.record()
    if proc.infra_error:
        return ExecResult(None, f"sandbox failed: {proc.infra_error}", "sandbox_error", extraction=record, process=process)
    try:
        score, check_reason = harness["check"](proc, workdir)
    except Exception as exc:  # noqa: BLE001
        return ExecResult(None, f"task check() failed: {exc!r}", "harness_error", extraction=record, process=process)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        return ExecResult(None, f"task check() returned score {score!r} ({type(score).__name__}): it must return "
                          f"an int 0..{MAX_SCORE}",
                          "harness_error", extraction=record, process=process)  # fmt: skip
    status = _status_of(proc, score)
    return ExecResult(
        int(score), _explain(proc, check_reason), status, extraction=record, process=process,
        duration_s=time.monotonic() - started,
    )  # fmt: skip
