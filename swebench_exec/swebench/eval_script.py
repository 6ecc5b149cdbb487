"""The bash script that evaluates one instance in its sandbox, and reading its log back.

The script follows swebench's `make_eval_script_list_py` (4.x) and the 5.x exit-code record:

    set -uxo pipefail; activate; cd <repo>; [official setup: the spec's eval_env, git safe.directory, git status/diff]
    [the log guard's pytest plugin, when spec.guard_nonce is set: see guard.py]
    restore the files test_patch touches to base_commit (remove those it creates); git apply -v test_patch (heredoc)
    START marker; <test command> <directives>; record $?; END marker; echo the exit code; restore the test files again

Differences from the official script, all deliberate:
- files test_patch *creates* are removed before it is applied (the official script only restores modified ones, so a
  model that created the same test file made `git apply` fail and the tests ran without the new tests);
- a test_patch that does not apply stops the script before the START marker, with swebench's APPLY_PATCH_FAIL line
  (the official script ran the old tests anyway);
- the markers are echoed with xtrace off, so they appear exactly once on stdout whether or not stderr is merged
  (the official `: '<marker>'` lines exist only in the xtrace on stderr). Run it as `bash eval.sh 2>&1`;
- the repository's install command is not re-run before the tests: the official images already have it installed
  (and with networking off a re-install only costs time).
"""
from __future__ import annotations

import re
import shlex
from typing import Any

from .diffs import patch_paths
from .guard import install_lines
from .spec import CONDA_ENV, TESTBED, EvalSpec, field_of

# swebench.harness.constants, imported on first use: importing anything under swebench.harness costs seconds
# (it pulls in datasets and docker), which commands that never touch SWE-bench should not pay.
_FROM_SWEBENCH = {
    "START_MARKER": "START_TEST_OUTPUT", "END_MARKER": "END_TEST_OUTPUT", "APPLY_PATCH_FAIL": "APPLY_PATCH_FAIL",
    "START_TEST_OUTPUT": "START_TEST_OUTPUT", "END_TEST_OUTPUT": "END_TEST_OUTPUT",
}  # fmt: skip


def __getattr__(name: str) -> str:
    """START_MARKER / END_MARKER: the official markers (">>>>> Start Test Output" / ">>>>> End Test Output")."""
    if name in _FROM_SWEBENCH:
        from swebench.harness import constants

        value = getattr(constants, _FROM_SWEBENCH[name])
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _c(name: str) -> str:
    return globals()[name] if name in globals() else __getattr__(name)


HEREDOC_DELIMITER = "EOF_114329324912"  # the official eval scripts' delimiter
CONDA_ACTIVATE = "/opt/miniconda3/bin/activate"


def _marker_line(marker: str) -> str:
    return f"{{ set +x; }} 2>/dev/null; echo {shlex.quote(marker)}; set -x"


def _activation(activate: str | None) -> list[str]:
    if activate is None or activate == "":
        return []
    if activate == "conda":
        return [f"if [ -f {CONDA_ACTIVATE} ]; then source {CONDA_ACTIVATE}; conda activate {CONDA_ENV}; fi"]
    script = activate if activate.rstrip("/").endswith("/activate") or activate == "activate" else (
        activate.rstrip("/") + "/bin/activate"
    )
    # venv activate scripts of older Pythons read unset variables
    return [f"set +u; source {shlex.quote(script)}; set -u"]


def _files(args: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


def _reset_lines(base_commit: str, spec: EvalSpec) -> list[str]:
    lines = []
    if spec.restored_test_files:
        lines.append(f"git checkout {base_commit} -- {_files(spec.restored_test_files)}")
    if spec.created_test_files:
        lines.append(f"rm -f -- {_files(spec.created_test_files)}")
    return lines


def _apply_lines(test_patch: str) -> list[str]:
    body = test_patch if test_patch.endswith("\n") else test_patch + "\n"
    # an unapplied test_patch would grade the old tests: stop before the START marker instead
    failed = shlex.quote(_c("APPLY_PATCH_FAIL") + " (test_patch)")
    return [f"git apply -v - <<'{HEREDOC_DELIMITER}' || {{ echo {failed}; exit 97; }}\n{body}{HEREDOC_DELIMITER}"]


def eval_script(instance: Any, spec: EvalSpec, repo_dir: str = TESTBED, activate: str | None = "conda",
                *, official_setup: bool | None = None) -> str:
    """The evaluation script for `instance` (bash; run it with stderr merged into stdout).

    activate: "conda" (the official images' `testbed` env, when present), a venv directory or activate script
    path, or None. official_setup (default: activate == "conda") adds what the official images need before the
    tests: the spec's `eval_env` (django's locale settings), git safe.directory, and informational `git status` /
    `git diff`; local sandboxes leave it off.
    """
    from swebench.harness.utils import record_test_exit_code

    if official_setup is None:
        official_setup = activate == "conda"
    base = field_of(instance, "base_commit")
    test_patch = field_of(instance, "test_patch") or ""
    if not base:
        raise ValueError(f"instance {spec.instance_id}: no base_commit")
    lines = [*_activation(activate), f"cd {shlex.quote(repo_dir)}"]
    lines += install_lines(spec.guard_nonce) if spec.guard_nonce else []

    if spec.source == "row" and spec.row_eval_script:
        lines += [f"rm -f -- {_files(spec.created_test_files)}"] if spec.created_test_files else []
        lines += _rewrite_row_script(spec.row_eval_script, repo_dir, activate)
    else:
        if official_setup:
            lines += list(spec.eval_env)
            lines += [
                f"git config --global --add safe.directory {shlex.quote(repo_dir)}",
                "git status",
                f"git -c core.fileMode=false diff {base}",
            ]
        lines += _reset_lines(base, spec)
        lines += _apply_lines(test_patch) if test_patch.strip() else []
        lines += [_marker_line(_c("START_MARKER")), spec.full_test_command, _marker_line(_c("END_MARKER"))]
        lines += _reset_lines(base, spec)
    lines = record_test_exit_code(lines)
    return "\n".join(["#!/bin/bash", "set -uxo pipefail", *lines]) + "\n"


_HEREDOC_START = re.compile(r"<<-?\s*'?\"?([A-Za-z0-9_]+)'?\"?")


def _rewrite_row_script(script: str, repo_dir: str, activate: str | None) -> list[str]:
    """A row's own eval_script, with its markers made ours (echoed once) and — outside heredocs — its /testbed and
    conda activation adapted to `repo_dir` / `activate`. Without both markers, the whole script is the test run."""
    from swebench.harness.utils import parse_eval_script

    out: list[str] = []
    delimiter: str | None = None
    has_start = has_end = False
    for line in parse_eval_script(script):
        if delimiter is not None:
            out.append(line)
            if line == delimiter:
                delimiter = None
            continue
        match = _HEREDOC_START.search(line)
        if match:
            delimiter = match.group(1)
        stripped = line.strip()
        if _c("START_TEST_OUTPUT") in line:
            has_start = True
            out.append(_marker_line(_c("START_MARKER")))
        elif _c("END_TEST_OUTPUT") in line:
            has_end = True
            out.append(_marker_line(_c("END_MARKER")))
        elif stripped.startswith("SWEBENCH_TEST_EXIT_CODE=") or "Test Exit Code" in stripped:
            continue  # record_test_exit_code adds its own
        elif activate != "conda" and (stripped == f"source {CONDA_ACTIVATE}" or stripped == f"conda activate {CONDA_ENV}"):
            continue  # our activation line comes first
        elif repo_dir != TESTBED and stripped in (f"cd {TESTBED}", f"git config --global --add safe.directory {TESTBED}"):
            out.append(line.replace(TESTBED, shlex.quote(repo_dir)))
        else:
            out.append(line)
    if not (has_start and has_end):
        start, end = _marker_line(_c("START_MARKER")), _marker_line(_c("END_MARKER"))
        out = [start, *[line for line in out if line not in (start, end)], end]
    return out


def discarded_test_edits(model_patch: str | None, spec: EvalSpec) -> list[str]:
    """Test files (those test_patch touches) the model's patch changed: the evaluation restores them to base_commit
    before applying test_patch, so these edits are discarded. In the model patch's order."""
    if not model_patch:
        return []
    test_files = set(spec.test_files)
    return [path for path in patch_paths(model_patch) if path in test_files]


_MARKER_PREFIX = re.compile(r"(?:\++ (?::|echo) '?)?")


def extract_test_log(full_log: str | None, keep: int = 200_000) -> str:
    """The test output between the markers ("" without a START marker; to the end of the log without an END marker,
    e.g. after a timeout). If longer than `keep` characters, its head and tail with a note in the middle."""
    if not full_log:
        return ""
    start = full_log.find(_c("START_MARKER"))
    if start < 0:
        return ""
    newline = full_log.find("\n", start)
    body_start = len(full_log) if newline < 0 else newline + 1
    end = full_log.find(_c("END_MARKER"), body_start)
    text = full_log[body_start:] if end < 0 else full_log[body_start:end]
    if end >= 0:
        head_of_end_line = text[text.rfind("\n") + 1 :]
        if _MARKER_PREFIX.fullmatch(head_of_end_line):  # "", or the xtrace of `: '<marker>'` / `echo '<marker>'`
            text = text[: len(text) - len(head_of_end_line)]
    if keep and len(text) > keep:
        head = keep // 2
        tail = keep - head
        omitted = len(text) - head - tail
        text = f"{text[:head]}\n[... {omitted} characters of test output omitted ...]\n{text[-tail:]}"
    return text
