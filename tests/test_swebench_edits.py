"""Replies to patches on the fixture instance: FILE blocks, fallbacks, the recorded patch's round trip, the gold
model's whole files, applying diffs, and the prompt."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import git
import pytest
from swebench_fixture import BASE_FILES, OPS, OPS_FIXED, PROBLEM, TEST_NEW, TEST_OPS_PATCHED, make_fixture_dataset

from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.swebench.dataset import Instance
from swebench_exec.swebench.diffs import PatchError, apply_patch, patch_files, post_patch_contents
from swebench_exec.swebench.edits import apply_response, record_patch
from swebench_exec.swebench.prompt import ORACLE, oracle_files, swebench_prompt
from swebench_exec.swebench.repos import RepoCache

F = "```"


@pytest.fixture
def setup(tmp_path):
    _, cache, row = make_fixture_dataset(tmp_path)
    return RepoCache(cache, fetch=False), Instance.from_row(row)


@pytest.fixture
def tree(setup):
    repos, instance = setup
    with repos.worktree(instance) as path:
        yield path


@pytest.fixture
def instance(setup):
    return setup[1]


def status(path: Path) -> str:
    return git.Repo(path).git.status("--porcelain", "--untracked-files=all")


def files_under(path: Path) -> dict[str, bytes]:
    files = (p for p in sorted(path.rglob("*")) if p.is_file() and p.name != ".git")
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


def assert_round_trip(setup, patch: str, edited: Path) -> None:
    """The recorded patch, applied by plain `git apply` to a fresh checkout, reproduces every kept file."""
    repos, instance = setup
    with repos.worktree(instance) as fresh:
        subprocess.run(["git", "apply", "-"], input=patch.encode(), cwd=fresh, check=True)
        for rel, data in files_under(fresh).items():
            assert (edited / rel).read_bytes() == data, rel
        assert set(files_under(fresh)) <= set(files_under(edited))


def test_file_blocks_are_written_and_recorded(setup, tree, instance):
    reply = f"Fixed.\n\nFILE: calc/ops.py\n{F}python\n{OPS_FIXED}{F}\n"
    edits = apply_response(reply, tree, instance)
    assert (edits.method, edits.files_written, edits.refused) == ("file_blocks", ["calc/ops.py"], [])
    assert (tree / "calc" / "ops.py").read_text() == OPS_FIXED
    assert patch_files(edits.patch).modified == ["calc/ops.py"]
    assert "+    if not values:" in edits.patch
    assert_round_trip(setup, edits.patch, tree)
    json.dumps(edits.record())


def test_new_text_files_are_recorded_caches_and_binaries_are_not(setup, tree, instance):
    reply = (
        f"FILE: calc/ops.py\n{F}python\n{OPS_FIXED}{F}\n\n"
        f"FILE: calc/stats.py\n{F}python\nfrom .ops import mean\n{F}\n\n"
        f"FILE: docs/notes.md\n{F}markdown\n# Notes\n{F}\n"
    )
    edits = apply_response(reply, tree, instance)
    assert edits.files_written == ["calc/ops.py", "calc/stats.py", "docs/notes.md"]
    (tree / "calc" / "__pycache__").mkdir()
    (tree / "calc" / "__pycache__" / "ops.cpython-311.pyc").write_bytes(b"\x00\x01compiled")
    (tree / "calc" / "stale.pyc").write_text("text, but a cache by name")
    (tree / "calc.egg-info").mkdir()
    (tree / "calc.egg-info" / "PKG-INFO").write_text("Name: calc\n")
    (tree / ".pytest_cache").mkdir()
    (tree / ".pytest_cache" / "README.md").write_text("cache\n")
    (tree / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tree / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))  # not UTF-8
    (tree / "table.dat").write_bytes(b"valid utf-8\x00with a NUL\n")
    patch = record_patch(tree)
    files = patch_files(patch)
    assert files.modified == ["calc/ops.py"]
    assert sorted(files.created) == ["calc/stats.py", "docs/notes.md"]
    assert_round_trip(setup, patch, tree)


def test_recording_leaves_the_worktree_index_alone(tree, instance):
    (tree / "calc" / "ops.py").write_text(OPS_FIXED)
    (tree / "calc" / "extra.py").write_text("X = 1\n")
    before = status(tree)
    record_patch(tree)
    assert status(tree) == before == " M calc/ops.py\n?? calc/extra.py"


def test_deletions_and_untouched_trees(setup, tree):
    assert record_patch(tree) == ""
    (tree / "README.md").unlink()
    patch = record_patch(tree)
    assert patch_files(patch).deleted == ["README.md"]
    assert_round_trip(setup, patch, tree)


def test_an_escaping_path_is_refused_and_recorded_the_rest_written(tree, instance):
    reply = (
        f"FILE: ../outside.py\n{F}python\nprint('escaped')\n{F}\n\n"
        f"FILE: .git/hooks/post-checkout\n{F}\n#!/bin/sh\n{F}\n\n"
        f"FILE: calc/ops.py\n{F}python\n{OPS_FIXED}{F}\n"
    )
    edits = apply_response(reply, tree, instance)
    assert edits.method == "file_blocks" and edits.files_written == ["calc/ops.py"]
    assert edits.refused == [("../outside.py", "escapes_root"), (".git/hooks/post-checkout", "git_dir")]
    assert not (tree.parent / "outside.py").exists()
    assert edits.record()["refused"] == [["../outside.py", "escapes_root"], [".git/hooks/post-checkout", "git_dir"]]


def test_only_refused_blocks_means_nothing_applied(tree, instance):
    edits = apply_response(f"FILE: /etc/passwd\n{F}\nroot::0:0\n{F}\n", tree, instance)
    assert (edits.method, edits.patch, edits.refused) == ("none", "", [("/etc/passwd", "absolute")])


def test_unharnessed_named_block(setup, tree, instance):
    edits = apply_response(bare_reply({"calc/ops.py": OPS_FIXED}, None), tree, instance)
    assert edits.method == "named_block" and edits.files_written == ["calc/ops.py"]
    assert (tree / "calc" / "ops.py").read_text() == OPS_FIXED
    assert_round_trip(setup, edits.patch, tree)


def test_unharnessed_diff_block(setup, tree, instance):
    reply = f"The division needs a guard:\n\n{F}diff\n{instance.patch}{F}\n\nThat's all.\n"
    edits = apply_response(reply, tree, instance)
    assert (edits.method, edits.files_written) == ("diff", ["calc/ops.py"])
    assert (tree / "calc" / "ops.py").read_text() == OPS_FIXED
    assert_round_trip(setup, edits.patch, tree)


def test_a_diff_labelled_with_the_file_name_is_applied_as_a_diff(tree, instance):
    reply = f"`calc/ops.py`:\n\n{F}diff\n{instance.patch}{F}\n"
    edits = apply_response(reply, tree, instance)
    assert edits.method == "diff" and (tree / "calc" / "ops.py").read_text() == OPS_FIXED


def test_bare_diff_without_prefixes_amid_prose(tree, instance):
    diff = instance.patch.replace("a/calc/ops.py", "calc/ops.py").replace("b/calc/ops.py", "calc/ops.py")
    diff = diff.split("\n", 2)[2]  # drop the `diff --git` and index lines: `---`/`+++` headers only
    assert diff.startswith("--- calc/ops.py\n")
    reply = f"Apply this change:\n\n{diff}\nThen run the tests.\n"
    edits = apply_response(reply, tree, instance)
    assert edits.method == "diff", edits.detail
    assert (tree / "calc" / "ops.py").read_text() == OPS_FIXED


def test_a_diff_through_a_refused_path_is_not_applied(tree, instance):
    diff = "--- a/../evil.py\n+++ b/../evil.py\n@@ -0,0 +1 @@\n+x = 1\n"
    edits = apply_response(f"{F}diff\n{diff}{F}\n", tree, instance)
    assert (edits.method, edits.refused, edits.patch) == ("none", [("../evil.py", "escapes_root")], "")


def test_a_diff_that_does_not_apply(tree, instance):
    broken = instance.patch.replace("+    if not values:", "-    if values is None:\n+    if not values:")
    broken = broken.replace("@@ -11,4 +11,6 @@", "@@ -11,5 +11,6 @@")  # removes a line the file lacks
    edits = apply_response(f"{F}diff\n{broken}{F}\n", tree, instance)
    assert edits.method == "none" and edits.detail.startswith("diff found but not applied: patch does not apply")
    assert edits.patch == "" and status(tree) == ""


def test_nothing_usable(tree, instance):
    reply = f"You should guard against empty input, e.g.\n\n{F}python\nif not values:\n    return 0.0\n{F}\n"
    edits = apply_response(reply, tree, instance)
    assert (edits.method, edits.patch, edits.files_written) == ("none", "", [])
    assert "no unified diff" in edits.detail and status(tree) == ""


def test_gold_post_patch_contents_leave_the_tree_clean(tree, instance):
    assert post_patch_contents(tree, instance.patch) == {"calc/ops.py": OPS_FIXED}
    assert post_patch_contents(tree, instance.test_patch) == {
        "tests/test_ops.py": TEST_OPS_PATCHED,
        "tests/test_new.py": TEST_NEW,
    }
    assert status(tree) == "" and (tree / "calc" / "ops.py").read_text() == OPS


def test_post_patch_contents_of_a_deletion_and_of_a_patch_that_does_not_apply(tree, instance):
    deletion = "diff --git a/README.md b/README.md\ndeleted file mode 100644\n--- a/README.md\n+++ /dev/null\n"
    deletion += "".join(f"-{line}\n" for line in BASE_FILES["README.md"].splitlines())
    deletion = deletion.replace("+++ /dev/null\n", "+++ /dev/null\n@@ -1,3 +0,0 @@\n")
    assert post_patch_contents(tree, deletion) == {}
    with pytest.raises(PatchError, match="does not apply at HEAD"):
        post_patch_contents(tree, instance.patch.replace("def mean", "def median"))
    assert status(tree) == ""


def test_gold_reply_end_to_end(setup, tree, instance):
    """The gold model answers with post-patch whole files; applying that reply records the gold patch's effect."""
    files = post_patch_contents(tree, instance.patch)
    edits = apply_response(harnessed_reply(files, None), tree, instance)
    assert edits.method == "file_blocks"
    assert edits.patch == instance.patch  # both written by git: byte for byte
    assert_round_trip(setup, edits.patch, tree)


def test_apply_patch_falls_back_to_fuzz(tree, instance):
    drifted = instance.patch.replace('    """Arithmetic mean', '    """The arithmetic mean')  # context drifted
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run(["git", "apply", "--check", "-"], input=drifted.encode(), cwd=tree, check=True,
                       capture_output=True)  # fmt: skip
    apply_patch(tree, drifted)
    assert (tree / "calc" / "ops.py").read_text() == OPS_FIXED
    assert not list(tree.rglob("*.orig")) and not list(tree.rglob("*.rej"))


def test_apply_patch_is_all_or_nothing(tree, instance):
    second = "--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,3 @@\n-# not the title\n+# calc!\n \n A toy package\n"
    with pytest.raises(PatchError, match="git apply: .*; patch: "):
        apply_patch(tree, instance.patch + second)
    assert status(tree) == ""
    with pytest.raises(PatchError, match="empty patch"):
        apply_patch(tree, "\n")


def test_apply_patch_in_a_plain_folder_inside_another_repository(tree, instance):
    plain = tree / "plain"  # a copy outside git's view, nested in a repository all the same
    (plain / "calc").mkdir(parents=True)
    (plain / "calc" / "ops.py").write_text(OPS)
    apply_patch(plain, instance.patch)
    assert (plain / "calc" / "ops.py").read_text() == OPS_FIXED


def test_prompt_holds_the_issue_and_the_whole_current_files(setup, tree, instance):
    prompt = swebench_prompt(instance, tree)
    assert PROBLEM.strip() in prompt
    assert f"[start of calc/ops.py]\n{OPS}[end of calc/ops.py]" in prompt
    assert "whole files" in prompt and "tests/test_ops.py" not in prompt and ORACLE == "oracle"
    (tree / "calc" / "ops.py").write_text("edited in the worktree\n")
    repos, _ = setup
    with repos.worktree(instance) as other:
        assert swebench_prompt(instance, tree) == swebench_prompt(instance, other) == prompt


def test_oracle_files_leave_out_files_the_patch_creates(tree, instance):
    tests_as_gold = Instance.from_row(dict(instance.row, patch=instance.test_patch))
    assert oracle_files(tests_as_gold, tree) == {"tests/test_ops.py": BASE_FILES["tests/test_ops.py"]}


def test_paths_git_quotes_or_that_hold_spaces_are_read_as_files(tree, instance):
    (tree / "tést").mkdir()
    (tree / "tést" / "notes.py").write_text("X = 1\n")
    (tree / "a").mkdir()
    (tree / "a" / "x y.py").write_text("Y = 2\n")
    patch = record_patch(tree)
    assert '"b/t\\303\\251st/notes.py"' in patch  # git's own quoting of a non-ASCII path
    assert sorted(patch_files(patch).created) == ["a/x y.py", "tést/notes.py"]
