"""Evaluation specs and eval scripts: what the official harness would run, and running it on the fixture repo."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swebench_exec.swebench.dataset import Instance
from swebench_exec.swebench.eval_script import (
    END_MARKER,
    START_MARKER,
    discarded_test_edits,
    eval_script,
    extract_test_log,
)
from swebench_exec.swebench.grading import grade
from swebench_exec.swebench.spec import (
    SpecError,
    eval_spec,
    official_eval_env,
    official_test_command,
    register_repo,
    test_directives,
    unregister_repo,
)
from swebench_fixture import OPS_FIXED, TEST_OPS, make_fixture_repo

from conftest import SAMPLE
REAL = {}
if SAMPLE.is_file():  # the sample ships with the workspace; a clean clone elsewhere skips the real-row tests
    REAL = {r["instance_id"]: r for r in map(json.loads, SAMPLE.read_text().splitlines()) if r}
needs_sample = pytest.mark.skipif(not REAL, reason=f"real sample rows not found at {SAMPLE}")

# What swebench 4.1.0's make_eval_script_list_py runs between the markers for the three real rows (it is the harness
# that built the official images; swebench 5.x ships no spec table to call). Observed by running 4.1.0 on these rows.
OFFICIAL_4_1 = {
    "django__django-11099": "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 auth_tests.test_validators",
    "sympy__sympy-20590": "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose "
    "sympy/core/tests/test_basic.py",
    "sphinx-doc__sphinx-8621": "tox --current-env -epy39 -v -- tests/test_markup.py",
}  # fmt: skip

NEW_AND_DATA = """diff --git a/pkg/tests/test_a.py b/pkg/tests/test_a.py
--- a/pkg/tests/test_a.py
+++ b/pkg/tests/test_a.py
@@ -1 +1,2 @@
 x = 1
+y = 2
diff --git a/pkg/tests/test_new.py b/pkg/tests/test_new.py
new file mode 100644
--- /dev/null
+++ b/pkg/tests/test_new.py
@@ -0,0 +1 @@
+def test_n(): pass
diff --git a/pkg/tests/data/expected.json b/pkg/tests/data/expected.json
--- a/pkg/tests/data/expected.json
+++ b/pkg/tests/data/expected.json
@@ -1 +1 @@
-{}
+{"a": 1}
"""


def synthetic(repo: str, version: str, test_patch: str = NEW_AND_DATA, **extra) -> dict:
    return {
        "instance_id": f"{repo.replace('/', '__')}-7", "repo": repo, "base_commit": "b" * 40, "patch": "",
        "test_patch": test_patch, "problem_statement": "p", "version": version, "FAIL_TO_PASS": "[]",
        "PASS_TO_PASS": "[]",
    } | extra  # fmt: skip


# --- specs of the real rows --------------------------------------------------------------------------------------------
@needs_sample
@pytest.mark.parametrize("instance_id", sorted(OFFICIAL_4_1))
def test_real_rows_match_the_official_harness(instance_id):
    from swebench.harness.constants import NON_TEST_EXTS
    from swebench.harness.log_parsers import PARSER_REGISTRY
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

    r = REAL[instance_id]
    spec = eval_spec(Instance.from_row(r))
    assert spec.full_test_command == OFFICIAL_4_1[instance_id]
    assert PARSER_REGISTRY[spec.log_parser] is MAP_REPO_TO_PARSER_PY[r["repo"]]
    assert spec == eval_spec(r)  # a raw row gives the same spec as an Instance
    touched = [line.split(" b/")[-1] for line in r["test_patch"].splitlines() if line.startswith("diff --git ")]
    assert spec.test_files == touched and spec.created_test_files == []
    assert not any(f.endswith(tuple(NON_TEST_EXTS)) for f in spec.test_files)


@needs_sample
def test_real_rows_literal_values():
    django = eval_spec(REAL["django__django-11099"])
    assert django.test_directives == ["auth_tests.test_validators"]
    assert django.test_command == "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
    assert django.test_files == ["tests/auth_tests/test_validators.py"]
    assert django.log_parser == "parse_log_django" and django.version == "3.0" and django.source == "official"
    assert django.eval_env == ["sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
                               "export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"]
    sympy = eval_spec(REAL["sympy__sympy-20590"])
    assert sympy.test_directives == ["sympy/core/tests/test_basic.py"] and sympy.version == "1.7"
    assert sympy.test_command == "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
    assert sympy.log_parser == "parse_log_sympy" and sympy.eval_env == []
    sphinx = eval_spec(REAL["sphinx-doc__sphinx-8621"])
    assert sphinx.test_command == "tox --current-env -epy39 -v --" and sphinx.test_directives == ["tests/test_markup.py"]
    assert sphinx.log_parser == "parse_log_sphinx" and sphinx.version == "3.5" and sphinx.eval_env == []
    assert sphinx.eval_type == "pass_and_fail" and sphinx.source == "official"


def test_official_test_command_rule():
    django = "./tests/runtests.py --verbosity 2"
    for v in ("1.4", "1.8", "1.10", "2.2", "3.0", "3.2", "4.1", "5.0", "5.2", "9.9"):
        assert official_test_command("django/django", v) == django + " --settings=test_sqlite --parallel 1", v
    assert official_test_command("django/django", "1.9") == django  # the one version run on the runner's defaults
    classic = "pytest -rA -vv -o console_output_style=classic --tb=no"
    for v in ("0.1", "1.3"):
        assert official_test_command("astropy/astropy", v) == classic, v
    for v in ("3.0", "3.1", "4.2", "4.3", "5.0", "5.1", "5.2", "v5.3"):
        assert official_test_command("astropy/astropy", v) == "pytest -rA", v
    assert official_test_command("mwaskom/seaborn", "0.12") == "pytest --no-header -rA"
    assert official_test_command("sphinx-doc/sphinx", "8.1") == "tox --current-env -epy39 -v --"
    assert official_test_command("sympy/sympy", "1.13") == (
        "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose")
    for repo, v in (("matplotlib/matplotlib", "3.5"), ("pallets/flask", "2.3"), ("psf/requests", "2.26"),
                    ("pydata/xarray", "2022.06"), ("pylint-dev/pylint", "2.15"), ("pytest-dev/pytest", "7.4"),
                    ("scikit-learn/scikit-learn", "1.3")):  # fmt: skip
        assert official_test_command(repo, v) == "pytest -rA", repo
    with pytest.raises(SpecError, match="register_repo") as err:
        official_test_command("someone/else", "1.0")
    assert "eval_script" in str(err.value) and "\n" not in str(err.value)


def test_official_eval_env_rule():
    utf8 = ["export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"]
    for v in ("1.7", "1.11", "2.2"):
        assert official_eval_env("django/django", v) == [*utf8, "export PYTHONIOENCODING=utf8"], v
    for v in ("3.0", "3.1", "3.2"):
        assert official_eval_env("django/django", v) == [
            "sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen", *utf8], v  # fmt: skip
    for v in ("1.4", "1.6", "4.0", "5.0"):
        assert official_eval_env("django/django", v) == [], v
    for repo in ("sphinx-doc/sphinx", "sympy/sympy", "astropy/astropy", "someone/else"):
        assert official_eval_env(repo, "3.0") == [], repo


# --- directives, files ---------------------------------------------------------------------------------------------------
def test_directives_skip_data_files_and_django_uses_module_paths():
    assert test_directives("pydata/xarray", NEW_AND_DATA) == ["pkg/tests/test_a.py", "pkg/tests/test_new.py"]
    assert test_directives("django/django", NEW_AND_DATA.replace("pkg/tests/", "tests/")) == ["test_a", "test_new"]
    spec = eval_spec(synthetic("pydata/xarray", "0.12"))
    assert spec.test_files == ["pkg/tests/test_a.py", "pkg/tests/test_new.py", "pkg/tests/data/expected.json"]
    assert spec.created_test_files == ["pkg/tests/test_new.py"]
    assert spec.restored_test_files == ["pkg/tests/test_a.py", "pkg/tests/data/expected.json"]
    assert spec.full_test_command == "pytest -rA pkg/tests/test_a.py pkg/tests/test_new.py"


# --- errors and other sources ------------------------------------------------------------------------------------------
def test_unknown_version_is_covered_and_unknown_repo_is_a_one_line_spec_error():
    spec = eval_spec(synthetic("django/django", "9.9", test_patch=NEW_AND_DATA.replace("pkg/tests/", "tests/")))
    assert spec.full_test_command == "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 test_a test_new"
    assert spec.source == "official" and spec.eval_env == []
    with pytest.raises(SpecError, match="register_repo") as err:
        eval_spec(synthetic("someone/else", "1.0"))
    assert "someone/else" in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)
    with pytest.raises(SpecError, match="needs repo"):
        eval_spec({"instance_id": "x"})


ROW_SCRIPT = """#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
git checkout bbbb pkg/tests/test_a.py
git apply -v - <<'EOF_114329324912'
diff --git a/pkg/tests/test_a.py b/pkg/tests/test_a.py
+cd /testbed
EOF_114329324912
: '>>>>> Start Test Output'
make check ARGS=pkg/tests/test_a.py
: '>>>>> End Test Output'
git checkout bbbb pkg/tests/test_a.py
"""


def test_unknown_repo_with_row_eval_script_and_log_parser_works():
    r = synthetic("someone/else", "1.0", eval_script=ROW_SCRIPT, log_parser="parse_log_pytest")
    spec = eval_spec(r)
    assert spec.source == "row" and spec.test_command == "make check ARGS=pkg/tests/test_a.py"
    assert spec.full_test_command == spec.test_command and spec.log_parser == "parse_log_pytest"
    script = eval_script(r, spec, repo_dir="/work/r", activate="/venvs/else")
    assert script.count(START_MARKER) == 1 and script.count(END_MARKER) == 1
    assert "cd /work/r" in script and "\ncd /testbed\n" not in script
    assert "\n+cd /testbed\n" in script  # heredoc contents are left alone
    assert "conda activate testbed" not in script and "source /venvs/else/bin/activate" in script
    assert "rm -f -- pkg/tests/test_new.py" in script
    assert script.index(START_MARKER) < script.index("make check") < script.index("SWEBENCH_TEST_EXIT_CODE=$?")
    assert script.index("SWEBENCH_TEST_EXIT_CODE=$?") < script.index(END_MARKER)
    _bash_syntax_ok(script)
    with pytest.raises(SpecError, match="no log_parser"):
        eval_spec(synthetic("someone/else", "1.0", eval_script=ROW_SCRIPT))
    with pytest.raises(SpecError, match="unknown log parser"):
        eval_spec(synthetic("someone/else", "1.0", eval_script=ROW_SCRIPT, log_parser="parse_log_nope"))


def test_row_eval_script_without_markers_is_wrapped_and_known_repo_keeps_its_parser():
    r = synthetic("django/django", "3.0", eval_script="#!/bin/bash\nset -uxo pipefail\n./run-all-tests\n")
    spec = eval_spec(r)
    assert spec.source == "row" and spec.log_parser == "parse_log_django" and spec.eval_env == []
    script = eval_script(r, spec)
    assert script.index(START_MARKER) < script.index("./run-all-tests") < script.index(END_MARKER)


def test_registered_repo_and_fixture_default(tmp_path):
    spec = eval_spec(synthetic("fixture/calc", "0.1"))
    assert spec.source == "registered" and spec.test_command == "pytest -rA" and spec.log_parser == "parse_log_pytest"
    register_repo("me/mine", "python -m pytest -q -rA", "parse_log_pytest_v2")
    try:
        spec = eval_spec(synthetic("me/mine", "anything"))
        assert spec.source == "registered" and spec.log_parser == "parse_log_pytest_v2"
        assert spec.full_test_command == "python -m pytest -q -rA pkg/tests/test_a.py pkg/tests/test_new.py"
    finally:
        unregister_repo("me/mine")
    with pytest.raises(SpecError):
        eval_spec(synthetic("me/mine", "anything"))
    with pytest.raises(SpecError, match="unknown log parser"):
        register_repo("me/mine", "pytest", "parse_log_unknown")


# --- the script ----------------------------------------------------------------------------------------------------------
def _bash_syntax_ok(script: str) -> None:
    done = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr


@needs_sample
def test_eval_script_for_django_row():
    r = REAL["django__django-11099"]
    inst = Instance.from_row(r)
    spec = eval_spec(inst)
    script = eval_script(inst, spec)
    base = r["base_commit"]
    checkout = f"git checkout {base} -- tests/auth_tests/test_validators.py"
    heredoc = "git apply -v - <<'EOF_114329324912'"
    assert script.startswith("#!/bin/bash\nset -uxo pipefail\n")
    assert r["test_patch"] in script and "\nEOF_114329324912\n" in script
    assert script.count(checkout) == 2
    order = [script.index(s) for s in ("conda activate testbed", "cd /testbed", "locale-gen", "export LANG=en_US.UTF-8",
                                       "git config --global --add safe.directory /testbed", checkout, heredoc,
                                       START_MARKER, OFFICIAL_4_1[inst.instance_id], END_MARKER)]  # fmt: skip
    assert order == sorted(order)
    assert "pip install" not in script and "setup.py" not in script  # the official image has the repo installed
    assert script.rindex(checkout) > script.index(END_MARKER)
    assert '">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"' in script
    _bash_syntax_ok(script)
    local = eval_script(inst, spec, repo_dir="/tmp/wt", activate="/venvs/django-3.0/bin/activate")
    assert "source /venvs/django-3.0/bin/activate" in local and "conda" not in local and "cd /tmp/wt" in local
    assert "export LANG" not in local and "safe.directory" not in local  # official setup is the image's business
    bare = eval_script(inst, spec, activate=None)
    assert "activate" not in bare.split(heredoc)[0]
    _bash_syntax_ok(local)


@needs_sample
def test_eval_script_for_sphinx_and_sympy_rows_has_no_env_lines():
    for instance_id in ("sphinx-doc__sphinx-8621", "sympy__sympy-20590"):
        inst = Instance.from_row(REAL[instance_id])
        script = eval_script(inst, eval_spec(inst))
        setup = script.split("git checkout ")[0]
        assert "export " not in setup and "locale-gen" not in setup and "install" not in setup, instance_id
        assert "git config --global --add safe.directory /testbed" in setup
        assert f"\n{OFFICIAL_4_1[instance_id]}\n" in script
        _bash_syntax_ok(script)


def test_discarded_test_edits():
    spec = eval_spec(synthetic("pydata/xarray", "0.12"))
    model = (
        "diff --git a/xarray/core.py b/xarray/core.py\n--- a/xarray/core.py\n+++ b/xarray/core.py\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/pkg/tests/test_new.py b/pkg/tests/test_new.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/pkg/tests/test_new.py\n@@ -0,0 +1 @@\n+x\n"
        "diff --git a/pkg/tests/test_a.py b/pkg/tests/test_a.py\n--- a/pkg/tests/test_a.py\n+++ b/pkg/tests/test_a.py\n"
        "@@ -1 +1 @@\n-x = 1\n+x = 3\n"
    )  # fmt: skip
    assert discarded_test_edits(model, spec) == ["pkg/tests/test_new.py", "pkg/tests/test_a.py"]
    assert discarded_test_edits(model.split("diff --git a/pkg")[0], spec) == []
    assert discarded_test_edits("", spec) == [] and discarded_test_edits(None, spec) == []


# --- extracting the test log ---------------------------------------------------------------------------------------------
def test_extract_test_log_shapes():
    ours = f"+ git apply -v -\nApplied\n{START_MARKER}\nPASSED a\nFAILED b\n{END_MARKER}\n+ git checkout x\n"
    assert extract_test_log(ours) == "PASSED a\nFAILED b\n"
    official = f"+ : '{START_MARKER}'\n+ pytest -rA t.py\nPASSED a\n+ : '{END_MARKER}'\n+ git checkout x\n"
    assert extract_test_log(official) == "+ pytest -rA t.py\nPASSED a\n"
    assert extract_test_log("PASSED a\n") == "" and extract_test_log("") == "" and extract_test_log(None) == ""
    assert extract_test_log(f"{START_MARKER}\nPASSED a\nKilled") == "PASSED a\nKilled"  # no END marker: the rest
    glued = f"{START_MARKER}\nrunning ... ok{END_MARKER}\n"
    assert extract_test_log(glued) == "running ... ok"


def test_extract_test_log_keeps_head_and_tail_of_huge_output():
    body = "HEAD\n" + "x" * 10_000 + "\nTAIL"
    text = extract_test_log(f"{START_MARKER}\n{body}\n{END_MARKER}\n", keep=1000)
    assert text.startswith("HEAD\n") and text.endswith("TAIL\n") and "characters of test output omitted" in text
    assert 1000 < len(text) < 1100
    assert extract_test_log(f"{START_MARKER}\n{body}\n{END_MARKER}\n") == body + "\n"


# --- running the script on the fixture repository -----------------------------------------------------------------------
@pytest.fixture
def local_calc(tmp_path):
    """The fixture repository, registered under a private name whose test command is this interpreter's pytest."""
    repo_dir, row = make_fixture_repo(tmp_path)
    name = "tests/calc-local"
    register_repo(name, f"{sys.executable} -m pytest -rA -p no:cacheprovider", "parse_log_pytest")
    yield repo_dir, row | {"repo": name}
    unregister_repo(name)


def _run(repo_dir: Path, row: dict, model_files: dict[str, str]):
    for rel, text in model_files.items():
        (repo_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo_dir / rel).write_text(text)
    inst = Instance.from_row(row)
    spec = eval_spec(inst)
    script = eval_script(inst, spec, repo_dir=str(repo_dir), activate=None)
    env = os.environ | {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # this machine's plugins take seconds to load
    done = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, env=env)  # fmt: skip
    return grade(inst, spec, done.stdout), done.stdout, spec


def test_fixture_gold_resolves_and_empty_does_not(local_calc):
    repo_dir, row = local_calc
    g, log, spec = _run(repo_dir, row, {})
    assert not g.resolved and g.status == "RESOLVED_NO", log
    assert sorted(g.fail_to_pass["failure"]) == sorted(json.loads(row["FAIL_TO_PASS"]))
    assert g.p2p_fraction == 1.0
    # the reset after the tests leaves the tree as it was: test file restored, created file removed
    assert (repo_dir / "tests/test_ops.py").read_text() == TEST_OPS and not (repo_dir / "tests/test_new.py").exists()
    g, log, _ = _run(repo_dir, row, {"calc/ops.py": OPS_FIXED})
    assert g.resolved and g.status == "RESOLVED_FULL", log
    assert extract_test_log(log).count("PASSED tests/") == 4


def test_fixture_model_edits_to_test_files_are_discarded(local_calc):
    repo_dir, row = local_calc
    cheat = TEST_OPS.replace("== 2", "== 2 or True")
    created = "def test_mean_empty_tuple():\n    pass\n"  # the model "creates" a file test_patch creates too
    model_patch = (
        "diff --git a/tests/test_new.py b/tests/test_new.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/tests/test_new.py\n@@ -0,0 +1,2 @@\n+def test_mean_empty_tuple():\n+    pass\n"
    )
    g, log, spec = _run(repo_dir, row, {"tests/test_ops.py": cheat, "tests/test_new.py": created})
    assert discarded_test_edits(model_patch, spec) == ["tests/test_new.py"]
    assert "Patch Apply Failed" not in log and not g.resolved, log  # the official tests ran, and still fail
    assert g.fail_to_pass["failure"] == json.loads(row["FAIL_TO_PASS"])
    g, log, _ = _run(repo_dir, row, {"calc/ops.py": OPS_FIXED, "tests/test_ops.py": cheat, "tests/test_new.py": created})
    assert g.resolved, log


def test_unappliable_test_patch_stops_before_the_tests(local_calc):
    repo_dir, row = local_calc
    broken = row | {"test_patch": row["test_patch"].replace(" def test_mean():", " def test_average():")}
    g, log, _ = _run(repo_dir, broken, {"calc/ops.py": OPS_FIXED})
    assert START_MARKER not in log and "Patch Apply Failed" in log
    assert not g.resolved and g.status == "no_log" and "did not apply" in g.reason


@needs_sample
def test_eval_script_loads_the_log_guard_only_when_given_a_nonce():
    import dataclasses

    inst = Instance.from_row(REAL["sphinx-doc__sphinx-8621"])
    spec = eval_spec(inst)
    assert "PYTEST_PLUGINS" not in eval_script(inst, spec)  # what the official harness would run, unchanged
    script = eval_script(inst, dataclasses.replace(spec, guard_nonce="feed"))
    guard = script.index("export PYTEST_PLUGINS=bench_exec_guard_feed BENCH_GUARD_NONCE=feed")
    assert script.index("cd /testbed") < guard < script.index("git apply -v -") < script.index(START_MARKER)
    assert script.count("EOF_BENCH_EXEC_GUARD") == 2
    _bash_syntax_ok(script)
