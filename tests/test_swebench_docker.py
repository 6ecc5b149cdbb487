"""The fixture instance in the docker sandbox: an image built here and tagged under the official naming scheme."""
from __future__ import annotations

import io
import json
import tarfile

import pytest

from docker_support import build_image, docker_base_image  # noqa: F401 - fixture used by name
from swebench_exec.cli import main
from swebench_exec.swebench.dataset import Instance
from swebench_exec.swebench.evaluate import official_image
from swebench_fixture import make_fixture_dataset, make_fixture_repo

pytestmark = pytest.mark.docker


def repo_tarball(repo) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(repo, arcname=".")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def fixture_with_image(tmp_path_factory, docker_base_image):
    root = tmp_path_factory.mktemp("swe-docker")
    jsonl, cache, row = make_fixture_dataset(root)
    repo, _ = make_fixture_repo(root / "image-src")
    image = official_image(Instance.from_row(row))
    assert image == "swebench/sweb.eval.x86_64.fixture_1776_calc-1:latest"
    build_image(docker_base_image, "ADD repo.tar /testbed/\nWORKDIR /testbed", image, {"repo.tar": repo_tarball(repo)})
    return {"dataset": jsonl, "cache": cache, "root": root}


def test_gold_resolves_and_empty_does_not_in_docker(fixture_with_image, tmp_path, capsys):
    out = tmp_path / "v.json"
    code = main(["validate", "--dataset", str(fixture_with_image["dataset"]), "--repo-cache",
                 str(fixture_with_image["cache"]), "--sandbox", "docker", "--validation-out", str(out), "--timeout",
                 "120", "--quiet"])  # fmt: skip
    record = json.loads(out.read_text())["fixture__calc-1"]
    assert (record["gold"], record["empty"], record["status"], record["sandbox"]) == ([True], [False], "ok", "docker")
    assert code == 0


def test_auto_picks_docker_when_the_image_is_here_and_gold_resolves(fixture_with_image, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["swebench", "--models", "gold", "--dataset", str(fixture_with_image["dataset"]), "--repo-cache",
                 str(fixture_with_image["cache"]), "--sandbox", "auto", "--out", str(out), "--timeout", "120",
                 "--quiet"])  # fmt: skip
    assert code == 0
    assert "sandbox: docker" in capsys.readouterr().err
    rows = json.loads(out.read_text())["rows"]
    assert {(r["arm"], r["executor"]["status"], r["executor"]["process"]["sandbox"]) for r in rows} == {
        ("harnessed", "resolved", "docker"), ("bare", "resolved", "docker")
    }
