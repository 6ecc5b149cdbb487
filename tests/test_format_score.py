"""format_score: the contract's shape, check by check, with the README's weights (DESIGN §5)."""
from __future__ import annotations

import pytest

from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.scoring import format_score

FILES = {"csv_totals.py": "import sys\nprint(sys.argv)\n"}
RUN = "python csv_totals.py case1.csv case2.csv case3.csv"


def _failed(result) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in result.checks if not c["passed"]}


def test_a_reply_in_the_contract_scores_100():
    result = format_score(harnessed_reply(FILES, RUN), ["csv_totals.py"])
    assert result.score == 100 and not _failed(result) and result.reason == "all checks pass"
    assert sum(c["weight"] for c in result.checks) == 100


def test_a_reply_without_file_blocks_scores_0_and_claims_nothing_about_the_rest():
    result = format_score(bare_reply(FILES, RUN), ["csv_totals.py"])
    failed = _failed(result)
    assert result.score == 0 and len(failed) == len(result.checks)
    assert failed.pop("file_blocks_present") == "0 FILE block(s)"
    assert failed.pop("expected_files_present") == "missing: csv_totals.py"  # failed on its own: says why
    assert failed.pop("run_line_names_expected_file") == "no RUN line"
    assert set(failed.values()) == {"not checked: no FILE block"}  # not "duplicates: []", which reads as a pass


def test_a_reply_cut_inside_its_only_block_says_the_block_is_unclosed():
    result = format_score("FILE: csv_totals.py\n```python\nimport sys\n", ["csv_totals.py"])
    assert result.score == 0 and "csv_totals.py" in _failed(result)["blocks_closed"]


@pytest.mark.parametrize(
    ("reply", "score", "failed", "detail"),
    [
        (harnessed_reply(FILES, None), 90, "run_line_names_expected_file", "no RUN line"),
        (harnessed_reply({**FILES, "notes.txt": "x"}, RUN), 90, "no_unexpected_files", "unexpected: notes.txt"),
        (harnessed_reply(FILES, RUN) + harnessed_reply(FILES, None), 95, "no_duplicate_paths", "csv_totals.py"),
        (harnessed_reply(FILES, RUN) + "FILE: ../x.py\n```python\npass\n```\n", 90, "no_refused_paths", "../x.py"),
        (harnessed_reply(FILES, RUN) + "FILE: extra.py\n```python\npass\n", 90, "blocks_closed", "extra.py"),
    ],
)
def test_each_defect_costs_its_weight(reply, score, failed, detail):
    result = format_score(reply, ["csv_totals.py"])
    assert result.score == score, result.checks
    assert failed in _failed(result) and detail in _failed(result)[failed]
