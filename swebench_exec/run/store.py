"""Results on disk: rows are appended to a JSONL journal as they finish; the final JSON is written atomically.

A crash loses nothing finished: the journal holds every row, and `--resume` picks it up.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

SCHEMA_VERSION = 1


class OutputError(ValueError):
    """The --out path cannot be written: a user mistake, reported in one line."""


def journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


def check_writable(out: Path) -> None:
    """Fail before any model is called, not after an hour of paid calls."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise OutputError(f"--out {out} is a directory; give a file name such as {out}/results.json")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".{out.name}.write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write --out {out}: {exc.strerror or exc}") from None


class Journal:
    """Append-only, flushed and fsynced per row; safe to call from worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def append(self, row: dict) -> None:
        line = json.dumps(row, ensure_ascii=True, sort_keys=True)  # escapes lone surrogates a reply may hold
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def read_journal(path: Path) -> list[dict]:
    """Rows of a journal; a last line cut short by a crash is ignored (it is re-run on resume)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and {"model", "task_id", "arm", "sample", "outcome"} <= row.keys():
            rows.append(row)
    return rows


def write_results(out: Path, config: dict, rows: list[dict], summary: dict) -> None:
    document = {"schema_version": SCHEMA_VERSION, "config": config, "summary": summary, "rows": rows}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=True, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, out)


def load_results(path: Path) -> dict:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"no results file at {path}") from None
    except json.JSONDecodeError as exc:
        raise OutputError(f"{path} is not a results JSON: {exc}") from None
    if document.get("schema_version") != SCHEMA_VERSION:
        raise OutputError(f"{path} has schema version {document.get('schema_version')!r}; this tool reads {SCHEMA_VERSION}")
    return document
