"""Command line: `bench-by-execution demo|compare ...`. Heavy modules are imported inside commands (fast --help)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EPILOG = """examples:
  bench-by-execution demo --model gold                     # offline: the whole pipeline on the public tasks
  export OPENROUTER_API_KEY=...
  bench-by-execution demo --model anthropic/claude-haiku-4.5 --out my_bench.json
  bench-by-execution compare --models anthropic/claude-opus-4.7,openai/gpt-4.1-mini
  bench-by-execution demo --model qwen3-coder:30b --base-url http://localhost:11434/v1   # no key on localhost
"""


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2, no traceback."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model endpoint")
    group.add_argument("--base-url", help="any OpenAI-compatible endpoint (default: OpenRouter); "
                       "e.g. http://localhost:11434/v1 for Ollama, :8000/v1 vLLM, :1234/v1 LM Studio, :8080/v1 llama.cpp")  # fmt: skip
    group.add_argument("--api-key-env", metavar="VAR",
                       help="environment variable holding the key (default: OPENROUTER_API_KEY; none needed on localhost)")  # fmt: skip
    group.add_argument("--max-tokens", type=_positive, default=4096, help="sent with every call (default 4096)")
    group.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")


def _run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("what to run")
    group.add_argument("--tasks", help="comma-separated task ids (default: all)")
    group.add_argument("--tasks-file", type=Path, help="a Python file exporting TASKS, a list of task dicts (see README)")
    group.add_argument("--samples", type=_positive, default=1, help="samples per task and arm; gives pass@k (default 1)")
    group.add_argument("--concurrency", type=_positive, default=4, help="model calls in flight (default 4)")
    group.add_argument("--workers", type=_positive, default=max(1, (os.cpu_count() or 2)),
                       help="sandboxed executions at once (default: CPU count)")  # fmt: skip
    group.add_argument("--timeout", type=float, default=10.0, help="seconds each program may run (default 10)")
    group.add_argument("--out", type=Path, help="results JSON (default: bench-results/<command>-<time>.json); "
                       "rows are journaled to OUT.journal.jsonl as they finish")  # fmt: skip
    group.add_argument("--resume", action="store_true", help="continue the run journaled next to --out")
    group.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    demo.add_argument("--model", required=True, help="an OpenRouter id, a local server's model name, or 'gold'")
    compare = commands.add_parser("compare", help="several models side by side on the public tasks",
                                  description="Run several models on the public tasks, both arms, one summary.")  # fmt: skip
    compare.add_argument("--models", required=True, help="comma-separated model ids ('gold' included)")
    for sub in (demo, compare):
        _model_options(sub)
        _run_options(sub)
        sub.set_defaults(handler=_public_command)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bench-by-execution")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\ninterrupted: finished rows are in the journal; run again with --resume", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - user mistakes become one line; bugs keep their traceback
        if _is_user_error(exc):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


def _is_user_error(exc: Exception) -> bool:
    from .models.endpoints import ConfigError
    from .run.store import OutputError
    from .tasks import TaskError

    return isinstance(exc, (UserError, ConfigError, OutputError, TaskError))


def _public_command(args: argparse.Namespace) -> int:
    from .run.public import run_public

    return run_public(args)


if __name__ == "__main__":
    sys.exit(main())
