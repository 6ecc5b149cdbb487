"""The log guard's pytest plugin, loaded by the SWE-bench eval script (PYTEST_PLUGINS) before any code under test.

Never imported by swebench_exec itself: the eval script writes this file into the sandbox as bench_exec_guard_<nonce>.
It must run on every Python and pytest an instance may use (3.5+, pytest 3+), hence the plain syntax.

Why: the official grading trusts the test log, and code under test runs inside the pytest process, so it can print
"PASSED" lines, rewrite reports, skip or xfail its own failures, stop the tests from running, or end the process
early. This plugin writes, to the real stdout (duplicated before pytest captures anything), tagged with a nonce, what
it saw itself:
  start    when pytest starts;
  failed   a test whose setup or call raised (not a skip or an expected failure), whatever its report later said;
  ok       a test that failed before and then ran clean (a rerun plugin; a failed subtest, whose report is made
           through the same hook, before its test's own);
  skipped  a test skipped or xfailed by a raise, with the file that raised it;
  end      when the session finishes: its exit status, pytest internals replaced meanwhile, and the files of test-run
           hooks registered after pytest started.
The harness then refuses a log these records contradict (swebench_exec.swebench.guard). It is a tripwire, not a wall:
code in the same process can defeat any in-process check it knows about.
"""
import json
import os
import sys

import pytest

NONCE = os.environ.pop("BENCH_GUARD_NONCE", "")
if os.environ.get("PYTEST_PLUGINS") == __name__:
    del os.environ["PYTEST_PLUGINS"]  # nested and child pytest sessions are not this run's
_OUT = os.dup(1)
_CONFIG = []  # the first (outer) session's config: pytester's in-process sessions are left alone
_WATCHED = {}
_HOOKS = ("pytest_runtest_protocol", "pytest_runtest_call", "pytest_pyfunc_call", "pytest_runtest_makereport",
          "pytest_report_teststatus", "pytest_runtest_logreport")
_STARTING_IMPLS = {}
_FAILED = set()
_PYTEST_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                     for m in (pytest, sys.modules.get("_pytest"), sys.modules.get("pluggy")) if m is not None)


def _emit(event, **fields):
    fields["event"] = event
    line = "BENCH-GUARD %s %s\n" % (NONCE, json.dumps(fields, sort_keys=True))
    os.write(_OUT, line.encode("utf-8", "replace"))


def _internals():
    """The functions that run a test, turn its exception into a report and a report into log lines."""
    found = {}
    for module_name, owner, name in (
        ("_pytest.reports", "TestReport", "from_item_and_call"),
        ("_pytest.runner", None, "call_and_report"),
        ("_pytest.runner", None, "runtestprotocol"),
        ("_pytest.runner", None, "call_runtest_hook"),
        ("_pytest.runner", "CallInfo", "from_call"),
        ("_pytest.python", "Function", "runtest"),
        ("_pytest.unittest", "TestCaseFunction", "runtest"),
        ("_pytest.terminal", "TerminalReporter", "pytest_runtest_logreport"),
        ("_pytest.terminal", "TerminalReporter", "short_test_summary"),
    ):
        module = sys.modules.get(module_name)
        target = getattr(module, owner, None) if owner else module
        if target is not None:
            value = target.__dict__.get(name) if owner else getattr(target, name, None)
            if value is not None:
                found["%s.%s" % (owner or module_name.split(".")[-1], name)] = value
    return found


def _impls(config):
    """(hook, plugin id) -> function of every implementation of the hooks that run and report a test."""
    found = {}
    for hook in _HOOKS:
        caller = getattr(config.hook, hook, None)
        for impl in caller.get_hookimpls() if caller is not None else ():
            found[(hook, id(impl.plugin))] = impl.function
    return found


def _relative(path, config):
    root = str(getattr(config, "rootpath", None) or getattr(config, "rootdir", ""))
    path = os.path.abspath(str(path))
    return os.path.relpath(path, root) if root and path.startswith(root.rstrip(os.sep) + os.sep) else path


def _source_file(function, config):
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return _relative(code.co_filename, config) if code is not None else "?"


def _raised_from(excinfo, config):
    """The file of the innermost frame outside pytest itself: who called pytest.skip / pytest.xfail."""
    for entry in reversed(list(excinfo.traceback)):
        path = os.path.abspath(str(entry.path))
        if not path.startswith(_PYTEST_DIRS):
            return _relative(path, config)
    return "?"


def _skip_kinds():
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


def pytest_sessionstart(session):
    if _CONFIG and session.config is _CONFIG[0]:  # pytest's own plugins are all registered by now; no test code ran
        _STARTING_IMPLS.update(_impls(session.config))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: sees the report after every other plugin
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _CONFIG or item.config is not _CONFIG[0] or call.when not in ("setup", "call"):
        return
    try:
        reported = outcome.get_result().outcome
    except Exception:
        reported = "?"
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, _skip_kinds()):
        _emit("skipped", test=item.nodeid, when=call.when, origin=_raised_from(excinfo, item.config))
    elif excinfo is not None and not _expects_failure(item):
        _FAILED.add(item.nodeid)
        _emit("failed", test=item.nodeid, when=call.when, error=excinfo.typename, reported=reported)
    elif excinfo is None and call.when == "call" and item.nodeid in _FAILED:
        _FAILED.discard(item.nodeid)
        _emit("ok", test=item.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if not _CONFIG or session.config is not _CONFIG[0]:
        return
    now = _internals()
    replaced = sorted(name for name, original in _WATCHED.items() if now.get(name) is not original)
    hook_files = set()
    for key, function in _impls(session.config).items():
        if key not in _STARTING_IMPLS:
            source = _source_file(function, session.config)
            if not os.path.abspath(source).startswith(_PYTEST_DIRS):
                hook_files.add(source)
        elif _STARTING_IMPLS[key] is not function:
            replaced.append("%s implementation" % key[0])
    _emit("end", exitstatus=int(exitstatus), replaced=replaced, hook_files=sorted(hook_files))
