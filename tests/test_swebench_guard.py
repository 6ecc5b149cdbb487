"""The log guard: its pytest plugin run for real on small projects, and the veto it gives the grading."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from swebench_exec.swebench.diffs import drop_files, section_paths
from swebench_exec.swebench.evaluate import is_test_infrastructure
from swebench_exec.swebench.guard import GuardReport, install_lines, read_guard

NONCE = "0123abcd"

HONEST = {
    "tests/test_mixed.py": """
        import unittest
        import pytest

        def test_passes():
            assert 1 + 1 == 2

        def test_fails():
            assert 1 + 1 == 3

        def test_skipped():
            pytest.skip("not here")

        @pytest.mark.xfail(reason="known")
        def test_expected_failure():
            assert False

        @pytest.mark.xfail(reason="fixed meanwhile")
        def test_unexpected_pass():
            assert True

        @pytest.fixture
        def broken():
            raise RuntimeError("setup")

        def test_setup_error(broken):
            pass

        @pytest.mark.parametrize("text", ["a b", "c"])
        def test_param(text):
            assert text

        class Case(unittest.TestCase):
            def test_unittest_fails(self):
                self.assertEqual(1, 2)

            @unittest.expectedFailure
            def test_unittest_expected(self):
                self.assertEqual(1, 2)

            def test_env_is_clean(self):
                import os
                assert "BENCH_GUARD_NONCE" not in os.environ and "PYTEST_PLUGINS" not in os.environ
    """,
}


def run_guarded(tmp_path: Path, files: dict[str, str], nonce: str = NONCE) -> str:
    """The install lines of the eval script, then pytest -rA, in a throwaway venv (its site-packages takes the plugin,
    as a container's does); the log as the grading sees it."""
    venv = tmp_path / "venv"
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    project = tmp_path / "project"
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    script = "\n".join(["set -u", f"source {venv}/bin/activate", f"cd {project}", *install_lines(nonce),
                        "python -m pytest -rA -p no:cacheprovider tests 2>&1"])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BENCH_", "PYTHONPATH"))}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120).stdout


def official_statuses(log: str) -> dict[str, str]:
    from swebench.harness.log_parsers.python import parse_log_pytest

    return parse_log_pytest(log, None)


def test_an_honest_run_is_recorded_and_left_as_the_official_grading_reads_it(tmp_path):
    log = run_guarded(tmp_path, HONEST)
    statuses = official_statuses(log)
    guard = read_guard(log, NONCE)
    assert (guard.sessions, guard.finished, guard.replaced) == (1, 1, [])
    # real failures only: not skips, not expected failures (marker or unittest), not the unexpected pass
    assert set(guard.failed) == {"tests/test_mixed.py::test_fails", "tests/test_mixed.py::test_setup_error",
                                 "tests/test_mixed.py::Case::test_unittest_fails"}  # fmt: skip
    assert statuses["tests/test_mixed.py::test_passes"] == "PASSED"
    assert statuses["tests/test_mixed.py::Case::test_env_is_clean"] == "PASSED"  # the plugin cleaned up after itself
    assert statuses["tests/test_mixed.py::test_fails"] == "FAILED"
    assert guard.veto(statuses) is None


def test_a_plugin_rewriting_reports_is_caught_by_the_records_of_the_real_failures(tmp_path):
    conftest = """
        import pytest

        @pytest.hookimpl(hookwrapper=True, tryfirst=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            outcome.get_result().outcome = "passed"
    """
    log = run_guarded(tmp_path, {**HONEST, "tests/conftest.py": conftest})
    statuses = official_statuses(log)
    assert statuses["tests/test_mixed.py::test_fails"] == "PASSED"  # the official grading is fooled ...
    veto = read_guard(log, NONCE).veto(statuses)
    assert veto and veto.startswith("log forged: the log reports tests/test_mixed.py::") and "more" in veto  # ... not we


def test_replacing_pytests_report_factory_is_caught(tmp_path):
    source = """
        from _pytest.reports import TestReport

        original = TestReport.from_item_and_call.__func__

        def forced(cls, item, call):
            report = original(cls, item, call)
            report.outcome = "passed"
            return report

        TestReport.from_item_and_call = classmethod(forced)
    """
    log = run_guarded(tmp_path, {"tests/test_x.py": "import forger\n\ndef test_x():\n    assert False\n",
                                 "tests/forger.py": source})  # fmt: skip
    statuses = official_statuses(log)
    assert statuses["tests/test_x.py::test_x"] == "PASSED"
    guard = read_guard(log, NONCE)
    assert guard.replaced == ["TestReport.from_item_and_call"]
    assert guard.veto(statuses) == "log forged: the code under test replaced pytest's TestReport.from_item_and_call"


def test_leaving_the_process_early_after_printing_passed_lines_is_caught(tmp_path):
    test = """
        import os

        def test_x(capsys):
            with capsys.disabled():  # past pytest's capture, straight into the log
                os.write(1, b"\\nPASSED tests/test_x.py::test_x\\n")
                os._exit(0)
    """
    log = run_guarded(tmp_path, {"tests/test_x.py": test})
    statuses = official_statuses(log)
    assert statuses == {"tests/test_x.py::test_x": "PASSED"}
    guard = read_guard(log, NONCE)
    assert (guard.sessions, guard.finished) == (1, 0)
    assert guard.veto(statuses).startswith("log untrusted: pytest never finished its session")


def test_records_under_another_nonce_or_malformed_are_ignored():
    log = "\n".join([
        f'BENCH-GUARD {NONCE} {{"event": "start", "pid": 1}}',
        'BENCH-GUARD guessed {"event": "end", "exitstatus": 0, "replaced": []}',  # a forger's end line
        f"BENCH-GUARD {NONCE} {{not json",
        f'progress .F.BENCH-GUARD {NONCE} {{"event": "failed", "test": "t.py::a", "error": "AssertionError"}}',
    ])  # fmt: skip
    guard = read_guard(log, NONCE)
    assert (guard.sessions, guard.finished, list(guard.failed)) == (1, 0, ["t.py::a"])
    assert guard.veto({"t.py::a": "PASSED"}).startswith("log forged: the log reports t.py::a as passed")
    assert guard.veto({"t.py::a": "FAILED"}).startswith("log untrusted")
    assert not GuardReport().active and GuardReport().veto({"t.py::a": "PASSED"}) is None  # unguarded: official


def test_the_install_lines_carry_the_plugin_and_quote_the_nonce():
    lines = install_lines("n'once")
    assert any("def pytest_runtest_makereport" in line for line in lines)
    assert lines[-1] == "export PYTEST_PLUGINS=bench_exec_guard BENCH_GUARD_NONCE='n'\"'\"'once'"


# --- the test-infrastructure rule for pytest's configuration -----------------------------------------------------------

PYPROJECT_ADDOPTS = """\
diff --git a/pyproject.toml b/pyproject.toml
--- a/pyproject.toml
+++ b/pyproject.toml
@@ -1,3 +1,6 @@
 [project]
 name = "calc"
 version = "0.1"
+
+[tool.pytest.ini_options]
+addopts = "-p calc.testing_support"
"""
PYPROJECT_DEPENDENCY = """\
diff --git a/pyproject.toml b/pyproject.toml
--- a/pyproject.toml
+++ b/pyproject.toml
@@ -1,3 +1,4 @@
 [project]
 name = "calc"
-version = "0.1"
+version = "0.2"
+dependencies = ["numpy"]
"""
SETUP_CFG_CONTINUATION = """\
diff --git a/setup.cfg b/setup.cfg
--- a/setup.cfg
+++ b/setup.cfg
@@ -10,2 +10,3 @@ long_description = file: README
 addopts =
     --doctest-modules
+    -pcalc.x
"""
TOX_INI_OTHER_SECTION = """\
diff --git a/tox.ini b/tox.ini
--- a/tox.ini
+++ b/tox.ini
@@ -1,3 +1,3 @@
 [tox]
-envlist = py38
+envlist = py38,py39
 [pytest]
"""


@pytest.mark.parametrize("path, section, dropped", [
    ("pyproject.toml", PYPROJECT_ADDOPTS, True),
    ("tests/tox.ini", PYPROJECT_ADDOPTS, True),  # any level: pytest looks for its ini file in every ancestor
    ("pyproject.toml", PYPROJECT_DEPENDENCY, False),
    ("setup.cfg", SETUP_CFG_CONTINUATION, True),  # no header in the hunk: the setting itself gives it away
    ("tox.ini", TOX_INI_OTHER_SECTION, False),  # the [pytest] header is context, not changed
    ("calc/ops.py", PYPROJECT_ADDOPTS, False),
    ("conftest.py", "", True), ("src/pytest.ini", "", True), ("site/x.pth", "", True),
])  # fmt: skip
def test_edits_to_pytest_configuration_are_test_infrastructure(path, section, dropped):
    assert is_test_infrastructure(path, section) is dropped


def test_file_sections_are_found_whatever_their_paths_hold():
    spaced = "diff --git a/x y.py b/x y.py\nindex 1..2\n--- a/x y.py\t\n+++ b/x y.py\t\n@@ -1 +1 @@\n-a\n+b\n"
    quoted = ('diff --git "a/t\\303\\251st/conftest.py" "b/t\\303\\251st/conftest.py"\nnew file mode 100644\n'
              '--- /dev/null\n+++ "b/t\\303\\251st/conftest.py"\n@@ -0,0 +1 @@\n+x\n')  # fmt: skip
    binary = "diff --git a/bin x b/bin x\nindex 1..2\nBinary files a/bin x and b/bin x differ\n"
    rename = "diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n"
    assert section_paths(spaced) == ["x y.py"]
    assert section_paths(quoted) == ["tést/conftest.py"]
    assert section_paths(binary) == ["bin x"]
    assert section_paths(rename) == ["old.py", "new.py"]
    kept, dropped = drop_files(spaced + quoted + binary, is_test_infrastructure)
    assert dropped == ["tést/conftest.py"] and kept == spaced + binary
