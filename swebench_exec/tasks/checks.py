"""Shared pieces of the public tasks' harnesses: the CLI contract text, invoking, and checking outputs safely.

Every public task follows one shape: the program is run ONCE over three input files and writes one JSON answer per
input (``P`` -> ``P + ".json"``), so a crash on case 2 still leaves case 1 scoreable. `check_cases` scores the answers
and explains the first failing case; it never raises, whatever the program left behind (garbage, binary, symlinks,
directories, FIFOs, missing files).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from ..sandbox.base import how_it_ended, run_program
from .protocol import load_reference

MAX_OUTPUT_BYTES = 1024 * 1024  # an answer file larger than this is wrong by definition
SHOWN_CHARS = 160  # how much of an expected/actual value a reason quotes
PASS_REASON = "all 3 cases pass"


@dataclass(frozen=True)
class Case:
    """One input of a task: its file name, a short description (quoted in reasons), its content and expected answer."""

    name: str  # the input file written by prepare, e.g. "case1.csv"
    description: str
    content: str
    expected: Any = None

    @property
    def output(self) -> str:
        return self.name + ".json"


def cli_contract(filename: str, inputs: Sequence[str], entry_point: str = "main") -> str:
    """The paragraph every public prompt shares: file name, exact command line, one answer file per input."""
    args = " ".join(inputs)
    first = inputs[0]
    return (
        f"Write a complete Python 3 program in a single file named `{filename}`, using only the standard library.\n"
        "\n"
        "How it is run: from the directory that holds its input files (your file is placed in that same directory), "
        "exactly as\n"
        "\n"
        f"    python {filename} {args}\n"
        "\n"
        "It receives one or more input file paths as command-line arguments. For each path P, in the order given, it "
        "reads P and writes its answer as JSON (UTF-8) to the file named P + \".json\" "
        f"(for example `{first}` -> `{first}.json`). Handle each input on its own and write each answer file as soon "
        "as that input is done. Nothing needs to be printed.\n"
        "\n"
        f"Put the logic in a top-level function `def {entry_point}():` that takes the input paths from `sys.argv[1:]`, "
        f"and call it under `if __name__ == \"__main__\":`."
    )


def case_task(task_id: str, category: str, prompt: str, filename: str, cases: Sequence[Case], *,
              prepare: Callable | None = None, check: Callable | None = None) -> dict:  # fmt: skip
    """A public task whose program runs once over `cases` (one input file each, one answer file each): the harness
    is made of the shared steps below, bound to the cases (partials pickle, so tasks travel to Ray workers)."""
    return {
        "id": task_id,
        "category": category,
        "prompt": prompt,
        "expected_files": [filename],
        "entry_point": "main",
        "run": " ".join(["python", filename, *(case.name for case in cases)]),
        "harness": {
            "prepare": prepare or partial(write_inputs, cases=cases),
            "invoke": partial(invoke_on_cases, cases=cases),
            "check": check or partial(check_cases, cases=cases),
        },
        "reference": load_reference(task_id, [filename]),
    }


def write_inputs(tmp_dir: Path, cases: Sequence[Case]) -> None:
    tmp_dir = Path(tmp_dir)
    for case in cases:
        (tmp_dir / case.name).write_text(case.content, encoding="utf-8", newline="")


def script_argument(tmp_dir: Path, script_path: Path) -> str:
    """The script as the sandbox sees it: a path relative to tmp_dir (copied in when it lives elsewhere)."""
    tmp_dir = Path(tmp_dir).resolve()
    script = Path(script_path)
    if not script.is_absolute():
        script = tmp_dir / script
    try:
        return str(script.resolve().relative_to(tmp_dir))
    except ValueError:
        target = tmp_dir / script.name
        shutil.copyfile(script, target)
        return script.name


def invoke_on_cases(tmp_dir: Path, script_path: Path, cases: Sequence[Case], timeout: float | None = None):
    """Run the program once over all the cases, in the current sandbox."""
    args = ["python", script_argument(tmp_dir, script_path), *(case.name for case in cases)]
    return run_program(args, cwd=tmp_dir, timeout=timeout)


class OutputProblem(Exception):
    """An answer file that cannot be read as JSON; the message is the reason, quoted as is."""


def read_json_file(path: Path) -> Any:
    """Parse a file the program wrote, refusing anything that is not a plain, small, UTF-8 JSON file."""
    name = Path(path).name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise OutputProblem(f"no output file {name}") from None
    except OSError as exc:  # a symlink (ELOOP), a directory we cannot open, ...
        if os.path.islink(path):
            raise OutputProblem(f"{name} is a symlink, not a file") from None
        raise OutputProblem(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OutputProblem(f"{name} is not a regular file")
        if info.st_nlink > 1:
            raise OutputProblem(f"{name} is a hard link, not a file of its own")
        if info.st_size > MAX_OUTPUT_BYTES:
            raise OutputProblem(f"{name} is too large ({info.st_size} bytes)")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(MAX_OUTPUT_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_OUTPUT_BYTES:
        raise OutputProblem(f"{name} is too large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OutputProblem(f"{name} is not UTF-8 text (starts {_show(data[:40])})") from None
    if not text.strip():
        raise OutputProblem(f"{name} is empty")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise OutputProblem(f"{name} is not valid JSON ({detail}; starts {_show(text[:60])})") from None


def _show(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A short, one-line rendering of a value for a reason."""
    if isinstance(value, (bytes, bytearray)):
        text = repr(bytes(value))
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError, RecursionError):
            text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


def same_json(expected: Any, got: Any) -> bool:
    """JSON equality: objects ignore key order, lists keep it, booleans are not numbers, 2 equals 2.0."""
    return first_difference(expected, got) is None


def first_difference(expected: Any, got: Any, where: str = "") -> str | None:
    """None when equal, else a concrete description of the first difference ("at totals[1].key: expected ..., got ...")."""
    at = f"at {where}: " if where else ""
    numbers = (int, float)
    if isinstance(expected, bool) or isinstance(got, bool):
        if type(expected) is type(got) and expected == got:
            return None
    elif isinstance(expected, numbers) and isinstance(got, numbers):
        return None if expected == got else f"{at}expected {_show(expected)}, got {_show(got)}"
    elif isinstance(expected, dict) and isinstance(got, dict):
        for key in expected:
            if key not in got:
                return f"{at}missing key {_show(key)} (expected {_show(expected, 300)}, got {_show(got, 300)})"
        for key in got:
            if key not in expected:
                return f"{at}unexpected key {_show(key)} (expected {_show(expected, 300)}, got {_show(got, 300)})"
        for key in expected:
            found = first_difference(expected[key], got[key], f"{where}.{key}" if where else str(key))
            if found:
                return found
        return None
    elif isinstance(expected, list) and isinstance(got, list):
        for index, (want, have) in enumerate(zip(expected, got)):
            found = first_difference(want, have, f"{where}[{index}]")
            if found:
                return found
        if len(expected) != len(got):
            return f"{at}expected {len(expected)} items {_show(expected)}, got {len(got)} items {_show(got)}"
        return None
    elif type(expected) is type(got) and expected == got:
        return None
    message = f"{at}expected {_show(expected)}, got {_show(got)}"
    want, have = _type_name(expected), _type_name(got)
    if want != have and "null" not in (want, have):
        message += f" ({have} instead of {want})"
    return message


Judge = Callable[[Any], "str | None"]


def check_cases(proc: Any, tmp_dir: Path, cases: Sequence[Case], judges: Sequence[Judge] | None = None) -> tuple[int, str]:
    """Score = number of cases whose answer file is right; the reason explains the first failing case.

    Each case's answer is compared with `case.expected`, or handed to its judge (answer -> None when right, else the
    problem in words). Never raises: an unreadable answer or a judge that trips over a strange answer is a wrong answer.
    """
    tmp_dir = Path(tmp_dir)
    score = 0
    first_failure = None
    for index, case in enumerate(cases):
        problem = _case_problem(tmp_dir, case, judges[index] if judges else None)
        if problem is None:
            score += 1
            continue
        if first_failure is None:
            if problem.startswith("no output file"):
                note = how_it_ended(proc)
                if note:
                    problem += f" ({note})"
            first_failure = f"case {index + 1} ({case.description}): {problem}"
    if first_failure is None:
        return score, PASS_REASON if len(cases) == 3 else f"all {len(cases)} cases pass"
    return score, first_failure


def _case_problem(tmp_dir: Path, case: Case, judge: Judge | None) -> str | None:
    try:
        got = read_json_file(tmp_dir / case.output)
    except OutputProblem as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - never let a strange file break the checker
        return f"cannot read {case.output}: {type(exc).__name__}: {exc}"
    try:
        if judge is not None:
            return judge(got)
        return first_difference(case.expected, got)
    except Exception as exc:  # noqa: BLE001
        return f"answer has an unexpected shape ({type(exc).__name__}: {exc}): {_show(got)}"
