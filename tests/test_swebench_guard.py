"""The log guard: its pytest plugin run for real on small projects, and the veto it gives the grading."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from functools import partial
from pathlib import Path

import pytest

from swebench_exec.swebench.diffs import drop_files, file_sections, section_paths
from swebench_exec.swebench.guard import GuardReport, install_lines, read_guard
from swebench_exec.swebench.infrastructure import is_test_infrastructure

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


def run_guarded(tmp_path: Path, files: dict[str, str], nonce: str = NONCE, options: str = "-rA") -> str:
    """The install lines of the eval script, then pytest -rA, in a throwaway venv (its site-packages takes the plugin,
    as a container's does); the log as the grading sees it."""
    venv = Path(os.environ.get("GUARD_TEST_VENV", tmp_path / "venv"))  # another Python/pytest: a venv that has them
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        # pytest from this environment (a venv or not); the new venv's own site-packages stays its own
        site = next(venv.glob("lib/python*/site-packages"))
        (site / "outer.pth").write_text("\n".join(sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})))
    project = tmp_path / "project"
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    script = "\n".join(["set -u", f"source {venv}/bin/activate", f"cd {project}", *install_lines(nonce),
                        f"python -m pytest {options} -p no:cacheprovider tests 2>&1"])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BENCH_", "PYTHONPATH"))}
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120).stdout


def official_statuses(log: str) -> dict[str, str]:
    from swebench.harness.log_parsers.python import parse_log_pytest

    return parse_log_pytest(log, None)


def test_an_honest_run_is_recorded_and_left_as_the_official_grading_reads_it(tmp_path):
    log = run_guarded(tmp_path, HONEST)
    statuses = official_statuses(log)
    guard = read_guard(log, NONCE)
    assert (guard.sessions, guard.exit_statuses, guard.replaced, guard.hook_files) == (1, [1], [], [])
    # real failures only: not skips, not expected failures (marker or unittest), not the unexpected pass
    assert set(guard.failed) == {"tests/test_mixed.py::test_fails", "tests/test_mixed.py::test_setup_error",
                                 "tests/test_mixed.py::Case::test_unittest_fails"}  # fmt: skip
    assert statuses["tests/test_mixed.py::test_passes"] == "PASSED"
    assert statuses["tests/test_mixed.py::Case::test_env_is_clean"] == "PASSED"  # the plugin cleaned up after itself
    assert statuses["tests/test_mixed.py::test_fails"] == "FAILED"
    # every test the log passes was seen to run, named as the parser names it (a parametrised id cut at its space)
    assert "tests/test_mixed.py::test_param[a" in guard.ran
    assert {t for t, status in statuses.items() if status == "PASSED"} <= guard.ran
    assert guard.veto(statuses, list(statuses), set(HONEST)) is None


REPORT_REWRITER = """
import pytest

@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


def test_a_plugin_rewriting_reports_is_caught_by_the_records_of_the_real_failures(tmp_path):
    log = run_guarded(tmp_path, {**HONEST, "tests/conftest.py": REPORT_REWRITER})
    statuses = official_statuses(log)
    assert statuses["tests/test_mixed.py::test_fails"] == "PASSED"  # the official grading is fooled ...
    veto = read_guard(log, NONCE).veto(statuses, list(statuses), set())
    assert veto and veto.startswith("log forged: the log reports tests/test_mixed.py::") and "more" in veto  # ... not we


def test_the_records_never_split_a_line_of_pytests_verbose_output(tmp_path):
    # old astropy rows grade the verbose lines ("<id> PASSED"), which pytest writes in two parts around the test run
    log = run_guarded(tmp_path, HONEST, options="-rA -vv -o console_output_style=classic")
    assert all(line.startswith("BENCH-GUARD ") for line in log.splitlines() if "BENCH-GUARD" in line)
    for test, status in [("test_passes", "PASSED"), ("test_fails", "FAILED"), ("test_skipped", "SKIPPED"),
                         ("Case::test_env_is_clean", "PASSED")]:  # fmt: skip
        assert re.search(rf"^tests/test_mixed.py::{re.escape(test)} {status}\b", log, re.MULTILINE), test
    statuses = official_statuses(log)
    assert read_guard(log, NONCE).veto(statuses, list(statuses), set(HONEST)) is None


def forging_at_exit(line: str) -> str:
    """Module source that, once pytest has finished (summary written, session ended), prints `line` into the log and
    leaves with status 0."""
    return f"import atexit\nimport os\n\natexit.register(lambda: (os.write(1, b'\\n{line}\\n'), os._exit(0)))\n\n"


FAILING_PARAMETRISED = """import pytest


@pytest.mark.parametrize("value", ["{id}"])
def test_p(value):
    assert value == "fixed"
"""


def test_a_test_seen_failing_and_logged_as_skipped_is_caught(tmp_path):
    test = forging_at_exit("SKIPPED tests/test_x.py::test_x") + "def test_x():\n    assert False\n"
    statuses, guard = _guarded_statuses(tmp_path, {"tests/test_x.py": test})
    assert statuses == {"tests/test_x.py::test_x": "SKIPPED"}  # a skipped PASS_TO_PASS test counts as maintained
    assert guard.veto(statuses, list(statuses), set()).startswith(
        "log forged: the log reports tests/test_x.py::test_x as SKIPPED, but it failed")


def test_a_dataset_id_cut_mid_parameter_is_checked_as_the_grading_resolves_it(tmp_path):
    from swebench_exec.swebench.grading import resolved_keys

    forged = forging_at_exit("PASSED tests/test_p.py::test_p[log(photon)x]")
    test = forged + FAILING_PARAMETRISED.format(id="log(photon)x")
    statuses, guard = _guarded_statuses(tmp_path, {"tests/test_p.py": test})
    assert statuses["tests/test_p.py::test_p[log(photon)x]"] == "PASSED"
    required = resolved_keys(["tests/test_p.py::test_p[log(photon"], statuses)  # as Verified stores some ids
    assert required == ["tests/test_p.py::test_p[log(photon)x]"]
    assert guard.veto(statuses, required, set()).startswith("log forged: the log reports tests/test_p.py::test_p[")


def test_a_config_file_that_moves_pytests_rootdir_does_not_move_the_records(tmp_path):
    # pytest >= 8.1 takes the nearest pyproject.toml as rootdir, even without a pytest section: node ids become
    # relative to tests/, while the log still prints them relative to where pytest was started
    files = {**HONEST, "tests/conftest.py": REPORT_REWRITER, "tests/pyproject.toml": '[project]\nname = "t"\n'}
    log = run_guarded(tmp_path, files)
    statuses = official_statuses(log)
    assert statuses["tests/test_mixed.py::test_fails"] == "PASSED"
    guard = read_guard(log, NONCE)
    assert "tests/test_mixed.py::test_fails" in guard.failed and "tests/conftest.py" in guard.hook_files
    assert guard.veto(statuses, list(statuses), set()).startswith("log forged: the log reports tests/test_mixed.py::")


def test_tests_the_log_passes_but_pytest_never_ran_are_caught(tmp_path):
    calc = """
        import atexit
        import os
        import pytest

        def forge():  # after pytest's own summary and session end: the log's last word
            os.write(1, b"\\nPASSED tests/test_x.py::test_x\\n")
            os._exit(0)

        atexit.register(forge)
        pytest.skip("collected away", allow_module_level=True)
    """
    test = "import calc\n\ndef test_x():\n    assert False\n"
    statuses, guard = _guarded_statuses(tmp_path, {f"tests/{CALC}": calc, "tests/test_x.py": test})
    assert statuses["tests/test_x.py::test_x"] == "PASSED"
    assert (guard.sessions, len(guard.exit_statuses), guard.failed, guard.ran) == (1, 1, {}, set())
    assert guard.veto(statuses, ["tests/test_x.py::test_x"], {"tests/calc.py"}) == (
        "log forged: the log reports tests/test_x.py::test_x as PASSED, but pytest never ran it")


def test_a_failed_test_whose_id_has_a_space_is_named_as_the_log_parser_names_it(tmp_path):
    test = forging_at_exit("PASSED tests/test_p.py::test_p[a b]") + FAILING_PARAMETRISED.format(id="a b")
    statuses, guard = _guarded_statuses(tmp_path, {"tests/test_p.py": test})
    assert statuses == {"tests/test_p.py::test_p[a": "PASSED"}  # the parser keeps the id up to its space
    assert list(guard.failed) == ["tests/test_p.py::test_p[a"]
    assert guard.veto(statuses, list(statuses), set()).startswith(
        "log forged: the log reports tests/test_p.py::test_p[a as PASSED, but it failed")


def test_hooks_of_a_patched_module_count_whenever_it_was_registered(tmp_path):
    # the repository's own conftest imports the package, so the patched module registers its plugin before the
    # session starts; its hook swaps each test function for one that passes
    calc = """
        import gc
        import pytest
        from _pytest.config import Config

        class Swap:
            def pytest_collection_modifyitems(self, items):
                for item in items:
                    item.obj = lambda *args, **kwargs: None

        for thing in gc.get_objects():
            if isinstance(thing, Config):
                thing.pluginmanager.register(Swap(), "calc-swap")
    """
    test = "def test_x():\n    assert False\n"
    files = {f"tests/{CALC}": calc, "tests/conftest.py": "import calc\n", "tests/test_x.py": test}
    statuses, guard = _guarded_statuses(tmp_path, files)
    assert statuses == {"tests/test_x.py::test_x": "PASSED"} and not guard.failed
    assert guard.hook_files == ["tests/calc.py"]  # the conftest implements no hook
    assert guard.veto(statuses, list(statuses), {"tests/calc.py"}).startswith("log forged: the patch implements")
    assert guard.veto(statuses, list(statuses), {"src/other.py"}) is None  # the repository's own hooks are its own


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
    assert guard.veto(statuses, ["tests/test_x.py::test_x"], set()) == (
        "log forged: the code under test replaced pytest's TestReport.from_item_and_call")


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
    assert (guard.sessions, guard.exit_statuses) == (1, [])
    assert guard.veto(statuses, list(statuses), set()).startswith("log untrusted: pytest did not finish its session")


def test_records_under_another_nonce_or_malformed_are_ignored():
    log = "\n".join([
        f'BENCH-GUARD {NONCE} {{"event": "start", "pid": 1}}',
        'BENCH-GUARD guessed {"event": "end", "exitstatus": 0, "replaced": []}',  # a forger's end line
        f"BENCH-GUARD {NONCE} {{not json",
        f'progress .F.BENCH-GUARD {NONCE} {{"event": "failed", "test": "t.py::a", "error": "AssertionError"}}',
    ])  # fmt: skip
    guard = read_guard(log, NONCE)
    assert (guard.sessions, guard.exit_statuses, list(guard.failed)) == (1, [], ["t.py::a"])
    assert guard.veto({"t.py::a": "PASSED"}, ["t.py::a"], set()).startswith("log forged: the log reports t.py::a as")
    assert guard.veto({"t.py::a": "PASSED"}, [], set()).startswith("log untrusted")  # a test not required: no matter
    assert guard.veto({"t.py::a": "FAILED"}, ["t.py::a"], set()).startswith("log untrusted")
    assert not GuardReport().active and GuardReport().veto({"t.py::a": "PASSED"}, ["t.py::a"], set()) is None


def test_the_install_lines_carry_the_plugin_under_a_name_of_the_nonce():
    lines = install_lines("f00d")
    assert any("def pytest_runtest_makereport" in line and "bench_exec_guard_f00d.py" in line for line in lines)
    assert lines[-1] == "export PYTEST_PLUGINS=bench_exec_guard_f00d BENCH_GUARD_NONCE=f00d"
    with pytest.raises(ValueError):
        install_lines("n'once; rm -rf /")


# --- the test-infrastructure rule for pytest's configuration -----------------------------------------------------------
# Each case edits a small committed repository, takes the model's patch with real `git diff`, and drops what the rule
# calls test infrastructure, judged against that repository's HEAD as `evaluate_patch` judges it.

SETUP_CFG = """\
[metadata]
name = calc

[options]
packages = calc

[build_ext]
inplace = 1

[mypy]
strict = True

[tool:pytest]
minversion = 6.0
testpaths = tests
python_files = test_*.py
python_classes = Test*
python_functions = test_*
xfail_strict = true
pythonpath = .
addopts =
    --doctest-modules
filterwarnings =
    error
markers =
    slow: slow tests
"""
BASE_FILES = {
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0.1"\n\n[tool.hatch.envs.test.scripts]\nrun = "pytest"\n',
    "sub/pyproject.toml": '[tool.pytest.ini_options]\nminversion = "6.0"\nfilterwarnings = ["error"]\n',
    "setup.cfg": SETUP_CFG,
    "tox.ini": "[tox]\nenvlist = py38\n\n[testenv]\ncommands = pytest {posargs}\n\n[pytest]\naddopts = -ra\n",
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a - b\n",
    "src/_pytest/x.py": "X = 1\n",
}
PLUGIN_ENTRY_POINT = "[pytest11]\ncalc = calc.testing_support\n"


def _git(repo: Path, *args: str) -> str:
    """git's output undecoded by universal newlines (a lone \\r in a diff is part of the case)."""
    config = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false"]
    run = subprocess.run(["git", *config, *args], cwd=repo, check=True, capture_output=True)
    return run.stdout.decode("utf-8")


@pytest.fixture
def base_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    for rel, text in BASE_FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(text.encode())
    _git(repo, "init", "-q")
    _git(repo, "add", "--", *BASE_FILES)
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def model_diff(repo: Path, edits: dict[str, str | tuple[str, str] | None]) -> str:
    """The patch of `edits` (path -> new text, (old, new) replaced in the base text, or None: deleted), by git."""
    for rel, change in edits.items():
        path = repo / rel
        if change is None:
            path.unlink()
            continue
        if isinstance(change, tuple):
            assert change[0] in BASE_FILES[rel], f"case edits text {rel} does not hold"
            change = BASE_FILES[rel].replace(*change)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(change.encode())
    _git(repo, "add", "--", *edits)
    return _git(repo, "diff", "--cached", "--no-renames", "HEAD")


INFRASTRUCTURE_CASES = {
    # pytest's sections of pyproject.toml / setup.cfg / tox.ini, judged by what pytest reads before and after
    "pyproject gains a pytest section": (
        {"pyproject.toml": BASE_FILES["pyproject.toml"] + '\n[tool.pytest.ini_options]\naddopts = "-p calc.x"\n'},
        ["pyproject.toml"]),
    "a nested tox.ini gains one (pytest looks in every ancestor)": (
        {"tests/tox.ini": "[pytest]\naddopts = -p calc.x\n"}, ["tests/tox.ini"]),
    "pyproject dependency": ({"pyproject.toml": ('version = "0.1"', 'version = "0.2"\ndependencies = ["numpy"]')}, []),
    "setup.cfg addopts continuation": ({"setup.cfg": ("--doctest-modules\n", "--doctest-modules\n    -pcalc.x\n")},
                                       ["setup.cfg"]),
    "tox.ini other section, [pytest] in context": ({"tox.ini": ("envlist = py38", "envlist = py38,py39")}, []),
    "source file": ({"calc/ops.py": ("a - b", "a + b")}, []),
    "always by name": ({"conftest.py": "", "src/pytest.ini": "[pytest]\n", "site/x.pth": "import calc\n",
                        ".pytest.ini": "[pytest]\n", "pytest.toml": "[pytest]\n", "sub/.pytest.toml": "[pytest]\n"},
                       [".pytest.ini", "conftest.py", "pytest.toml", "site/x.pth", "src/pytest.ini",
                        "sub/.pytest.toml"]),
    # the diff-reading rule's bypasses
    "TOML escape in the table name": (
        {"pyproject.toml": BASE_FILES["pyproject.toml"] + '\n[tool."\\u0070ytest".ini_options]\naddopts = "-p c.x"\n'},
        ["pyproject.toml"]),
    "TOML escape in the key": (
        {"sub/pyproject.toml": ('minversion = "6.0"\n', 'minversion = "6.0"\n"add\\u006fpts" = "-p calc.x"\n')},
        ["sub/pyproject.toml"]),
    "pythonpath far below [tool:pytest]": (
        {"setup.cfg": ("pythonpath = .", "pythonpath = . calc/plugins")}, ["setup.cfg"]),
    "pytest11 entry point in pyproject": (
        {"pyproject.toml": BASE_FILES["pyproject.toml"] + '\n[project.entry-points.pytest11]\ncalc = "calc.x"\n'},
        ["pyproject.toml"]),
    "pytest11 entry point in setup.cfg": (
        {"setup.cfg": ("[build_ext]", "[options.entry_points]\nPYTEST11 =\n    calc = calc.x\n\n[build_ext]")},
        ["setup.cfg"]),
    "a lone CR starts a line for pytest": ({"sub/tox.ini": "[tox]\nenvlist = py38\r[pytest]\raddopts = -p calc.x\n"},
                                           ["sub/tox.ini"]),
    "a header pytest's reader cuts at its comment": (
        {"sub/tox.ini": "[pytest]#]\naddopts = -p calc.x\n"}, ["sub/tox.ini"]),
    "deleting the pytest section's file": ({"tox.ini": None}, ["tox.ini"]),
    "a result that does not parse": ({"tox.ini": ("envlist = py38", "envlist = py38\nnot an ini line")}, ["tox.ini"]),
    "a result nested too deep to parse": ({"sub/pyproject.toml": "x = " + "[" * 50_000 + "]" * 50_000 + "\n"},
                                          ["sub/pyproject.toml"]),
    "package metadata": ({"calc-0.1.dist-info/entry_points.txt": PLUGIN_ENTRY_POINT,
                          "calc.egg-info/entry_points.txt": PLUGIN_ENTRY_POINT, "calc.egg-link": "/testbed\n"},
                         ["calc-0.1.dist-info/entry_points.txt", "calc.egg-info/entry_points.txt", "calc.egg-link"]),
    "the runner shadowed at the top only": (
        {"pytest.py": "", "_pytest/__init__.py": "", "pytest/__init__.py": "", "pluggy.py": "",
         "pluggy/__init__.py": "", "src/_pytest/x.py": ("X = 1", "X = 2"), "src/pytest.py": ""},
        ["_pytest/__init__.py", "pluggy.py", "pluggy/__init__.py", "pytest.py", "pytest/__init__.py"]),
    "the guard's module name": ({"bench_exec_guard_x.py": "", "bench_exec_guard/__init__.py": ""},
                                ["bench_exec_guard/__init__.py", "bench_exec_guard_x.py"]),
    "a module imported before the tests, shadowed at the top": (
        {"textwrap.py": "", "json/__init__.py": "", "iniconfig.py": "", "calc/json.py": "", "html/style.css": "",
         "test/helpers.py": ""},
        ["iniconfig.py", "json/__init__.py", "textwrap.py"]),
    "start-up modules as packages, anywhere": (
        {"sitecustomize/__init__.py": "", "lib/usercustomize/__init__.py": "", "sitecustomize/notes.txt": ""},
        ["lib/usercustomize/__init__.py", "sitecustomize/__init__.py"]),
    "names in any letter case": (
        {"calc_x-0.1.DIST-INFO/entry_points.txt": PLUGIN_ENTRY_POINT, "tests/CONFTEST.PY": "", "x.PTH": ""},
        ["calc_x-0.1.DIST-INFO/entry_points.txt", "tests/CONFTEST.PY", "x.PTH"]),
    # the diff-reading rule's false positives, and changes that do not configure how tests run
    "-pthread in [build_ext]": ({"setup.cfg": ("inplace = 1", "inplace = 1\nextra_compile_args = -pthread")}, []),
    "-p in a [mypy] comment": (
        {"setup.cfg": ("strict = True", "strict = True\n# run as: mypy -p calc\npackages = calc")}, []),
    "pytest -p in tox's commands": ({"tox.ini": ("pytest {posargs}", "pytest -p no:randomly {posargs}")}, []),
    "pytest -p in a hatch script": ({"pyproject.toml": ('run = "pytest"', 'run = "pytest -p no:cacheprovider"')}, []),
    "filterwarnings and markers only": (
        {"setup.cfg": ("    error\n", "    error\n    ignore::DeprecationWarning\n"),
         "sub/pyproject.toml": ('["error"]', '["error", "ignore::UserWarning"]\nmarkers = ["slow: slow"]')},
        []),
}  # fmt: skip


@pytest.mark.parametrize("edits, dropped", INFRASTRUCTURE_CASES.values(), ids=INFRASTRUCTURE_CASES.keys())
def test_edits_to_how_tests_run_are_test_infrastructure(base_repo, edits, dropped):
    diff = model_diff(base_repo, edits)
    assert sorted(p for paths, _ in file_sections(diff) for p in paths) == sorted(edits)  # every edit is in the patch
    kept, dropped_paths = drop_files(diff, partial(is_test_infrastructure, worktree=base_repo))
    assert sorted(dropped_paths) == dropped
    assert not {p for paths, _ in file_sections(kept) for p in paths} & set(dropped)


def test_a_hunk_far_from_its_header_is_judged_by_its_section(base_repo):
    diff = model_diff(base_repo, {"setup.cfg": ("pythonpath = .", "pythonpath = . calc/plugins")})
    assert "[tool:pytest]" not in diff  # what the old reading of the diff text missed
    assert is_test_infrastructure("setup.cfg", diff, worktree=base_repo)


def test_without_a_worktree_any_config_file_edit_is_infrastructure():
    section = "diff --git a/tox.ini b/tox.ini\n--- a/tox.ini\n+++ b/tox.ini\n@@ -1 +1 @@\n-[tox]\n+[tox] \n"
    assert is_test_infrastructure("tox.ini", section)
    assert not is_test_infrastructure("calc/ops.py", section)


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
    in_a_dir = "diff --git a/a/x.py b/a/y.py\nsimilarity index 90%\nrename from a/x.py\nrename to a/y.py\n--- a/a/x.py\n+++ b/a/y.py\n"
    assert section_paths(in_a_dir) == ["a/x.py", "a/y.py"]  # a directory named "a" is not git's prefix
    kept, dropped = drop_files(spaced + quoted + binary, is_test_infrastructure)
    assert dropped == ["tést/conftest.py"] and kept == spaced + binary


# --- the breaker's forgeries, each graded resolved by the official rules, and honest runs that look alike ----------

CALC = "calc.py"


def _guarded_statuses(tmp_path: Path, files: dict[str, str]) -> tuple[dict[str, str], GuardReport]:
    log = run_guarded(tmp_path, files)
    return official_statuses(log), read_guard(log, NONCE)


def test_code_under_test_xfailing_its_own_failure_is_caught(tmp_path):
    calc = """
        def mean(values):
            if not values:
                import pytest
                pytest.xfail("not supported yet")
            return sum(values) / len(values)
    """
    test = "from calc import mean\n\ndef test_mean_empty():\n    assert mean([]) == 0.0\n"
    statuses, guard = _guarded_statuses(tmp_path, {f"tests/{CALC}": calc, "tests/test_calc.py": test})
    required = ["tests/test_calc.py::test_mean_empty"]
    assert statuses == {required[0]: "XFAIL"}  # counted as a pass officially
    assert guard.veto(statuses, required, {"tests/calc.py"}) == (
        "log forged: tests/test_calc.py::test_mean_empty was skipped or xfailed from the patched tests/calc.py")
    assert guard.veto(statuses, required, {"other.py"}) is None  # a skip from code the patch left alone is the repo's


def test_replacing_how_a_test_function_is_run_is_caught(tmp_path):
    calc = "import sys\nsys.modules['_pytest.python'].Function.runtest = lambda self: None\n"
    test = "import calc\n\ndef test_x():\n    assert False\n"
    statuses, guard = _guarded_statuses(tmp_path, {f"tests/{CALC}": calc, "tests/test_x.py": test})
    assert statuses == {"tests/test_x.py::test_x": "PASSED"}
    assert guard.veto(statuses, list(statuses), {"tests/calc.py"}) == (
        "log forged: the code under test replaced pytest's Function.runtest")


def test_a_plugin_registered_from_the_patched_code_is_caught(tmp_path):
    calc = """
        import gc
        import pytest
        from _pytest.config import Config

        class Skip:
            @pytest.hookimpl(tryfirst=True)
            def pytest_pyfunc_call(self, pyfuncitem):
                return True  # "called": the test function never runs

        for thing in gc.get_objects():
            if isinstance(thing, Config):
                thing.pluginmanager.register(Skip(), "calc-skip")
    """
    test = "import calc\n\ndef test_x():\n    assert False\n"
    statuses, guard = _guarded_statuses(tmp_path, {f"tests/{CALC}": calc, "tests/test_x.py": test})
    assert statuses == {"tests/test_x.py::test_x": "PASSED"}
    assert guard.hook_files == ["tests/calc.py"]
    assert guard.veto(statuses, list(statuses), {"tests/calc.py"}) == (
        "log forged: the patch implements pytest hooks that collect, run or report tests (tests/calc.py)")


def test_an_interrupted_session_is_not_evidence(tmp_path):
    calc = """
        import atexit
        import os

        def _spoof():
            os.write(1, b"\\nPASSED tests/test_x.py::test_x\\n")
            os._exit(0)

        atexit.register(_spoof)

        def mean(values):
            raise KeyboardInterrupt
    """
    test = "from calc import mean\n\ndef test_x():\n    assert mean([]) == 0\n"
    statuses, guard = _guarded_statuses(tmp_path, {f"tests/{CALC}": calc, "tests/test_x.py": test})
    assert statuses == {"tests/test_x.py::test_x": "PASSED"}
    assert guard.exit_statuses == [2] and not guard.failed
    assert guard.veto(statuses, list(statuses), {"tests/calc.py"}).startswith("log untrusted")


def test_a_test_that_passes_on_a_rerun_is_not_called_forged(tmp_path):
    conftest = """
        from _pytest.runner import runtestprotocol

        def pytest_runtest_protocol(item, nextitem):  # the repo's own rerun-once plugin
            reports = runtestprotocol(item, nextitem=nextitem, log=False)
            if any(r.failed for r in reports):
                reports = runtestprotocol(item, nextitem=nextitem, log=False)
            for report in reports:
                item.ihook.pytest_runtest_logreport(report=report)
            return True
    """
    test = "RUNS = []\n\ndef test_flaky():\n    RUNS.append(1)\n    assert len(RUNS) > 1\n"
    statuses, guard = _guarded_statuses(tmp_path, {"tests/conftest.py": conftest, "tests/test_flaky.py": test})
    assert statuses == {"tests/test_flaky.py::test_flaky": "PASSED"}
    assert guard.failed == {}  # it failed once, then ran clean: the last run is the one the log reports
    assert guard.veto(statuses, list(statuses), {"src/fix.py"}) is None


def test_a_failing_subtest_does_not_make_its_passing_test_forged(tmp_path):
    test = """
        import unittest

        class T(unittest.TestCase):
            def test_with_subtests(self):
                for i in range(2):
                    with self.subTest(i=i):
                        self.assertEqual(i, 0)
    """
    statuses, guard = _guarded_statuses(tmp_path, {"tests/test_sub.py": test})
    name = "tests/test_sub.py::T::test_with_subtests"
    if statuses.get(name) in ("PASSED", "XFAIL"):  # pytest versions that report subtests apart pass the test itself
        assert guard.veto(statuses, [name], set()) is None
