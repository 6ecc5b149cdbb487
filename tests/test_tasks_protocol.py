"""The task protocol: validating task dicts, loading users' task files, selecting tasks by id."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from swebench_exec.tasks import PUBLIC_TASKS, TaskError, load_tasks_file, select_tasks, validate_task
from swebench_exec.tasks.protocol import load_reference


def good_task(**overrides) -> dict:
    task = {
        "id": "echo",
        "prompt": "Write echo.py.",
        "expected_files": ["echo.py"],
        "harness": {"prepare": lambda d: None, "invoke": lambda d, s: None, "check": lambda p, d: (3, "ok")},
    }
    task.update(overrides)
    return task


def write(tmp_path: Path, source: str, name: str = "my_tasks.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


USER_TASK_MODULE = textwrap.dedent("""
    from pathlib import Path
    from swebench_exec.sandbox.base import run_program

    def prepare(tmp_dir):
        (Path(tmp_dir) / "in.txt").write_text("hello")

    def invoke(tmp_dir, script_path):
        return run_program(["python", Path(script_path).name, "in.txt"], cwd=tmp_dir)

    def check(proc, tmp_dir):
        ok = proc.stdout.strip() == "HELLO"
        return (3 if ok else 0), ("all 3 cases pass" if ok else f"expected HELLO, got {proc.stdout!r}")

    def task(task_id):
        return {"id": task_id, "prompt": "Write upper.py: print the input file upper-cased.",
                "expected_files": ["upper.py"], "entry_point": "main",
                "harness": {"prepare": prepare, "invoke": invoke, "check": check}}
""")


# --------------------------------------------------------------------------------------------- validate_task


def test_public_tasks_validate():
    for task in PUBLIC_TASKS:
        validate_task(task)


def test_a_minimal_task_validates():
    validate_task(good_task())
    validate_task(good_task(expected_files=["pkg/main.py", "README.md"], category="x", entry_point="main",
                            reference={"pkg/main.py": "print(1)"}))  # fmt: skip


@pytest.mark.parametrize(
    "task, message",
    [
        (["not", "a", "dict"], "task is a list, expected a dict with keys id, prompt, expected_files, harness"),
        ({k: v for k, v in good_task().items() if k != "harness"}, "task 'echo': missing key 'harness'"),
        ({"id": "x"}, "task 'x': missing keys 'prompt', 'expected_files', 'harness'"),
        (good_task(id=""), "task: 'id' must be a non-empty string"),
        (good_task(id="has space"), "task 'has space': 'id' must be a non-empty string"),
        (good_task(prompt="  "), "task 'echo': 'prompt' must be a non-empty string"),
        (good_task(expected_files=[]), "task 'echo': 'expected_files' must be a non-empty list of relative paths"),
        (good_task(expected_files="echo.py"), "'expected_files' must be a non-empty list"),
        (good_task(expected_files=["/etc/passwd"]), "task 'echo': expected file '/etc/passwd' must be a relative path"),
        (good_task(expected_files=["../up.py"]), "expected file '../up.py' must stay inside the task directory"),
        (good_task(expected_files=["a.py", "a.py"]), "expected file 'a.py' is listed twice"),
        (good_task(expected_files=[3]), "'expected_files' entries must be non-empty strings (got 3)"),
        (good_task(harness=None), "task 'echo': 'harness' must be a dict with callables prepare, invoke, check"),
        (good_task(harness={"prepare": print, "invoke": print}), "task 'echo': harness['check'] is missing"),
        (good_task(harness={"prepare": print, "invoke": "run it", "check": print}),
         "task 'echo': harness['invoke'] is not callable (got str)"),
        (good_task(entry_point="not valid"), "task 'echo': 'entry_point' must be a Python identifier"),
        (good_task(reference={"other.py": "x"}), "task 'echo': 'reference' has files not in expected_files: other.py"),
        (good_task(reference={"echo.py": 1}), "'reference' must map file paths to file contents"),
    ],
)
def test_validate_task_names_the_task_and_the_problem_in_one_line(task, message):
    with pytest.raises(TaskError) as caught:
        validate_task(task)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(caught.value, ValueError)


def test_validate_task_names_a_nameless_task_by_position():
    with pytest.raises(TaskError, match=r"^task #4 is a str"):
        validate_task("oops", position=4)
    with pytest.raises(TaskError, match=r"^task #2: 'id' must be"):
        validate_task(good_task(id=None), position=2)


# --------------------------------------------------------------------------------------------- load_tasks_file


def test_load_tasks_file_returns_validated_tasks_that_run(tmp_path):
    path = write(tmp_path, USER_TASK_MODULE + "\nTASKS = [task('upper'), task('upper2')]\n")
    tasks = load_tasks_file(path)
    assert [t["id"] for t in tasks] == ["upper", "upper2"]
    work = tmp_path / "work"
    work.mkdir()
    harness = tasks[0]["harness"]
    harness["prepare"](work)
    (work / "upper.py").write_text("import sys\ndef main():\n    print(open(sys.argv[1]).read().upper())\nmain()\n")
    proc = harness["invoke"](work, work / "upper.py")
    assert harness["check"](proc, work) == (3, "all 3 cases pass")


def test_load_tasks_file_accepts_public_tasks_name_and_str_paths(tmp_path):
    path = write(tmp_path, USER_TASK_MODULE + "\nPUBLIC_TASKS = (task('a'),)\n")
    assert [t["id"] for t in load_tasks_file(str(path))] == ["a"]


def test_load_tasks_file_lets_the_module_import_its_own_helpers(tmp_path):
    write(tmp_path, USER_TASK_MODULE, name="helpers_for_tasks.py")
    path = write(tmp_path, "from helpers_for_tasks import task\nTASKS = [task('helped')]\n")
    assert load_tasks_file(path)[0]["id"] == "helped"


def test_load_tasks_file_missing_file(tmp_path):
    with pytest.raises(TaskError, match=r"^tasks file not found: .*nope\.py$"):
        load_tasks_file(tmp_path / "nope.py")
    with pytest.raises(TaskError, match="is a directory"):
        load_tasks_file(tmp_path)


def test_load_tasks_file_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "TASKS = []\n\ndef broken(:\n    pass\n")
    with pytest.raises(TaskError) as caught:
        load_tasks_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: syntax error:")
    assert "\n" not in message


def test_load_tasks_file_error_while_importing_names_file_and_line(tmp_path):
    path = write(tmp_path, "import os\n\nTASKS = [1 / 0]\n")
    with pytest.raises(TaskError, match=r":3: importing the tasks file raised ZeroDivisionError: division by zero$"):
        load_tasks_file(path)
    path = write(tmp_path, "import no_such_module_for_tasks\n", name="other.py")
    with pytest.raises(TaskError, match=r"other\.py:1: .*ModuleNotFoundError"):
        load_tasks_file(path)


def test_load_tasks_file_without_a_task_list_names_the_accepted_names(tmp_path):
    path = write(tmp_path, "tasks = []\n")
    with pytest.raises(TaskError, match=r"exports no task list: define TASKS or PUBLIC_TASKS"):
        load_tasks_file(path)
    path = write(tmp_path, "TASKS = {'id': 'x'}\n", name="dict_tasks.py")
    with pytest.raises(TaskError, match=r"TASKS must be a list of task dicts \(got dict\)"):
        load_tasks_file(path)
    path = write(tmp_path, "TASKS = []\n", name="empty_tasks.py")
    with pytest.raises(TaskError, match=r"TASKS is empty"):
        load_tasks_file(path)


def test_load_tasks_file_rejects_duplicate_ids(tmp_path):
    path = write(tmp_path, USER_TASK_MODULE + "\nTASKS = [task('a'), task('b'), task('a')]\n")
    with pytest.raises(TaskError, match=r"duplicate task id 'a' \(tasks #1 and #3\)"):
        load_tasks_file(path)


def test_load_tasks_file_reports_an_invalid_task_with_the_file(tmp_path):
    path = write(tmp_path, USER_TASK_MODULE + "\nbad = task('b')\nbad['harness'].pop('check')\nTASKS = [task('a'), bad]\n")
    with pytest.raises(TaskError) as caught:
        load_tasks_file(path)
    assert str(caught.value) == f"{path}: task 'b': harness['check'] is missing (needs prepare, invoke, check)"


# --------------------------------------------------------------------------------------------- select_tasks


def test_select_tasks_keeps_the_requested_order_and_all_by_default():
    assert select_tasks(PUBLIC_TASKS, []) == PUBLIC_TASKS
    assert select_tasks(PUBLIC_TASKS, None) == PUBLIC_TASKS
    picked = select_tasks(PUBLIC_TASKS, ["lru_replay", "csv_totals"])
    assert [t["id"] for t in picked] == ["lru_replay", "csv_totals"]
    assert [t["id"] for t in select_tasks(PUBLIC_TASKS, ["grid_path, async_jobs", "grid_path"])] == [
        "grid_path",
        "async_jobs",
    ]


def test_select_tasks_names_unknown_ids_and_lists_known_ones():
    with pytest.raises(TaskError) as caught:
        select_tasks(PUBLIC_TASKS, ["csv_totals", "nope", "zip"])
    assert str(caught.value) == (
        "unknown task ids nope, zip (known: csv_totals, log_levels, grid_path, async_jobs, lru_replay)"
    )


# --------------------------------------------------------------------------------------------- references


def test_references_load_from_package_files():
    assert load_reference("grid_path", ["grid_path.py"])["grid_path.py"].startswith('"""Shortest path')
    with pytest.raises(FileNotFoundError):
        load_reference("grid_path", ["missing.py"])
