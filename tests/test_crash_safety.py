"""Crash safety: a replayed run in a child process is SIGKILLed (its whole process group) at a random point, then
`--resume`d; the final results must equal an uninterrupted run's, row for row, and nothing finished may be redone.

The replayed responses are a mix (reference answers, slow but right programs, a wrong program, a crash, a cut reply,
an empty answer and an infrastructure failure), so the equality covers every kind of row, and the slow programs keep
sandboxed processes in flight when the kill lands (any that outlive it are listed per iteration, then reaped:
see test_a_sandbox_started_just_before_the_kill_does_not_outlive_it). Printed: "kill-resume iterations equal: N/20".
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.contract import load_contract
from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.models.outcomes import INFRA_OUTCOMES
from swebench_exec.run.store import journal_path, read_journal
from swebench_exec.tasks import PUBLIC_TASKS

ITERATIONS = 20
SEED = 20240917
SLOW = "\n\nimport time\ntime.sleep(0.25)  # right, but slow: keeps a sandboxed process in flight\n"
WRONG = ("Here you go:\n\n```python\nimport json, sys\n\n\ndef main():\n    for path in sys.argv[1:]:\n"
         "        with open(path + '.json', 'w') as fh:\n            json.dump({}, fh)\n\n\nmain()\n```\n")


def _reference(task: dict, arm: str, extra: str = "") -> str:
    files = {path: text + extra for path, text in task["reference"].items()}
    return (harnessed_reply if arm == "harnessed" else bare_reply)(files, task["run"])


def _source_reply(request_json: dict) -> Reply:
    """What the recorded model answered, per task and arm: one row of each kind."""
    prompt = request_json["messages"][-1]["content"]
    task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
    arm = "harnessed" if prompt.startswith(load_contract().text.rstrip()) else "bare"
    script = task["expected_files"][0]
    plan = {
        ("csv_totals", "harnessed"): lambda: chat_reply(_reference(task, arm)),
        ("csv_totals", "bare"): lambda: chat_reply(_reference(task, arm, SLOW)),
        ("log_levels", "harnessed"): lambda: chat_reply(_reference(task, arm, SLOW)),
        ("log_levels", "bare"): lambda: chat_reply(WRONG),
        ("grid_path", "harnessed"): lambda: chat_reply(_reference(task, arm)[:200], finish_reason="length"),
        ("grid_path", "bare"): lambda: chat_reply(_reference(task, arm, SLOW)),
        ("async_jobs", "harnessed"): lambda: chat_reply(f"FILE: {script}\n```python\nraise SystemExit(1)\n```\n"),
        ("async_jobs", "bare"): lambda: chat_reply(""),
        ("lru_replay", "harnessed"): lambda: Reply(status=400, body={"error": {"message": "prompt rejected"}}),
        ("lru_replay", "bare"): lambda: chat_reply(_reference(task, arm, SLOW)),
    }
    return plan[(task["id"], arm)]()


def _row_view(row: dict) -> tuple:
    """What must be equal between runs: everything but timings, latency and the sandbox's own records."""
    fmt, ex = row.get("format") or {}, row.get("executor") or {}
    return (row["outcome"], row["prompt_sha256"], (row.get("response") or {}).get("text"),
            fmt.get("score"), ex.get("score"), ex.get("status"), ex.get("reason"))  # fmt: skip


def _rows(out: Path) -> dict:
    document = json.loads(out.read_text())
    keys = [(r["model"], r["task_id"], r["arm"], r["sample"]) for r in document["rows"]]
    assert len(keys) == len(set(keys)), "a row appears twice"
    return {key: _row_view(r) for key, r in zip(keys, document["rows"])}


def _command(source: Path, out: Path, *extra: str) -> list[str]:
    return ["demo", "--model", f"replay:{source}", "--out", str(out), "--concurrency", "3", "--workers", "2",
            "--quiet", *extra]  # fmt: skip


def _key(row: dict) -> tuple:
    return (row["model"], row["task_id"], row["arm"], row["sample"])


def _finished(journaled: list[dict]) -> set[tuple]:
    """Keys whose last journaled row is final: not an infrastructure failure, not an answer still to be scored."""
    latest = {_key(r): r for r in journaled}
    return {key for key, r in latest.items()
            if r["outcome"] not in INFRA_OUTCOMES and (r.get("executor") or {}).get("status") != "pending"}  # fmt: skip


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (by parent pid), whatever session it started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:300]
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reap(pids: set[int], grace_s: float = 5.0) -> list[str]:
    """Processes of `pids` still running after the kill (they are ours: the killed run started them); they are given
    `grace_s` to end on their own (the programs here are short), then killed."""
    time.sleep(0.2)
    orphans = [f"{pid} {_cmdline(pid)[:80]}" for pid in pids if _alive(pid)]
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return orphans


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A results file recorded from the scripted server: the responses every replay serves."""
    path = tmp_path_factory.mktemp("crash") / "source.json"
    with ScriptedServer(reply_for=_source_reply) as server:
        main(["demo", "--model", "recorded", "--base-url", server.url, "--out", str(path), "--quiet"])
    rows = json.loads(path.read_text())["rows"]
    assert len(rows) == 10 and {r["outcome"] for r in rows} >= {"ok", "truncated", "empty_answer", "provider_error"}
    return path


@pytest.fixture(scope="module")
def uninterrupted(source, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("whole") / "whole.json"
    done = subprocess.run([sys.executable, "-m", "swebench_exec.cli", *_command(source, out)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    rows = _rows(out)
    statuses = {view[5] for view in rows.values()}
    assert {"pass", "wrong_output", "crashed", "no_code", None} <= statuses
    return rows


def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(source, uninterrupted, tmp_path, capsys):
    rng = random.Random(SEED)
    # journal rows to wait for before the kill: 0 = at a random moment of the start-up, at the latest when the
    # journal is opened (its first row takes tens of ms more: a fixed sleep outran it on a fast machine), 10 = every
    # row journaled (the results file may or may not be written), else mid-way
    plan = [0, 0, 10, 10] + [rng.randint(1, 9) for _ in range(ITERATIONS - 4)]
    rng.shuffle(plan)
    equal, log, started = 0, [], time.monotonic()
    for i, wait_rows in enumerate(plan):
        out = tmp_path / f"run{i}" / "r.json"
        out.parent.mkdir()
        journal = journal_path(out)
        env = {**os.environ, "TMPDIR": str(out.parent)}  # the sandboxes' temp dirs, to count what a kill leaves
        child = subprocess.Popen([sys.executable, "-m", "swebench_exec.cli", *_command(source, out)], env=env,
                                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 30
        if wait_rows == 0:
            start_up = time.monotonic() + rng.uniform(0.0, 0.4)
            while time.monotonic() < start_up and not journal.exists():
                time.sleep(0.001)
        else:
            while time.monotonic() < deadline and child.poll() is None:
                if len(_finished(read_journal(journal))) >= wait_rows:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
        below = _descendants(child.pid)
        finished_first = child.poll() is not None
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
        survived = read_journal(journal)
        finished = _finished(survived)
        orphans = _reap(below)  # see test_a_sandbox_started_just_before_the_kill_does_not_outlive_it

        assert main(_command(source, out, "--resume")) == 0
        rows = _rows(out)
        again = {_key(r) for r in read_journal(journal)[len(survived):]} & finished
        assert not again, f"iteration {i}: finished rows were run again: {again}"
        same = rows == uninterrupted
        equal += same
        diff = {k: (rows.get(k), uninterrupted.get(k)) for k in set(rows) | set(uninterrupted)
                if rows.get(k) != uninterrupted.get(k)}  # fmt: skip
        temp_left = len(list(out.parent.glob("bbe-task-*")))
        log.append(f"{i:2d} kill after {len(finished):2d}/10 finished rows"
                   f"{' (had finished)' if finished_first else ''}: {'equal' if same else 'DIFFERENT'}; "
                   f"{len(orphans)} sandbox(es) ran on after the kill, {temp_left} sandbox temp dir(s) left")  # fmt: skip
        if not same:
            log.append(f"   differs: {diff}")
    with capsys.disabled():
        print(f"\nkill-resume iterations equal: {equal}/{ITERATIONS} ({time.monotonic() - started:.0f}s)")
    print("\n".join(log))
    assert equal == ITERATIONS, "\n".join(log)
    journaled = [int(line.split("after")[1].split("/")[0]) for line in log if "kill after" in line]
    assert min(journaled) == 0 and max(journaled) >= 9, f"the kills did not cover the run: {journaled}"


def test_a_line_torn_by_the_crash_does_not_swallow_the_next_row(source, uninterrupted, tmp_path):
    """A kill during the write of a (multi-KB) row leaves a torn last line: the resumed run must start its first row on
    a line of its own, or that row is glued to the torn one, unreadable, and paid for again after the next crash."""
    out = tmp_path / "r.json"
    assert main(_command(source, out)) == 0
    journal = journal_path(out)
    lines = journal.read_text().splitlines(keepends=True)  # the run's settings, then a row a line
    journal.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])  # killed while writing the 5th row
    out.unlink()
    assert main(_command(source, out, "--resume")) == 0
    assert _rows(out) == uninterrupted  # the results file is right ...
    keys = {(r["model"], r["task_id"], r["arm"], r["sample"]) for r in read_journal(journal)}
    assert len(keys) == 10, f"... but the journal holds {len(keys)} of the 10 rows"


def test_replay_of_several_samples_survives_a_resume(tmp_path):
    answers = iter(range(1000))

    def alternate(request_json: dict) -> Reply:  # sample 0 right, sample 1 wrong, per task and arm, in call order
        n = next(answers)
        prompt = request_json["messages"][-1]["content"]
        task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
        arm = "harnessed" if prompt.startswith(load_contract().text.rstrip()) else "bare"
        return chat_reply(_reference(task, arm) if n % 4 < 2 else "```python\nprint('wrong')\n```")

    source = tmp_path / "source.json"
    with ScriptedServer(reply_for=alternate) as server:
        assert main(["demo", "--model", "recorded", "--base-url", server.url, "--tasks", "csv_totals", "--samples",
                     "2", "--concurrency", "1", "--out", str(source), "--quiet"]) == 0  # fmt: skip
    recorded = {(r["arm"], r["sample"]): r["executor"]["score"] for r in json.loads(source.read_text())["rows"]}
    assert recorded == {("harnessed", 0): 3, ("bare", 0): 3, ("harnessed", 1): 0, ("bare", 1): 0}
    out = tmp_path / "replayed.json"
    command = ["demo", "--model", f"replay:{source}", "--tasks", "csv_totals", "--samples", "2", "--concurrency", "1",
               "--out", str(out), "--quiet"]  # fmt: skip
    assert main(command) == 0
    journal = journal_path(out)
    lines = journal.read_text().splitlines(keepends=True)  # the run's settings, then a row a line
    journal.write_text("".join(lines[:3]))  # killed after the sample-0 rows
    out.unlink()
    assert main([*command, "--resume"]) == 0
    replayed = {(r["arm"], r["sample"]): r["executor"]["score"] for r in json.loads(out.read_text())["rows"]}
    assert replayed == recorded


SANDBOXED_SLEEPER = r"""
import sys
import tempfile
from pathlib import Path
from swebench_exec.sandbox.base import Limits
from swebench_exec.sandbox.local import LocalSandbox, detect_isolation

print(detect_isolation(), flush=True)
LocalSandbox(Limits(timeout_s=30)).run(["python", "-c", "import time; time.sleep(25)  # " + sys.argv[1]],
                                       cwd=Path(tempfile.mkdtemp(prefix="bbe-race-")))
"""


def _marked(first_arg: bytes, mark: str) -> set[int]:
    """Live processes whose command line starts with `first_arg` and ends with SANDBOXED_SLEEPER's program and its
    `mark` (they may have been reparented to init)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(first_arg + b"\0") and command.endswith(f"sleep(25)  # {mark}\0".encode()) \
                    and _alive(int(entry.name)):
                found.add(int(entry.name))
    return found


def test_a_sandbox_started_just_before_the_kill_does_not_outlive_the_next_run_start(tmp_path):
    """The harness is SIGKILLed in the milliseconds while bwrap sets the sandbox up, 25 times. A bwrap caught in its
    own set-up (its child waits for a parent that died) or an init that had not armed its watch yet may remain; the
    next run's start must remove them, the model's program with them."""
    import shutil

    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap not installed: the race is in its set-up")
    rng = random.Random(SEED)
    mark = f"MARK-{os.getpid()}-{rng.random()}"  # this test's own: tests running beside it have other marks
    leftovers, killed_by_sweep, ran_on = [], 0, 0
    for attempt in range(25):
        child = subprocess.Popen([sys.executable, "-c", SANDBOXED_SLEEPER, mark], stdout=subprocess.PIPE, text=True,
                                 start_new_session=True, env={**os.environ, "TMPDIR": str(tmp_path)})  # fmt: skip
        if child.stdout.readline().strip() != "bwrap":
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            pytest.skip("bubblewrap is not the active layer here")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _marked(b"bwrap", mark):
            pass  # a busy loop: the window is a few milliseconds after bwrap starts
        time.sleep(rng.uniform(0.0, 0.002))  # the sandbox is starting: kill the run now
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        time.sleep(0.3)
        ran_on += bool(_marked(sys.executable.encode(), mark))
        sweep = subprocess.run([sys.executable, "-c", "from swebench_exec.sandbox.local import sweep_orphans; "
                                "print(sweep_orphans())"], capture_output=True, text=True, check=True)  # fmt: skip
        killed_by_sweep += int(sweep.stdout)
        time.sleep(0.1)
        left = _marked(b"bwrap", mark) | _marked(sys.executable.encode(), mark)
        leftovers += [f"attempt {attempt}: {orphan}" for orphan in _reap(left, grace_s=0.3)]
    print(f"kills during set-up: 25; sandboxes left behind and removed by the next run's sweep: {killed_by_sweep} "
          f"(the program had started in {ran_on})")
    assert not leftovers, f"a sandbox outlived the killed run and the next run's start: {leftovers}"


def test_a_sandbox_that_fails_to_start_is_not_a_model_crash(tmp_path):
    import shutil

    from swebench_exec.sandbox.local import LocalSandbox, detect_isolation
    from swebench_exec.scoring import executor_score

    if not shutil.which("bwrap") or detect_isolation() != "bwrap":
        pytest.skip("bubblewrap is not the active layer here")
    task = next(t for t in PUBLIC_TASKS if t["id"] == "csv_totals")
    # a deterministic way to make bwrap fail while setting up: a bind source that is not there
    sandbox = LocalSandbox(read_only=[tmp_path / "vanished-mount"])
    result = executor_score(_reference(task, "harnessed"), task=task, sandbox=sandbox)
    assert "bwrap: " in result.reason  # the program never ran: bubblewrap failed ...
    assert (result.status, result.score) == ("sandbox_error", None), (result.status, result.score, result.reason)


SLOW_TASK = """
from swebench_exec.sandbox.base import run_program

def invoke(tmp_dir, script_path):
    return run_program(["python", script_path.name], cwd=tmp_dir)

def check(proc, tmp_dir):
    return (3, "ok") if proc.stdout.strip() == "done" else (0, repr(proc.stdout))

TASKS = [{"id": f"slow{i}", "prompt": f"Task {i}: write slow.py", "expected_files": ["slow.py"],
          "harness": {"prepare": lambda tmp_dir: None, "invoke": invoke, "check": check}} for i in range(6)]
"""
INTERRUPTIBLE = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # even as a background job
                 "from swebench_exec.cli import main\nsys.exit(main(sys.argv[1:]))")  # fmt: skip


def test_ctrl_c_journals_the_rows_in_flight_and_starts_no_more(tmp_path):
    """Ctrl-C while two sandboxed programs run: they finish and are journaled (their answers were paid for), nothing
    else starts, the exit is prompt (130), and the resume buys no journaled answer again."""
    tasks = tmp_path / "slow_tasks.py"
    tasks.write_text(SLOW_TASK)
    out = tmp_path / "r.json"
    reply = chat_reply("FILE: slow.py\n```python\nimport time\ntime.sleep(2)\nprint('done')\n```\n")
    with ScriptedServer(default=reply) as server:
        command = ["demo", "--model", "m", "--base-url", server.url, "--tasks-file", str(tasks), "--concurrency", "2",
                   "--workers", "2", "--out", str(out), "--quiet"]  # fmt: skip
        child = subprocess.Popen([sys.executable, "-c", INTERRUPTIBLE, *command], stderr=subprocess.PIPE, text=True)
        journal = journal_path(out)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(r["executor"]["status"] == "pending" for r in read_journal(journal)) < 2:
            time.sleep(0.02)
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
        took = time.monotonic() - interrupted
        assert child.returncode == 130, stderr
        assert "finishing the 2 row(s) in flight" in stderr and took < 10, (took, stderr)
        rows = read_journal(journal)
        scored = [r for r in rows if r["executor"]["status"] == "pass"]
        assert len(scored) == 2 and len(server.chat_requests()) == 2  # the two in flight, and nothing after them
        calls = len(server.chat_requests())
        assert main([*command, "--resume"]) == 0
        assert len(server.chat_requests()) - calls == 12 - 2
    assert all(r["executor"]["score"] == 3 for r in json.loads(out.read_text())["rows"])


def test_work_dirs_of_a_killed_harness_are_swept_by_the_next(tmp_path, monkeypatch):
    from swebench_exec.scoring.executor import sweep_abandoned_workdirs

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = tmp_path / "bbe-task-999999999-abcd"  # no such pid: its harness is gone
    (dead / "deep").mkdir(parents=True)
    (dead / "deep" / "out.json").write_text("{}")
    alive = tmp_path / f"bbe-task-{os.getpid()}-efgh"
    alive.mkdir()
    other = tmp_path / "bbe-task-notapid"
    other.mkdir()
    assert sweep_abandoned_workdirs.__wrapped__() == 1
    assert not dead.exists() and alive.is_dir() and other.is_dir()
