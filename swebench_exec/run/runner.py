"""Runs the job matrix: model calls on a thread pool, executions bounded separately, rows journaled as they finish."""
from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..contract import build_prompt
from ..models.base import Model, Response
from ..models.outcomes import INFRA_OUTCOMES, MODEL_OUTCOMES, STOPS_MODEL
from ..sandbox.base import Sandbox, SandboxError
from ..scoring import executor_score, format_score
from ..scoring.executor import INFRA_STATUSES
from .executors import Executor, LocalExecutor
from .jobs import Job, job_matrix
from .store import Journal
from .summary import ARMS, NOT_CALLED

log = logging.getLogger(__name__)
PENDING = "pending"  # executor status of a journaled answer not scored yet


class Abandoned(KeyboardInterrupt):
    """A second Ctrl-C: the rows still in flight are given up (a resume scores their journaled answers)."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.rows = rows


Scorer = Callable[[dict, str, str], dict]  # (task, reply text, outcome) -> {"format", "executor", "parse", ...}


@dataclass
class RunSpec:
    """What to run. `scorer` turns a reply into scores; the public tier's is the default, SWE-bench brings its own."""

    models: dict[str, Model]
    tasks: list[dict]
    samples: int = 1
    arms: tuple[str, ...] = ARMS
    concurrency: int = 4
    workers: int = 2
    sandbox: Sandbox | None = None
    contract_version: str = "v1"
    tier: str = "public"
    scorer: Scorer | None = None
    executor: Executor | None = None  # default: a LocalExecutor bounded by `workers`
    max_cost: float | None = None  # USD: no new call starts once the run has spent this much
    spent_before_usd: float = 0.0  # what the run's journaled calls cost before this session (a resume's budget)
    answers: dict[tuple, Response] = field(default_factory=dict)  # stored replies to score again, not to buy again
    tasks_by_id: dict[str, dict] = field(init=False, repr=False)
    task_hashes: dict[str, str | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.executor is None:
            self.executor = LocalExecutor(self.workers)
        self.tasks_by_id = {t["id"]: t for t in self.tasks}
        self.task_hashes = {t["id"]: task_sha256(t) for t in self.tasks}

    def prompt(self, job: Job) -> str:
        """The exact text the model is sent for `job`; its hash ties a row to the prompt it answered."""
        return build_prompt(self.tasks_by_id[job.task_id]["prompt"], job.harnessed, self.contract_version)

    def score(self, task: dict, text: str, outcome: str) -> dict:
        if outcome not in MODEL_OUTCOMES:
            return {"format": None, "executor": None, "parse": None}
        if self.scorer is not None:
            return self.executor.run(self.scorer, task, text, outcome)
        return self.executor.run(score_response, task, text, outcome, self.sandbox)


@dataclass
class RunState:
    """What the run learned while running: models it had to stop, and why."""

    stopped: dict[str, str] = field(default_factory=dict)
    successes: dict[str, int] = field(default_factory=dict)
    spent_usd: float = 0.0
    unknown_cost_calls: int = 0  # answered calls whose cost nobody knows: not counted toward --max-cost
    budget_reached: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def over_budget(self, max_cost: float | None) -> bool:
        with self.lock:
            if max_cost is not None and self.spent_usd >= max_cost:
                self.budget_reached = True
            return self.budget_reached

    def note(self, model: str, response: Response) -> None:
        with self.lock:
            self.spent_usd += response.cost_usd or 0.0
            if response.cost_usd is None and response.outcome in MODEL_OUTCOMES:
                self.unknown_cost_calls += 1
            if response.outcome in MODEL_OUTCOMES:
                self.successes[model] = self.successes.get(model, 0) + 1
            elif response.outcome in STOPS_MODEL or (
                response.outcome == "transport_error" and not self.successes.get(model)
            ):
                self.stopped.setdefault(model, f"{response.outcome}: {response.error}")


def prompt_sha256(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def task_sha256(task: dict) -> str | None:
    """What a task's scores depend on besides the reply: its expected files and the source of its harness functions'
    files. A resume scores again the stored replies of a task whose checker changed. None for tasks without harness
    functions (SWE-bench instances are graded by the tool itself; `rescore` covers a changed tool)."""
    harness = task.get("harness")
    if not isinstance(harness, dict):
        return None
    digest = hashlib.sha256(json.dumps(task.get("expected_files"), sort_keys=True).encode())
    for path in sorted({_source_file(harness.get(name)) for name in ("prepare", "invoke", "check")} - {None}):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _source_file(function) -> str | None:
    try:
        path = inspect.getsourcefile(function)
    except TypeError:  # a builtin or a C function: nothing to read
        return None
    return path if path and os.path.isfile(path) else None


def score_response(task: dict, text: str, outcome: str, sandbox: Sandbox | None) -> dict:
    """Both scores for one public-tier reply (infrastructure outcomes never get here: see RunSpec.score)."""
    shape = format_score(text, task["expected_files"])
    executed = executor_score(text, task=task, sandbox=sandbox)
    return {"format": shape.record(), "executor": executed.record(), "parse": shape.parse.record()}


def _not_called_row(job: Job, reason: str) -> dict:
    return {"response": None, "outcome": NOT_CALLED, "error": f"not called: {reason}",
            "format": None, "executor": None, "parse": None}  # fmt: skip


def _pending_row(row: dict, response: Response) -> dict:
    """An answer journaled before it is scored: if the run dies meanwhile, a resume scores it instead of buying it
    again (scoring can take minutes; the answer may have cost dollars)."""
    executor = {"score": None, "max_score": None, "status": PENDING, "reason": "answered, not scored yet"}
    return {**row, "response": response.record(), "outcome": response.outcome, "format": None, "parse": None,
            "executor": executor}  # fmt: skip


def run_job(job: Job, spec: RunSpec, state: RunState, journal: Journal | None = None) -> dict:
    """One row: call the model (or take its stored answer), score, journal. Safe to run on any thread."""
    row = _run_job(job, spec, state, journal)
    if journal is not None:
        journal.append(row)
    return row


def _run_job(job: Job, spec: RunSpec, state: RunState, journal: Journal | None) -> dict:
    task = spec.tasks_by_id[job.task_id]
    row = {"model": job.model, "task_id": job.task_id, "tier": spec.tier, "arm": job.arm, "sample": job.sample,
           "prompt_sha256": prompt_sha256(spec.prompt(job)), "task_sha256": spec.task_hashes[job.task_id]}  # fmt: skip
    started = time.monotonic()
    response = spec.answers.get(job.key)
    if response is None:
        reason = state.stopped.get(job.model)
        if reason:
            reason = f"model stopped ({reason})"
        elif state.over_budget(spec.max_cost):
            reason = f"--max-cost ${spec.max_cost:g} reached"
        if reason:
            return {**row, **_not_called_row(job, reason)}
        response = spec.models[job.model].answer(task["prompt"], job.harnessed, sample=job.sample)
        state.note(job.model, response)
        if journal is not None and response.outcome in MODEL_OUTCOMES:
            journal.append(_pending_row(row, response))
    model_s = time.monotonic() - started
    try:
        scores = spec.score(task, response.text, response.outcome)
    except Exception as exc:  # noqa: BLE001 - a harness bug or hostile reply must cost one row, not the run
        status = "sandbox_error" if isinstance(exc, SandboxError) else "harness_error"
        if status == "harness_error":
            log.exception("scoring %s/%s/%s failed", job.model, job.task_id, job.arm)
        scores = {"format": None, "parse": None, "executor": {"score": None, "max_score": None, "status": status,
                  "reason": f"scoring failed: {type(exc).__name__}: {str(exc)[:300]}"}}  # fmt: skip
    return {
        **row,
        "response": response.record(),
        "outcome": response.outcome,
        **scores,
        "timings": {"model_s": round(model_s, 4), "score_s": round(time.monotonic() - started - model_s, 4)},
    }


def row_key(row: dict) -> tuple[str, str, str, int]:
    return (row["model"], row["task_id"], row["arm"], row["sample"])


def result_order(key: tuple[str, str, str, int]) -> tuple:
    """How rows are laid out in a results file: by model, task and sample, the two arms of a unit side by side."""
    model, task_id, arm, sample = key
    return (model, task_id, sample, arm)


def is_finished(row: dict) -> bool:
    """A row that needs no re-run: the model answered and the harness scored it (or the model failed on its own)."""
    executor = row.get("executor") or {}
    return (row["outcome"] not in INFRA_OUTCOMES and row["outcome"] != NOT_CALLED
            and executor.get("status") not in (*INFRA_STATUSES, PENDING))  # fmt: skip


def all_jobs(spec: RunSpec) -> Iterator[Job]:
    return job_matrix(list(spec.models), [t["id"] for t in spec.tasks], spec.samples, spec.arms)


def pending_jobs(spec: RunSpec, finished: set[tuple[str, str, str, int]]) -> Iterator[Job]:
    """Jobs with no finished row yet (see is_finished): infrastructure failures are run again."""
    return (job for job in all_jobs(spec) if job.key not in finished)


def run_streaming(
    spec: RunSpec,
    journal: Journal | None,
    finished: set[tuple[str, str, str, int]],
    on_row: Callable[[dict], None] | None = None,
) -> RunState:
    """Run every pending job, each row journaled by its own thread as it finishes, none kept: memory stays flat in
    the number of rows (at most two jobs per model call slot are in flight).

    Ctrl-C: jobs not started are dropped, the ones running finish and are journaled (their calls are paid for) and
    KeyboardInterrupt goes on; a second Ctrl-C abandons those too."""
    state = RunState(spent_usd=spec.spent_before_usd)
    jobs = pending_jobs(spec, finished)
    limit = 2 * max(1, spec.concurrency)
    pool = ThreadPoolExecutor(max_workers=max(1, spec.concurrency))
    in_flight: set = set()
    try:
        in_flight = {pool.submit(run_job, job, spec, state, journal) for job in itertools.islice(jobs, limit)}
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                row = future.result()
                if on_row:
                    on_row(row)
            in_flight |= {pool.submit(run_job, job, spec, state, journal)
                          for job in itertools.islice(jobs, len(done))}  # fmt: skip
    except KeyboardInterrupt:
        running = [f for f in in_flight if not f.cancel()]
        print(f"\ninterrupted: finishing the {len(running)} row(s) in flight, which are journaled (Ctrl-C again to "
              "abandon them)", file=sys.stderr)  # fmt: skip
        try:
            wait(running)
        except KeyboardInterrupt:
            raise Abandoned(sum(1 for f in running if not f.done())) from None
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    state.budget_reached = spec.max_cost is not None and state.spent_usd >= spec.max_cost
    return state


def run(
    spec: RunSpec,
    journal: Journal | None = None,
    done: list[dict] | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> tuple[list[dict], RunState]:
    """In-memory convenience over run_streaming (tests, scripts): every row of the matrix, sorted."""
    wanted = {job.key for job in all_jobs(spec)}
    kept = [r for r in (done or []) if row_key(r) in wanted and is_finished(r)]
    rows: list[dict] = []

    def collect(row: dict) -> None:
        rows.append(row)
        if on_row:
            on_row(row)

    state = run_streaming(spec, journal, {row_key(r) for r in kept}, collect)
    return sorted(kept + rows, key=lambda r: result_order(row_key(r))), state
