"""The SWE-bench tier end to end on the fixture instance, in the local sandbox: swebench, predictions, validate."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripted_server import ScriptedServer, chat_reply
from swebench_exec.cli import main
from swebench_exec.scoring.format import swebench_format_score
from swebench_fixture import OPS, OPS_FIXED, TEST_OPS, make_fixture_dataset, make_fixture_repo


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("swe")
    jsonl, cache, row = make_fixture_dataset(root)
    return {"dataset": jsonl, "cache": cache, "row": row, "envs": root / "envs", "root": root}


def swebench_args(fixture, out: Path, *extra: str) -> list[str]:
    return ["swebench", "--dataset", str(fixture["dataset"]), "--repo-cache", str(fixture["cache"]), "--sandbox",
            "local", "--env-cache", str(fixture["envs"]), "--timeout", "120", "--quiet", "--out", str(out), *extra]  # fmt: skip


def test_gold_resolves_on_both_arms_and_predictions_are_official(fixture, tmp_path, capsys):
    out, predictions = tmp_path / "r.json", tmp_path / "predictions.jsonl"
    code = main(swebench_args(fixture, out, "--models", "gold", "--export-predictions", str(predictions)))
    assert code == 0
    result = json.loads(out.read_text())
    assert result["config"]["tier"] == "swebench" and result["config"]["context"] == "oracle"
    rows = result["rows"]
    assert {(r["arm"], r["executor"]["status"]) for r in rows} == {("harnessed", "resolved"), ("bare", "resolved")}
    assert all(r["executor"]["grade"]["fail_to_pass"]["failure"] == [] for r in rows)
    # the log guard ran in the test process, saw the session through and every required test run, and had nothing
    # to withdraw (the fixture's conftest.py implements no hook)
    for row in rows:
        grade = row["executor"]["grade"]
        required = len(grade["fail_to_pass"]["success"]) + len(grade["pass_to_pass"]["success"])
        assert grade["guard"] == {"sessions": 1, "finished": 1, "ran": required, "failed": 0, "replaced": [],
                                  "hook_files": [], "veto": None}  # fmt: skip
    summary = result["summary"]["models"]["gold"]
    assert summary["arms"]["harnessed"]["exec"]["mean"] == 1.0 and summary["arms"]["bare"]["exec"]["mean"] == 1.0
    assert summary["delta_format"]["mean"] == 100 and summary["delta_exec"]["mean"] == 0
    # the run's mirrors are recorded: its rescore needs neither --dataset nor --repo-cache, and runs where it ran
    assert result["config"]["repo_cache"] == str(Path(fixture["cache"]).resolve())
    capsys.readouterr()
    assert main(["rescore", str(out), "--env-cache", str(fixture["envs"]), "--quiet"]) == 0
    assert "2/2 rows match" in capsys.readouterr().out
    assert summary["verdict"] == "INSUFFICIENT_DATA"  # one instance is one paired unit: too few for a verdict
    files = sorted(tmp_path.glob("predictions.*.jsonl"))
    assert [f.name for f in files] == ["predictions.gold.bare.jsonl", "predictions.gold.harnessed.jsonl"]
    from swebench.harness.utils import get_predictions_from_file

    official = get_predictions_from_file(str(files[1]), str(fixture["dataset"]), "test")  # the official loader
    assert len(official) == 1
    prediction = official[0]
    assert set(prediction) == {"instance_id", "model_name_or_path", "model_patch"}  # what run_evaluation reads
    assert prediction["model_name_or_path"] == "gold@harnessed"
    assert prediction["instance_id"] == "fixture__calc-1"
    # the exported patch applies with plain git apply to a fresh checkout and gives the gold file
    repo, _ = make_fixture_repo(tmp_path / "fresh")
    subprocess.run(["git", "apply", "-"], cwd=repo, input=prediction["model_patch"], text=True, check=True)
    assert (repo / "calc" / "ops.py").read_text() == OPS_FIXED


def scripted(request_json: dict):
    """Harnessed: a wrong fix plus a rewritten test file that would make everything pass. Bare: nothing usable."""
    prompt = request_json["messages"][-1]["content"]
    if "EXECUTION CONTRACT" not in prompt:
        return chat_reply("I would check for an empty list before dividing.")
    wrong = OPS.replace("return total(values) / len(values)", "return total(values) / max(len(values), 1) + 1")
    cheat = TEST_OPS + "\n\ndef test_mean_empty():\n    pass\n"
    return chat_reply(f"FILE: calc/ops.py\n```python\n{wrong}```\n\nFILE: tests/test_ops.py\n```python\n{cheat}```\n")


def test_wrong_fix_fails_and_model_test_edits_are_discarded(fixture, tmp_path, capsys):
    out = tmp_path / "r.json"
    with ScriptedServer(reply_for=scripted) as server:
        code = main(swebench_args(fixture, out, "--models", "m", "--base-url", server.url))
    assert code == 0
    rows = {r["arm"]: r for r in json.loads(out.read_text())["rows"]}
    harnessed = rows["harnessed"]["executor"]
    assert harnessed["status"] == "unresolved" and harnessed["score"] == 0
    assert harnessed["process"]["discarded_test_edits"] == ["tests/test_ops.py"]
    assert "test_mean" in harnessed["reason"]  # the model broke mean() for non-empty input too
    assert rows["bare"]["executor"]["status"] == "no_patch" and rows["bare"]["executor"]["score"] == 0


def test_an_honest_xfail_in_a_test_file_the_model_also_edited_stays_resolved(tmp_path, capsys):
    """The model's edit to a test file is discarded (restored before test_patch), so that file is not the patch's:
    a required test that xfails itself there is the repository's own doing, as the official grading reads it."""
    xfail = "def test_mean_of_huge():\n    import pytest\n    pytest.xfail('needs arbitrary precision')\n"
    dataset, cache, row = make_fixture_dataset(tmp_path / "fx", extra_test=("test_mean_of_huge", xfail))
    added = "\n\ndef test_mean_of_two():\n    assert mean([1, 3]) == 2\n"
    test_ops = TEST_OPS + "\n\n" + xfail + added
    reply = f"FILE: calc/ops.py\n```python\n{OPS_FIXED}```\n\nFILE: tests/test_ops.py\n```python\n{test_ops}```\n"
    out = tmp_path / "r.json"
    fixture = {"dataset": dataset, "cache": cache, "envs": tmp_path / "envs"}
    with ScriptedServer(default=chat_reply(reply)) as server:
        assert main(swebench_args(fixture, out, "--models", "m", "--base-url", server.url)) == 0
    for row in json.loads(out.read_text())["rows"]:
        executor = row["executor"]
        assert executor["process"]["discarded_test_edits"] == ["tests/test_ops.py"]
        assert executor["grade"]["pass_to_pass"]["success"][-1] == "tests/test_ops.py::test_mean_of_huge"
        assert executor["status"] == "resolved", executor["reason"]


def test_validate_marks_the_fixture_ok(fixture, tmp_path, capsys):
    out = tmp_path / "v.json"
    code = main(["validate", "--dataset", str(fixture["dataset"]), "--repo-cache", str(fixture["cache"]), "--sandbox",
                 "local", "--env-cache", str(fixture["envs"]), "--validation-out", str(out), "--repeat", "2",
                 "--quiet"])  # fmt: skip
    assert code == 0
    record = json.loads(out.read_text())["fixture__calc-1"]
    assert record["status"] == "ok" and record["gold"] == [True, True] and record["empty"] == [False, False]
    assert "ok" in capsys.readouterr().out


def test_unknown_instance_is_a_one_line_error(fixture, tmp_path, capsys):
    code = main(swebench_args(fixture, tmp_path / "r.json", "--models", "gold", "--instance-ids", "nope__nope-1"))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope__nope-1" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--export-predictions", "/proc/nowhere/p.jsonl"], "cannot write --export-predictions /proc/nowhere/p.jsonl"),
        (["--models", "gold,", "--price", "nobody=1"], "--price names nobody, not a model of this run"),
        (["--instance-ids", " "], "--instance-ids is empty"),
    ],
)
def test_command_mistakes_are_caught_before_any_instance_is_loaded(fixture, tmp_path, capsys, extra, message):
    args = swebench_args(fixture, tmp_path / "r.json", "--dataset", str(tmp_path / "not-read.jsonl"), *extra)
    if "--models" not in extra:
        args += ["--models", "gold"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "not-read.jsonl" not in err  # refused before the dataset was opened


def test_docker_named_for_missing_images_is_refused_up_front(fixture, tmp_path, capsys, monkeypatch):
    import swebench_exec.sandbox.docker as docker_sandbox

    monkeypatch.setattr(docker_sandbox, "docker_available", lambda refresh=False: True)
    monkeypatch.setattr(docker_sandbox, "image_exists", lambda name: False)
    args = [a if a != "local" else "docker" for a in swebench_args(fixture, tmp_path / "r.json", "--models", "gold")]
    assert main([*args, "--namespace", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--sandbox docker: no image for fixture__calc-1" in err and "--namespace" in err
    assert not (tmp_path / "r.json").exists()


def test_a_missing_extra_names_the_install_command(tmp_path):
    """Without the [swebench] extra the tier cannot load; the error says how to install it, not a traceback."""
    code = ("import sys; sys.modules['git'] = sys.modules['datasets'] = None\n"
            "from swebench_exec.cli import main\n"
            "sys.exit(main(['swebench', '--models', 'gold', '--instance-ids', 'a__b-1', '--out', 'r.json']))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "pip install 'bench-by-execution[swebench]'" in done.stderr and "Traceback" not in done.stderr


def test_missing_mirror_says_how_to_use_repo_cache(fixture, tmp_path, capsys):
    code = main(["swebench", "--dataset", str(fixture["dataset"]), "--repo-cache", str(tmp_path / "empty"),
                 "--models", "gold", "--sandbox", "local", "--out", str(tmp_path / "r.json"), "--quiet"])  # fmt: skip
    assert code == 2
    assert "--repo-cache" in capsys.readouterr().err


def test_swebench_format_score_flags_elision_and_missing_gold_files(tmp_path):
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "ops.py").write_text(OPS)
    elided = "FILE: calc/ops.py\n```python\ndef mean(values):\n    ...\n# ... rest of the file unchanged\n```\n"
    result = swebench_format_score(elided, ["calc/ops.py", "calc/other.py"], tmp_path)
    failed = {c["name"] for c in result.checks if not c["passed"]}
    assert failed == {"no_elision_markers", "gold_files_edited"}
    assert result.score == 70
    invented = swebench_format_score("FILE: nowhere/deep/x.py\n```python\nx = 1\n```\n", ["calc/ops.py"], tmp_path)
    assert not next(c for c in invented.checks if c["name"] == "paths_plausible")["passed"]


def test_worktree_pool_reuses_a_tree_and_hands_it_back_clean(fixture):
    from swebench_exec.swebench.dataset import Instance
    from swebench_exec.swebench.repos import RepoCache, WorktreePool

    instance = Instance.from_row(fixture["row"])
    pool = WorktreePool(RepoCache(fixture["cache"], fetch=False))
    try:
        with pool.checkout(instance) as first:
            (first / "calc" / "ops.py").write_text("broken = True\n")
            (first / "stray.txt").write_text("left behind")
            with pool.checkout(instance) as second:  # busy trees are never shared
                assert second != first
        with pool.checkout(instance) as again:
            assert again == first  # the most recently returned tree: the one this test dirtied
            assert (again / "calc" / "ops.py").read_text() == OPS
            assert not (again / "stray.txt").exists()
    finally:
        pool.close()
    assert not first.exists() and not second.exists()
