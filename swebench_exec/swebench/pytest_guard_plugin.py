"""bench_exec_guard: a pytest plugin the SWE-bench eval script loads (PYTEST_PLUGINS) before any code under test.

Never imported by swebench_exec itself: the eval script writes this file into the sandbox. It must run on every
Python and pytest an instance may use (3.5+, pytest 3+), hence the plain syntax.

Why: the official grading trusts the test log, and code under test runs inside the pytest process, so it can print
"PASSED" lines, rewrite reports, or end the process early with status 0. This plugin writes, to the real stdout
(duplicated before pytest captures anything) and tagged with a nonce, what it saw itself:
  start   when pytest starts;
  failed  a test whose setup or call raised (not a skip or an expected failure), whatever its report later said;
  end     when the session finishes, with the pytest internals that were replaced meanwhile.
The harness then refuses a log whose PASSED lines contradict these records (swebench_exec.swebench.guard).
It is a tripwire, not a wall: code in the same process can defeat any in-process check it knows about.
"""
import json
import os

import pytest

NONCE = os.environ.pop("BENCH_GUARD_NONCE", "")
if os.environ.get("PYTEST_PLUGINS") == "bench_exec_guard":
    del os.environ["PYTEST_PLUGINS"]  # nested and child pytest sessions are not this run's
_OUT = os.dup(1)
_CONFIG = []  # the first (outer) session's config: pytester's in-process sessions are left alone
_WATCHED = {}


def _emit(event, **fields):
    fields["event"] = event
    line = "BENCH-GUARD %s %s\n" % (NONCE, json.dumps(fields, sort_keys=True))
    os.write(_OUT, line.encode("utf-8", "replace"))


def _internals():
    """The functions that turn a test's exception into a report and a report into log lines."""
    found = {}
    try:
        from _pytest import reports, runner, terminal

        found["TestReport.from_item_and_call"] = reports.TestReport.__dict__.get("from_item_and_call")
        found["runner.call_and_report"] = getattr(runner, "call_and_report", None)
        found["runner.CallInfo.from_call"] = getattr(runner, "CallInfo", object).__dict__.get("from_call")
        found["TerminalReporter.pytest_runtest_logreport"] = terminal.TerminalReporter.pytest_runtest_logreport
        found["TerminalReporter.short_test_summary"] = getattr(terminal.TerminalReporter, "short_test_summary", None)
    except Exception:  # an old or unusual pytest: watch what could be found
        pass
    return found


def _not_a_failure():
    kinds = [pytest.skip.Exception]
    xfail = getattr(pytest.xfail, "Exception", None)
    if xfail is not None:
        kinds.append(xfail)
    return tuple(kinds)


def _expects_failure(item):
    get = getattr(item, "get_closest_marker", None) or getattr(item, "get_marker", None)
    return get is not None and get("xfail") is not None


def pytest_configure(config):
    if not _CONFIG:
        _CONFIG.append(config)
        _WATCHED.update(_internals())
        _emit("start", pid=os.getpid())


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: sees the report after every other plugin
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _CONFIG or item.config is not _CONFIG[0] or call.when not in ("setup", "call"):
        return
    excinfo = call.excinfo
    if excinfo is None or isinstance(excinfo.value, _not_a_failure()) or _expects_failure(item):
        return
    try:
        reported = outcome.get_result().outcome
    except Exception:
        reported = "?"
    _emit("failed", test=item.nodeid, when=call.when, error=excinfo.typename, reported=reported)


def pytest_sessionfinish(session, exitstatus):
    if not _CONFIG or session.config is not _CONFIG[0]:
        return
    now = _internals()
    replaced = sorted(name for name, original in _WATCHED.items() if now.get(name) is not original)
    _emit("end", exitstatus=int(exitstatus), replaced=replaced)
