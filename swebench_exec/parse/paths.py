"""Path rules for files a model asks us to write: relative, normalised, inside the root, never under `.git/`.

Model output is hostile input. Every path goes through `normalise_path` at parse time (so the format score and the
record see the same name the executor writes) and through `safe_join` at write time (only the filesystem can tell
whether a component is a symlink).
"""
from __future__ import annotations

import re
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")  # `C:\x` and `C:x` are Windows-absolute (or drive-relative): both leave the root
_WRAPPERS = "`'\"*"  # markdown and quoting that models put around paths


class PathRefused(ValueError):
    """A path we will not write. `reason` is a stable token ("absolute", "escapes_root", "git_dir", "empty",
    "invalid", "through_symlink") that records and scores compare; the message is for people."""

    def __init__(self, reason: str, path: str) -> None:
        super().__init__(f"refused path {path!r}: {reason}")
        self.reason = reason
        self.path = path


def _unwrap(raw: str) -> str:
    """Peel whitespace, a trailing ':' and surrounding quotes/backticks/bold until nothing changes (`**`x`**:`)."""
    text, previous = raw, None
    while text != previous:
        previous = text
        text = text.strip().rstrip(":").strip(_WRAPPERS)
    return text


MAX_DEPTH = 32
MAX_PATH_CHARS = 1024


def normalise_path(raw: str) -> str:
    """The canonical relative form of `raw` ('./a//b' -> 'a/b', backslashes -> '/'), or `PathRefused`.

    `~` counts as absolute: it names a home directory, never a file inside the project. `.git` is refused at any depth
    and in any case, since a nested `.git` (or `.GIT` on a case-insensitive disk) is still git metadata.
    """
    text = _unwrap(raw)
    if any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise PathRefused("invalid", raw)  # NUL, newline or half a surrogate pair: no filesystem takes it as meant
    text = text.replace("\\", "/")
    if text.startswith(("/", "~")) or _DRIVE.match(text):
        raise PathRefused("absolute", raw)
    parts: list[str] = []
    for part in text.split("/"):
        if part == "..":
            if not parts:
                raise PathRefused("escapes_root", raw)
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise PathRefused("empty", raw)
    if len(parts) > MAX_DEPTH or len(text) > MAX_PATH_CHARS or any(len(p.encode()) > 255 for p in parts):
        raise PathRefused("too_long", raw)  # no project needs it; deep trees only exhaust the harness
    if any(part.lower() == ".git" for part in parts):
        raise PathRefused("git_dir", raw)
    return "/".join(parts)


def safe_join(root: Path, rel: str) -> Path:
    """The absolute path to write `rel` under `root`, refusing any existing component that is a symlink.

    A symlink planted in the tree (by the task's own files or an earlier write) would let a write land outside the
    root, so no component may be one, including the file itself.
    """
    target = Path(root).resolve()
    for part in normalise_path(rel).split("/"):
        target = target / part
        if target.is_symlink():
            raise PathRefused("through_symlink", rel)
    return target


def write_files(root: Path, files: dict[str, str]) -> list[tuple[str, str]]:
    """Write every file under `root`; return `(path, reason)` for those refused or unwritable instead of raising,
    so one bad path costs that file only and is recorded."""
    refused: list[tuple[str, str]] = []
    for rel, content in files.items():
        try:
            target = safe_join(root, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8", newline="")  # newline="": no newline translation
        except PathRefused as exc:
            refused.append((rel, exc.reason))
        except (OSError, UnicodeError) as exc:  # a file where a directory must go, a lone surrogate, ...
            refused.append((rel, f"write_error: {exc}"))
    return refused
