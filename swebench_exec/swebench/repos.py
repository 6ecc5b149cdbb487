"""Repository mirrors and per-instance worktrees.

One git directory per repository, cloned once (bare) and shared by every instance of that repository; each
instance gets its own detached worktree at `base_commit`, so parallel instances of one repository never share a
working tree and a checkout costs a few seconds, not a clone. A `--repo-cache` folder holds ready mirrors (bare
clones or ordinary checkouts) named `<owner>__<name>`; with it nothing is fetched, which is how air-gapped
machines run real repositories.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .dataset import Instance

DEFAULT_CACHE_DIR = Path("~/.cache/bench-by-execution/repos").expanduser()
GITHUB_URL = "https://github.com/{repo}.git"

# Never prompt (a private or misspelt repository makes GitHub ask for a password) and never run a repository's
# hooks: the mirror may be a user's own checkout.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}
_NO_HOOKS = ["-c", "core.hooksPath=/dev/null"]


class RepoError(RuntimeError):
    """A repository or commit we cannot get; the message is one user-facing line."""


class RepoCache:
    """Mirrors under `cache_dir/<owner>__<name>`. With `fetch=False` (what `--repo-cache DIR` means) the folder's
    mirrors are used as they are; otherwise a missing mirror is cloned from `remote` and a missing commit fetched."""

    def __init__(self, cache_dir: Path = DEFAULT_CACHE_DIR, fetch: bool = True, remote: str = GITHUB_URL) -> None:
        self.cache_dir = Path(cache_dir).expanduser()
        self.fetch = fetch
        self.remote = remote  # a template with {repo}; tests and mirrors of GitHub point it elsewhere
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def mirror(self, repo: str) -> Path:
        """The git directory of `repo`'s mirror, cloning it first when allowed."""
        import git

        path = self.cache_dir / repo.replace("/", "__")
        with self._lock(repo):
            if not path.exists():
                self._clone(repo, path)
            try:
                return Path(git.Repo(path).git_dir)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                raise RepoError(f"{path} exists but is not a git repository (bare or checkout)") from None

    def _clone(self, repo: str, path: Path) -> None:
        """A bare clone into a temporary sibling, renamed into place, so an interrupted clone never looks done."""
        import git

        hint = f"pass --repo-cache DIR with a clone at DIR/{path.name} (bare or not)"
        if not self.fetch:
            raise RepoError(f"no mirror of {repo} at {path}; {hint}")
        url = self.remote.format(repo=repo)
        partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            git.Repo.clone_from(url, partial, bare=True, env=_GIT_ENV)
        except git.GitCommandError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise RepoError(f"could not clone {url} ({_last_line(exc.stderr)}); {hint}") from None
        partial.rename(path)

    def _ensure_commit(self, git_dir: Path, repo: str, commit: str) -> None:
        import git

        runner = git.Git()
        if _has_commit(runner, git_dir, commit):
            return
        if self.fetch:
            with self._lock(repo):
                try:
                    fetch = ["git", "--git-dir", str(git_dir), "fetch", "--quiet", "origin", commit]
                    runner.execute(fetch, env=_GIT_ENV)
                except git.GitCommandError:
                    pass  # reported below, with the mirror's path
        if not _has_commit(runner, git_dir, commit):
            raise RepoError(f"commit {commit} of {repo} is not in the mirror {git_dir}; update that mirror")

    @contextmanager
    def worktree(self, instance: "Instance", root: Path | None = None) -> Iterator[Path]:
        """A clean detached worktree of `instance.repo` at `instance.base_commit`, under `root` (a fresh temp dir by
        default); removed with everything written into it on exit, also on error."""
        import git

        git_dir = self.mirror(instance.repo)
        self._ensure_commit(git_dir, instance.repo, instance.base_commit)
        parent = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="swebench-"))
        parent.mkdir(parents=True, exist_ok=True)
        path = parent / f"{instance.instance_id}-{uuid.uuid4().hex[:8]}"
        worktree = ["git", "--git-dir", str(git_dir), *_NO_HOOKS, "worktree"]
        runner = git.Git()
        try:
            with self._lock(str(git_dir)):  # one writer of the mirror's worktree list at a time
                add = [*worktree, "add", "--force", "--detach", str(path), instance.base_commit]
                try:
                    runner.execute(add, env=_GIT_ENV)
                except git.GitCommandError as exc:
                    error = _last_line(exc.stderr)
                    raise RepoError(f"could not check out {instance.base_commit} of {instance.repo}: {error}") from None
            yield path
        finally:
            with self._lock(str(git_dir)):
                runner.execute([*worktree, "remove", "--force", "--force", str(path)], with_exceptions=False)
                shutil.rmtree(path, ignore_errors=True)
                runner.execute([*worktree, "prune"], with_exceptions=False)
            if root is None:
                shutil.rmtree(parent, ignore_errors=True)


def _has_commit(runner, git_dir: Path, commit: str) -> bool:
    status, _, _ = runner.execute(
        ["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{commit}^{{commit}}"],
        with_exceptions=False, with_extended_output=True,
    )  # fmt: skip
    return status == 0


def _last_line(text: str) -> str:
    """git's last word, without GitPython's wrapping of stderr (a `stderr: '` label, a closing quote on its own line)."""
    lines = [line.strip().removeprefix("stderr:").strip().strip("'").strip() for line in str(text).splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else "no output"



class WorktreePool:
    """Clean worktrees reused across the rows of one run: a second row of an instance resets the tree it finds
    (`git reset --hard` + `git clean -fdx`, touching only what changed) instead of checking the repository out again.
    A tree is lent to one row at a time; `close()` removes them all."""

    def __init__(self, repos: RepoCache) -> None:
        self.repos = repos
        self._free: dict[str, list[Path]] = {}
        self._stack = contextlib.ExitStack()
        self._guard = threading.Lock()

    @contextmanager
    def checkout(self, instance: "Instance") -> Iterator[Path]:
        with self._guard:
            free = self._free.setdefault(instance.instance_id, [])
            path = free.pop() if free else None
        if path is None or not reset_clean(path, instance.base_commit):
            with self._guard:
                path = self._stack.enter_context(self.repos.worktree(instance))
        try:
            yield path
        finally:
            if path in TAINTED:  # code ran in it: host git must never run there again (a rewritten .git, hooks...)
                TAINTED.discard(path)
                _discard_tree(path, self.repos.mirror(instance.repo))
            else:
                with self._guard:
                    self._free[instance.instance_id].append(path)

    def close(self) -> None:
        self._stack.close()


TAINTED: set[Path] = set()  # worktrees in which sandboxed code has run (see WorktreePool.checkout)


def mark_tainted(path: Path) -> None:
    TAINTED.add(path)


def _discard_tree(path: Path, git_dir: Path) -> None:
    """Delete without asking git about the tree itself, then let the mirror forget it (`prune` reads only paths)."""
    from ..sandbox.base import remove_tree

    remove_tree(path)
    subprocess.run(["git", "--git-dir", str(git_dir), "worktree", "prune"], capture_output=True)


def reset_clean(path: Path, commit: str) -> bool:
    """Back to exactly `commit` with nothing else in the tree; False when the tree is beyond repair (use a new one)."""
    env = {**os.environ, **_GIT_ENV}
    for command in (["reset", "--hard", "--quiet", commit], ["clean", "-fdxq"]):
        if subprocess.run(["git", "-C", str(path), *command], capture_output=True, env=env).returncode != 0:
            return False
    return True
