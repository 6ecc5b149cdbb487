"""Grading a SWE-bench evaluation log exactly as the official harness (swebench 5.x) does.

Everything that decides an outcome is swebench's own code: `get_logs_eval` (bad-code lines, markers, slicing,
the per-repo parser from PARSER_REGISTRY, the whole-log fallback, the exit-code cross-check),
`get_eval_tests_report` (FAIL_TO_PASS / PASS_TO_PASS with its rules: PASSED and XFAIL pass, a SKIPPED
FAIL_TO_PASS test fails while a SKIPPED PASS_TO_PASS test is maintained, a missing test fails, truncated
parametrised ids prefix-match), `get_resolution_status` and `compute_fail_to_pass` / `compute_pass_to_pass`.
What is ours: packaging the inputs, and a one-line reason when there is no usable log.
"""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from .spec import EvalSpec, field_of

# swebench is imported inside the functions: importing swebench.harness costs seconds (datasets, docker).

NO_LOG = "no_log"


@dataclass
class Grade:
    resolved: bool
    status: str  # ResolvedStatus value ("RESOLVED_FULL" | "RESOLVED_PARTIAL" | "RESOLVED_NO") or "no_log"
    fail_to_pass: dict = field(default_factory=lambda: {"success": [], "failure": []})
    pass_to_pass: dict = field(default_factory=lambda: {"success": [], "failure": []})
    f2p_fraction: float | None = None
    p2p_fraction: float | None = None
    statuses: dict[str, str] = field(default_factory=dict)  # parsed test -> TestStatus value
    reason: str | None = None  # why there is no usable log (status "no_log"), else None
    infra_hint: str | None = None  # swebench's infra-failure classification of an unusable log, e.g. "out_of_memory"

    def record(self) -> dict:
        """JSON-ready summary (per-test statuses reduced to counts: a sympy run parses thousands)."""
        return {
            "resolved": self.resolved,
            "status": self.status,
            "reason": self.reason,
            "infra_hint": self.infra_hint,
            "fail_to_pass": {k: list(v) for k, v in self.fail_to_pass.items()},
            "pass_to_pass": {k: list(v) for k, v in self.pass_to_pass.items()},
            "f2p_fraction": self.f2p_fraction,
            "p2p_fraction": self.p2p_fraction,
            "tests_parsed": len(self.statuses),
            "status_counts": dict(sorted(Counter(self.statuses.values()).items())),
        }


def test_spec(instance: Any, spec: EvalSpec):
    """swebench's TestSpec for this instance (what its parsers and grading functions take)."""
    from swebench.types import TestSpec

    return TestSpec(
        instance_id=spec.instance_id,
        image=field_of(instance, "image") or "",
        eval_script_list=[],
        repo=spec.repo,
        version=spec.version,
        FAIL_TO_PASS=field_of(instance, "fail_to_pass"),
        PASS_TO_PASS=field_of(instance, "pass_to_pass"),
        log_parser=spec.log_parser,
        eval_type=spec.eval_type,
    )


test_spec.__test__ = False  # not a pytest test, whatever its name


def _official_parser(instance: Any, spec: EvalSpec) -> Callable[[str], dict[str, str]]:
    """log -> {test name: status}, by the official parser for this instance (spec.log_parser)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY

    parser, parser_spec = PARSER_REGISTRY[spec.log_parser], test_spec(instance, spec)
    return lambda log: parser(log, parser_spec)


def parse_log(instance: Any, spec: EvalSpec, test_log: str) -> dict[str, str]:
    """Test name -> status, by the official parser for this instance (spec.log_parser)."""
    return _official_parser(instance, spec)(test_log or "")


def resolved_keys(tests: list[str], statuses: dict[str, str]) -> list[str]:
    """The status-map keys the official grading reads for `tests` (a dataset id cut mid-parameter matches the full
    ids it begins, as swebench resolves it); tests it finds no key for are left out."""
    from swebench.harness import grading

    resolve = getattr(grading, "_resolve_case", lambda case, found: case if case in found else None)
    return [key for key in (resolve(test, statuses) for test in tests) if key is not None]


def log_namer(instance: Any, spec: EvalSpec) -> Callable[[str], str]:
    """test id -> the name this instance's parser gives it in a summary line (`PASSED <id>`), e.g. a parametrised id
    cut at its first space; the log guard reads its records through it, so they name tests as the grading does."""
    parse = _official_parser(instance, spec)

    def name(test_id: str) -> str:
        names = list(parse(f"PASSED {test_id}"))
        return names[0] if len(names) == 1 else test_id

    return name


def grade(instance: Any, spec: EvalSpec, test_log: str | None, *, extracted: bool = False) -> Grade:
    """Grade the full evaluation log (markers included) by the official rules.

    extracted=True: `test_log` is already the text between the markers (e.g. `extract_test_log` output) and is
    graded as if it had them. An empty/None log, or one without markers (the tests never ran: apply failure,
    timeout, crash), is not resolved: status "no_log" with a reason.
    """
    from swebench.harness.grading import (
        compute_fail_to_pass,
        compute_pass_to_pass,
        get_eval_tests_report,
        get_logs_eval,
        get_resolution_status,
    )
    from swebench.harness.constants import END_TEST_OUTPUT, FAIL_TO_PASS, PASS_TO_PASS, START_TEST_OUTPUT, EvalType
    from swebench.harness.constants import ResolvedStatus
    from swebench.harness.infra_failure import classify_text

    f2p = field_of(instance, "fail_to_pass")
    p2p = field_of(instance, "pass_to_pass")
    if not test_log or not test_log.strip():
        return _no_log(f2p, p2p, "empty log: the tests never ran (nothing was captured)")
    content = f"{START_TEST_OUTPUT}\n{test_log}\n{END_TEST_OUTPUT}\n" if extracted else test_log

    ts = test_spec(instance, spec)
    fd, path = tempfile.mkstemp(prefix="swebench-log-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(content)
        status_map, found = get_logs_eval(ts, path)
    finally:
        os.unlink(path)
    if not found:
        hint = classify_text(content)
        parsed = parse_log(instance, spec, content)  # get_logs_eval falls back to the whole log too
        return _no_log(f2p, p2p, _why_unusable(content, bool(parsed)), infra_hint=hint[0] if hint else None)

    report = get_eval_tests_report(
        status_map, {"instance_id": spec.instance_id, FAIL_TO_PASS: f2p, PASS_TO_PASS: p2p},
        eval_type=EvalType(spec.eval_type),
    )  # fmt: skip
    status = get_resolution_status(report)
    return Grade(
        resolved=status == ResolvedStatus.FULL.value,
        status=status,
        fail_to_pass=report[FAIL_TO_PASS],
        pass_to_pass=report[PASS_TO_PASS],
        f2p_fraction=float(compute_fail_to_pass(report)),
        p2p_fraction=float(compute_pass_to_pass(report)),
        statuses=dict(status_map),
    )


def _no_log(f2p: list[str], p2p: list[str], reason: str, infra_hint: str | None = None) -> Grade:
    return Grade(
        resolved=False, status=NO_LOG, reason=reason, infra_hint=infra_hint,
        fail_to_pass={"success": [], "failure": list(f2p)}, pass_to_pass={"success": [], "failure": list(p2p)},
    )  # fmt: skip


def _why_unusable(content: str, parsed_any: bool) -> str:
    """One line on why get_logs_eval found no usable results (checked in its order)."""
    from swebench.harness.constants import (
        APPLY_PATCH_FAIL, END_TEST_OUTPUT, RESET_FAILED, START_TEST_OUTPUT, TESTS_ERROR, TESTS_TIMEOUT,
    )  # fmt: skip
    from swebench.harness.grading import parse_test_exit_code

    if APPLY_PATCH_FAIL in content:
        return "a patch did not apply: the tests never ran"
    if TESTS_TIMEOUT in content:
        return "the tests timed out"
    if RESET_FAILED in content:
        return "resetting the repository failed"
    if TESTS_ERROR in content:
        return "the test run errored"
    has_start, has_end = START_TEST_OUTPUT in content, END_TEST_OUTPUT in content
    if not has_start:
        return "no test-output markers in the log: the tests never ran"
    if not has_end:
        return "the test output has no end marker: the run was cut short (killed or timed out)"
    code = parse_test_exit_code(content)
    if parsed_any and code not in (None, 0):
        return f"the test command exited {code} but its log reports no failing test: the log cannot be trusted"
    return "no test results could be parsed from the log"
