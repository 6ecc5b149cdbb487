"""Public task `async_jobs` (async-concurrency): run async jobs with at most K at once, results in input order.

`prepare` writes `jobs.py` next to the inputs; its `run_job` sleeps a few milliseconds per job, raises for some, and
records in `.peak-<batch>` the largest number of that batch's jobs that were running at the same moment. Peaks are
counted inside the program's own event loop(s), so the check needs no wall-clock assertion: a sequential program
shows a peak of 1, an unbounded one a peak above K.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .checks import Case, OutputProblem, case_task, check_cases, cli_contract, first_difference, read_json_file, write_inputs

TASK_ID = "async_jobs"
FILENAME = "async_jobs.py"

JOBS_MODULE = '''"""Provided by the benchmark: do not edit. `await run_job(job)` runs one job."""
import asyncio
import os

_ERRORS = {"ValueError": ValueError, "RuntimeError": RuntimeError, "LookupError": LookupError}
_HERE = os.path.dirname(os.path.abspath(__file__))
_running = {}
_peak = {}


async def run_job(job):
    """Run one job: returns an integer, or raises the job's error. Pass the job object exactly as read."""
    batch = str(job.get("batch", "default"))
    _running[batch] = _running.get(batch, 0) + 1
    if _running[batch] > _peak.get(batch, 0):
        _peak[batch] = _running[batch]
        with open(os.path.join(_HERE, ".peak-" + batch), "w") as handle:
            handle.write(str(_peak[batch]))
    try:
        await asyncio.sleep(job.get("ms", 10) / 1000)
        if "raise" in job:
            raise _ERRORS[job["raise"]](job.get("msg", ""))
        return job["n"] * job["n"]
    finally:
        _running[batch] -= 1
'''


def _job(batch: str, job_id: str, ms: int, n: int | None = None, error: tuple[str, str] | None = None) -> dict:
    job: dict[str, Any] = {"id": job_id, "batch": batch, "ms": ms}
    if error:
        job["raise"], job["msg"] = error
    else:
        job["n"] = n
    return job


def _expected(jobs: list[dict]) -> list[dict]:
    return [
        {"id": j["id"], "ok": False, "error": f"{j['raise']}: {j['msg']}"}
        if "raise" in j
        else {"id": j["id"], "ok": True, "value": j["n"] * j["n"]}
        for j in jobs
    ]


def _case(name: str, description: str, limit: int, jobs: list[dict]) -> Case:
    content = json.dumps({"limit": limit, "jobs": jobs}, ensure_ascii=False, indent=1) + "\n"
    return Case(name, description, content, {"limit": limit, "jobs": jobs, "results": _expected(jobs)})


CASES = [
    _case(
        "case1.jobs",
        "limit 3, 8 jobs finishing out of order, 2 failures",
        3,
        [
            _job("case1", "fetch-a", 40, n=3),
            _job("case1", "fetch-b", 10, n=-4),
            _job("case1", "parse-c", 30, error=("ValueError", "bad record 17")),
            _job("case1", "fetch-d", 10, n=12),
            _job("case1", "store-é", 20, n=0),
            _job("case1", "store-f", 10, error=("RuntimeError", "backend unavailable")),
            _job("case1", "fetch-g", 30, n=7),
            _job("case1", "fetch-h", 10, n=1),
        ],
    ),
    _case(
        "case2.jobs",
        "limit 1: strictly one job at a time",
        1,
        [
            _job("case2", "one", 20, n=5),
            _job("case2", "two", 10, error=("LookupError", "no such user: 7")),
            _job("case2", "three", 10, n=6),
            _job("case2", "four", 10, n=2),
        ],
    ),
    _case("case3.jobs", "no jobs", 2, []),
]

PROMPT = f"""Task: run asynchronous jobs concurrently, at most K at a time, and report each job's outcome.

{cli_contract(FILENAME, [case.name for case in CASES])}

Next to the inputs there is a module `jobs.py` (already written; do not create or change it) that defines
`async def run_job(job)`: it awaits for a few milliseconds, then returns an integer or raises an exception. Import it
with `from jobs import run_job`.

Input: each input file holds one JSON object {{"limit": K, "jobs": [<job>, ...]}}: K is an integer >= 1 and each job
is a JSON object with at least an "id" (a string). Pass each job object to `run_job` exactly as read.

Run all the jobs of one input with `asyncio`, concurrently, with never more than K of them running at the same time
(when K > 1 and there are several jobs, several must actually run at once: running them one after another is
wrong). A job that raises is recorded as a failure; it must not stop the other jobs or the program.

Output: one JSON array per input, one entry per job, in the same order as the input jobs (not in completion order):
- success: {{"id": <id>, "ok": true, "value": <what run_job returned>}}
- failure: {{"id": <id>, "ok": false, "error": "<exception class name>: <str(exception)>"}}, e.g.
  "ValueError: bad input"
Use exactly these keys. Key order inside each object does not matter. No jobs gives [].
"""


def prepare(tmp_dir: Path) -> None:
    write_inputs(tmp_dir, CASES)
    (Path(tmp_dir) / "jobs.py").write_text(JOBS_MODULE, encoding="utf-8")


def _read_peak(tmp_dir: Path, batch: str) -> int | None:
    try:
        return int(str(read_json_file(Path(tmp_dir) / f".peak-{batch}")))
    except (OutputProblem, ValueError, TypeError):
        return None


def _judge(case: Case, tmp_dir: Path):
    limit, jobs, expected = case.expected["limit"], case.expected["jobs"], case.expected["results"]
    batch = case.name.split(".")[0]

    def judge(got: Any) -> str | None:
        difference = first_difference(expected, got)
        if difference:
            return difference
        if not jobs:
            return None
        peak = _read_peak(tmp_dir, batch)
        if peak is None:
            return "run_job from jobs.py was never called for this input"
        if peak > limit:
            return f"{peak} jobs ran at the same time, more than the limit of {limit}"
        if limit > 1 and len(jobs) > 1 and peak < 2:
            return f"jobs ran one at a time although the limit is {limit}: not concurrent"
        return None

    return judge


def check(proc, tmp_dir: Path) -> tuple[int, str]:
    return check_cases(proc, tmp_dir, CASES, [_judge(case, tmp_dir) for case in CASES])


TASK = case_task(TASK_ID, "async-concurrency", PROMPT, FILENAME, CASES, prepare=prepare, check=check)
