"""`demo` and `compare`: the public tier from arguments to a results file and a printed summary."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, NamedTuple

from ..contract import load_contract
from ..models.base import Model
from ..sandbox.base import Limits
from ..sandbox.local import LocalSandbox
from ..scoring.executor import INFRA_STATUSES
from .executors import make_executor
from .store import (Journal, OutputLock, check_writable, is_results_file, iter_journal, journal_config, journal_path,
                    load_results, rows_at, write_results)  # fmt: skip
from .summary import ARMS, summarize


def resolve_tasks(args: argparse.Namespace) -> list[dict]:
    from ..tasks import PUBLIC_TASKS, load_tasks_file, select_tasks

    tasks = load_tasks_file(args.tasks_file) if args.tasks_file else PUBLIC_TASKS
    if args.tasks:
        tasks = select_tasks(tasks, [t.strip() for t in args.tasks.split(",") if t.strip()])
    return list(tasks)


def build_model(name: str, args: argparse.Namespace, tasks: list[dict], price=None) -> Model:
    """`gold` and `replay:PATH` are built in; anything else is a model id on the OpenAI-compatible endpoint
    (checked before any call). A configured price applies even on a loopback server (it stands in for a paid one)."""
    if name == "gold":
        from ..models.gold import GoldModel

        return GoldModel.for_tasks(tasks)
    if name.startswith("replay:"):
        from ..models.replay import ReplayModel

        return ReplayModel(name)
    from ..models.client import HarnessedClient
    from ..models.endpoints import OPENROUTER_BASE_URL, ConfigError, check_reachable, resolve_api_key, validate_base_url

    base_url = validate_base_url(args.base_url or OPENROUTER_BASE_URL)
    key = os.environ.get(args.api_key_env) if args.api_key_env else None
    if args.api_key_env and not key:
        state = "is empty" if key == "" else "is not set in the environment"
        raise ConfigError(f"--api-key-env {args.api_key_env} {state}")
    resolve_api_key(base_url, key)
    check_reachable(base_url)
    return HarnessedClient(name, base_url=base_url, api_key=key, max_tokens=args.max_tokens,
                           temperature=args.temperature, price=price, local=None if price is None else False,
                           timeout_s=args.request_timeout, max_retries=max(0, args.retries))  # fmt: skip


def resolve_models(args: argparse.Namespace) -> tuple[list[str], dict]:
    """Model ids from --model / --models / --models-file (in that order, no repeats) and their prices."""
    from ..models.catalog import load_models_file, price_table

    entries = load_models_file(args.models_file) if getattr(args, "models_file", None) else []
    names = [args.model] if getattr(args, "model", None) else []
    names += [m.strip() for m in (getattr(args, "models", None) or "").split(",") if m.strip()]
    names += [e.id for e in entries]
    from ..cli import UserError

    if not names:
        raise UserError("no model given: use --models (or --models-file)")
    names = list(dict.fromkeys(names))
    prices = price_table(entries, getattr(args, "price", None) or [])
    unknown = [model for model in prices if model not in names]
    if unknown:
        raise UserError(f"--price names {', '.join(unknown)}, not a model of this run ({', '.join(names)})")
    return names, prices


def build_models(args: argparse.Namespace, tasks: list[dict], names: list[str], prices: dict) -> dict[str, Model]:
    return {name: build_model(name, args, tasks, prices.get(name)) for name in names}


def default_out(command: str) -> tuple[Path, OutputLock]:
    """A new file per run, locked: two runs started in the same second get different names."""
    stem = Path("bench-results") / f"{command}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    n = 1
    while True:
        out = stem.with_suffix(".json") if n == 1 else stem.with_name(f"{stem.name}-{n}.json")
        lock = OutputLock(out)
        if lock.acquire():
            if not (out.exists() or journal_path(out).exists()):
                return out, lock
            lock.release()
        n += 1


@contextmanager
def claimed_output(args: argparse.Namespace) -> Iterator[Path]:
    """--out, locked for the whole run and checked against what is already there: paid rows are never thrown away
    without --overwrite, a file that is not a results file is never replaced (not even with it), and a second run on the
    same file is refused while the first is writing it."""
    from ..cli import UserError

    if args.resume and not args.out:
        raise UserError("--resume needs the --out of the run to continue")
    if args.out:
        out, lock = args.out, OutputLock(args.out)
        check_writable(out)
        if not lock.acquire():
            raise UserError(f"another run (pid {lock.holder()}) is writing {out} right now: wait for it to end, or "
                            "choose another --out")  # fmt: skip
    else:
        out, lock = default_out(args.command)
    try:
        if not args.out:
            check_writable(out)
        _check_earlier_run(args, out)
        yield out
    finally:
        lock.release()


def _check_earlier_run(args: argparse.Namespace, out: Path) -> None:
    from ..cli import UserError

    if out.exists() and not out.is_file():
        raise UserError(f"--out {out} is not a regular file; give a path for a results JSON")
    journal, results = journal_path(out), is_results_file(out)
    if out.exists() and out.stat().st_size and not results and not journal.exists():  # even with --overwrite
        raise UserError(f"--out {out} exists and is not a results file: choose another path (or remove the file)")
    if (out.exists() or journal.exists()) and not (args.resume or args.overwrite):
        raise UserError(f"{out} already holds a run: --resume to continue it, or --overwrite to start over")
    if args.resume and not journal.exists():
        if results:
            print(f"note: {journal} is gone; resuming from the rows in {out}", file=sys.stderr)
        else:
            print(f"note: nothing to resume at {journal}; starting a new run", file=sys.stderr)


def run_config(args: argparse.Namespace, models: list[str], tasks: list[dict], sandbox) -> dict:
    from ..cli import _version

    contract = load_contract()
    return {
        "command": args.command,
        "tier": "public",
        "models": models,
        "base_url": args.base_url,
        "arms": list(ARMS),
        "tasks": [t["id"] for t in tasks],
        "tasks_file": str(Path(args.tasks_file).resolve()) if getattr(args, "tasks_file", None) else None,
        "samples": args.samples,
        "max_tokens": args.max_tokens,
        "request_timeout_s": getattr(args, "request_timeout", None),
        "retries": getattr(args, "retries", None),
        "temperature": args.temperature,
        "timeout_s": args.timeout,
        "contract": {"version": contract.version, "sha256": contract.sha256},
        "tool_version": _version(),
        "sandbox": sandbox.isolation() if sandbox is not None else None,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@dataclass
class FinishedRun:
    out: Path
    config: dict
    journal: Path
    offsets: list[int]  # journal offset of each row of the run, in results order
    stopped: dict[str, str]

    def rows(self) -> Iterator[dict]:
        """The run's rows, read back from the journal one at a time."""
        return rows_at(self.journal, self.offsets)


class Journaled(NamedTuple):
    offset: int  # of the row's line in the journal
    finished: bool  # needs no re-run (see runner.is_finished)
    answered: bool  # the model's reply is stored: it can be scored (again) without a new call
    prompt_sha256: str | None
    task_sha256: str | None
    cost_usd: float | None


def latest_rows(journal: Path) -> dict[tuple, Journaled]:
    """Row key -> the last row journaled for that key."""
    from ..models.outcomes import MODEL_OUTCOMES
    from .runner import is_finished, row_key

    def journaled(offset: int, row: dict) -> Journaled:
        response = row.get("response") or {}
        answered = row["outcome"] in MODEL_OUTCOMES and bool(response)
        return Journaled(offset, is_finished(row), answered, row.get("prompt_sha256"), row.get("task_sha256"),
                         response.get("cost_usd"))  # fmt: skip

    return {row_key(row): journaled(offset, row) for offset, row in iter_journal(journal)}


# What a row depends on: a resume with other values would mix rows made two ways under one config.
RESUMED_SETTINGS = ("tier", "base_url", "tasks_file", "max_tokens", "temperature", "timeout_s", "contract", "dataset",
                    "context", "prices")  # fmt: skip


def _settings(config: dict) -> dict:
    sandbox = config.get("sandbox") or {}
    settings = {key: config.get(key) for key in RESUMED_SETTINGS}
    if settings["tasks_file"]:
        settings["tasks_file"] = str(Path(settings["tasks_file"]).resolve())
    return {**settings, "sandbox": sandbox.get("provider"), "image": sandbox.get("image")}


def check_same_settings(journaled: dict | None, config: dict) -> None:
    """A resume must continue the run it names, not start a different one under the same file."""
    from ..cli import UserError

    if journaled is None:  # a journal from before settings were journaled: nothing to compare
        return
    before, now = _settings(journaled), _settings(config)
    shown = lambda value: "(not set)" if value is None else repr(value)  # noqa: E731
    changed = [f"{key} {shown(before[key])} -> {shown(now[key])}" for key in now if before[key] != now[key]]
    if changed:
        raise UserError(f"--resume with other settings than the journaled run ({'; '.join(changed)}): its rows were "
                        "made with the old ones; repeat the old options, or --overwrite to start over")  # fmt: skip


def plan_resume(spec, journal: Path, out: Path) -> set[tuple]:
    """Keys of the journaled rows this run keeps: finished, in its matrix, answering the very prompt this run sends,
    for a task whose checker is unchanged. Stored replies that still need scoring (interrupted before their score, a
    sandbox that failed, a checker changed since) go to `spec.answers`: scored again, never bought again. What the
    journaled calls cost counts toward --max-cost."""
    from ..models.replay import response_from_record
    from .runner import all_jobs, prompt_sha256

    latest = latest_rows(journal)
    matrix = {job.key: job for job in all_jobs(spec)}
    kept, rescored, asked_again, rechecked = set(), {}, 0, 0
    for key, job in matrix.items():
        row = latest.get(key)
        if row is None:
            continue
        if row.prompt_sha256 != prompt_sha256(spec.prompt(job)):
            asked_again += 1
            continue
        checker_changed = row.task_sha256 not in (None, spec.task_hashes[job.task_id])
        if row.finished and not checker_changed:
            kept.add(key)
        elif row.answered:
            rescored[key] = row.offset
            rechecked += checker_changed
    stored = rows_at(journal, rescored.values()) if rescored else []
    spec.answers = {key: response_from_record(row["response"]) for key, row in zip(rescored, stored)}
    spec.spent_before_usd = sum(row.cost_usd for row in latest.values() if row.cost_usd)
    notes = [
        (asked_again, "answered another prompt than this run sends (a task's prompt or the contract changed): "
                      "they are asked again"),
        (rechecked, "belong to a task whose checker changed since: their replies are scored again"),
        (len(rescored) - rechecked, "were answered but not scored (interrupted, or a sandbox failure): their replies "
                                    "are scored now, without a new call"),
        (sum(1 for key in latest if key not in matrix), f"of other models, tasks or samples stay in the journal and "
                                                        f"are left out of {out}"),
    ]  # fmt: skip
    for count, what in notes:
        if count:
            print(f"note: {count} journaled row(s) {what}", file=sys.stderr)
    return kept


def check_replays(spec, finished: set[tuple]) -> None:
    """A replay file that answers none of the run's prompts is the wrong file (or the wrong tasks): say so before the
    run, rather than record a run of nothing but not_recorded rows; and say how many rows to run it cannot answer."""
    from ..cli import UserError
    from ..models.replay import ReplayModel
    from .runner import all_jobs

    for name, model in spec.models.items():
        if not isinstance(model, ReplayModel):
            continue
        jobs = [job for job in all_jobs(spec) if job.model == name]
        answered = {j.key for j in jobs if model.covers(spec.tasks_by_id[j.task_id]["prompt"], j.harnessed, j.sample)}
        if jobs and not answered:
            raise UserError(f"{name} holds no reply to any of the {len(jobs)} prompt(s) of this run: was it recorded "
                            "with other tasks (--tasks-file, --tasks), instances or contract?")  # fmt: skip
        unanswered = [j for j in jobs if j.key not in finished and j.key not in answered]
        if unanswered:
            print(f"note: {name} holds no reply for {len(unanswered)} of the row(s) to run: they are recorded "
                  "not_recorded (infrastructure, not scored)", file=sys.stderr)  # fmt: skip


def seed_journal(out: Path, journal_file: Path) -> None:
    """A results file whose journal is gone: its rows become the journal, so --resume keeps them."""
    document = load_results(out)
    journal = Journal(journal_file, document["config"])
    try:
        for row in document["rows"]:
            journal.append(row)
    finally:
        journal.close()


def warn_unpriced(spec) -> None:
    """--max-cost can only count what it knows: say up front which models it cannot see spending."""
    from ..models.client import HarnessedClient
    from ..models.endpoints import is_openrouter

    if spec.max_cost is None:
        return
    for name, model in spec.models.items():
        priced = not isinstance(model, HarnessedClient) or model.price or model.local or is_openrouter(model.base_url)
        if not priced:
            print(f"warning: --max-cost cannot see what {name} costs unless its server reports it: give --price "
                  f"{name}=IN,OUT", file=sys.stderr)  # fmt: skip


def start_run(args: argparse.Namespace, out: Path, names: list[str], tasks: list[dict], spec,
              config_extra: dict) -> FinishedRun:  # fmt: skip
    """Shared by both tiers: journal next to `out` (see claimed_output), resume, progress bar; returns when every job
    has a row. No row is held in memory: the journal is the run's storage."""
    from .runner import all_jobs, result_order

    journal_file = journal_path(out)
    if not args.resume and journal_file.exists():
        journal_file.unlink()
    config = {**run_config(args, names, tasks, spec.sandbox), **config_extra}
    if args.resume:
        if not journal_file.exists() and is_results_file(out):
            seed_journal(out, journal_file)
        check_same_settings(journal_config(journal_file), config)
    finished = plan_resume(spec, journal_file, out)
    check_replays(spec, finished)
    warn_unpriced(spec)
    journal = Journal(journal_file, config)
    try:
        state = _run_with_progress(spec, journal, finished, quiet=args.quiet)
    finally:
        journal.close()
    config["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    config["stopped"] = state.stopped
    if spec.max_cost is not None:
        config["budget"] = {"max_cost_usd": spec.max_cost, "spent_usd": round(state.spent_usd, 6),
                            "reached": state.budget_reached, "unknown_cost_calls": state.unknown_cost_calls}  # fmt: skip
    latest = latest_rows(journal_file)
    order = sorted((job.key for job in all_jobs(spec) if job.key in latest), key=result_order)
    return FinishedRun(out, config, journal_file, [latest[key].offset for key in order], state.stopped)


def _first_failure(rows: Iterator[dict], model: str) -> str:
    """The first scoring failure of `model`'s rows, e.g. a task's check() breaking its own rules: the task author's
    bug, said where they look."""
    for row in rows:
        executor = row.get("executor") or {}
        if row["model"] == model and executor.get("status") in INFRA_STATUSES:
            return f"; the first: {row['task_id']}: {executor.get('reason')}"
    return ""


def finish_run(run: FinishedRun) -> int:
    """Summary, results file, table; exit 3 when a model had to be stopped (the others' rows are still there)."""
    from ..report.table import render_summary

    summary = summarize(run.rows(), run.stopped)
    write_results(run.out, run.config, run.rows(), summary)
    print(render_summary(summary))
    print(f"\nresults: {run.out}")
    for model, reason in run.stopped.items():
        print(f"error: {model} was stopped: {reason}", file=sys.stderr)
    unscored = [m for m, info in summary["models"].items()
                if m not in run.stopped and not any(arm["scored"] for arm in info["arms"].values())]  # fmt: skip
    for model in unscored:
        print(f"error: no row of {model} could be scored ({summary['models'][model]['infra_failures']} infrastructure "
              f"failures: see each row's outcome and error){_first_failure(run.rows(), model)}", file=sys.stderr)  # fmt: skip
    budget = run.config.get("budget") or {}
    if budget.get("reached"):
        not_called = sum(info.get("not_called", 0) for info in summary["models"].values())
        print(f"note: --max-cost ${budget['max_cost_usd']:g} reached (${budget['spent_usd']:.4f} spent, calls in "
              f"flight included): {not_called} row(s) not called; --resume with a higher --max-cost finishes them",
              file=sys.stderr)  # fmt: skip
    if budget.get("unknown_cost_calls"):
        print(f"warning: {budget['unknown_cost_calls']} call(s) of unknown cost (no --price, and the server reported "
              "none) did not count toward --max-cost", file=sys.stderr)  # fmt: skip
    unsandboxed = sum(info.get("unsandboxed", 0) for info in summary["models"].values())
    if unsandboxed:
        print(f"warning: {unsandboxed} row(s) ran their program outside the sandbox: the task's invoke() does not use "
              "run_program (see the README, 'Your own tasks')", file=sys.stderr)  # fmt: skip
    return 3 if run.stopped or unscored else 0


def public_sandbox(provider: str, image: str | None, timeout_s: float):
    """The sandbox a public run (or its rescore) executes in; docker is checked before any row: the package, a daemon,
    the image."""
    limits = Limits(timeout_s=timeout_s)
    if provider != "docker":
        return LocalSandbox(limits)
    from ..cli import UserError
    from ..sandbox.docker import DEFAULT_IMAGE, DockerSandbox, docker_available, image_exists

    import docker  # noqa: F401 - not installed: cli names the extra that brings it

    image = image or DEFAULT_IMAGE
    if not docker_available():
        raise UserError("--sandbox docker: no Docker daemon answers (start one, e.g. scripts/docker_up.sh)")
    if not image_exists(image):
        how = "build it: scripts/build_base_image.sh" if image == DEFAULT_IMAGE else "pull or build it"
        raise UserError(f"--sandbox docker: image {image} not found ({how})")
    return DockerSandbox(image=image, limits=limits)


def run_public(args: argparse.Namespace) -> int:
    tasks = resolve_tasks(args)
    with claimed_output(args) as out:  # fail before any model is built or called
        return _run_public(args, tasks, out)


def _run_public(args: argparse.Namespace, tasks: list[dict], out: Path) -> int:
    from .runner import RunSpec

    names, prices = resolve_models(args)
    models = build_models(args, tasks, names, prices)
    sandbox = public_sandbox(args.sandbox, args.image, args.timeout)
    # on Ray, executions in flight are bounded by the call threads too: never fewer threads than workers
    concurrency = max(args.concurrency, args.workers) if args.executor == "ray" else args.concurrency
    spec = RunSpec(models=models, tasks=tasks, samples=args.samples, concurrency=concurrency,
                   workers=args.workers, sandbox=sandbox, max_cost=args.max_cost,
                   executor=make_executor(args.executor, args.workers, args.ray_address))  # fmt: skip
    try:
        run = start_run(args, out, names, tasks, spec, {"prices": {m: p.record() for m, p in prices.items()}})
    finally:
        spec.executor.close()
    return finish_run(run)


def _run_with_progress(spec, journal: Journal, finished: set, quiet: bool):
    from tqdm import tqdm

    from .runner import pending_jobs, run_streaming

    total = sum(1 for _ in pending_jobs(spec, finished))
    started = time.monotonic()
    with tqdm(total=total, desc="rows", unit="row", disable=quiet or None, file=sys.stderr) as bar:
        state = run_streaming(spec, journal, finished, on_row=lambda row: bar.update(1))
    if not quiet:
        reused = f", {len(finished)} reused from the journal" if finished else ""
        print(f"{total} row(s) run in {time.monotonic() - started:.1f}s{reused}", file=sys.stderr)
    return state
