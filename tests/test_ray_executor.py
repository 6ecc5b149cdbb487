"""`--executor ray`: the same responses score the same on a local Ray instance as on the local executor, and Ray's
own failures become infrastructure errors.

The Ray tests start one local Ray instance (2 CPUs) for the module through `RayExecutor(None, 2)`. They are skipped,
with the reason printed, only where `ray` cannot be imported; with BENCH_REQUIRE_RAY=1 in the environment that is a
failure instead, so CI cannot go green by skipping.
"""
from __future__ import annotations

import os
import sys
import textwrap
import time

import pytest

from conftest import unavailable

from swebench_exec.models.base import Response
from swebench_exec.models.endpoints import ConfigError
from swebench_exec.models.gold import GoldModel, bare_reply, harnessed_reply
from swebench_exec.run import ray_executor
from swebench_exec.run.executors import LocalExecutor, make_executor
from swebench_exec.run.runner import RunSpec, run, score_response
from swebench_exec.sandbox.base import Limits, SandboxError
from swebench_exec.sandbox.local import LocalSandbox
from swebench_exec.scoring.executor import INFRA_STATUSES
from swebench_exec.tasks import PUBLIC_TASKS, load_tasks_file

REQUIRE_ENV = "BENCH_REQUIRE_RAY"
TIMING_KEYS = {"timings", "duration_s", "latency_s"}


def _require_ray():
    try:
        import ray
    except ImportError as exc:
        unavailable("ray", f"ray cannot be imported ({exc}): {ray_executor.INSTALL_HINT}", REQUIRE_ENV)
    return ray


@pytest.fixture(scope="module")
def ray_exec():
    ray = _require_ray()
    if ray.is_initialized():
        ray.shutdown()
    executor = make_executor("ray", workers=2)
    assert executor.name == "ray" and executor._started
    yield executor
    executor.close()
    assert not ray.is_initialized(), "close() must shut down the local instance it started"


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


class FlawedModel:
    """Gold when harnessed; bare replies that crash, do not parse, print the wrong thing, or hang past the timeout."""

    name = "flawed"
    BARE = {
        "csv_totals": "raise SystemExit('boom')\n",
        "log_levels": "def main(:\n",
        "grid_path": "print('nothing useful')\n",
        "async_jobs": "import time\ntime.sleep(30)\n",
    }

    def __init__(self, tasks):
        self._tasks = {t["prompt"]: t for t in tasks}

    def answer(self, prompt, harnessed, sample=0):
        task = self._tasks[prompt]
        if harnessed:
            text = harnessed_reply(task["reference"], task["run"])
        elif task["id"] in self.BARE:
            text = bare_reply({task["expected_files"][0]: self.BARE[task["id"]]}, task["run"])
        else:
            text = bare_reply(task["reference"], task["run"])
        return Response(text=text, outcome="ok", cost_usd=0.0, cost_source="local")


def run_public(executor, timeout_s=3.0):
    models = {"gold": GoldModel.for_tasks(PUBLIC_TASKS), "flawed": FlawedModel(PUBLIC_TASKS)}
    sandbox = LocalSandbox(Limits(timeout_s=timeout_s))
    spec = RunSpec(models=models, tasks=list(PUBLIC_TASKS), concurrency=4, workers=2, sandbox=sandbox,
                   executor=executor)  # fmt: skip
    rows, state = run(spec)
    assert not state.stopped
    return rows


# ------------------------------------------------------------------------------------------ without Ray running


def test_missing_ray_is_one_line_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ConfigError) as caught:
        make_executor("ray", workers=2)
    assert "pip install 'bench-by-execution[ray]'" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1"])
def test_unreachable_address_fails_fast_in_one_line(address):
    if address.startswith("ray://"):
        pytest.importorskip("grpc", reason="ray:// addresses need ray[client]")
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"^--ray-address .*: no Ray cluster answers there") as caught:
        ray_executor._check_reachable(address)
    assert time.monotonic() - started < 10
    assert "\n" not in str(caught.value)


def test_malformed_address_is_a_config_error():
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        ray_executor._check_reachable("no-port-here")


# ----------------------------------------------------------------------------------------- on a local Ray instance


def test_public_tier_rows_identical_to_the_local_executor(ray_exec):
    on_ray = run_public(ray_exec)
    local = run_public(LocalExecutor(2))
    assert len(on_ray) == len(local) == 2 * 2 * len(PUBLIC_TASKS)
    assert [without_timings(r) for r in on_ray] == [without_timings(r) for r in local]
    by_key = {(r["model"], r["task_id"], r["arm"]): r for r in on_ray}
    assert all(by_key[("gold", t["id"], arm)]["executor"]["score"] == 3 for t in PUBLIC_TASKS for arm in ("bare", "harnessed"))
    statuses = {by_key[("flawed", t, "bare")]["executor"]["status"] for t in FlawedModel.BARE}
    assert statuses == {"crashed", "syntax_error", "wrong_output", "timeout"}  # the comparison covers failures too
    assert by_key[("gold", "csv_totals", "bare")]["executor"]["process"]["isolation"] == LocalSandbox().isolation()


def test_tasks_from_a_users_file_run_on_ray(ray_exec, tmp_path):
    """A --tasks-file module exists only in this process: its harness functions are shipped by value."""
    path = tmp_path / "my_tasks.py"
    path.write_text(textwrap.dedent("""
        from pathlib import Path
        from swebench_exec.sandbox.base import run_program

        def prepare(tmp_dir):
            (Path(tmp_dir) / "in.txt").write_text("hello")

        def invoke(tmp_dir, script_path):
            return run_program(["python", Path(script_path).name, "in.txt"], cwd=tmp_dir)

        def check(proc, tmp_dir):
            ok = proc.stdout.strip() == "HELLO"
            return (3 if ok else 0), ("all 3 cases pass" if ok else f"expected HELLO, got {proc.stdout.strip()!r}")

        TASKS = [{"id": "upper", "prompt": "Write upper.py.", "expected_files": ["upper.py"],
                  "harness": {"prepare": prepare, "invoke": invoke, "check": check}}]
    """))
    (task,) = load_tasks_file(path)
    good = "```python\nimport sys\nprint(open(sys.argv[1]).read().upper())\n```\n"
    bad = "```python\nimport sys\nprint(open(sys.argv[1]).read())\n```\n"
    sandbox = LocalSandbox()
    for text in (good, bad):
        remote = ray_exec.run(score_response, task, text, "ok", sandbox)
        assert without_timings(remote) == without_timings(score_response(task, text, "ok", sandbox))
    assert remote["executor"]["reason"] == "expected HELLO, got 'hello'"


def sandbox_settings(sandbox):
    return sandbox.isolation(), sandbox.image, sandbox.limits, sandbox._client is None and sandbox._client_lock.acquire(False)


def test_a_docker_sandbox_travels_by_its_settings(ray_exec):
    """DockerSandbox holds a lock and a client, which do not pickle; its settings do (no daemon needed here)."""
    from swebench_exec.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(image="bench-test:none", limits=Limits(timeout_s=7), cpus=0.5)
    isolation, image, limits, fresh = ray_exec.run(sandbox_settings, sandbox)
    assert (isolation, image, limits) == (sandbox.isolation(), "bench-test:none", Limits(timeout_s=7))
    assert isolation["cpus"] == 0.5
    assert fresh  # a new lock (free) and no client yet on the worker


def boom(message):
    raise ValueError(message)


def die(code):
    os._exit(code)


def test_this_modules_functions_are_shipped_by_value(ray_exec):
    """pytest put tests/ on this process's path only: the workers could not import this module by name."""
    assert ray_executor._only_here(sys.modules[__name__])
    assert not ray_executor._only_here(os) and not ray_executor._only_here(pytest)
    assert not ray_executor._only_here(ray_executor)
    assert ray_exec.run(boom.__name__.upper) == "BOOM"  # a builtin method: by reference
    assert ray_exec.run(die_if_odd, 2) == 2


def die_if_odd(n):
    if n % 2:
        os._exit(1)
    return n


def test_the_functions_own_exception_comes_back_as_itself(ray_exec):
    with pytest.raises(ValueError, match="^from the worker$"):
        ray_exec.run(boom, "from the worker")


def test_a_dead_worker_is_a_sandbox_error_and_the_executor_carries_on(ray_exec):
    with pytest.raises(SandboxError, match=r"Ray lost this execution \(WorkerCrashedError\)"):
        ray_exec.run(die, 3)
    assert ray_exec.run(len, "still here") == 10


def dying_scorer(task, text, outcome):
    if task["id"] == "grid_path":
        os._exit(1)
    return score_response(task, text, outcome, None)


def test_a_dead_worker_is_an_infrastructure_row_not_a_crash_of_the_run(ray_exec):
    gold = GoldModel.for_tasks(PUBLIC_TASKS)
    tasks = [t for t in PUBLIC_TASKS if t["id"] in ("grid_path", "csv_totals")]
    spec = RunSpec(models={"gold": gold}, tasks=tasks, arms=("harnessed",), scorer=dying_scorer, executor=ray_exec)
    rows, _ = run(spec)
    by_task = {r["task_id"]: r for r in rows}
    assert by_task["csv_totals"]["executor"]["score"] == 3
    lost = by_task["grid_path"]["executor"]
    assert lost["score"] is None and lost["status"] in INFRA_STATUSES  # never counted against the model
    assert "Ray lost this execution (WorkerCrashedError)" in lost["reason"]


def test_code_the_workers_lack_is_a_sandbox_error(ray_exec, monkeypatch):
    """A function from an installed module the nodes do not have: the worker cannot unpickle the task."""
    import sysconfig
    import types

    phantom = types.ModuleType("bench_phantom_module")
    phantom.__file__ = os.path.join(sysconfig.get_paths()["purelib"], "bench_phantom_module.py")
    exec("def score(task, text, outcome):\n    return 1\n", phantom.__dict__)
    monkeypatch.setitem(sys.modules, phantom.__name__, phantom)
    with pytest.raises(SandboxError, match="Ray could not run this execution: .*bench_phantom_module"):
        ray_exec.run(phantom.score, {}, "", "ok")


def test_close_leaves_a_connection_it_did_not_make(ray_exec):
    import ray

    borrowed = ray_executor.RayExecutor(workers=1)
    assert not borrowed._started
    borrowed.close()
    assert ray.is_initialized()
    assert ray_exec.run(len, "ok") == 2
