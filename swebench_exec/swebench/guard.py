"""The log guard: a check on the official grading for pytest-run repositories, against logs forged in-process.

The official harness grades the test log, and the code under test runs inside the test process: it can print PASSED
lines for tests that failed and leave with status 0, rewrite pytest's reports as they are made, xfail or skip its own
failures, or stop test functions from running. The eval script therefore loads a small pytest plugin
(pytest_guard_plugin.py) before any code under test; it records, tagged with a per-evaluation nonce, which tests
pytest ran, which really failed, which were skipped by a raise from which file, whether the session finished, which
of pytest's functions were replaced, and which files implement the hooks that collect, run and report tests. After
the official grading, `GuardReport.veto` withdraws a `resolved` the records contradict for a FAIL_TO_PASS or
PASS_TO_PASS test. Test ids are read through the instance's own log parser (`read_guard`'s `name`), so a record and
the log line it checks name a test the same way, parametrised ids cut at a space included.

It only ever turns `resolved` into not resolved, and only on evidence no honest run produces, so honest runs grade
exactly as the official harness grades them. Runners other than pytest (django's runtests.py, sympy's bin/test) are
unguarded: their logs are graded as the official harness grades them, forgeable the same way.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..sandbox.capture import CUT_MARK

PLUGIN_NAME = "bench_exec_guard"  # the plugin's module is PLUGIN_NAME_<nonce>: the patch cannot have planted it
PLUGIN_SOURCE = Path(__file__).with_name("pytest_guard_plugin.py")
HEREDOC_DELIMITER = "EOF_BENCH_EXEC_GUARD"
PASSING = ("PASSED", "XFAIL")  # statuses the official grading counts as a pass
SKIP_PASSING = ("XFAIL", "SKIPPED")  # ... and a skipped PASS_TO_PASS test counts as maintained
COUNTED = ("PASSED", "XFAIL", "SKIPPED")  # every status that can count toward `resolved`
UNFINISHED_EXIT = (2, 3)  # pytest's "interrupted" and "internal error": the session did not run its tests through


def install_lines(nonce: str) -> list[str]:
    """Bash lines that make the plugin importable (the env's site-packages when writable, as in a disposable
    container, else a temporary directory on PYTHONPATH) and have pytest load it; run after the env is active."""
    if not nonce.isalnum():
        raise ValueError(f"the guard's nonce must be alphanumeric, not {nonce!r}")
    source = PLUGIN_SOURCE.read_text(encoding="utf-8")
    module = f"{PLUGIN_NAME}_{nonce}"
    return [
        "BENCH_GUARD_DIR=$(python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])' 2>/dev/null || true)",
        'if [ -z "$BENCH_GUARD_DIR" ] || [ ! -w "$BENCH_GUARD_DIR" ]; then BENCH_GUARD_DIR=$(mktemp -d); '
        'export PYTHONPATH="$BENCH_GUARD_DIR${PYTHONPATH:+:$PYTHONPATH}"; fi',
        f"cat > \"$BENCH_GUARD_DIR/{module}.py\" <<'{HEREDOC_DELIMITER}'\n{source}{HEREDOC_DELIMITER}",
        f"export PYTEST_PLUGINS={module} BENCH_GUARD_NONCE={nonce}",
    ]


@dataclass
class GuardReport:
    """What the plugin recorded in one evaluation's log."""

    sessions: int = 0  # pytest sessions that started with the plugin loaded
    exit_statuses: list[int] = field(default_factory=list)  # ... of those that reached their end
    ran: set[str] = field(default_factory=set)  # tests whose call phase pytest ran
    set_up: set[str] = field(default_factory=set)  # tests pytest set up (called or not: skipped, xfailed at setup)
    failed: dict[str, dict] = field(default_factory=dict)  # test id -> how it really failed (last call still failing)
    skipped_from: dict[str, str] = field(default_factory=dict)  # test id -> file whose raise skipped / xfailed it
    replaced: list[str] = field(default_factory=list)  # pytest internals swapped during the run
    hook_files: list[str] = field(default_factory=list)  # repository files implementing collect/run/report hooks
    cut: bool = False  # the harness cut the log's middle (over its output limit): records may be missing

    @property
    def active(self) -> bool:
        return self.sessions > 0

    def veto(self, statuses: dict[str, str], required: list[str], changed: set[str]) -> str | None:
        """Why the official statuses of the `required` tests (FAIL_TO_PASS + PASS_TO_PASS, named by their keys in
        `statuses`, as the grading resolved them) cannot be trusted, or None. `statuses`: test -> official TestStatus
        value; `changed`: the paths of the model's patch that the tests ran with."""
        if not self.active:
            return None
        if self.replaced:
            return f"log forged: the code under test replaced pytest's {', '.join(self.replaced)}"
        planted = sorted(f for f in self.hook_files if f in changed)
        if planted:
            return f"log forged: the patch implements pytest hooks that collect, run or report tests ({', '.join(planted)})"
        forged = [t for t in required if t in self.failed and statuses.get(t) in COUNTED]
        if forged:
            return (f"log forged: the log reports {_some(forged)} as {statuses[forged[0]]}, but it failed "
                    f"({self.failed[forged[0]]['error']})")  # fmt: skip
        dodged = [t for t in required if self.skipped_from.get(t) in changed and statuses.get(t) in SKIP_PASSING]
        if dodged:
            return f"log forged: {dodged[0]} was skipped or xfailed from the patched {self.skipped_from[dodged[0]]}"
        if len(self.exit_statuses) < self.sessions or any(s in UNFINISHED_EXIT for s in self.exit_statuses):
            return ("log untrusted: pytest did not finish its session (interrupted, os._exit, a crash or a kill in "
                    "the test process), so its PASSED lines are not evidence")  # fmt: skip
        never_ran = [t for t in required if t not in (self.ran if statuses.get(t) == "PASSED" else self.set_up)
                     and statuses.get(t) in COUNTED]  # fmt: skip
        if never_ran:
            cut = " (the harness cut the log's middle, where its record may have been)" if self.cut else ""
            return (f"log forged: the log reports {_some(never_ran)} as {statuses[never_ran[0]]}, but pytest never "
                    f"ran it{cut}")  # fmt: skip
        return None

    def record(self) -> dict:
        return {"sessions": self.sessions, "finished": len(self.exit_statuses), "ran": len(self.ran),
                "failed": len(self.failed), "replaced": list(self.replaced), "hook_files": list(self.hook_files)}  # fmt: skip


def _some(tests: list[str]) -> str:
    return tests[0] + (f" and {len(tests) - 1} more" if len(tests) > 1 else "")


def pytest_log_name(test_id: str) -> str:
    """How swebench's plain pytest parser names a test: the summary line's first word after the status."""
    return (test_id.split() or [test_id])[0]


def read_guard(log: str, nonce: str, name: Callable[[str], str] = pytest_log_name) -> GuardReport:
    """The plugin's records in `log` (lines tagged with this evaluation's nonce; anything else is ignored), each
    test named by `name` as the instance's log parser names it."""
    report = GuardReport(cut=CUT_MARK.search(log) is not None)
    for match in re.finditer(rf"BENCH-GUARD {re.escape(nonce)} (\{{.*\}})$", log, re.MULTILINE):
        try:
            record = json.loads(match.group(1))
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        event, test = record.get("event"), record.get("test")
        test = name(test) if isinstance(test, str) else None
        if event == "start":
            report.sessions += 1
        elif event == "end":
            report.exit_statuses.append(record.get("exitstatus") if isinstance(record.get("exitstatus"), int) else -1)
            report.replaced += [r for r in record.get("replaced", []) if r not in report.replaced]
            report.hook_files += [f for f in record.get("hook_files", []) if f not in report.hook_files]
        elif event == "ran" and test is not None:
            report.set_up.add(test)
            if record.get("call") is True:
                report.ran.add(test)
        elif event == "failed" and isinstance(test, str):
            report.failed[test] = record
        elif event == "ok" and isinstance(test, str):
            report.failed.pop(test, None)
        elif event == "skipped" and isinstance(test, str) and isinstance(record.get("origin"), str):
            report.skipped_from[test] = record["origin"]
    return report
