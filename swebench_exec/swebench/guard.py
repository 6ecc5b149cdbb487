"""The log guard: a check on the official grading for pytest-run repositories, against logs forged in-process.

The official harness grades the test log, and the code under test runs inside the test process: it can print PASSED
lines for tests that failed and leave with status 0, or rewrite pytest's reports as they are made. The eval script
therefore loads a small pytest plugin (pytest_guard_plugin.py) before any code under test; it records, tagged with a
per-evaluation nonce, which tests really failed, whether the session finished, and whether pytest's reporting
functions were replaced. After the official grading, `GuardReport.veto` withdraws a `resolved` the records contradict.

It only ever turns `resolved` into not resolved, and only on evidence no honest run produces, so honest runs grade
exactly as the official harness grades them. Runners other than pytest (django's runtests.py, sympy's bin/test) are
unguarded: their logs are graded as the official harness grades them, forgeable the same way.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

PLUGIN_MODULE = "bench_exec_guard"
PLUGIN_SOURCE = Path(__file__).with_name("pytest_guard_plugin.py")
HEREDOC_DELIMITER = "EOF_BENCH_EXEC_GUARD"
PASSING = ("PASSED", "XFAIL")  # statuses the official grading counts as a pass


def install_lines(nonce: str) -> list[str]:
    """Bash lines that make the plugin importable (the env's site-packages when writable, as in a disposable
    container, else a temporary directory on PYTHONPATH) and have pytest load it; run after the env is active."""
    source = PLUGIN_SOURCE.read_text(encoding="utf-8")
    target = f'"$BENCH_GUARD_DIR/{PLUGIN_MODULE}.py"'
    return [
        "BENCH_GUARD_DIR=$(python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])' 2>/dev/null || true)",
        'if [ -z "$BENCH_GUARD_DIR" ] || [ ! -w "$BENCH_GUARD_DIR" ]; then BENCH_GUARD_DIR=$(mktemp -d); '
        'export PYTHONPATH="$BENCH_GUARD_DIR${PYTHONPATH:+:$PYTHONPATH}"; fi',
        f"cat > {target} <<'{HEREDOC_DELIMITER}'\n{source}{HEREDOC_DELIMITER}",
        f"export PYTEST_PLUGINS={PLUGIN_MODULE} BENCH_GUARD_NONCE={shlex.quote(nonce)}",
    ]


@dataclass
class GuardReport:
    """What the plugin recorded in one evaluation's log."""

    sessions: int = 0  # pytest sessions that started with the plugin loaded
    finished: int = 0  # ... and reached their end
    failed: dict[str, dict] = field(default_factory=dict)  # test id -> what really happened
    replaced: list[str] = field(default_factory=list)  # pytest internals swapped during the run

    @property
    def active(self) -> bool:
        return self.sessions > 0

    def veto(self, statuses: dict[str, str]) -> str | None:
        """Why the official statuses cannot be trusted, or None. `statuses`: test -> official TestStatus value."""
        if not self.active:
            return None
        if self.replaced:
            return f"log forged: the code under test replaced pytest's {', '.join(self.replaced)}"
        forged = sorted(t for t in self.failed if statuses.get(t) in PASSING)
        if forged:
            more = f" and {len(forged) - 1} more" if len(forged) > 1 else ""
            return f"log forged: the log reports {forged[0]}{more} as passed, but it failed ({self.failed[forged[0]]['error']})"
        if self.finished < self.sessions:
            return ("log untrusted: pytest never finished its session (os._exit, a crash or a kill in the test "
                    "process), so its PASSED lines are not evidence")  # fmt: skip
        return None

    def record(self) -> dict:
        return {"sessions": self.sessions, "finished": self.finished, "failed": len(self.failed),
                "replaced": list(self.replaced)}  # fmt: skip


def read_guard(log: str, nonce: str) -> GuardReport:
    """The plugin's records in `log` (lines tagged with this evaluation's nonce; anything else is ignored)."""
    report = GuardReport()
    for match in re.finditer(rf"BENCH-GUARD {re.escape(nonce)} (\{{.*\}})$", log, re.MULTILINE):
        try:
            record = json.loads(match.group(1))
        except ValueError:
            continue
        event = record.get("event")
        if event == "start":
            report.sessions += 1
        elif event == "end":
            report.finished += 1
            report.replaced += [r for r in record.get("replaced", []) if r not in report.replaced]
        elif event == "failed" and isinstance(record.get("test"), str):
            report.failed.setdefault(record["test"], record)
    return report
