"""Command line: `bench-by-execution demo|compare ...`. Heavy modules are imported inside commands (fast --help)."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

EPILOG = """examples:
  bench-by-execution demo --model gold                     # offline: the whole pipeline on the public tasks
  bench-by-execution swebench --models gold --instances instances/verified-20.txt --repo-cache ~/mirrors
  bench-by-execution validate --instances instances/verified-20.txt --sandbox local --repo-cache ~/mirrors
  export OPENROUTER_API_KEY=...
  bench-by-execution demo --model anthropic/claude-haiku-4.5 --out my_bench.json
  bench-by-execution compare --models anthropic/claude-opus-4.7,openai/gpt-4.1-mini
  bench-by-execution demo --model qwen3-coder:30b --base-url http://localhost:11434/v1   # no key on localhost
"""


# Optional packages, top-level module -> the extra that installs it: a missing one is an install step, not a bug.
EXTRAS = {"datasets": "swebench", "git": "swebench", "swebench": "swebench", "unidiff": "swebench", "docker": "docker",
          "ray": "ray"}  # fmt: skip


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2, no traceback."""


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line, like every other mistake, and says where the options are explained."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _number(kind: type, what: str, ok, rule: str):
    """An argparse type: a finite `kind` for which `ok(value)` holds; anything else is one line saying what is wanted."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if not ok(value):
            raise argparse.ArgumentTypeError(rule)
        return value

    return parse


_positive = _number(int, "a whole number", lambda v: v >= 1, "must be at least 1")
_count = _number(int, "a whole number", lambda v: v >= 0, "must be 0 or more")
_positive_seconds = _number(float, "a number of seconds", lambda v: v > 0, "must be more than 0 seconds")
_temperature = _number(float, "a number", lambda v: v >= 0, "must be 0 or more")
_dollars = _number(float, "an amount in USD", lambda v: v > 0, "must be more than 0 USD")


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model endpoint")
    group.add_argument("--base-url", help="any OpenAI-compatible endpoint (default: OpenRouter); "
                       "e.g. http://localhost:11434/v1 for Ollama, :8000/v1 vLLM, :1234/v1 LM Studio, :8080/v1 llama.cpp")  # fmt: skip
    group.add_argument("--api-key-env", metavar="VAR",
                       help="environment variable holding the key (default: OPENROUTER_API_KEY for OpenRouter; for "
                       "another --base-url OPENAI_API_KEY, then OPENROUTER_API_KEY; none needed on localhost)")  # fmt: skip
    group.add_argument("--max-tokens", type=_positive, default=4096, help="sent with every call (default 4096)")
    group.add_argument("--temperature", type=_temperature, default=0.0, help="sampling temperature (default 0)")
    group.add_argument("--price", action="append", metavar="MODEL=IN,OUT",
                       help="USD per million input,output tokens (or MODEL=BLENDED); repeatable; overrides the price "
                       "table (and --models-file, where the command has it)")  # fmt: skip
    group.add_argument("--max-cost", type=_dollars, metavar="USD", help="start no new call once the run has spent this "
                       "much; the rows left are recorded not_called (--resume with a higher budget finishes them)")  # fmt: skip
    group.add_argument("--request-timeout", type=_positive_seconds, default=300.0,
                       help="seconds one attempt may take, from connecting to the last byte of the reply (default 300)")  # fmt: skip
    group.add_argument("--retries", type=_count, default=5, help="retries of rate-limited / failed calls (default 5)")


def _task_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tasks")
    group.add_argument("--tasks", help="comma-separated task ids (default: all)")
    group.add_argument("--tasks-file", type=Path, help="a Python file exporting TASKS, a list of task dicts (see README)")


def _instance_options(parser: argparse.ArgumentParser, timeout: float | None, recorded: bool = False) -> None:
    """The SWE-bench options; `recorded`: for rescore, whose instances, dataset, mirrors and sandbox are the run's."""
    group = parser.add_argument_group("SWE-bench instances and sandboxes")
    if not recorded:
        which = group.add_mutually_exclusive_group()
        which.add_argument("--instances", type=Path, help="a file of instance ids, one a line, '#' comments "
                           "(e.g. instances/verified-20.txt)")  # fmt: skip
        which.add_argument("--instance-ids", help="comma-separated instance ids (instead of --instances)")
    dataset = None if recorded else "SWE-bench/SWE-bench_Verified"
    shown_dataset = dataset or "the run's"
    group.add_argument("--dataset", default=dataset, help="a Hugging Face dataset name, or a local "
                       f".json/.jsonl/.parquet/save_to_disk folder (default: {shown_dataset})")  # fmt: skip
    sandboxes = ("auto (default): the sandbox the run was scored in; docker: a container per run (public tasks: the "
                 "recorded image; SWE-bench: the official per-instance images); local: this machine's sandbox "
                 "(SWE-bench: a cached venv per repo/version)") if recorded else (
                 "docker: official per-instance images; local: a cached venv per repo/version; auto (default): docker "
                 "when a daemon answers and the images exist, else local")  # fmt: skip
    group.add_argument("--sandbox", choices=("auto", "docker", "local"), default="auto", help=sandboxes)
    group.add_argument("--namespace", default="swebench", help="image namespace for docker (default: swebench)")
    group.add_argument("--repo-cache", type=Path, help="folder of existing mirrors DIR/<owner>__<name> (bare or not); "
                       "used as is, nothing fetched (default: " + ("the run's, if it named one; else " if recorded else "")
                       + "~/.cache/bench-by-execution/repos, fetched from GitHub)")  # fmt: skip
    group.add_argument("--env-cache", type=Path, help="where local venvs are built (default: ~/.cache/bench-by-execution/envs)")
    shown = f"{timeout:g}" if timeout else "the run's own"
    group.add_argument("--timeout", type=_positive_seconds, default=timeout, help=f"seconds for each test run (default {shown})")


def _run_options(parser: argparse.ArgumentParser, timeout: float = 10.0) -> None:
    group = parser.add_argument_group("how to run")
    group.add_argument("--samples", type=_positive, default=1, help="samples per task and arm; gives pass@k (default 1)")
    group.add_argument("--concurrency", type=_positive, default=4, help="model calls in flight (default 4)")
    group.add_argument("--workers", type=_positive, default=max(1, (os.cpu_count() or 2)),
                       help="sandboxed executions at once (default: CPU count)")  # fmt: skip
    group.add_argument("--out", type=Path, help="results JSON (default: bench-results/<command>-<time>.json); "
                       "rows are journaled to OUT.journal.jsonl as they finish")  # fmt: skip
    again = group.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run journaled next to --out, with the same "
                       "settings: finished rows are kept, missing rows and infrastructure failures are run")  # fmt: skip
    again.add_argument("--overwrite", action="store_true", help="start over even though --out already holds a run")
    group.add_argument("--executor", choices=("local", "ray"), default="local",
                       help="where sandboxed executions run: this machine (default) or a Ray cluster (extra [ray])")  # fmt: skip
    group.add_argument("--ray-address", help="Ray cluster address for --executor ray (default: start a local Ray)")
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bench-by-execution",
        description="Benchmark LLMs by running the code they write. Each task is asked twice, wrapped in the "
        "EXECUTION CONTRACT (harnessed) and bare; each reply gets a format score (shape) and an executor score "
        "(the program run in a sandbox against the task's cases). Δformat vs Δexec exposes the Format Scorer Trap.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser("demo", help="one model on the public tasks, both arms",
                               description="Run one model on the public tasks, harnessed and bare, and print the summary.")  # fmt: skip
    demo.add_argument("--model", required=True,
                      help="an OpenRouter id, a local server's model name, 'gold', or 'replay:RESULTS.json'")  # fmt: skip
    compare = commands.add_parser("compare", help="several models side by side on the public tasks",
                                  description="Run several models on the public tasks, both arms, one summary.")  # fmt: skip
    compare.add_argument("--models", help="comma-separated model ids ('gold' and 'replay:RESULTS.json' included)")
    compare.add_argument("--models-file", type=Path, help="a TOML list of models with prices, e.g. harness/models/seed-six.toml")
    for sub in (demo, compare):
        _model_options(sub)
        _task_options(sub)
        _run_options(sub)
        group = sub.add_argument_group("sandbox")
        group.add_argument("--timeout", type=_positive_seconds, default=10.0, help="seconds each program may run (default 10)")
        group.add_argument("--sandbox", choices=("local", "docker"), default="local",
                           help="local (default): bubblewrap/rlimits on this machine; docker: one container per run")  # fmt: skip
        group.add_argument("--image", help="image for --sandbox docker (default: the one scripts/build_base_image.sh "
                           "builds, bench-by-execution/base:bookworm)")  # fmt: skip
        sub.set_defaults(handler=_public_command)
    swebench = commands.add_parser(
        "swebench", help="models on SWE-bench Verified instances, both arms, graded by the repos' own tests",
        description="Each instance: the oracle prompt (problem + the whole files the gold patch touches), the reply's "
        "files written into a clean checkout at base_commit, the repository's tests run in a sandbox and graded "
        "exactly as the official harness grades (FAIL_TO_PASS and PASS_TO_PASS).",
    )  # fmt: skip
    swebench.add_argument("--models", help="comma-separated model ids ('gold' answers with the gold patch)")
    swebench.add_argument("--models-file", type=Path, help="a TOML list of models with prices, e.g. harness/models/seed-six.toml")
    swebench.add_argument("--export-predictions", type=Path, metavar="PATH",
                          help="also write the official predictions.jsonl (one file per model x arm)")  # fmt: skip
    _model_options(swebench)
    _instance_options(swebench, timeout=1800.0)
    _run_options(swebench)
    swebench.set_defaults(handler=_swebench_command)
    validate = commands.add_parser(
        "validate", help="is each instance sound here? gold must resolve every time, an empty patch never",
        description="Run the gold patch and an empty patch R times per instance in this sandbox; instances that fail "
        "or flip are marked env_broken / flaky / needs_network / empty_resolves in <instances>.validation.json.",
    )  # fmt: skip
    _instance_options(validate, timeout=1800.0)
    validate.add_argument("--repeat", type=_positive, default=1, help="runs of each patch (default 1)")
    validate.add_argument("--validation-out", type=Path, help="default: next to --instances, .validation.json")
    validate.add_argument("--quiet", action="store_true", help="no progress bar")
    validate.set_defaults(handler=_validate_command)
    report = commands.add_parser(
        "report", help="cost vs solve rate from result files: table, summary.md, cost_vs_solve.png, index.html",
        description="Merge one or more result files into a report folder: summary.md (tables, verdicts), "
        "cost_vs_solve.png (cost per solved task, log x, vs solve rate with 95% intervals, Pareto front) and "
        "index.html (self-contained: table, plot, every response with its files, checks and executor reason).",
    )  # fmt: skip
    report.add_argument("results", type=Path, nargs="+", help="results JSON files")
    report.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report/)")
    report.set_defaults(handler=_report_command)
    rescore = commands.add_parser(
        "rescore", help="re-execute every stored response; exit 1 listing the rows whose score changed",
        description="Re-score a results file with the current scorers. The same responses must give the same scores. "
        "By default each run is re-run as it was recorded: its sandbox (auto), --timeout, image and dataset; the "
        "SWE-bench options below apply to SWE-bench runs, --sandbox and --timeout to both tiers.",
    )  # fmt: skip
    rescore.add_argument("results", type=Path, help="a results JSON written by demo, compare or swebench")
    rescore.add_argument("--tasks-file", type=Path, help="the tasks file of a run with your own tasks (default: as recorded)")
    rescore.add_argument("--workers", type=_positive, default=max(1, (os.cpu_count() or 2)), help="rows at once")
    rescore.add_argument("--quiet", action="store_true", help="no progress bar")
    _instance_options(rescore, timeout=None, recorded=True)
    rescore.set_defaults(handler=_rescore_command)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bench-by-execution")
    except PackageNotFoundError:
        return "unknown"


def _check_combinations(args: argparse.Namespace) -> None:
    """Options that mean nothing without another, or given empty: run anyway, they would be silently ignored."""
    if getattr(args, "image", None) and args.sandbox != "docker":
        raise UserError("--image applies to --sandbox docker only")
    if getattr(args, "ray_address", None) and args.executor != "ray":
        raise UserError("--ray-address applies to --executor ray only")
    for option in ("model", "tasks", "instance_ids"):
        value = getattr(args, option, None)
        if value is not None and not value.replace(",", "").strip():
            flag = "--" + option.replace("_", "-")
            raise UserError(f"{flag} is empty" + ("" if option == "model" else f": name some, or leave {flag} out for all"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _check_combinations(args)
        return args.handler(args)
    except BrokenPipeError:  # `... | head` stopped reading: what it read is all it wanted; the results file is written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error as Python flushes at exit
        return 141  # as a shell reports a command ended by SIGPIPE
    except KeyboardInterrupt as exc:
        print("\ninterrupted: finished rows are in the journal; run again with --resume", file=sys.stderr)
        from .run.runner import Abandoned

        if isinstance(exc, Abandoned):
            _abandon(exc)
        return 130
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"error: {args.command} needs the {exc.name!r} package, from the [{extra}] extra: "
              f"pip install 'bench-by-execution[{extra}]' (in a checkout: pip install -e '.[{extra}]')", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - user mistakes become one line; bugs keep their traceback
        if _is_user_error(exc):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


def _abandon(exc) -> None:
    """Leave now, without waiting for the rows in flight: remove this process's containers (local sandboxes die with
    it) and exit at once, since the interpreter would otherwise wait for their threads."""
    print(f"abandoned {exc.rows} row(s) in flight", file=sys.stderr)
    if "swebench_exec.sandbox.docker" in sys.modules:
        from .sandbox.docker import remove_own_containers

        remove_own_containers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def _is_user_error(exc: Exception) -> bool:
    from .models.endpoints import ConfigError
    from .run.store import OutputError
    from .tasks import TaskError

    user_errors: tuple[type[Exception], ...] = (UserError, ConfigError, OutputError, TaskError)
    if "swebench_exec.swebench.dataset" in sys.modules:
        from .swebench.dataset import DatasetError
        from .swebench.environment import EnvError
        from .swebench.repos import RepoError
        from .swebench.spec import SpecError

        user_errors += (DatasetError, RepoError, SpecError, EnvError)
    return isinstance(exc, user_errors)


def _swebench_command(args: argparse.Namespace) -> int:
    from .run.swebench_tier import run_swebench

    return run_swebench(args)


def _report_command(args: argparse.Namespace) -> int:
    from .report.build import run_report

    return run_report(args.results, args.out)


def _rescore_command(args: argparse.Namespace) -> int:
    from .run.rescore import rescore

    return rescore(args.results, args)


def _validate_command(args: argparse.Namespace) -> int:
    from .run.swebench_tier import run_validate

    return run_validate(args)


def _public_command(args: argparse.Namespace) -> int:
    from .run.public import run_public

    return run_public(args)


if __name__ == "__main__":
    sys.exit(main())
