"""The seed's documented import name: `from bench_by_execution import HarnessedClient, executor_score, format_score`."""
from swebench_exec import __all__, __getattr__  # noqa: F401
