"""Mirrors and worktrees on the fixture repository: never the network."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import git
import pytest
from swebench_fixture import BASE_FILES, CACHE_NAME, COMMIT_ENV, make_fixture_dataset, make_fixture_repo

from swebench_exec.swebench.dataset import Instance
from swebench_exec.swebench.repos import RepoCache, RepoError


@pytest.fixture
def fixture(tmp_path):
    _, cache, row = make_fixture_dataset(tmp_path)
    return cache, Instance.from_row(row)


def assert_clean_checkout(path: Path, instance: Instance) -> None:
    repo = git.Repo(path)
    assert repo.head.commit.hexsha == instance.base_commit and repo.head.is_detached
    assert repo.git.status("--porcelain", "--untracked-files=all") == ""
    assert {rel: (path / rel).read_text() for rel in BASE_FILES} == BASE_FILES


def worktree_paths(git_dir: Path) -> list[str]:
    listing = git.Git().execute(["git", "--git-dir", str(git_dir), "worktree", "list", "--porcelain"])
    return [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]


def test_worktree_of_a_bare_mirror_is_clean_at_base_commit_and_removed(fixture, tmp_path):
    cache, instance = fixture
    repos = RepoCache(cache, fetch=False)
    git_dir = repos.mirror(instance.repo)
    assert git_dir == cache / CACHE_NAME and git.Repo(git_dir).bare
    with repos.worktree(instance) as path:
        assert_clean_checkout(path, instance)
        assert str(path) in worktree_paths(git_dir)
        (path / "calc" / "ops.py").write_text("broken\n")
        (path / "scratch.txt").write_text("left behind?\n")
    assert not path.exists() and not path.parent.exists()  # the temp parent too
    assert worktree_paths(git_dir) == [str(git_dir)]


def test_worktree_under_a_given_root_keeps_the_root(fixture, tmp_path):
    cache, instance = fixture
    root = tmp_path / "work"
    with RepoCache(cache, fetch=False).worktree(instance, root=root) as path:
        assert path.parent == root and path.name.startswith(instance.instance_id)
    assert root.is_dir() and list(root.iterdir()) == []


def test_worktree_removed_when_the_body_raises(fixture):
    cache, instance = fixture
    repos = RepoCache(cache, fetch=False)
    with pytest.raises(KeyError):
        with repos.worktree(instance) as path:
            raise KeyError("boom")
    assert not path.exists()
    assert worktree_paths(repos.mirror(instance.repo)) == [str(cache / CACHE_NAME)]


def test_a_non_bare_checkout_in_the_repo_cache_works_and_is_left_as_it_was(tmp_path):
    source, row = make_fixture_repo(tmp_path / "src")
    cache = tmp_path / "cache"
    git.Repo.clone_from(str(source), cache / CACHE_NAME)  # an ordinary clone, with a working tree
    user_repo = git.Repo(cache / CACHE_NAME)
    (cache / CACHE_NAME / "README.md").write_text("the user's own uncommitted edit\n")
    instance = Instance.from_row(row)
    repos = RepoCache(cache, fetch=False)
    assert repos.mirror(instance.repo) == cache / CACHE_NAME / ".git"
    with repos.worktree(instance) as path:
        assert_clean_checkout(path, instance)  # the user's edit does not leak into the instance's tree
    assert (cache / CACHE_NAME / "README.md").read_text() == "the user's own uncommitted edit\n"
    assert len(user_repo.git.worktree("list").splitlines()) == 1


def test_two_worktrees_of_one_repo_at_once(fixture):
    cache, instance = fixture
    repos = RepoCache(cache, fetch=False)
    with repos.worktree(instance) as first, repos.worktree(instance) as second:
        assert first != second
        (first / "calc" / "ops.py").write_text("changed in the first\n")
        assert_clean_checkout(second, instance)
        assert len(worktree_paths(repos.mirror(instance.repo))) == 3
    assert not first.exists() and not second.exists()


def test_parallel_worktrees_from_threads(fixture):
    cache, instance = fixture
    repos = RepoCache(cache, fetch=False)
    heads, errors = [], []

    def one() -> None:
        try:
            with repos.worktree(instance) as path:
                heads.append(git.Repo(path).head.commit.hexsha)
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and heads == [instance.base_commit] * 6
    assert worktree_paths(repos.mirror(instance.repo)) == [str(cache / CACHE_NAME)]


def test_missing_mirror_without_fetching_says_how_to_use_repo_cache(tmp_path, fixture):
    _, instance = fixture
    with pytest.raises(RepoError) as err:
        RepoCache(tmp_path / "empty", fetch=False).mirror(instance.repo)
    message = str(err.value)
    assert "no mirror of fixture/calc" in message and "--repo-cache DIR" in message and "fixture__calc" in message


def test_a_folder_that_is_not_a_repository(tmp_path, fixture):
    _, instance = fixture
    (tmp_path / "cache" / CACHE_NAME).mkdir(parents=True)
    with pytest.raises(RepoError, match="is not a git repository"):
        RepoCache(tmp_path / "cache", fetch=False).mirror(instance.repo)


def test_missing_mirror_is_cloned_bare_once(tmp_path):
    source, row = make_fixture_repo(tmp_path / "remote" / "fixture")  # -> remote/fixture/calc, like owner/name
    instance = Instance.from_row(row)
    repos = RepoCache(tmp_path / "cache", remote=f"file://{tmp_path}/remote/{{repo}}")
    git_dir = repos.mirror(instance.repo)
    assert git_dir == tmp_path / "cache" / CACHE_NAME and git.Repo(git_dir).bare
    shutil.rmtree(source)  # the remote is gone: a second call must not need it
    assert repos.mirror(instance.repo) == git_dir
    with repos.worktree(instance) as path:
        assert_clean_checkout(path, instance)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [CACHE_NAME]


def test_failed_clone_leaves_nothing_and_says_how_to_use_repo_cache(tmp_path, fixture):
    _, instance = fixture
    repos = RepoCache(tmp_path / "cache", remote=f"file://{tmp_path}/nowhere/{{repo}}")
    with pytest.raises(RepoError) as err:
        repos.mirror(instance.repo)
    assert str(err.value).startswith(f"could not clone file://{tmp_path}/nowhere/fixture/calc (")
    assert "--repo-cache" in str(err.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_base_commit_missing_from_the_mirror(fixture):
    cache, instance = fixture
    row = dict(instance.row, base_commit="0123456789abcdef0123456789abcdef01234567")
    with pytest.raises(RepoError, match="commit 0123456789abcdef0123456789abcdef01234567 of fixture/calc is not in"):
        with RepoCache(cache, fetch=False).worktree(Instance.from_row(row)):
            pass


def test_missing_commit_is_fetched_when_fetching_is_allowed(tmp_path):
    source, row = make_fixture_repo(tmp_path / "remote" / "fixture")
    repos = RepoCache(tmp_path / "cache", remote=f"file://{tmp_path}/remote/{{repo}}")
    repos.mirror("fixture/calc")
    upstream = git.Repo(source)
    upstream.git.commit("--allow-empty", "--no-gpg-sign", "-qm", "later work", env=COMMIT_ENV)  # not in the mirror
    upstream.git.config("uploadpack.allowAnySHA1InWant", "true")  # as GitHub serves commits by id
    later = Instance.from_row(dict(row, base_commit=upstream.head.commit.hexsha))
    with repos.worktree(later) as path:
        assert git.Repo(path).head.commit.hexsha == later.base_commit
