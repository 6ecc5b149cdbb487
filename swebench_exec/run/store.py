"""Results on disk: rows are appended to a JSONL journal as they finish; the final JSON is written atomically.

A crash loses nothing finished: the journal holds every row, and `--resume` picks it up.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Iterable, Iterator

SCHEMA_VERSION = 1


class OutputError(ValueError):
    """The --out path cannot be written: a user mistake, reported in one line."""


JOURNAL_SUFFIX = ".journal.jsonl"


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + JOURNAL_SUFFIX)


def check_writable(out: Path, option: str = "--out") -> None:
    """Fail before any model is called, not after an hour of paid calls."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise OutputError(f"{option} {out} is a directory; give a file name such as {out}/results.json")
    blocking = next((a for a in (parent, *parent.parents) if a.exists() and not a.is_dir()), None)
    if blocking is not None:
        raise OutputError(f"cannot write {option} {out}: {blocking} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".{out.name}.{os.getpid()}.write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write {option} {out}: {exc.strerror or exc}") from None


class OutputLock:
    """One run at a time per results file: an flock held for the whole run, released by the kernel however the
    process ends. The lock files live in the user's cache (named by the results file's absolute path), not beside the
    results."""

    def __init__(self, out: Path) -> None:
        digest = hashlib.sha256(str(Path(out).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        self.path = _lock_dir() / f"{digest}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _lock_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bench-by-execution" / "locks"
    for folder in (cache, Path(tempfile.gettempdir()) / f"bench-by-execution-locks-{os.getuid()}"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    raise OutputError(f"no writable folder for run locks ({cache})")


class Journal:
    """Append-only, flushed and fsynced per row; safe to call from worker threads. A new journal starts with a
    `{"run_config": ...}` line (not a row: readers skip it), so a resume can check it continues the same settings."""

    def __init__(self, path: Path, config: dict | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        empty = not path.exists() or path.stat().st_size == 0
        torn = not empty and _last_byte(path) != b"\n"
        self._file = open(path, "a", encoding="utf-8")
        if torn:  # a crash mid-line: end that line so the next row starts on its own
            self._file.write("\n")
        if empty and config is not None:
            self._write({"run_config": config})

    def append(self, row: dict) -> None:
        self._write(row)

    def _write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=True, sort_keys=True)  # escapes lone surrogates a reply may hold
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


ROW_FIELDS = {"model", "task_id", "arm", "sample", "outcome"}


def iter_journal(path: Path) -> Iterator[tuple[int, dict]]:
    """(byte offset, row) for every valid row; a last line cut short by a crash is skipped (it is re-run)."""
    if not path.exists():
        return
    with open(path, "rb") as journal:
        while True:
            offset = journal.tell()
            line = journal.readline()
            if not line:
                return
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(row, dict) and ROW_FIELDS <= row.keys():
                yield offset, row


def journal_config(path: Path) -> dict | None:
    """The settings the journal's run started with (None for a journal without that line)."""
    try:
        with open(path, "rb") as journal:
            first = json.loads(journal.readline())
    except (OSError, ValueError):
        return None
    return first.get("run_config") if isinstance(first, dict) else None


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1)


def read_journal(path: Path) -> list[dict]:
    return [row for _, row in iter_journal(path)]


def rows_at(path: Path, offsets: Iterable[int]) -> Iterator[dict]:
    """The rows at `offsets`, read one at a time: the results file is assembled without holding the run in memory."""
    with open(path, "rb") as journal:
        for offset in offsets:
            journal.seek(offset)
            yield json.loads(journal.readline())


def write_results(out: Path, config: dict, rows: Iterable[dict], summary: dict) -> None:
    """Stream the document (rows one per line inside the array), then move it into place atomically."""
    tmp = out.with_name(out.name + ".tmp")
    dump = lambda value: json.dumps(value, ensure_ascii=True, sort_keys=True)  # noqa: E731 - lone surrogates escaped
    with open(tmp, "w", encoding="utf-8") as document:
        document.write(f'{{"schema_version": {SCHEMA_VERSION},\n"config": {dump(config)},\n"summary": {dump(summary)},\n"rows": [')
        for index, row in enumerate(rows):
            document.write(("\n" if index == 0 else ",\n") + dump(row))
        document.write("\n]}\n")
    os.replace(tmp, out)


def is_results_file(path: Path) -> bool:
    """Whether `path` starts like a results document (write_results puts schema_version first): cheap enough to ask
    of any file before it is replaced."""
    try:
        with open(path, "rb") as file:
            head = file.read(64)
    except OSError:
        return False
    return re.match(rb'\s*\{\s*"schema_version"\s*:', head) is not None


RESULT_ROW_KEYS = ("model", "task_id", "arm", "outcome")


def load_results(path: Path) -> dict:
    """A results document, checked for the parts every reader relies on; a bad file is one OutputError line."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give a results JSON file, e.g. {path}/results.json")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"no results file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    except json.JSONDecodeError as exc:
        if path.name.endswith(JOURNAL_SUFFIX):
            raise OutputError(f"{path} is a run's journal: give its results file, "
                              f"{path.with_name(path.name[: -len(JOURNAL_SUFFIX)])}") from None  # fmt: skip
        raise OutputError(f"{path} is not a results JSON: {exc}") from None
    if not isinstance(document, dict):
        raise OutputError(f"{path} is not a results JSON: not an object")
    if document.get("schema_version") != SCHEMA_VERSION:
        raise OutputError(f"{path} has schema version {document.get('schema_version')!r}; this tool reads {SCHEMA_VERSION}")
    rows = document.get("rows")
    if not isinstance(rows, list) or not isinstance(document.get("config", {}), dict):
        raise OutputError(f"{path} is not a results JSON: no rows list")
    for i, row in enumerate(rows):
        missing = [k for k in RESULT_ROW_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise OutputError(f"{path} is not a results JSON: row {i} has no {', '.join(missing)}")
    return document
