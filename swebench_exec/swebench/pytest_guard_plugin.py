"""The log guard's pytest plugin, loaded by the SWE-bench eval script (PYTEST_PLUGINS) before any code under test.

Never imported by swebench_exec itself: the eval script writes this file into the sandbox as bench_exec_guard_<nonce>.
It must run on every Python and pytest an instance may use (3.5+, pytest 3+), hence the plain syntax.

Why: the official grading trusts the test log, and code under test runs inside the pytest process, so it can print
"PASSED" lines, rewrite reports, skip or xfail its own failures, stop the tests from running, or end the process
early. This plugin writes, to the real stdout (duplicated before pytest captures anything), tagged with a nonce, what
it saw itself:
  start    when pytest starts;
  ran      a test pytest set up, and whether its call phase ran (whatever it did): a PASSED line for a test never
           called, or an XFAIL or SKIPPED line for one never even set up, is forged;
  failed   a test whose setup or call raised (not a skip or an expected failure), whatever its report later said;
  ok       a test that failed before and then ran clean (a rerun plugin; a failed subtest, whose report is made
           through the same hook, before its test's own);
  skipped  a test skipped or xfailed by a raise, with the file that raised it;
  end      when the session finishes: its exit status, pytest internals replaced meanwhile, and the files that
           implement the hooks which collect, run and report tests (whenever they were registered).
Test ids and files are written as the log shows them: relative to the directory pytest was started in, not to its
rootdir (which a new config file in a subfolder can move). Only `start` is written at once; the others wait for the
session's end and are written on lines of their own, since pytest's verbose mode prints a test's id and its status
with the test run in between (a record written there would split the line the official log parser reads). A session
that never ends is refused on that ground alone.
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
_CWD = os.getcwd()  # pytest's invocation dir: loaded from PYTEST_PLUGINS, before any conftest could chdir
_CWD_PREFIX = _CWD.rstrip(os.sep) + os.sep
_CONFIG = []  # the first (outer) session's config: pytester's in-process sessions are left alone
_WATCHED = {}
_HOOKS = ("pytest_runtest_protocol", "pytest_runtest_setup", "pytest_runtest_call", "pytest_pyfunc_call",
          "pytest_runtest_teardown", "pytest_runtest_makereport", "pytest_report_teststatus", "pytest_runtest_logreport",
          "pytest_collection_modifyitems", "pytest_itemcollected", "pytest_collection_finish", "pytest_pycollect_makeitem",
          "pytest_deselected")
_STARTING_IMPLS = {}
_FAILED = set()
_RECORDS = []  # (event, fields) in the order seen, written at the session's end
_RAN = {}  # test id -> whether its call phase ran (present: it was set up)
_PYTEST_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                     for m in (pytest, sys.modules.get("_pytest"), sys.modules.get("pluggy")) if m is not None)


def _emit(*records):
    """Write (event, fields) records, starting on a fresh line: pytest may be in the middle of one."""
    lines = ["BENCH-GUARD %s %s" % (NONCE, json.dumps(dict(fields, event=event), sort_keys=True))
             for event, fields in records]
    data = ("\n" + "\n".join(lines) + "\n").encode("utf-8", "replace")
    while data:
        data = data[os.write(_OUT, data):]


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
        get_impls = getattr(getattr(config.hook, hook, None), "get_hookimpls", None)  # absent in an old pytest
        for impl in get_impls() if get_impls is not None else ():
            found[(hook, id(impl.plugin))] = impl.function
    return found


def _relative(path):
    path = os.path.abspath(str(path))
    return os.path.relpath(path, _CWD) if path.startswith(_CWD_PREFIX) else path


def _repository_file(function):
    """The file defining `function`, relative to the invocation dir; None outside it, or inside pytest itself."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    path = os.path.abspath(os.path.join(_CWD, code.co_filename)) if code is not None else ""
    if not path.startswith(_CWD_PREFIX) or path.startswith(_PYTEST_DIRS):
        return None
    return _relative(path)


def _raised_from(excinfo):
    """The file of the innermost frame outside pytest itself: who called pytest.skip / pytest.xfail."""
    for entry in reversed(list(excinfo.traceback)):
        path = os.path.abspath(str(entry.path))
        if not path.startswith(_PYTEST_DIRS):
            return _relative(path)
    return "?"


def _test_id(item):
    """The id the log's summary line gives the test: pytest prints the node id with its file relative to the
    invocation dir, not to rootdir. Computed here: `Config.cwd_relative_nodeid` changed its argument type in
    pytest 9.2."""
    config = item.config
    root = os.path.abspath(str(getattr(config, "rootpath", None) or getattr(config, "rootdir", None) or _CWD))
    if root == _CWD:
        return item.nodeid
    path, separator, rest = item.nodeid.partition("::")
    return os.path.relpath(os.path.join(root, path), _CWD) + separator + rest


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
        _emit(("start", {"pid": os.getpid()}))


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
    excinfo, test = call.excinfo, _test_id(item)
    _RAN[test] = _RAN.get(test, False) or call.when == "call"
    if excinfo is not None and isinstance(excinfo.value, _skip_kinds()):
        _RECORDS.append(("skipped", {"test": test, "when": call.when, "origin": _raised_from(excinfo)}))
    elif excinfo is not None and not _expects_failure(item):
        _FAILED.add(test)
        _RECORDS.append(("failed", {"test": test, "when": call.when, "error": excinfo.typename, "reported": reported}))
    elif excinfo is None and call.when == "call" and test in _FAILED:
        _FAILED.discard(test)
        _RECORDS.append(("ok", {"test": test}))


def pytest_sessionfinish(session, exitstatus):
    if not _CONFIG or session.config is not _CONFIG[0]:
        return
    now = _internals()
    replaced = sorted(name for name, original in _WATCHED.items() if now.get(name) is not original)
    hook_files = set()
    for key, function in _impls(session.config).items():
        if key in _STARTING_IMPLS and _STARTING_IMPLS[key] is not function:
            replaced.append("%s implementation" % key[0])
        source = _repository_file(function)
        if source is not None:
            hook_files.add(source)
    ran = [("ran", {"test": test, "call": called}) for test, called in _RAN.items()]
    _emit(*(ran + _RECORDS + [("end", {"exitstatus": int(exitstatus), "replaced": replaced,
                                       "hook_files": sorted(hook_files)})]))
