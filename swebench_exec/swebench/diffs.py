"""Unified diffs: which files a patch touches, applying one, and reading a patch's result without applying it.

Applying follows the official harness's order (`git apply`, then GNU `patch` with fuzz) minus its `--3way` and
`--reject` steps: those leave conflict markers or half-applied hunks behind, and our callers apply onto trees that
may already hold other changes (the model's files), so a failed apply must change nothing.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator


class PatchError(ValueError):
    """A patch that does not parse or does not apply; the message says which and why."""


@dataclass
class PatchFiles:
    """Paths (repository-relative, in patch order) a diff modifies, creates and deletes. A rename counts as the
    deletion of its source and the creation of its target, which is what restoring and oracle selection need."""

    modified: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def touched(self) -> list[str]:
        return self.modified + self.created + self.deleted


def _strip_prefix(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) else name


def _quoted_path(path: str) -> str:
    """unidiff strips a/ and b/ but keeps git's quotes ("b/t\\303\\251st.py"): unquote those, then strip."""
    return _strip_prefix(_unquote(path)) if path.startswith('"') else path


def patch_files(diff: str) -> PatchFiles:
    """The files `diff` touches; `PatchError` when it is not a well-formed unified diff (hunk counts included)."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    try:
        patch = PatchSet(diff)
    except UnidiffParseError as exc:
        raise PatchError(f"malformed diff: {exc}") from None
    files = PatchFiles()
    for patched in patch:
        path = _quoted_path(patched.path)
        if patched.is_added_file:
            files.created.append(path)
        elif patched.is_removed_file:
            files.deleted.append(path)
        elif patched.is_rename:
            files.deleted.append(_strip_prefix(_unquote(patched.source_file)))
            files.created.append(path)
        else:
            files.modified.append(path)
    return files


def diff_strip_level(diff: str) -> int:
    """1 for git-style `a/` `b/` names, else 0 (models sometimes write `--- pkg/mod.py`)."""
    from unidiff import PatchSet

    names = [n for f in PatchSet(diff) for n in (f.source_file, f.target_file) if n and n != "/dev/null"]
    return 1 if names and all(n.startswith(("a/", "b/")) for n in names) else 0


@contextmanager
def _patch_file(diff: str) -> Iterator[str]:
    """`diff` in a temporary file outside any tree (so it never shows up as an untracked file)."""
    text = diff if diff.endswith("\n") else diff + "\n"  # git apply calls a missing final newline corrupt
    with tempfile.NamedTemporaryFile("wb", suffix=".diff", delete=False) as handle:
        handle.write(text.encode("utf-8", "surrogateescape"))
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def _git_env(repo_dir: Path) -> dict[str, str]:
    """Stop git from adopting an enclosing repository when `repo_dir` is a plain folder: there `git apply` would
    resolve paths against that repository and silently skip files outside the current directory."""
    return {"GIT_CEILING_DIRECTORIES": str(Path(repo_dir).resolve().parent)}


def apply_patch(repo_dir: Path, diff: str, strip: int = 1) -> None:
    """Apply `diff` to the files under `repo_dir` (a git worktree or a plain folder); all or nothing.

    `git apply` first; then GNU `patch --fuzz=5`, dry-run before the real run so that it too changes nothing
    unless every hunk applies. `PatchError` carries both tools' complaints.
    """
    import git

    if not diff.strip():
        raise PatchError("empty patch: nothing to apply")
    with _patch_file(diff) as path:
        try:
            git.Git(str(repo_dir)).apply("--verbose", f"-p{strip}", path, env=_git_env(repo_dir))
            return
        except git.GitCommandError as exc:
            git_error = _tail(exc.stderr)
        patch_cmd = ["patch", "--batch", "--forward", "--fuzz=5", "--no-backup-if-mismatch", f"-p{strip}", "-i", path]
        dry = subprocess.run([*patch_cmd, "--dry-run"], cwd=repo_dir, capture_output=True, text=True)
        if dry.returncode == 0:
            real = subprocess.run(patch_cmd, cwd=repo_dir, capture_output=True, text=True)
            if real.returncode == 0:
                return
            dry = real
    raise PatchError(f"patch does not apply: git apply: {git_error}; patch: {_tail(dry.stdout + dry.stderr)}")


def _tail(output: str, limit: int = 300) -> str:
    """The last lines of a tool's output on one line, clipped from the front (errors come last)."""
    text = " | ".join(line.strip() for line in str(output).strip().splitlines() if line.strip())
    return text if len(text) <= limit else "..." + text[-limit:]


def post_patch_contents(repo_dir: Path, diff: str) -> dict[str, str]:
    """Path -> text of every file `diff` modifies or creates, as it would be after applying `diff` to the clean
    tree at the worktree's HEAD. The tree and its index stay untouched: the patch is applied to a throwaway index
    (`git apply --cached` against a temporary GIT_INDEX_FILE). Deleted files are absent (see `patch_files`)."""
    import git

    files = patch_files(diff)
    runner = git.Git(str(repo_dir))
    with tempfile.TemporaryDirectory() as tmp, _patch_file(diff) as path:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        try:
            runner.read_tree("HEAD", env=env)
            runner.apply("--cached", path, env=env)
        except git.GitCommandError as exc:
            raise PatchError(f"patch does not apply at HEAD of {repo_dir}: {_tail(exc.stderr)}") from None
        return {
            rel: runner.cat_file("blob", f":{rel}", env=env, stdout_as_string=False, strip_newline_in_stdout=False)
            .decode("utf-8")
            for rel in files.modified + files.created
        }


_SECTION_START = re.compile(r"^diff --git ", re.MULTILINE)
_PATH_LINE = re.compile(r"^(--- |\+\+\+ |rename from |rename to |copy from |copy to )([^\t\n]+)", re.MULTILINE)


def _unquote(name: str) -> str:
    """A path as git prints it: C-quoted ("a/t\\303\\251st.py") when it holds special characters."""
    if len(name) >= 2 and name[0] == name[-1] == '"':
        import codecs

        return codecs.escape_decode(name[1:-1].encode("utf-8"))[0].decode("utf-8", "replace")
    return name


def section_paths(section: str) -> list[str]:
    """The paths one `diff --git` section names (both sides of a rename), read from its ---/+++/rename lines, which
    hold the whole name even with spaces, or from the header when there are none (binary, mode-only changes)."""
    names = []
    for kind, name in _PATH_LINE.findall(section):
        name = _unquote(name.rstrip())
        if name != "/dev/null":
            names.append(_strip_prefix(name) if kind in ("--- ", "+++ ") else name)  # rename/copy lines: no a/ b/
    if not names:
        header = section.split("\n", 1)[0][len("diff --git "):]
        if header.startswith('"'):
            names = [_strip_prefix(_unquote(q)) for q in re.findall(r'"(?:[^"\\]|\\.)*"', header)]
        else:  # "a/X b/X": without a rename both halves are the same path, spaces or not
            half = (len(header) - 1) // 2
            names = [_strip_prefix(header[:half]), _strip_prefix(header[half + 1 :])]
    return list(dict.fromkeys(names))


def file_sections(diff: str) -> list[tuple[list[str], str]]:
    """The `diff --git` sections of a git diff, one per file, each with the paths it names; never raises (unlike
    patch_files), so a malformed model patch can still be inspected."""
    starts = [m.start() for m in _SECTION_START.finditer(diff)]
    return [(section_paths(diff[a:b]), diff[a:b]) for a, b in zip(starts, starts[1:] + [len(diff)])]


def patch_paths(diff: str) -> list[str]:
    """Every path a diff names (both sides of renames), once each, in the diff's order; never raises."""
    return list(dict.fromkeys(path for paths, _ in file_sections(diff) for path in paths))


def drop_files(diff: str, unwanted: Callable[[str, str], bool]) -> tuple[str, list[str]]:
    """`diff` without the file sections for which `unwanted(path, section)` is true for one of their paths, and the
    paths dropped."""
    sections = file_sections(diff)
    if not sections:
        return diff, []
    kept, dropped = [diff[: _SECTION_START.search(diff).start()]], []
    for paths, section in sections:
        if any(unwanted(p, section) for p in paths):
            dropped.append(paths[-1])
        else:
            kept.append(section)
    return "".join(kept), dropped
