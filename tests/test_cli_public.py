"""The public tier end to end through the CLI: gold offline, a scripted real HTTP server, and the one-line errors."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docker_support import docker_base_image  # noqa: F401 - fixture used by name
from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.contract import load_contract
from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.tasks import PUBLIC_TASKS

TASKS = {t["id"]: t for t in PUBLIC_TASKS}


def task_for_prompt(request_json: dict) -> tuple[dict, bool]:
    prompt = request_json["messages"][-1]["content"]
    harnessed = prompt.startswith(load_contract().text.rstrip())
    task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
    return task, harnessed


def stray_python_replies(request_json: dict) -> Reply:
    """Harnessed replies put the language on its own line inside the block (the seed's 'pre-heal' bug)."""
    task, harnessed = task_for_prompt(request_json)
    if harnessed:
        text = harnessed_reply(task["reference"], task["run"]).replace("```python\n", "```\npython\n")
    else:
        text = bare_reply(task["reference"], task["run"])
    return chat_reply(text)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_gold_demo_is_format_only(tmp_path, capsys):
    out = tmp_path / "x.json"
    code, stdout, _ = run_cli(capsys, "demo", "--model", "gold", "--out", str(out), "--quiet")
    assert code == 0
    result = load(out)
    gold = result["summary"]["models"]["gold"]
    assert gold["verdict"] == "FORMAT_ONLY"
    assert gold["delta_exec"]["mean"] == 0
    assert gold["arms"]["harnessed"]["format"]["mean"] > gold["arms"]["bare"]["format"]["mean"]
    assert {(r["task_id"], r["arm"]): r["executor"]["score"] for r in result["rows"]} == {
        (t, arm): 3 for t in TASKS for arm in ("harnessed", "bare")
    }
    assert "FORMAT_ONLY" in stdout


def test_results_are_schema_versioned_and_every_row_auditable(tmp_path, capsys):
    out = tmp_path / "x.json"
    run_cli(capsys, "demo", "--model", "gold", "--out", str(out), "--quiet", "--tasks", "csv_totals")
    result = load(out)
    assert result["schema_version"] == 1
    contract = load_contract()
    assert result["config"]["contract"] == {"version": contract.version, "sha256": contract.sha256}
    assert result["config"]["sandbox"]["provider"] == "local"
    row = next(r for r in result["rows"] if r["arm"] == "bare")
    assert row["response"]["text"].startswith("Here is a solution.")
    assert row["executor"]["extraction"]["method"] == "named_block"  # gold names the file before its block
    assert row["executor"]["reason"] == "all 3 cases pass"
    assert [c["name"] for c in row["format"]["checks"]][:2] == ["file_blocks_present", "expected_files_present"]
    settings, *lines = out.with_name(out.name + ".journal.jsonl").read_text().splitlines()
    assert json.loads(settings)["run_config"]["temperature"] == result["config"]["temperature"]
    journaled = [json.loads(line) for line in lines]  # each answer as it came, then its scored row
    assert [(r["arm"], r["executor"]["status"]) for r in journaled if r["arm"] == "bare"] == [
        ("bare", "pending"), ("bare", "pass")]
    assert len(journaled) == 4 and journaled[-1] in result["rows"]


def test_stray_language_line_makes_the_harness_regress(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=stray_python_replies) as server:
        code, stdout, _ = run_cli(capsys, "demo", "--model", "scripted-model", "--base-url", server.url,
                                  "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    summary = load(out)["summary"]["models"]["scripted-model"]
    assert summary["verdict"] == "HARNESS_REGRESSES"
    assert summary["delta_exec"]["mean"] < 0
    assert summary["delta_exec"]["ci95"][1] < 0
    harnessed = [r for r in load(out)["rows"] if r["arm"] == "harnessed"]
    assert all(r["executor"]["score"] == 0 and "NameError" in r["executor"]["reason"] for r in harnessed)
    assert all(not c["passed"] for r in harnessed for c in r["format"]["checks"] if c["name"] == "info_string_clean")


def test_every_request_sends_max_tokens_and_temperature(tmp_path, capsys):
    with ScriptedServer(reply_for=stray_python_replies) as server:
        run_cli(capsys, "demo", "--model", "scripted-model", "--base-url", server.url, "--tasks", "grid_path",
                "--max-tokens", "321", "--temperature", "0.5", "--samples", "2", "--out", str(tmp_path / "x.json"),
                "--quiet")  # fmt: skip
        bodies = [r.json for r in server.chat_requests()]
    assert len(bodies) == 4  # 1 task x 2 arms x 2 samples
    assert {b["max_tokens"] for b in bodies} == {321}
    assert {b["temperature"] for b in bodies} == {0.5}


def test_out_of_credits_stops_one_model_and_the_run_goes_on(tmp_path, capsys):
    def replies(request_json):
        if request_json["model"] == "broke-model":
            return Reply(status=402, body={"error": {"message": "Insufficient credits", "code": 402}})
        return stray_python_replies(request_json)

    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=replies) as server:
        code, _, stderr = run_cli(capsys, "compare", "--models", "broke-model,scripted-model", "--base-url",
                                  server.url, "--out", str(out), "--quiet", "--concurrency", "1")  # fmt: skip
        broke_calls = [r for r in server.chat_requests() if r.json["model"] == "broke-model"]
    assert code == 3
    assert len(broke_calls) == 1  # never retried, never called again
    assert "broke-model was stopped: insufficient_credits" in stderr
    summary = load(out)["summary"]["models"]
    assert summary["scripted-model"]["verdict"] == "HARNESS_REGRESSES"
    assert summary["broke-model"]["stopped"].startswith("insufficient_credits")
    assert summary["broke-model"]["arms"]["harnessed"]["scored"] == 0


def test_api_key_never_reaches_results_or_output(tmp_path, capsys, monkeypatch):
    secret = "sk-test-DO-NOT-LEAK-7d1f3c"
    monkeypatch.setenv("MY_BENCH_KEY", secret)
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=stray_python_replies) as server:
        _, stdout, stderr = run_cli(capsys, "demo", "--model", "scripted-model", "--base-url", server.url,
                                    "--api-key-env", "MY_BENCH_KEY", "--tasks", "lru_replay", "--out", str(out))  # fmt: skip
        sent = {v for r in server.chat_requests() for k, v in r.headers.items() if k.lower() == "authorization"}
    assert sent == {f"Bearer {secret}"}  # the key was used...
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path  # ...and written nowhere
    assert secret not in stdout + stderr


def test_tasks_file_runs_a_users_own_task(tmp_path, capsys):
    tasks_file = tmp_path / "my_tasks.py"
    tasks_file.write_text(
        '''
from swebench_exec.sandbox.base import run_program

def prepare(tmp_dir):
    (tmp_dir / "n.txt").write_text("1 2 3")

def invoke(tmp_dir, script_path):
    return run_program(["python", script_path.name], cwd=tmp_dir)

def check(proc, tmp_dir):
    got = proc.stdout.split()
    wanted = ["6", "3", "1"]
    score = sum(1 for g, w in zip(got, wanted) if g == w)
    return score, "all 3 cases pass" if score == 3 else f"expected {wanted}, got {got}"

SOLUTION = "def main():\\n    n = [int(x) for x in open('n.txt').read().split()]\\n    print(sum(n)); print(max(n)); print(min(n))\\n\\nmain()\\n"

TASKS = [{
    "id": "sum_max_min", "category": "arithmetic", "prompt": "Write stats.py printing sum, max, min of n.txt.",
    "expected_files": ["stats.py"], "entry_point": "main",
    "harness": {"prepare": prepare, "invoke": invoke, "check": check},
    "reference": {"stats.py": SOLUTION},
}]
'''
    )
    out = tmp_path / "x.json"
    code, stdout, _ = run_cli(capsys, "demo", "--model", "gold", "--tasks-file", str(tasks_file), "--out", str(out),
                              "--quiet")  # fmt: skip
    assert code == 0
    rows = load(out)["rows"]
    assert {(r["task_id"], r["arm"], r["executor"]["score"]) for r in rows} == {
        ("sum_max_min", "harnessed", 3), ("sum_max_min", "bare", 3)
    }


def test_resume_reruns_only_missing_and_infrastructure_rows(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=stray_python_replies) as server:
        run_cli(capsys, "demo", "--model", "scripted-model", "--base-url", server.url, "--tasks",
                "csv_totals,log_levels", "--out", str(out), "--quiet")  # fmt: skip
        journal = out.with_name(out.name + ".journal.jsonl")
        settings, *lines = journal.read_text().splitlines(keepends=True)
        assert "run_config" in json.loads(settings)
        rows = [json.loads(line) for line in lines]
        rows[0]["outcome"] = "rate_limited"  # as if the provider had failed on this one
        journal.write_text(settings + "".join(json.dumps(r) + "\n" for r in rows[:3]) + '{"truncated line')
        before = len(server.chat_requests())
        run_cli(capsys, "demo", "--model", "scripted-model", "--base-url", server.url, "--tasks",
                "csv_totals,log_levels", "--out", str(out), "--quiet", "--resume")  # fmt: skip
        assert len(server.chat_requests()) - before == 2  # the rate-limited row and the lost fourth one
    final = load(out)["rows"]
    assert len(final) == 4
    assert len({(r["task_id"], r["arm"], r["sample"]) for r in final}) == 4
    assert all(r["outcome"] == "ok" for r in final)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["demo", "--model", "anthropic/claude-haiku-4.5"], {}, "no API key"),
        (["demo", "--model", "gold", "--tasks", "nope"], {}, "nope"),
        (["demo", "--model", "x", "--base-url", "htp:/nowhere"], {}, "htp:/nowhere"),
        (["demo", "--model", "gold", "--out", "/proc/forbidden/x.json"], {}, "cannot write --out"),
        (["demo", "--model", "gold", "--tasks-file", "/nonexistent/tasks.py"], {}, "/nonexistent/tasks.py"),
        (["demo", "--model", "m", "--base-url", "http://[::1/v1"], {}, "invalid base URL"),
        (["demo", "--model", ""], {}, "--model is empty"),
        (["demo", "--model", "gold", "--resume"], {}, "--resume needs the --out"),
        (["demo", "--model", "gold", "--tasks", " , "], {}, "--tasks is empty"),
        (["demo", "--model", "gold", "--image", "x:y"], {}, "--image applies to --sandbox docker only"),
        (["demo", "--model", "gold", "--ray-address", "auto"], {}, "--ray-address applies to --executor ray only"),
        (["demo", "--model", "gold", "--price", "gpt=1,2"], {}, "--price names gpt, not a model of this run"),
        (["demo", "--model", "replay:"], {}, "replay: needs a results file"),
        (["demo", "--model", "replay:."], {}, "is a directory"),
        (["demo", "--model", "replay:nothing.json"], {}, "no results file at nothing.json"),
        (["demo", "--model", "gold", "--out", "notes.md"], {}, "exists and is not a results file"),
        (["demo", "--model", "gold", "--out", "notes.md", "--resume"], {}, "exists and is not a results file"),
        (["demo", "--model", "gold", "--out", "notes.md", "--overwrite"], {}, "exists and is not a results file"),
        (["demo", "--model", "gold", "--out", "notes.md/x.json"], {}, "notes.md is a file, not a folder"),
        (["demo", "--model", "gold", "--out", "/dev/null", "--overwrite"], {}, "is not a regular file"),
        (["rescore", "."], {}, "is a directory"),
        (["rescore", "notes.md"], {}, "is not a results JSON"),
    ],
)
def test_user_mistakes_are_one_line_errors(args, env, message, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.md").write_text("# my notes\n")
    code, _, stderr = run_cli(capsys, *args)
    assert code == 2
    assert stderr.startswith("error: ") and message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr
    assert (tmp_path / "notes.md").read_text() == "# my notes\n"
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "nan"], "'nan' is not a finite number"),
        (["--temperature", "-1"], "must be 0 or more"),
        (["--max-cost", "0"], "must be more than 0 USD"),
        (["--retries", "-1"], "must be 0 or more"),
        (["--samples", "abc"], "'abc' is not a whole number"),
        (["--timeout", "inf"], "'inf' is not a finite number"),
        (["--resume", "--overwrite", "--out", "x.json"], "not allowed with argument"),
    ],
)
def test_bad_option_values_are_refused_before_anything_runs(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--model", "gold", *args])
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in stderr and "Traceback" not in stderr
    assert stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1
    assert "(see bench-by-execution demo --help)" in stderr
    assert not list(tmp_path.iterdir())


def test_unreachable_server_is_a_one_line_error(capsys, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    code, _, stderr = run_cli(capsys, "demo", "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1",
                              "--out", str(tmp_path / "x.json"))  # fmt: skip
    assert code == 2
    assert stderr.startswith("error: ") and f"127.0.0.1:{port}" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_console_script_help_teaches(tmp_path):
    result = subprocess.run(["bench-by-execution", "demo", "--help"], capture_output=True, text=True, check=True)
    for option in ("--model", "--base-url", "--tasks-file", "--samples", "--concurrency", "--out", "--resume"):
        assert option in result.stdout


@pytest.mark.docker
def test_gold_demo_in_the_docker_sandbox(tmp_path, capsys, docker_base_image):
    out = tmp_path / "x.json"
    code, _, _ = run_cli(capsys, "demo", "--model", "gold", "--sandbox", "docker", "--image", docker_base_image,
                         "--tasks", "csv_totals,async_jobs", "--out", str(out), "--quiet")  # fmt: skip
    assert code == 0
    result = load(out)
    assert result["config"]["sandbox"]["provider"] == "docker"
    assert all(r["executor"]["score"] == 3 for r in result["rows"])
    code, stdout, stderr = run_cli(capsys, "rescore", str(out), "--quiet")  # in the sandbox it was recorded in
    assert code == 0 and "rescore: docker sandbox" in stderr and "4/4 rows match" in stdout


def test_an_earlier_run_is_never_overwritten_without_saying_so(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert run_cli(capsys, "demo", "--model", "gold", "--tasks", "grid_path", "--out", str(out), "--quiet")[0] == 0
    before = out.read_text()
    code, _, stderr = run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out))
    assert code == 2 and "--resume" in stderr and "--overwrite" in stderr
    assert out.read_text() == before
    assert run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--overwrite",
                   "--quiet")[0] == 0  # fmt: skip
    assert {r["task_id"] for r in load(out)["rows"]} == {"csv_totals"}


def test_resume_keeps_only_rows_of_the_current_run(tmp_path, capsys):
    out = tmp_path / "x.json"
    run_cli(capsys, "demo", "--model", "gold", "--tasks", "grid_path,csv_totals", "--out", str(out), "--quiet")
    run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--resume", "--quiet")
    result = load(out)
    assert {r["task_id"] for r in result["rows"]} == {"csv_totals"} == set(result["config"]["tasks"])


def test_resume_says_what_it_reused_and_what_it_left_out(tmp_path, capsys):
    out = tmp_path / "x.json"
    run_cli(capsys, "demo", "--model", "gold", "--tasks", "grid_path,csv_totals", "--out", str(out))
    _, _, stderr = run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--resume")
    assert "0 row(s) run" in stderr and "2 reused from the journal" in stderr
    assert "2 journaled row(s) of other models, tasks or samples stay in the journal and are left out" in stderr


MY_TASK = """
from swebench_exec.sandbox.base import run_program

def invoke(tmp_dir, script_path):
    return {runner}(["python", script_path.name], cwd=tmp_dir{extra})

def check(proc, tmp_dir):
    return (3, "ok") if proc.stdout.strip() == "6" else (0, f"got {{proc.stdout!r}}")

TASKS = [{{"id": "six", "prompt": {prompt!r}, "expected_files": ["six.py"],
          "harness": {{"prepare": lambda tmp_dir: None, "invoke": invoke, "check": check}},
          "reference": {{"six.py": "print(6)\\n"}}}}]
"""


def _my_tasks(tmp_path: Path, prompt: str = "Write six.py printing 6.", runner: str = "run_program") -> Path:
    path = tmp_path / "my_tasks.py"
    raw = runner.startswith("subprocess")
    extra = ", capture_output=True, text=True" if raw else ""
    path.write_text(("import subprocess\n" if raw else "") + MY_TASK.format(runner=runner, prompt=prompt, extra=extra))
    return path


def test_resume_asks_again_what_answered_an_edited_prompt(tmp_path, capsys):
    out, tasks = tmp_path / "x.json", _my_tasks(tmp_path)
    with ScriptedServer(default=chat_reply("FILE: six.py\n```python\nprint(6)\n```\nRUN: python six.py\n")) as server:
        command = ["demo", "--model", "m", "--base-url", server.url, "--tasks-file", str(tasks), "--out", str(out)]
        assert run_cli(capsys, *command)[0] == 0
        first = {r["arm"]: r["prompt_sha256"] for r in load(out)["rows"]}
        _my_tasks(tmp_path, prompt="Write six.py printing the number 6.")
        calls = len(server.chat_requests())
        code, _, stderr = run_cli(capsys, *command, "--resume")
        assert code == 0 and len(server.chat_requests()) - calls == 2
    assert "2 journaled row(s) answered another prompt than this run sends" in stderr
    again = {r["arm"]: r["prompt_sha256"] for r in load(out)["rows"]}
    assert all(again[arm] != first[arm] for arm in first)


def test_answers_journaled_before_their_score_are_scored_on_resume_never_bought_again(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=stray_python_replies) as server:
        command = ["demo", "--model", "m", "--base-url", server.url, "--tasks", "csv_totals,grid_path", "--out", str(out)]
        assert run_cli(capsys, *command, "--quiet")[0] == 0
        expected = load(out)["rows"]
        journal = out.with_name(out.name + ".journal.jsonl")
        lines = journal.read_text().splitlines(keepends=True)
        # as if killed while the last two answers were being scored: their scored rows never made it
        scored = [i for i, line in enumerate(lines) if '"status": "pending"' not in line and "run_config" not in line]
        journal.write_text("".join(line for i, line in enumerate(lines) if i not in scored[-2:]))
        out.unlink()
        calls = len(server.chat_requests())
        code, _, stderr = run_cli(capsys, *command, "--resume")
        assert code == 0 and len(server.chat_requests()) == calls
    assert "2 journaled row(s) were answered but not scored" in stderr and "2 reused" in stderr
    view = lambda rows: [(r["task_id"], r["arm"], r["prompt_sha256"], r["response"], r["format"]["score"],  # noqa: E731
                          r["executor"]["score"], r["executor"]["reason"]) for r in rows]  # fmt: skip
    assert view(load(out)["rows"]) == view(expected)


def _slow(body: dict) -> Reply:
    reply = stray_python_replies(body)
    reply.delay_s = 0.3
    return reply


def test_a_second_run_on_a_results_file_in_use_is_refused(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=_slow) as server:
        command = ["demo", "--model", "m", "--base-url", server.url, "--concurrency", "1", "--out", str(out), "--quiet"]
        first = subprocess.Popen([sys.executable, "-m", "swebench_exec.cli", *command], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not server.chat_requests() and time.monotonic() < deadline:
                time.sleep(0.02)
            code, _, stderr = run_cli(capsys, *command, "--resume")
            assert code == 2 and f"another run (pid {first.pid}) is writing {out} right now" in stderr
        finally:
            first.wait(timeout=60)
    assert first.returncode == 0 and len(load(out)["rows"]) == 10


def test_runs_started_together_without_out_get_files_of_their_own(tmp_path):
    with ScriptedServer(reply_for=stray_python_replies) as server:
        command = [sys.executable, "-m", "swebench_exec.cli", "demo", "--base-url", server.url, "--tasks", "csv_totals",
                   "--quiet", "--model"]  # fmt: skip
        runs = [subprocess.Popen([*command, f"m{i}"], cwd=tmp_path, stdout=subprocess.PIPE, text=True) for i in range(3)]
        printed = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0]
    files = sorted((tmp_path / "bench-results").glob("demo-*.json"))
    assert len(files) == 3 and all(f"results: bench-results/{f.name}" in "".join(printed) for f in files)
    assert sorted(load(f)["config"]["models"][0] for f in files) == ["m0", "m1", "m2"]


def test_resume_with_other_settings_is_refused(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--quiet")[0] == 0
    before = out.read_text()
    code, _, stderr = run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out),
                              "--resume", "--temperature", "0.7", "--timeout", "3")  # fmt: skip
    assert code == 2 and "--resume with other settings than the journaled run" in stderr
    assert "temperature 0.0 -> 0.7" in stderr and "timeout_s 10.0 -> 3.0" in stderr
    assert out.read_text() == before


def test_resume_of_a_results_file_whose_journal_is_gone_keeps_its_rows(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=stray_python_replies) as server:
        command = ["demo", "--model", "m", "--base-url", server.url, "--tasks", "csv_totals", "--out", str(out)]
        assert run_cli(capsys, *command)[0] == 0
        rows = load(out)["rows"]
        out.with_name(out.name + ".journal.jsonl").unlink()
        calls = len(server.chat_requests())
        code, _, stderr = run_cli(capsys, *command, "--resume")
        assert code == 0 and len(server.chat_requests()) == calls  # nothing paid for twice
    assert "is gone; resuming from the rows in" in stderr
    assert load(out)["rows"] == rows


def test_a_task_that_runs_its_program_outside_the_sandbox_is_called_out(tmp_path, capsys):
    tasks = _my_tasks(tmp_path, runner="subprocess.run")
    code, _, stderr = run_cli(capsys, "demo", "--model", "gold", "--tasks-file", str(tasks), "--out",
                              str(tmp_path / "x.json"), "--quiet")  # fmt: skip
    assert code == 0
    assert "warning: 2 row(s) ran their program outside the sandbox" in stderr
    assert all(r["executor"]["process"]["isolation"] == {"sandboxed": False} for r in load(tmp_path / "x.json")["rows"])


def test_rescore_names_tasks_the_tasks_file_lacks(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--quiet")[0] == 0
    code, _, stderr = run_cli(capsys, "rescore", str(out), "--tasks-file", str(_my_tasks(tmp_path)))
    assert code == 2 and "task(s) csv_totals of this run are not in tasks file" in stderr


def test_a_check_that_returns_an_impossible_score_is_a_harness_error_not_a_score(tmp_path, capsys):
    from swebench_exec.scoring import executor_score

    task = dict(PUBLIC_TASKS[0])
    task["harness"] = {**task["harness"], "check": lambda proc, tmp: (7, "too high")}
    result = executor_score(bare_reply(task["reference"], task["run"]), task=task)
    assert result.score is None and result.status == "harness_error" and "7" in result.reason


def test_a_run_no_row_of_which_scored_says_the_first_reason(tmp_path, capsys):
    tasks = _my_tasks(tmp_path)
    tasks.write_text(tasks.read_text().replace('(3, "ok")', '(5, "too many")'))
    code, _, stderr = run_cli(capsys, "demo", "--model", "gold", "--tasks-file", str(tasks),
                              "--out", str(tmp_path / "x.json"), "--quiet")  # fmt: skip
    assert code == 3
    assert "no row of gold could be scored" in stderr and "the first: six: task check() returned score 5" in stderr


def test_rescore_given_a_journal_names_its_results_file(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert run_cli(capsys, "demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--quiet")[0] == 0
    code, _, stderr = run_cli(capsys, "rescore", str(out) + ".journal.jsonl")
    assert code == 2 and stderr.strip() == f"error: {out}.journal.jsonl is a run's journal: give its results file, {out}"


def test_rescore_takes_the_runs_instances_not_a_selection(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["rescore", str(tmp_path / "r.json"), "--instances", "ids.txt"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: unrecognized arguments: --instances ids.txt")


def test_rescore_in_docker_without_the_docker_package_names_the_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "docker", None)  # as if not installed
    results = Path(__file__).resolve().parents[1] / "results" / "demo-gold.json"
    code, stdout, stderr = run_cli(capsys, "rescore", str(results), "--sandbox", "docker", "--quiet")
    assert code == 2 and "rows match" not in stdout  # not exit 1, "scores moved": nothing was rescored
    assert stderr.startswith("error: rescore needs the 'docker' package, from the [docker] extra")


def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path):
    """`... | head -1`: the summary meets a closed pipe; the run's results are written and no traceback is shown."""
    out = tmp_path / "x.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "wb") as stdout:
        done = subprocess.run([sys.executable, "-m", "swebench_exec.cli", "demo", "--model", "gold", "--tasks",
                               "csv_totals", "--out", str(out), "--quiet"], stdout=stdout, stderr=subprocess.PIPE,
                              text=True, timeout=120)  # fmt: skip
    assert done.returncode == 141 and "Traceback" not in done.stderr, done.stderr
    assert len(load(out)["rows"]) == 2


def test_gold_refuses_tasks_without_a_reference(tmp_path, capsys):
    from swebench_exec.models.endpoints import ConfigError
    from swebench_exec.models.gold import GoldModel

    with pytest.raises(ConfigError, match="no_ref"):
        GoldModel.for_tasks([{**PUBLIC_TASKS[0], "id": "no_ref", "reference": None}])


def test_unspecified_address_counts_as_this_host():
    from swebench_exec.models.endpoints import is_loopback

    assert is_loopback("http://0.0.0.0:8080/v1") and is_loopback("http://[::1]:8080/v1")
    assert not is_loopback("http://192.0.2.10:8080/v1")
