"""FILE-block parser: one test per rule of DESIGN §4, plus the inputs the issue lists."""
import json

from swebench_exec.parse import Defect, parse_file_blocks, strip_think

F = "```"  # a fence, so the replies below read like the replies they imitate


def reply(*lines: str) -> str:
    return "\n".join(lines)


def kinds(result) -> list[tuple[str, str | None]]:
    return [(d.kind, d.path) for d in result.defects]


def test_contract_example_parses_cleanly():
    result = parse_file_blocks(
        reply(
            "FILE: hello.py", F + "python", "import sys", "print('hello', sys.argv[1])", F, "RUN: python hello.py world"
        )
    )
    assert result.files == {"hello.py": "import sys\nprint('hello', sys.argv[1])\n"}
    assert [(b.path, b.info, b.line) for b in result.blocks] == [("hello.py", "python", 1)]
    assert result.run_command == "python hello.py world"
    assert result.defects == []


def test_markdown_file_keeps_its_own_bash_block():
    result = parse_file_blocks(
        reply(
            "FILE: README.md", F + "markdown", "# Tool", "Install:", F + "bash", "pip install .", F, "Done.", F,
            "FILE: main.py", F + "python", "print(1)", F,
            "RUN: python main.py",
        )
    )
    assert result.files == {
        "README.md": "# Tool\nInstall:\n```bash\npip install .\n```\nDone.\n",
        "main.py": "print(1)\n",
    }
    assert result.defects == []


def test_markdown_file_keeps_an_untagged_block_of_its_own():
    text = reply("FILE: README.md", F, "Example:", F, "$ tool", F, "End.", F, "RUN: python tool.py")
    result = parse_file_blocks(text)
    assert result.files == {"README.md": "Example:\n```\n$ tool\n```\nEnd.\n"}
    assert result.run_command == "python tool.py"


def test_bold_header_with_tilde_fence():
    result = parse_file_blocks(reply("**FILE: src/extra.py**", "~~~py", "X = 1", "~~~"))
    assert result.files == {"src/extra.py": "X = 1\n"}
    assert result.blocks[0].info == "py"


def test_bold_marker_and_heading_headers_but_only_upper_case():
    """`File: x` is prose (a README may say "File: config.yaml" above an example): only `FILE:` is a header."""
    result = parse_file_blocks(
        reply("**FILE:** a.py", F, "a = 1", F, "### FILE: b.py", F, "b = 2", F, "File: c.py", F, "c = 3", F)
    )
    assert result.files == {"a.py": "a = 1\n", "b.py": "b = 2\n"}


def test_prose_file_line_inside_a_readme_does_not_split_it():
    readme = ["FILE: README.md", F + "markdown", "File: config.yaml", F + "yaml", "debug: true", F, "Done.", F]
    result = parse_file_blocks(reply(*readme))
    assert result.files == {"README.md": "File: config.yaml\n```yaml\ndebug: true\n```\nDone.\n"}
    assert not result.defects


def test_backticked_path():
    result = parse_file_blocks(reply("FILE: `pkg/mod.py`", F + "python", "VALUE = 2", F))
    assert result.files == {"pkg/mod.py": "VALUE = 2\n"}


def test_header_must_be_followed_by_a_fence_blank_lines_allowed():
    result = parse_file_blocks(
        reply("FILE: ignored.py", "some prose", F, "x = 1", F, "FILE: kept.py", "", "  ", F + "python", "y = 2", F)
    )
    assert result.files == {"kept.py": "y = 2\n"}
    assert result.blocks[0].line == 6


def test_opening_and_closing_fences_with_trailing_spaces():
    result = parse_file_blocks(reply("FILE: a.py   ", "```python   ", "print('a')", "```  ", "RUN: python a.py  "))
    assert result.files == {"a.py": "print('a')\n"}
    assert result.run_command == "python a.py"


def test_parent_escape_is_refused_and_recorded():
    text = reply("FILE: ../../outside.py", F + "python", "evil = 1", F, "FILE: ok.py", F, "ok = 1", F)
    result = parse_file_blocks(text)
    assert result.files == {"ok.py": "ok = 1\n"}
    assert [b.path for b in result.blocks] == ["ok.py"]
    assert result.defects == [Defect("refused_path", "../../outside.py", 1, "escapes_root")]


def test_git_dir_and_absolute_paths_are_refused():
    result = parse_file_blocks(
        reply("FILE: .git/config", F, "[core]", F, "FILE: /etc/passwd", F, "root", F, "FILE: C:\\x.py", F, "x", F)
    )
    assert result.files == {}
    assert [(d.kind, d.path, d.detail) for d in result.defects] == [
        ("refused_path", ".git/config", "git_dir"),
        ("refused_path", "/etc/passwd", "absolute"),
        ("refused_path", "C:\\x.py", "absolute"),
    ]


def test_truncated_reply_leaves_block_unclosed():
    result = parse_file_blocks(reply("FILE: a.py", F, "a = 1", F, "FILE: b.py", F + "python", "def f():", "    return"))
    assert result.files == {"a.py": "a = 1\n"}
    assert result.defects == [Defect("unclosed", "b.py", 5, "no closing ``` before the end of the reply")]


def test_unclosed_block_stops_at_next_header():
    result = parse_file_blocks(reply("FILE: a.py", F + "python", "a = 1", "FILE: b.py", F, "b = 2", F))
    assert result.files == {"b.py": "b = 2\n"}
    assert kinds(result) == [("unclosed", "a.py")]
    assert "next FILE header" in result.defects[0].detail


def test_think_span_with_fenced_block_is_ignored():
    text = reply(
        "<think>", "Draft:", "FILE: draft.py", F + "python", "print('draft')", F, "</think>",
        "FILE: solve.py", F + "python", "print('final')", F, "RUN: python solve.py",
    )
    result = parse_file_blocks(text)
    assert result.files == {"solve.py": "print('final')\n"}
    assert result.blocks[0].line == 1  # lines count after the think span is gone


def test_unterminated_think_drops_everything():
    assert strip_think("  <think>FILE: a.py\n```\nx\n```") == ""
    assert parse_file_blocks("<think>\nFILE: a.py\n```\nx = 1\n```\n").files == {}


def test_strip_think_normalises_line_endings_and_keeps_later_think_tags():
    assert strip_think("<think>a\r\nb</think>\r\nanswer\rnext") == "answer\nnext"
    assert strip_think("text <think>kept</think>") == "text <think>kept</think>"


def test_four_backtick_opener_contains_three_backtick_block():
    result = parse_file_blocks(
        reply("FILE: gen.py", "````python", 'DOC = """', F, "plain", F, '"""', "````", "RUN: python gen.py")
    )
    assert result.files == {"gen.py": 'DOC = """\n```\nplain\n```\n"""\n'}


def test_indented_fence_strips_its_indent_from_content():
    result = parse_file_blocks(reply("FILE: a.py", "  ```python", "  def f():", "      return 1", "  ```"))
    assert result.files == {"a.py": "def f():\n    return 1\n"}


def test_duplicate_path_last_wins_and_is_recorded():
    result = parse_file_blocks(reply("FILE: a.py", F, "v = 1", F, "FILE: ./a.py", F, "v = 2", F))
    assert result.files == {"a.py": "v = 2\n"}
    assert [b.content for b in result.blocks] == ["v = 1\n", "v = 2\n"]
    assert result.defects == [Defect("duplicate_path", "a.py", 5, "also at line 1; last wins")]


def test_crlf_reply_gives_lf_content():
    result = parse_file_blocks("FILE: a.py\r\n```python\r\nx = 1\r\ny = 2\r\n```\r\nRUN: python a.py\r\n")
    assert result.files == {"a.py": "x = 1\ny = 2\n"}
    assert result.run_command == "python a.py"


def test_stray_language_line_is_recorded_and_content_kept():
    result = parse_file_blocks(reply("FILE: a.py", F, "python", "print(1)", F))
    assert result.files == {"a.py": "python\nprint(1)\n"}
    assert kinds(result) == [("stray_language_line", "a.py")]


def test_empty_block_is_empty_file():
    result = parse_file_blocks(reply("FILE: pkg/__init__.py", F + "python", F))
    assert result.files == {"pkg/__init__.py": ""}
    assert result.defects == []


def test_run_line_then_prose_block_is_not_swallowed():
    text = reply("FILE: x.py", F + "python", "print(42)", F, "RUN: python x.py", "", "Example output:", F, "42", F)
    result = parse_file_blocks(text)
    assert result.files == {"x.py": "print(42)\n"}
    assert result.run_command == "python x.py"


def test_run_line_bounds_a_markdown_file_too():
    text = reply("FILE: NOTES.md", F, "# Notes", F, "RUN: python x.py", "Output:", F, "42", F)
    assert parse_file_blocks(text).files == {"NOTES.md": "# Notes\n"}


def test_code_file_ends_at_first_bare_fence_even_without_run_line():
    text = reply("FILE: x.py", F + "python", "print(42)", F, "", "This prints:", F, "42", F)
    assert parse_file_blocks(text).files == {"x.py": "print(42)\n"}


def test_usage_block_before_run_line_is_not_swallowed():
    text = reply("FILE: x.py", F + "python", "print(42)", F, "Usage:", F + "bash", "python x.py", F, "RUN: python x.py")
    result = parse_file_blocks(text)
    assert result.files == {"x.py": "print(42)\n"}
    assert result.run_command == "python x.py"


def test_info_string_fence_never_closes_code_block():
    nested = parse_file_blocks(reply("FILE: n.py", F + "python", 'DOC = """', F + "python", "x", F, '"""', F))
    assert nested.files == {"n.py": 'DOC = """\n```python\nx\n```\n"""\n'}
    docstring = ['    """', "    " + F + "python", "    x", "    " + F, '    """']
    indented = parse_file_blocks(reply("FILE: m.py", F + "python", "def f():", *docstring, F))
    assert indented.files == {"m.py": 'def f():\n    """\n    ```python\n    x\n    ```\n    """\n'}


def test_run_command_last_outside_blocks_with_markup_removed():
    text = reply(
        "RUN: python old.py", "FILE: a.py", F, "a = 1", F, "**RUN:** `python a.py in.txt`", "Run: python prose.py",
        F, "RUN: python inside_block.py", F,
    )
    assert parse_file_blocks(text).run_command == "python a.py in.txt"


def test_no_run_line_gives_none():
    assert parse_file_blocks(reply("FILE: a.py", F, "a = 1", F)).run_command is None


def test_inline_triple_backticks_are_not_a_fence():
    result = parse_file_blocks(reply("FILE: a.py", F + "python", "x = 1", "```inline```", F))
    assert result.files == {"a.py": "x = 1\n```inline```\n"}


def test_answer_wrapped_in_an_outer_markdown_fence_still_parses():
    text = reply(F + "markdown", "FILE: a.py", F + "python", "a = 1", F, "RUN: python a.py", F)
    result = parse_file_blocks(text)
    assert result.files == {"a.py": "a = 1\n"}
    assert result.run_command == "python a.py"


def test_record_is_json_and_holds_no_contents():
    text = reply("FILE: a.py", F, "secret_marker = 1", F, "FILE: /abs.py", F, "x", F, "RUN: python a.py")
    result = parse_file_blocks(text)
    record = json.loads(json.dumps(result.record()))
    assert "secret_marker" not in json.dumps(record)
    assert record["files"][0]["path"] == "a.py"
    assert record["files"][0]["bytes"] == len("secret_marker = 1\n")
    assert record["files"][0]["lines"] == 1
    assert record["blocks"] == [{"path": "a.py", "line": 1, "info": ""}]
    assert record["run_command"] == "python a.py"
    assert record["defects"] == [{"kind": "refused_path", "path": "/abs.py", "line": 5, "detail": "absolute"}]


def test_reply_without_file_blocks():
    result = parse_file_blocks("Here you go:\n```python\nprint(1)\n```\n")
    assert (result.files, result.blocks, result.defects, result.run_command) == ({}, [], [], None)
