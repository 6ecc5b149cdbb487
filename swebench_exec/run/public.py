"""`demo` and `compare`: the public tier from arguments to a results file and a printed summary."""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..contract import load_contract
from ..models.base import Model
from ..sandbox.base import Limits
from ..sandbox.local import LocalSandbox
from .executors import make_executor
from .store import Journal, check_writable, iter_journal, journal_path, rows_at, write_results
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
        raise ConfigError(f"--api-key-env {args.api_key_env} is not set in the environment")
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
    if not names:
        from ..cli import UserError

        raise UserError("no model given: use --models (or --models-file)")
    return list(dict.fromkeys(names)), price_table(entries, getattr(args, "price", None) or [])


def build_models(args: argparse.Namespace, tasks: list[dict]) -> tuple[list[str], dict[str, Model], dict]:
    names, prices = resolve_models(args)
    return names, {name: build_model(name, args, tasks, prices.get(name)) for name in names}, prices


def default_out(command: str) -> Path:
    """A new file per run: two runs in the same second get different names."""
    stem = Path("bench-results") / f"{command}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    out, n = stem.with_suffix(".json"), 1
    while out.exists() or journal_path(out).exists():
        n += 1
        out = stem.with_name(f"{stem.name}-{n}.json")
    return out


def output_path(args: argparse.Namespace) -> Path:
    """--out, checked against the run already there: paid rows are never thrown away without --overwrite."""
    from ..cli import UserError

    if args.resume and not args.out:
        raise UserError("--resume needs the --out of the run to continue")
    out = args.out or default_out(args.command)
    check_writable(out)
    earlier = out.exists() or journal_path(out).exists()
    if earlier and not (args.resume or args.overwrite):
        raise UserError(f"{out} already holds a run: --resume to continue it, or --overwrite to start over")
    if args.resume and not journal_path(out).exists():
        print(f"note: nothing to resume at {journal_path(out)}; starting a new run", file=sys.stderr)
    return out


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
        "tasks_file": str(args.tasks_file) if getattr(args, "tasks_file", None) else None,
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


def latest_rows(journal: Path) -> dict[tuple, tuple[int, bool]]:
    """Row key -> (offset, finished) of the last row journaled for each key."""
    from .runner import is_finished, row_key

    return {row_key(row): (offset, is_finished(row)) for offset, row in iter_journal(journal)}


def start_run(args: argparse.Namespace, out: Path, names: list[str], tasks: list[dict], spec,
              config_extra: dict) -> FinishedRun:  # fmt: skip
    """Shared by both tiers: journal next to `out` (see output_path), resume, progress bar; returns when every job
    has a row. No row is held in memory: the journal is the run's storage."""
    from .runner import all_jobs, result_order

    journal_file = journal_path(out)
    if not args.resume and journal_file.exists():
        journal_file.unlink()
    finished = {key for key, (_, done) in latest_rows(journal_file).items() if done}
    config = {**run_config(args, names, tasks, spec.sandbox), **config_extra}
    journal = Journal(journal_file)
    try:
        state = _run_with_progress(spec, journal, finished, quiet=args.quiet)
    finally:
        journal.close()
    config["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    config["stopped"] = state.stopped
    latest = latest_rows(journal_file)
    order = sorted((job.key for job in all_jobs(spec) if job.key in latest), key=result_order)
    return FinishedRun(out, config, journal_file, [latest[key][0] for key in order], state.stopped)


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
              "failures: see each row's outcome and error)", file=sys.stderr)  # fmt: skip
    return 3 if run.stopped or unscored else 0


def public_sandbox(args: argparse.Namespace):
    limits = Limits(timeout_s=args.timeout)
    if args.sandbox == "local":
        return LocalSandbox(limits)
    from ..cli import UserError
    from ..sandbox.docker import DockerSandbox, docker_available, image_exists

    if not docker_available():
        raise UserError("--sandbox docker: no Docker daemon answers (start one, e.g. scripts/docker_up.sh)")
    if not image_exists(args.image):
        raise UserError(f"--sandbox docker: image {args.image} not found (build it: scripts/build_base_image.sh)")
    return DockerSandbox(image=args.image, limits=limits)


def run_public(args: argparse.Namespace) -> int:
    from .runner import RunSpec

    tasks = resolve_tasks(args)
    out = output_path(args)  # fail before any model is built or called
    names, models, prices = build_models(args, tasks)
    sandbox = public_sandbox(args)
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
