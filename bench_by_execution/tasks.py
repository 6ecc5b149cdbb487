"""`from bench_by_execution.tasks import PUBLIC_TASKS`, as documented by the seed."""
from swebench_exec.tasks import PUBLIC_TASKS, load_tasks_file, select_tasks, validate_task  # noqa: F401
