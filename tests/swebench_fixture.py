"""A tiny real SWE-bench instance for tests: a git repository with a bug, its gold fix and a test patch.

`calc.ops.mean([])` raises ZeroDivisionError; the gold patch returns 0.0 instead. The test patch adds a failing test
to `tests/test_ops.py` and creates `tests/test_new.py` (so "restore touched files" and "delete created files" are
both exercised); the two existing tests must stay green. Commits carry a fixed author and date, so every build has
the same `base_commit` and a row built in one folder matches a mirror built in another.
"""
from __future__ import annotations

import json
from pathlib import Path

import git

REPO = "fixture/calc"
INSTANCE_ID = "fixture__calc-1"
CACHE_NAME = "fixture__calc"

OPS = '''"""Small numeric helpers."""


def total(values):
    """Sum of `values`."""
    result = 0
    for value in values:
        result += value
    return result


def mean(values):
    """Arithmetic mean of `values`; 0.0 for an empty sequence."""
    return total(values) / len(values)
'''

OPS_FIXED = OPS.replace(
    "    return total(values) / len(values)\n",
    "    if not values:\n        return 0.0\n    return total(values) / len(values)\n",
)

TEST_OPS = '''from calc.ops import mean, total


def test_total():
    assert total([1, 2, 3]) == 6


def test_mean():
    assert mean([1, 2, 3]) == 2
'''

TEST_OPS_PATCHED = TEST_OPS + '''

def test_mean_empty():
    assert mean([]) == 0.0
'''

TEST_NEW = '''from calc.ops import mean


def test_mean_empty_tuple():
    assert mean(()) == 0.0
'''

BASE_FILES = {
    "calc/__init__.py": '"""A toy package with one bug, for benchmark tests."""\nfrom .ops import mean, total\n',
    "calc/ops.py": OPS,
    "tests/test_ops.py": TEST_OPS,
    "conftest.py": "# Marks the repository root, so pytest puts it on sys.path and `import calc` works uninstalled.\n",
    "pyproject.toml": '[project]\nname = "calc"\nversion = "0.1"\n\n[tool.setuptools]\npackages = ["calc"]\n',
    "README.md": "# calc\n\nA toy package with one bug.\n",
}

PROBLEM = """mean() of an empty list raises ZeroDivisionError

`calc.ops.mean([])` raises `ZeroDivisionError: division by zero`. Its docstring promises 0.0 for an empty
sequence, and callers rely on that. The same happens for an empty tuple.
"""

COMMIT_ENV = {  # fixed identity and date: the same base_commit on every build
    "GIT_AUTHOR_NAME": "Fixture", "GIT_AUTHOR_EMAIL": "fixture@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "Fixture", "GIT_COMMITTER_EMAIL": "fixture@example.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}  # fmt: skip


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def _diff_against_head(repo: git.Repo, files: dict[str, str]) -> str:
    """The patch that turns HEAD into HEAD + `files`, made by git itself; the tree is reset afterwards."""
    _write(Path(repo.working_tree_dir), files)
    repo.git.add("--intent-to-add", "--", *files)
    patch = repo.git.diff("--src-prefix=a/", "--dst-prefix=b/", strip_newline_in_stdout=False)
    repo.git.reset("--quiet")
    repo.git.checkout("--", ".")
    repo.git.clean("-fdq")
    return patch


def make_fixture_repo(root: Path, extra_test: tuple[str, str] | None = None) -> tuple[Path, dict]:
    """The repository at `root/calc` (one commit) and its instance row in the SWE-bench schema. `extra_test`: (name,
    source) of one more test in tests/test_ops.py, a PASS_TO_PASS test of the row."""
    path = Path(root) / "calc"
    path.mkdir(parents=True)
    repo = git.Repo.init(path, initial_branch="main")
    extra = f"\n\n{extra_test[1]}" if extra_test else ""
    _write(path, {**BASE_FILES, "tests/test_ops.py": TEST_OPS + extra})
    repo.git.add("--all")
    repo.git.commit("--quiet", "--no-gpg-sign", "-m", "calc: total and mean", env=COMMIT_ENV)
    row = {
        "repo": REPO,
        "instance_id": INSTANCE_ID,
        "base_commit": repo.head.commit.hexsha,
        "patch": _diff_against_head(repo, {"calc/ops.py": OPS_FIXED}),
        "test_patch": _diff_against_head(repo, {"tests/test_ops.py": TEST_OPS_PATCHED + extra,
                                                "tests/test_new.py": TEST_NEW}),  # fmt: skip
        "problem_statement": PROBLEM,
        "hints_text": "",
        "created_at": "2024-01-01T00:00:00Z",
        "version": "0.1",
        "FAIL_TO_PASS": json.dumps(["tests/test_ops.py::test_mean_empty", "tests/test_new.py::test_mean_empty_tuple"]),
        "PASS_TO_PASS": json.dumps(["tests/test_ops.py::test_total", "tests/test_ops.py::test_mean"]
                                   + ([f"tests/test_ops.py::{extra_test[0]}"] if extra_test else [])),
        "environment_setup_commit": repo.head.commit.hexsha,
    }
    return path, row


def make_repo_cache(root: Path, repo: Path | None = None) -> Path:
    """A `--repo-cache` folder holding a bare mirror at `<cache>/fixture__calc` (of `repo`, or of a fresh build)."""
    root = Path(root)
    source = repo if repo is not None else make_fixture_repo(root / "fixture-src")[0]
    cache = root / "repo-cache"
    git.Repo.clone_from(str(source), cache / CACHE_NAME, bare=True)
    return cache


def make_fixture_dataset(root: Path, extra_test: tuple[str, str] | None = None) -> tuple[Path, Path, dict]:
    """Everything a run needs: a one-row `.jsonl` dataset, a repo cache holding its mirror, and the row."""
    root = Path(root)
    repo, row = make_fixture_repo(root / "fixture-src", extra_test)
    dataset = root / "fixture.jsonl"
    dataset.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return dataset, make_repo_cache(root, repo), row
