"""Executor fallbacks for replies without FILE blocks: named blocks, then the entry-point block."""
from swebench_exec.parse import extract_program
from swebench_exec.parse.fallback import STEPS

F = "```"

SOLUTION = (
    "import json, sys\n\ndef main():\n    print(json.dumps({'a': 1}))\n\nif __name__ == '__main__':\n    main()\n"
)


def reply(*parts: str) -> str:
    return "\n".join(parts)


def test_file_blocks_come_first():
    text = reply(
        "`other.py`:", F + "python", "x = 0", F, "FILE: solve.py", F + "python", "x = 1", F, "RUN: python solve.py"
    )
    extraction = extract_program(text, ["solve.py"], "main")
    assert (extraction.files, extraction.method) == ({"solve.py": "x = 1\n"}, "file_blocks")


def test_plain_markdown_takes_the_solution_not_the_last_block():
    text = reply(
        "The idea is to parse the file and count keys.",
        "",
        F + "python",
        SOLUTION.rstrip("\n"),
        F,
        "",
        "Usage:",
        F + "bash",
        "python solve.py in.txt",
        F,
        "",
        "Output:",
        F,
        '{"a": 1}',
        F,
        "",
        "For a count:",
        F,
        "3",
        F,
    )
    with_entry = extract_program(text, ["solve.py"], "main")
    assert (with_entry.files, with_entry.method) == ({"solve.py": SOLUTION}, "entry_point_block")
    without_entry = extract_program(text, ["solve.py"])
    assert (without_entry.files, without_entry.method) == ({"solve.py": SOLUTION}, "entry_point_block")


def test_entry_point_block_is_the_last_that_compiles_and_defines_it():
    text = reply(
        F + "python", "def main():\n    return 'draft'", F,
        F, "def main():\n    return 'final'", F,
        F + "python", "def main(:\n    broken", F,
        F + "python", "def helper():\n    pass", F,
        F + "javascript", "function main() {}", F,
    )
    extraction = extract_program(text, ["solve.py"], "main")
    assert extraction.files == {"solve.py": "def main():\n    return 'final'\n"}
    assert "line 5" in extraction.detail


def test_entry_point_must_be_top_level():
    text = reply(F + "python", "class A:\n    def main(self):\n        pass", F)
    extraction = extract_program(text, ["solve.py"], "main")
    assert (extraction.files, extraction.method) == ({}, "none")


def test_named_by_header_label_forms():
    # ("File: report.py" before a fence is a FILE header, so it never reaches this step.)
    for header in ("`report.py`:", "**report.py**", "# report.py", "### Filename: `report.py`", "1. report.py"):
        text = reply("Intro.", header, F + "python", "X = 1", F, "Other:", F + "python", "def main():\n    pass", F)
        extraction = extract_program(text, ["report.py"], "main")
        assert (extraction.files, extraction.method) == ({"report.py": "X = 1\n"}, "named_block"), header


def test_named_by_info_string():
    text = reply(F + "python report.py", "A = 1", F, F + "util.py", "B = 2", F)
    extraction = extract_program(text, ["report.py", "util.py"])
    assert (extraction.files, extraction.method) == ({"report.py": "A = 1\n", "util.py": "B = 2\n"}, "named_block")


def test_named_block_last_label_wins_and_missing_files_are_listed():
    text = reply("`a.py`:", F, "v = 1", F, "Fixed `a.py`:", F, "v = 2", F, "**a.py**", F, "v = 3", F)
    extraction = extract_program(text, ["a.py", "b.py"])
    assert extraction.files == {"a.py": "v = 3\n"}
    assert extraction.method == "named_block"
    assert "not found: b.py" in extraction.detail


def test_sentence_mentioning_a_python_file_names_its_program_block_not_the_usage_block():
    text = reply(
        "Here is the complete `report.py`:", F + "python", "print('report')", F,
        "Run report.py like this:", F + "bash", "python report.py data.csv", F,
        "And `util.py`:", F + "python", "def helper():\n    return 2", F,
    )
    extraction = extract_program(text, ["report.py", "util.py"])
    assert extraction.method == "named_block"
    assert extraction.files == {"report.py": "print('report')\n", "util.py": "def helper():\n    return 2\n"}


def test_mention_of_a_python_file_before_a_non_program_is_not_a_name():
    text = reply("Output of report.py:", F, '{"a": 1}', F)
    extraction = extract_program(text, ["report.py"])
    assert (extraction.files, extraction.method) == ({}, "none")


def test_output_block_alone_is_not_a_program():
    assert extract_program(reply(F, "3", F), ["solve.py"]).method == "none"
    one_liner = extract_program(reply(F + "py", "print(sum(map(int, open(0))))", F), ["solve.py"])
    assert (one_liner.files, one_liner.method) == ({"solve.py": "print(sum(map(int, open(0))))\n"}, "entry_point_block")


def test_entry_point_step_only_for_single_python_file():
    text = reply(F + "python", "def main():\n    pass", F)
    assert extract_program(text, ["a.py", "b.py"], "main").method == "none"
    assert extract_program(text, ["run.sh"], "main").method == "none"


def test_none_explains_every_step():
    extraction = extract_program("I cannot help with that.", ["solve.py"], "main")
    assert extraction.files == {}
    assert extraction.method == "none"
    assert extraction.detail == (
        "file_blocks: no FILE blocks; "
        "named_block: no fenced block named solve.py; "
        "entry_point_block: no python/untagged block compiles and defines main()"
    )


def test_refused_file_blocks_fall_back_and_say_why():
    text = reply("FILE: /tmp/solve.py", F + "python", "def main():\n    pass", F)
    extraction = extract_program(text, ["solve.py"], "main")
    assert (extraction.files, extraction.method) == ({"solve.py": "def main():\n    pass\n"}, "entry_point_block")


def test_refused_file_blocks_detail_when_nothing_else_found():
    extraction = extract_program(reply("FILE: ../x.py", F, "x = (", F), ["solve.py"], "main")
    assert extraction.detail.startswith("file_blocks: no FILE block accepted (refused_path ../x.py)")


def test_think_span_is_ignored_by_fallbacks():
    thought = reply("<think>", F + "python", "def main():\n    return 'thought'", F, "Now the answer.", "</think>")
    answer = reply(thought, F, "def main():\n    return 'answer'", F, "Output:", F + "python", "'answer'", F)
    assert extract_program(answer, ["s.py"], "main").files == {"s.py": "def main():\n    return 'answer'\n"}
    assert extract_program(thought, ["s.py"], "main").method == "none"


def test_truncated_last_block_is_not_used():
    text = reply(F + "python", "def main():\n    return 1", F, F + "python", "def main():\n    return")
    assert extract_program(text, ["s.py"], "main").files == {"s.py": "def main():\n    return 1\n"}


def test_steps_are_an_extensible_ordered_list():
    assert [method for method, _ in STEPS] == ["file_blocks", "named_block", "entry_point_block"]
