"""SWE-bench instances: loaded from the Hugging Face hub by name or from a local export, validated once, typed.

Rows are checked when they are selected, so a broken row elsewhere in a 2,000-row dataset does not stop a run of
20 instances, while a broken selected row fails before any model is paid for. Every failure is a `DatasetError`
whose message is one line a user can act on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

DEFAULT_DATASET = "SWE-bench/SWE-bench_Verified"

_REQUIRED = (
    "instance_id", "repo", "base_commit", "patch", "test_patch", "problem_statement", "version", "FAIL_TO_PASS",
    "PASS_TO_PASS",
)  # fmt: skip
_LOCAL_SUFFIXES = (".json", ".jsonl", ".parquet")


class DatasetError(ValueError):
    """A dataset or id list we cannot use; the message is one user-facing line."""


@dataclass(frozen=True)
class Instance:
    """One SWE-bench task. `row` keeps the original row because the official harness helpers take rows."""

    instance_id: str
    repo: str
    base_commit: str
    patch: str = field(repr=False)
    test_patch: str = field(repr=False)
    problem_statement: str = field(repr=False)
    version: str
    fail_to_pass: list[str] = field(repr=False)
    pass_to_pass: list[str] = field(repr=False)
    environment_setup_commit: str | None = None
    hints_text: str = field(default="", repr=False)
    created_at: str | None = None
    eval_script: str | None = field(default=None, repr=False)  # newer exports carry these three; classic rows don't
    image: str | None = None
    log_parser: str | None = None
    row: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def cache_name(self) -> str:
        """The repository's directory name in a repo cache: "django/django" -> "django__django"."""
        return self.repo.replace("/", "__")

    @classmethod
    def from_row(cls, row: dict) -> "Instance":
        """Validate and type one dataset row (FAIL_TO_PASS / PASS_TO_PASS as JSON strings or as lists)."""
        name = row.get("instance_id") or "<row without instance_id>"
        missing = [key for key in _REQUIRED if row.get(key) is None]
        if missing:
            raise DatasetError(f"instance {name}: missing required field(s) {', '.join(missing)}")
        return cls(
            instance_id=str(row["instance_id"]),
            repo=str(row["repo"]),
            base_commit=str(row["base_commit"]),
            patch=str(row["patch"]),
            test_patch=str(row["test_patch"]),
            problem_statement=str(row["problem_statement"]),
            version=str(row["version"]),
            fail_to_pass=_test_list(row, "FAIL_TO_PASS", name),
            pass_to_pass=_test_list(row, "PASS_TO_PASS", name),
            environment_setup_commit=_optional(row, "environment_setup_commit"),
            hints_text=_optional(row, "hints_text") or "",
            created_at=_optional(row, "created_at"),
            eval_script=_optional(row, "eval_script"),
            image=_optional(row, "image"),
            log_parser=_optional(row, "log_parser"),
            row=dict(row),
        )


def _optional(row: dict, key: str) -> str | None:
    value = row.get(key)
    return None if value is None else str(value)  # created_at may arrive as a timestamp from parquet


def _test_list(row: dict, key: str, name: str) -> list[str]:
    value = row[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"instance {name}: {key} is not a JSON list ({exc.msg})") from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise DatasetError(f"instance {name}: {key} must be a list of test names")
    return list(value)


def load_instances(dataset: str = DEFAULT_DATASET, ids: list[str] | None = None, split: str = "test") -> list[Instance]:
    """The instances named by `ids` in their order (all rows when None), from a hub name or a local export.

    Local: `.jsonl`, `.json` (a list of rows, or JSON lines as `Dataset.to_json` writes them), `.parquet`, or a
    folder (`save_to_disk` output, or a downloaded hub snapshot). Anything else that is not an existing path is a
    hub name.
    """
    rows = _load_rows(dataset, split)
    if not rows:
        raise DatasetError(f"{dataset} ({split}) holds no rows")
    if ids is None:
        return [Instance.from_row(row) for row in rows]
    by_id = {row.get("instance_id"): row for row in rows}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise DatasetError(f"unknown instance id(s) {shown}: not among the {len(rows)} rows of {dataset} ({split})")
    return [Instance.from_row(by_id[i]) for i in ids]


def _load_rows(dataset: str, split: str) -> list[dict]:
    path = Path(dataset).expanduser()
    if path.is_dir():
        return _rows_from_folder(path, split)
    if path.is_file():
        return _rows_from_file(path)
    if path.suffix in _LOCAL_SUFFIXES:
        raise DatasetError(f"no such dataset file: {dataset}")
    return _rows_from_hub(dataset, split)


def _rows_from_file(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet  # a `datasets` dependency; reading directly skips its cache copy

        return pyarrow.parquet.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return _json_lines(path)
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return _json_lines(path)  # Dataset.to_json writes JSON lines even under a .json name
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON list of rows, found a {type(data).__name__}")
        return data
    kind = path.suffix or "(none)"
    raise DatasetError(f"unknown dataset file type {kind!r}: use .jsonl, .json, .parquet or a folder")


def _json_lines(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not a JSON row ({exc.msg})") from None
    return rows


def _rows_from_folder(path: Path, split: str) -> list[dict]:
    """A `save_to_disk` folder (a Dataset, or a DatasetDict holding `split`), else a folder `datasets` can read."""
    import datasets

    try:
        if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
            loaded = datasets.load_from_disk(str(path))
            return _to_rows(loaded[split] if isinstance(loaded, datasets.DatasetDict) else loaded)
        return _to_rows(datasets.load_dataset(str(path), split=split))
    except KeyError:
        raise DatasetError(f"{path}: no split {split!r} in this dataset folder") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"could not read dataset folder {path} ({_short(exc)})") from None


def _rows_from_hub(name: str, split: str) -> list[dict]:
    import datasets

    try:
        return _to_rows(datasets.load_dataset(name, split=split))
    except Exception as exc:  # the hub client raises many unrelated types (HTTP, offline, auth, missing split)
        raise DatasetError(
            f"could not load {name} from the Hugging Face hub ({_short(exc)}); pass a local file with "
            "--dataset path/to/verified.jsonl (export one with `datasets`)"
        ) from None


def _to_rows(dataset: Iterable[dict[str, Any]]) -> list[dict]:
    return [dict(row) for row in dataset]


def _short(exc: BaseException) -> str:
    """The exception's first line, clipped: hub errors can span screens."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    text = text if len(text) <= 160 else text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_id_list(path: str | Path) -> list[str]:
    """Instance ids from a subset file: one per line; `#` starts a comment (whole-line or trailing); blanks ignored.

    Duplicates are refused rather than merged: a repeated id would silently weight that instance twice.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read instance list {path}: {exc.strerror or exc}") from None
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        instance_id = line.split("#", 1)[0].strip()
        if not instance_id:
            continue
        if instance_id in seen:
            first = seen[instance_id]
            raise DatasetError(f"{path}:{number}: duplicate instance id {instance_id} (first on line {first})")
        seen[instance_id] = number
    if not seen:
        raise DatasetError(f"{path} names no instance (one id a line; '#' starts a comment)")
    return list(seen)
