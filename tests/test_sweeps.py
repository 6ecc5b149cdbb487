"""Sweeps: prices from a models file, --price, --max-cost, replay, rescore, and a run killed with SIGKILL then resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.contract import load_contract
from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.run.store import read_journal
from swebench_exec.tasks import PUBLIC_TASKS

SEED_SIX = Path(__file__).resolve().parents[1] / "harness" / "models" / "seed-six.toml"
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}


def reference_replies(request_json: dict, delay_s: float = 0.0) -> Reply:
    prompt = request_json["messages"][-1]["content"]
    task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
    harnessed = prompt.startswith(load_contract().text.rstrip())
    text = (harnessed_reply if harnessed else bare_reply)(task["reference"], task["run"])
    reply = chat_reply(text, usage=dict(USAGE))
    reply.delay_s = delay_s
    return reply


def load(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize(("entry", "message"), [
    ('inptu = 1.0\noutput = 2.0', "m has unknown key(s) inptu (known: label, input, output, blended)"),
    ('input = "cheap"\noutput = 2.0', "m input = 'cheap' is not a price"),
    ('blended = -1', "m blended = -1 is not a price"),
    ('input = 1.0', "m needs both `input` and `output` prices"),
])
def test_a_models_file_mistake_names_the_model_and_key(tmp_path, capsys, entry, message):
    models = tmp_path / "models.toml"
    models.write_text(f'[models."m"]\n{entry}\n')
    code = main(["compare", "--models-file", str(models), "--base-url", "http://127.0.0.1:9/v1", "--quiet",
                 "--out", str(tmp_path / "x.json")])  # fmt: skip
    stderr = capsys.readouterr().err
    assert code == 2 and stderr.startswith("error: models.toml: ") and message in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1


def test_models_file_prices_every_row(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=reference_replies) as server:
        code = main(["compare", "--models-file", str(SEED_SIX), "--base-url", server.url, "--tasks", "grid_path",
                     "--price", "openai/gpt-5.5=10,30", "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    result = load(out)
    models = result["summary"]["models"]
    assert len(models) == 6
    by_model = {r["model"]: r["response"] for r in result["rows"] if r["arm"] == "harnessed"}
    opus = by_model["anthropic/claude-opus-4.7"]
    assert opus["cost_source"] == "price_table" and opus["price"]["source"] == "seed-six.toml"
    assert opus["cost_usd"] == pytest.approx(1500 * 45 / 1e6)
    assert by_model["openai/gpt-5.5"]["cost_usd"] == pytest.approx((1000 * 10 + 500 * 30) / 1e6)
    assert models["anthropic/claude-opus-4.7"]["arms"]["harnessed"]["cost_usd"] == pytest.approx(1500 * 45 / 1e6)
    assert models["anthropic/claude-opus-4.7"]["verdict"] == "INSUFFICIENT_DATA"  # one task: no verdict


def test_max_cost_stops_new_calls(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(reply_for=reference_replies) as server:
        main(["demo", "--model", "m", "--base-url", server.url, "--price", "m=1000", "--max-cost", "0.5",
              "--concurrency", "1", "--out", str(out), "--quiet"])  # fmt: skip
        calls = len(server.chat_requests())
    document = load(out)
    rows = document["rows"]
    assert calls == 1  # the first call costs $1.50, over the budget: nothing else starts
    assert sum(r["outcome"] == "not_called" for r in rows) == 9
    assert all("--max-cost $0.5 reached" in r["error"] for r in rows if r["outcome"] == "not_called")
    assert document["config"]["budget"] == {"max_cost_usd": 0.5, "spent_usd": 1.5, "reached": True,
                                            "unknown_cost_calls": 0}  # fmt: skip
    assert document["summary"]["models"]["m"]["not_called"] == 9
    captured = capsys.readouterr()
    assert "1 infra failure(s)" not in captured.out and "9 not called, not scored" in captured.out
    assert "--max-cost $0.5 reached ($1.5000 spent, calls in flight included): 9 row(s) not called" in captured.err


def _gold_run(tmp_path: Path, *tasks: str) -> Path:
    out = tmp_path / "gold.json"
    assert main(["demo", "--model", "gold", "--tasks", ",".join(tasks), "--out", str(out), "--quiet"]) == 0
    return out


def test_a_prompt_the_replay_file_never_answered_is_not_recorded_never_a_model_failure(tmp_path, capsys):
    source = _gold_run(tmp_path, "csv_totals")
    out = tmp_path / "replayed.json"
    capsys.readouterr()
    assert main(["demo", "--model", f"replay:{source}", "--tasks", "csv_totals,grid_path", "--samples", "2",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert "holds no reply for 6 of the row(s) to run: they are recorded not_recorded" in capsys.readouterr().err
    rows = load(out)["rows"]
    missing = [r for r in rows if r["outcome"] == "not_recorded"]
    assert len(missing) == 6 and all(r["executor"] is None and r["format"] is None for r in missing)
    info = load(out)["summary"]["models"][f"replay:{source}"]
    assert info["arms"]["harnessed"]["scored"] == 1 and info["arms"]["harnessed"]["exec"]["mean"] == 3.0
    assert info["infra_failures"] == 6


def test_a_replay_does_not_replay_infrastructure_failures(tmp_path, capsys):
    source = _gold_run(tmp_path, "csv_totals")
    document = load(source)
    harnessed = next(r for r in document["rows"] if r["arm"] == "harnessed")
    harnessed["outcome"] = harnessed["response"]["outcome"] = "rate_limited"  # the recorded run was rate limited here
    source.write_text(json.dumps(document))
    out = tmp_path / "replayed.json"
    assert main(["demo", "--model", f"replay:{source}", "--tasks", "csv_totals", "--out", str(out), "--quiet"]) == 0
    outcomes = {r["arm"]: r["outcome"] for r in load(out)["rows"]}
    assert outcomes == {"harnessed": "not_recorded", "bare": "ok"}


def test_a_replay_file_that_answers_nothing_of_the_run_is_refused(tmp_path, capsys):
    source = _gold_run(tmp_path, "csv_totals")
    out = tmp_path / "replayed.json"
    assert main(["demo", "--model", f"replay:{source}", "--tasks", "grid_path", "--out", str(out), "--quiet"]) == 2
    assert "holds no reply to any of the 2 prompt(s) of this run" in capsys.readouterr().err
    assert not out.exists()


def test_replay_reproduces_a_run_and_rescore_agrees(tmp_path, capsys):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with ScriptedServer(reply_for=reference_replies) as server:
        main(["demo", "--model", "m", "--base-url", server.url, "--out", str(first), "--quiet"])
    assert main(["demo", "--model", f"replay:{first}", "--out", str(second), "--quiet"]) == 0
    scores = lambda path: {(r["task_id"], r["arm"]): (r["format"]["score"], r["executor"]["score"])  # noqa: E731
                           for r in load(path)["rows"]}  # fmt: skip
    assert scores(first) == scores(second)
    assert main(["rescore", str(second), "--quiet"]) == 0
    assert "10/10 rows match" in capsys.readouterr().out


def test_rescore_reruns_as_recorded_unless_told_otherwise(tmp_path, capsys):
    out = _gold_run(tmp_path, "csv_totals")
    capsys.readouterr()
    assert main(["rescore", str(out), "--quiet"]) == 0
    assert "rescore: local sandbox, 10 s a program" in capsys.readouterr().err
    assert main(["rescore", str(out), "--quiet", "--timeout", "0.01"]) == 1  # too short for any program: scores move
    assert "(timeout)" in capsys.readouterr().out


def test_rescore_lists_a_row_whose_stored_score_is_wrong(tmp_path, capsys):
    out = tmp_path / "x.json"
    main(["demo", "--model", "gold", "--tasks", "csv_totals", "--out", str(out), "--quiet"])
    document = load(out)
    document["rows"][0]["executor"]["score"] = 1  # as if an older scorer had been more lenient or harsher
    out.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["rescore", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "gold csv_totals" in printed and "stored format" in printed and "1/3" in printed and "3/3" in printed


def test_sigkill_then_resume_loses_and_duplicates_nothing(tmp_path):
    """A real run in a child process is killed with SIGKILL mid-way; --resume finishes it."""
    out = tmp_path / "x.json"
    journal = out.with_name(out.name + ".journal.jsonl")
    with ScriptedServer(reply_for=lambda body: reference_replies(body, delay_s=0.25)) as server:
        command = [sys.executable, "-m", "swebench_exec.cli", "demo", "--model", "m", "--base-url", server.url,
                   "--concurrency", "1", "--out", str(out), "--quiet"]  # fmt: skip
        child = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(read_journal(journal)) < 4:
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        answered = {(r["task_id"], r["arm"]) for r in read_journal(journal)}  # scored, or journaled before scoring
        assert 2 <= len(answered) < 10 and not out.exists()
        calls_before = len(server.chat_requests())
        assert main(["demo", "--model", "m", "--base-url", server.url, "--out", str(out), "--quiet", "--resume"]) == 0
        resumed_calls = len(server.chat_requests()) - calls_before
    rows = load(out)["rows"]
    keys = [(r["task_id"], r["arm"], r["sample"]) for r in rows]
    assert len(keys) == len(set(keys)) == 10
    assert resumed_calls <= 10 - len(answered)  # no journaled answer is bought again
    assert all(r["executor"]["score"] == 3 for r in rows)
