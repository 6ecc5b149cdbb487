"""The SWE-bench task prompt in the "oracle" setting: the issue plus the full text of the files the gold patch edits.

Naming the files gives away where to look, not what to write; it is the standard retrieval-free setting and is
recorded under the name `ORACLE` so results never pass for a retrieval run. The prompt is the TASK only: the client
adds the execution contract on the harnessed arm (`contract.build_prompt`), so both arms see identical task text.
Files are delimited by `[start of path]` / `[end of path]` lines, as in the official SWE-bench text datasets: unlike
a code fence, no file content can close them early.
"""
from __future__ import annotations

from pathlib import Path

from .dataset import Instance
from .diffs import patch_files

ORACLE = "oracle"

_INSTRUCTION = """\
Resolve the issue by editing the repository. Reply with the complete new content of every file you change \
(whole files, not diffs or excerpts); files you do not change can be left out. You may also create new files. \
The repository's tests will be run against your changes."""


def oracle_paths(instance: Instance) -> list[str]:
    """The files the gold patch edits or deletes, in patch order; files it creates do not exist yet."""
    files = patch_files(instance.patch)
    return files.modified + files.deleted


def oracle_files(instance: Instance, repo_dir: Path) -> dict[str, str]:
    """Path -> text at `base_commit` of each oracle path. Read from git, so edits already made in the worktree do
    not leak into the prompt."""
    import git

    runner = git.Git(str(repo_dir))
    return {
        path: runner.cat_file("blob", f"{instance.base_commit}:{path}", stdout_as_string=False,
                              strip_newline_in_stdout=False)
        .decode("utf-8", "replace")  # the prompt must be valid text; a stray byte costs one character, not the task
        for path in oracle_paths(instance)
    }


def swebench_prompt(instance: Instance, repo_dir: Path) -> str:
    """Issue, files, instruction: deterministic for an instance and its checkout."""
    parts = [
        f"You are working in a checkout of the repository {instance.repo}. Here is the issue to resolve:",
        f"<issue>\n{instance.problem_statement.strip()}\n</issue>",
        "The current content of the files most relevant to the issue:",
    ]
    for path, text in oracle_files(instance, repo_dir).items():
        body = text if text.endswith("\n") or not text else text + "\n"
        parts.append(f"[start of {path}]\n{body}[end of {path}]")
    parts.append(_INSTRUCTION)
    return "\n\n".join(parts) + "\n"
