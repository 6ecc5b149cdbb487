"""Loading SWE-bench instances from every supported source, the errors users see, id lists, and `patch_files`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swebench_exec.swebench.dataset import DatasetError, Instance, load_instances, read_id_list
from swebench_exec.swebench.diffs import PatchError, patch_files

from conftest import SAMPLE
if not SAMPLE.is_file():  # the sample ships with the workspace; a clean clone elsewhere skips these tests
    pytest.skip(f"real sample rows not found at {SAMPLE}", allow_module_level=True)
ROWS = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
IDS = ["django__django-11099", "sympy__sympy-20590", "sphinx-doc__sphinx-8621"]


def by_id(instances: list[Instance]) -> dict[str, Instance]:
    return {i.instance_id: i for i in instances}


def check_real(instances: list[Instance]) -> None:
    found = by_id(instances)
    assert sorted(found) == sorted(IDS)
    sympy = found["sympy__sympy-20590"]
    assert sympy.fail_to_pass == ["test_immutable"]
    assert "test_structure" in sympy.pass_to_pass and len(sympy.pass_to_pass) > 10
    assert sympy.repo == "sympy/sympy" and sympy.cache_name == "sympy__sympy" and sympy.version == "1.7"
    assert sympy.base_commit == "cffd4e0f86fefd4802349a9f9b19ed70934ea354"
    sphinx = found["sphinx-doc__sphinx-8621"]
    assert sphinx.fail_to_pass == [  # truncated at a space by the official log parser: kept verbatim
        "tests/test_markup.py::test_inline[verify-:kbd:`Alt+^`-<p><kbd",
        "tests/test_markup.py::test_inline[verify-:kbd:`-`-<p><kbd",
    ]
    django = found["django__django-11099"]
    assert django.fail_to_pass[0] == "test_ascii_validator (auth_tests.test_validators.UsernameValidatorsTests)"
    assert django.environment_setup_commit == "419a78300f7cd27611196e1e464d50fd0385ff27"
    assert django.eval_script is None and django.image is None and django.log_parser is None  # classic rows
    assert django.row["FAIL_TO_PASS"] == ROWS[0]["FAIL_TO_PASS"]  # the original row, untouched


def test_jsonl(tmp_path):
    check_real(load_instances(str(SAMPLE)))


def test_json_list(tmp_path):
    path = tmp_path / "verified.json"
    path.write_text(json.dumps(ROWS))
    check_real(load_instances(str(path)))


def test_json_written_by_datasets_is_json_lines(tmp_path):
    import datasets

    path = tmp_path / "verified.json"
    datasets.Dataset.from_list(ROWS).to_json(str(path))
    check_real(load_instances(str(path)))


def test_parquet(tmp_path):
    import datasets

    path = tmp_path / "verified.parquet"
    datasets.Dataset.from_list(ROWS).to_parquet(str(path))
    check_real(load_instances(str(path)))


def test_save_to_disk_dataset_and_dataset_dict(tmp_path):
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "plain"))
    datasets.DatasetDict({"test": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "dict"))
    check_real(load_instances(str(tmp_path / "plain")))
    check_real(load_instances(str(tmp_path / "dict")))
    with pytest.raises(DatasetError, match="no split 'dev'"):
        load_instances(str(tmp_path / "dict"), split="dev")


def test_ids_keep_their_order():
    wanted = ["sphinx-doc__sphinx-8621", "django__django-11099"]
    assert [i.instance_id for i in load_instances(str(SAMPLE), wanted)] == wanted


def test_unknown_id_is_named_with_the_row_count():
    with pytest.raises(DatasetError) as err:
        load_instances(str(SAMPLE), ["django__django-11099", "django__django-99999"])
    message = str(err.value)
    assert "django__django-99999" in message and "3 rows" in message and "\n" not in message


def test_missing_field_names_field_and_instance(tmp_path):
    rows = [dict(row) for row in ROWS]
    del rows[1]["base_commit"]
    path = tmp_path / "broken.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert [i.instance_id for i in load_instances(str(path), ["django__django-11099"])] == ["django__django-11099"]
    with pytest.raises(DatasetError, match=r"instance sympy__sympy-20590: missing required field\(s\) base_commit"):
        load_instances(str(path), ["sympy__sympy-20590"])


def test_test_lists_as_lists_or_bad_json():
    row = dict(ROWS[1], FAIL_TO_PASS=["test_immutable"], PASS_TO_PASS=[])
    assert Instance.from_row(row).fail_to_pass == ["test_immutable"]
    with pytest.raises(DatasetError, match="sympy__sympy-20590: PASS_TO_PASS is not a JSON list"):
        Instance.from_row(dict(ROWS[1], PASS_TO_PASS="[test_a"))
    with pytest.raises(DatasetError, match="FAIL_TO_PASS must be a list of test names"):
        Instance.from_row(dict(ROWS[1], FAIL_TO_PASS='{"a": 1}'))


def test_newer_rows_carry_their_eval_fields():
    row = dict(ROWS[1], eval_script="#!/bin/bash\nbin/test\n", image="example/sympy:1", log_parser="sympy")
    instance = Instance.from_row(row)
    assert instance.eval_script == row["eval_script"]
    assert (instance.image, instance.log_parser) == ("example/sympy:1", "sympy")


def test_hub_failure_says_how_to_pass_a_local_file(monkeypatch):
    import datasets

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'SWE-bench/SWE-bench_Verified' on the Hub (OfflineModeIsEnabled)\nmore")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(DatasetError) as err:
        load_instances("princeton-nlp/SWE-bench_Verified")
    message = str(err.value)
    assert message.startswith("could not load princeton-nlp/SWE-bench_Verified from the Hugging Face hub (")
    assert "(ConnectionError: Couldn't reach" in message
    assert "--dataset path/to/verified.jsonl" in message and "\n" not in message


def test_hub_offline_for_real(tmp_path):
    """No monkeypatching: the hub client in offline mode, as on an air-gapped machine."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    code = (
        "from swebench_exec.swebench.dataset import DatasetError, load_instances\n"
        "try:\n    load_instances()\nexcept DatasetError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("could not load SWE-bench/SWE-bench_Verified from the Hugging Face hub (")
    assert "--dataset" in out


def test_local_file_errors(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_instances(str(tmp_path / "missing.jsonl"))
    (tmp_path / "rows.csv").write_text("instance_id\n")
    with pytest.raises(DatasetError, match="unknown dataset file type '.csv'"):
        load_instances(str(tmp_path / "rows.csv"))
    (tmp_path / "object.json").write_text('{"rows": []}')
    with pytest.raises(DatasetError, match="expected a JSON list of rows"):
        load_instances(str(tmp_path / "object.json"))
    (tmp_path / "bad.jsonl").write_text(json.dumps(ROWS[0]) + "\n{oops\n")
    with pytest.raises(DatasetError, match=r"bad.jsonl:2: not a JSON row"):
        load_instances(str(tmp_path / "bad.jsonl"))


def test_read_id_list(tmp_path):
    path = tmp_path / "subset.txt"
    path.write_text(
        "# twenty instances, one per line\n\n"
        "django__django-11099   # regex anchors: one-line fix\n"
        "  sympy__sympy-20590\n"
        "   # indented comment\n"
        "sphinx-doc__sphinx-8621#no space before the comment\n"
    )
    assert read_id_list(path) == IDS


def test_read_id_list_refuses_duplicates_and_missing_files(tmp_path):
    path = tmp_path / "subset.txt"
    path.write_text("a__b-1\nc__d-2\na__b-1  # again\n")
    with pytest.raises(DatasetError, match=r"subset.txt:3: duplicate instance id a__b-1 \(first on line 1\)"):
        read_id_list(path)
    with pytest.raises(DatasetError, match="cannot read instance list"):
        read_id_list(tmp_path / "absent.txt")
    path.write_text("# nothing chosen yet\n\n")
    with pytest.raises(DatasetError, match="names no instance"):
        read_id_list(path)


def test_an_empty_dataset_is_an_error_not_an_empty_run(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DatasetError, match="holds no rows"):
        load_instances(str(tmp_path / "empty.jsonl"))


@pytest.mark.parametrize(
    "instance_id, field, expected",
    [
        ("django__django-11099", "patch", ["django/contrib/auth/validators.py"]),
        ("django__django-11099", "test_patch", ["tests/auth_tests/test_validators.py"]),
        ("sympy__sympy-20590", "patch", ["sympy/core/_print_helpers.py"]),
        ("sympy__sympy-20590", "test_patch", ["sympy/core/tests/test_basic.py"]),
        ("sphinx-doc__sphinx-8621", "patch", ["sphinx/builders/html/transforms.py"]),
        ("sphinx-doc__sphinx-8621", "test_patch", ["tests/test_markup.py"]),
    ],
)
def test_patch_files_of_real_rows(instance_id, field, expected):
    row = next(r for r in ROWS if r["instance_id"] == instance_id)
    files = patch_files(row[field])
    assert (files.modified, files.created, files.deleted) == (expected, [], [])


def test_patch_files_created_deleted_renamed():
    diff = (
        "diff --git a/pkg/new.py b/pkg/new.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1\n"
        "diff --git a/pkg/old.py b/pkg/old.py\ndeleted file mode 100644\n--- a/pkg/old.py\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-y = 2\n"
        "diff --git a/pkg/a.py b/pkg/b.py\nsimilarity index 100%\nrename from pkg/a.py\nrename to pkg/b.py\n"
        "diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -1 +1 @@\n-z = 3\n+z = 4\n"
    )
    files = patch_files(diff)
    assert files.modified == ["pkg/mod.py"]
    assert files.created == ["pkg/new.py", "pkg/b.py"]
    assert files.deleted == ["pkg/old.py", "pkg/a.py"]
    assert files.touched == ["pkg/mod.py", "pkg/new.py", "pkg/b.py", "pkg/old.py", "pkg/a.py"]


def test_patch_files_refuses_a_malformed_diff():
    with pytest.raises(PatchError, match="malformed diff"):
        patch_files("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n")
