"""From a model's reply to a patch: write its files into the instance's worktree and record what changed.

The reply is read as the public tier reads it (DESIGN §4): FILE blocks first, written under the path rules; without
any, the executor's fallbacks, identically for every model: fenced blocks labelled with one of the oracle files
(`parse.extract_program`'s "named_block" step), then a unified diff in the reply. The public tier's third step, the
last anonymous Python block, is not used here: written as a whole file, a snippet would wipe out a module.

What is recorded is not what the reply said but what the tree holds afterwards (`record_patch`), as a patch that
`git apply` reproduces on a clean checkout: that is what the sandbox evaluates and what predictions export.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..parse import PathRefused, extract_program, parse_file_blocks, safe_join, strip_think, write_files
from ..parse.fenced import scan_blocks
from .dataset import Instance
from .diffs import PatchError, apply_patch, diff_strip_level, patch_files
from .prompt import oracle_paths

_DIFF_LANGUAGES = frozenset({"diff", "patch", "udiff"})
_DIFF_START = re.compile(r"^(?:diff --git |--- \S.*\n\+\+\+ \S)", re.MULTILINE)
_HUNK_DIFF = re.compile(r"^--- \S.*\n\+\+\+ \S.*\n@@ ", re.MULTILINE)

# Directories and suffixes that tools, not authors, create: never part of a recorded patch.
_CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox",
                         ".eggs", ".ipynb_checkpoints"})  # fmt: skip
_CACHE_SUFFIXES = (".pyc", ".pyo", ".egg-info")


@dataclass
class AppliedEdits:
    """What a reply did to the worktree. method: "file_blocks" | "named_block" | "diff" | "none"."""

    patch: str
    files_written: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path as written, reason)
    method: str = "none"
    detail: str = ""

    def record(self) -> dict:
        """The results row's view, JSON-ready."""
        data = asdict(self)
        data["refused"] = [list(item) for item in self.refused]
        return data


def apply_response(text: str, repo_dir: Path, instance: Instance) -> AppliedEdits:
    """Apply `text` to the clean worktree `repo_dir` of `instance` and record the resulting patch."""
    parsed = parse_file_blocks(text)
    refused = [(d.path or "", d.detail) for d in parsed.defects if d.kind == "refused_path"]
    if parsed.files:
        edits = _write(repo_dir, parsed.files, "file_blocks", f"{len(parsed.files)} file(s) from FILE blocks")
    else:
        edits = _from_named_blocks(text, repo_dir, instance) or _from_diff(text, repo_dir)
    edits.refused[:0] = refused
    edits.patch = record_patch(repo_dir)
    return edits


def _write(repo_dir: Path, files: dict[str, str], method: str, detail: str) -> AppliedEdits:
    refused = write_files(repo_dir, files)
    written = [path for path in files if path not in {path for path, _ in refused}]
    return AppliedEdits("", written, refused, method, detail)


def _is_diff(content: str) -> bool:
    return content.startswith("diff --git ") or bool(_HUNK_DIFF.search(content))


def _from_named_blocks(text: str, repo_dir: Path, instance: Instance) -> AppliedEdits | None:
    """Blocks labelled with an oracle file, except those holding a diff (a labelled ```diff is for `_from_diff`)."""
    extraction = extract_program(text, oracle_paths(instance))
    if extraction.method != "named_block":
        return None
    files = {path: content for path, content in extraction.files.items() if not _is_diff(content)}
    return _write(repo_dir, files, "named_block", extraction.detail) if files else None


def find_diff(text: str) -> str | None:
    """The unified diff in a reply: every fenced block tagged diff/patch or holding one, joined (models often give
    one block per file); failing that, bare diff text from its first header to the end of the reply."""
    body = strip_think(text)
    blocks = [b.content for b in scan_blocks(body.split("\n")) if b.language in _DIFF_LANGUAGES or _is_diff(b.content)]
    if blocks:
        return "".join(blocks)
    match = _DIFF_START.search(body)
    return body[match.start() :] if match else None


def _from_diff(text: str, repo_dir: Path) -> AppliedEdits:
    diff = find_diff(text)
    if diff is None:
        return AppliedEdits("", detail="no accepted FILE block, no fenced block named an oracle file, no unified diff")
    try:
        touched = patch_files(diff).touched
        if not touched:
            raise PatchError("no file headers in the diff")
        strip = diff_strip_level(diff)
        refused = _refused_paths(repo_dir, touched)
        if refused:
            return AppliedEdits("", [], refused, "none", "diff not applied: it touches refused paths")
        apply_patch(repo_dir, diff, strip=strip)
    except PatchError as exc:
        return AppliedEdits("", detail=f"diff found but not applied: {exc}")
    return AppliedEdits("", touched, [], "diff", f"unified diff touching {len(touched)} file(s)")


def _refused_paths(repo_dir: Path, paths: list[str]) -> list[tuple[str, str]]:
    """The path rules of FILE blocks, applied to a diff's paths before any tool sees them."""
    refused = []
    for path in paths:
        try:
            safe_join(repo_dir, path)
        except PathRefused as exc:
            refused.append((path, exc.reason))
    return refused


def _is_kept(repo_dir: Path, rel: str) -> bool:
    """An untracked file belongs in the patch when it is a regular UTF-8 text file outside every cache."""
    parts = rel.split("/")
    if any(part in _CACHE_DIRS or part.endswith(_CACHE_SUFFIXES) for part in parts):
        return False
    path = repo_dir / rel
    if path.is_symlink() or not path.is_file():
        return False
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def record_patch(repo_dir: Path) -> str:
    """Every change in the worktree against HEAD as one patch: tracked edits and deletions, plus untracked text
    files the repository does not ignore (caches and binaries left out). Built in a copy of the index, so the
    worktree's own index is untouched; written with fixed options so that no user git config changes its form."""
    import git

    repo_dir = Path(repo_dir)
    runner = git.Git(str(repo_dir))
    untracked = runner.ls_files("--others", "--exclude-standard", "-z", strip_newline_in_stdout=False).split("\0")
    kept = [rel for rel in untracked if rel and _is_kept(repo_dir, rel)]
    index = repo_dir / runner.rev_parse("--git-path", "index")
    with tempfile.TemporaryDirectory() as tmp:
        # literal pathspecs: a model may name a file ":(glob)*"
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_LITERAL_PATHSPECS": "1"}
        if index.is_file():
            Path(env["GIT_INDEX_FILE"]).write_bytes(index.read_bytes())  # keeps the stat cache: no full re-hash
        else:
            runner.read_tree("HEAD", env=env)
        runner.add("--update", env=env)
        if kept:
            runner.add("--", *kept, env=env)
        out = runner.diff("--cached", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
                          "--src-prefix=a/", "--dst-prefix=b/", "HEAD",
                          env=env, stdout_as_string=False, strip_newline_in_stdout=False)  # fmt: skip
    return out.decode("utf-8", "surrogateescape")
