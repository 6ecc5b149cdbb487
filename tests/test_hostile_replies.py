"""Replies and programs that once broke the harness: each must cost one row at most, never the run or the score."""
from __future__ import annotations

import json

from scripted_server import ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.models.base import Usage
from swebench_exec.parse import write_files
from swebench_exec.run.store import read_journal
from swebench_exec.scoring import executor_score
from swebench_exec.tasks import PUBLIC_TASKS
from swebench_exec.tasks.csv_totals import CASES

CSV = next(t for t in PUBLIC_TASKS if t["id"] == "csv_totals")


def block(path: str, body: str) -> str:
    return f"FILE: {path}\n```python\n{body}\n```\n"


def test_an_expression_too_deep_to_compile_is_a_model_failure():
    result = executor_score(block("csv_totals.py", "x = " + "-" * 7000 + "1"), task=CSV)
    assert result.score == 0 and result.status == "syntax_error"


def test_a_path_too_deep_to_write_is_refused(tmp_path):
    refused = write_files(tmp_path, {"/".join(["a"] * 1500) + "/x.txt": "x"})
    assert refused and refused[0][1] == "too_long"


def test_a_program_that_nests_thousands_of_dirs_is_cleaned_up(tmp_path):
    program = ("import os\ndef main():\n    os.makedirs('/'.join(['d'] * 3000), exist_ok=True)\n"
               "    os.chmod('d', 0)\nmain()\n")  # fmt: skip
    result = executor_score(block("csv_totals.py", program), task=CSV)
    assert result.score == 0  # no crash, no traceback: just a wrong answer


def test_a_reply_may_not_ship_the_answers_or_replace_the_inputs():
    program = "def main():\n    pass\n\nmain()\n"
    answers = "".join(block(f"case{i}.csv.json", json.dumps(c.expected)) for i, c in enumerate(CASES, 1))
    result = executor_score(block("csv_totals.py", program) + answers, task=CSV)
    assert result.score == 0
    assert result.extraction["ignored"] == ["case1.csv.json", "case2.csv.json", "case3.csv.json"]


def test_a_program_cannot_import_the_expected_answers():
    program = ("def main():\n    import json, swebench_exec.tasks.csv_totals as t\n"
               "    for c in t.CASES:\n        json.dump(c.expected, open(c.output, 'w'))\nmain()\n")  # fmt: skip
    result = executor_score(block("csv_totals.py", program), task=CSV)
    assert result.score == 0 and "ModuleNotFoundError" in result.reason


def test_absurd_token_counts_are_unknown_not_a_crash():
    usage = Usage.from_report({"prompt_tokens": float("inf"), "completion_tokens": -5, "total_tokens": 1e300})
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (None, None, None)


def test_a_lone_surrogate_in_a_reply_is_journaled_and_written(tmp_path, capsys):
    out = tmp_path / "x.json"
    with ScriptedServer(default=chat_reply("broken \ud83d text")) as server:
        code = main(["demo", "--model", "m", "--base-url", server.url, "--tasks", "csv_totals", "--out", str(out),
                     "--quiet"])  # fmt: skip
    assert code == 0
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 2 and all(r["executor"]["status"] == "no_code" for r in rows)
    journaled = read_journal(out.with_name(out.name + ".journal.jsonl"))
    assert [r["executor"]["status"] for r in journaled].count("no_code") == 2


def test_half_a_surrogate_pair_in_a_label_or_path_is_the_models_failure_not_the_harness():
    """Found by an adversarial review: a lone surrogate in the line naming a file (or in a FILE: path) made path
    normalisation raise, and the row became a harness_error: an infrastructure status, so unscored."""
    from swebench_exec.run.runner import score_response
    from swebench_exec.sandbox.local import LocalSandbox

    task = next(t for t in PUBLIC_TASKS if t["id"] == "csv_totals")
    for reply in ("Here is my solution \ud83d\n```python\ndef main(): pass\n```\n",
                  "`csv_totals\ud83d.py`:\n```python\nprint(1)\n```\n",
                  "FILE: csv_totals\ud800.py\n```python\nx = 1\n```\n"):  # fmt: skip
        scores = score_response(task, reply, "ok", LocalSandbox())
        assert scores["executor"]["status"] in ("no_code", "wrong_output"), scores["executor"]
        assert scores["format"]["score"] is not None
