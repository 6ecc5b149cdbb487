"""Local environments for the SWE-bench tier: one venv per (repo, version), built once and cached.

The official images are the reference; where Docker is absent the local sandbox needs a Python of the right version
with the repository's dependencies. The recipes below are our own notes of what each repository needs (facts
checked by running its tests here), not a copy of anyone's table. The repository itself is installed from its
`environment_setup_commit` only to pull in its dependencies: at evaluation time the instance's worktree comes first
on `sys.path`, so the code under test is always the worktree's.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .dataset import Instance

DEFAULT_ENV_DIR = Path.home() / ".cache" / "bench-by-execution" / "envs"


class EnvError(RuntimeError):
    """The environment could not be built here: an infrastructure failure, reported apart from model results."""


@dataclass(frozen=True)
class Recipe:
    python: str | None  # "3.9"; None = the interpreter running the harness
    pip: tuple[str, ...] = ()  # pinned packages installed first
    install_repo: str | None = None  # pip requirement spec for the repo at environment_setup_commit, e.g. ".[test]"
    test_command: str | None = None  # replaces the official command where it needs tooling the venv lacks (tox)
    system_site_packages: bool = False
    pythonpath: tuple[str, ...] = (".",)  # worktree dirs put first on sys.path

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


SPHINX_3_PINS = (  # sphinx 3.x predates Jinja2 3 and the sphinxcontrib packages that require Sphinx >= 5
    "Jinja2<3.0", "markupsafe<=2.0.1", "alabaster==0.7.11", "docutils<0.18", "pytest<8",
    "sphinxcontrib-applehelp<=1.0.7", "sphinxcontrib-devhelp<=1.0.5", "sphinxcontrib-htmlhelp<=2.0.4",
    "sphinxcontrib-serializinghtml<=1.1.9", "sphinxcontrib-qthelp<=1.0.6",
)  # fmt: skip
SPHINX_4_PINS = ("Jinja2<3.1", "alabaster==0.7.11", "docutils<0.18", "pytest<8", *SPHINX_3_PINS[5:])


def _major_minor(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int((minor.split(".") or ["0"])[0] or 0)


def _django(version: str) -> Recipe:
    python = "3.6" if _major_minor(version) < (4, 0) else "3.8" if _major_minor(version) < (4, 2) else "3.9"
    return Recipe(python=python, install_repo=".")


def _sphinx(version: str) -> Recipe:
    pins = SPHINX_3_PINS if _major_minor(version) < (4, 0) else SPHINX_4_PINS
    return Recipe(python="3.9", pip=pins, install_repo=".[test]",
                  test_command="python -X dev -m pytest -rA --durations 25 -p no:cacheprovider")  # fmt: skip


RECIPES = {
    "sympy/sympy": lambda version: Recipe(python="3.9", pip=("mpmath==1.3.0",)),
    "sphinx-doc/sphinx": _sphinx,
    "django/django": _django,
    "psf/requests": lambda version: Recipe(python="3.9", pip=("pytest<8",), install_repo="."),
    "fixture/calc": lambda version: Recipe(python=None, system_site_packages=True,
                                           test_command="python -m pytest -rA -p no:cacheprovider"),  # fmt: skip
}


def recipe_for(instance: Instance) -> Recipe:
    make = RECIPES.get(instance.repo)
    if make is None:
        known = ", ".join(sorted(RECIPES))
        raise EnvError(f"no local environment recipe for {instance.repo} (known: {known}); "
                       "use --sandbox docker with the official images")  # fmt: skip
    return make(instance.version)


def find_python(version: str | None) -> Path:
    """An interpreter of `version` (e.g. "3.9"): pyenv, then `uv python find`, then PATH."""
    if version is None:
        return Path(sys.executable)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(root.glob(f"{version}.*/bin/python{version}"), reverse=True) if root.is_dir() else []
    if candidates:
        return candidates[0]
    if shutil.which("uv"):
        found = subprocess.run(["uv", "python", "find", version], capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip())
    on_path = shutil.which(f"python{version}")
    if on_path:
        return Path(on_path)
    raise EnvError(f"no Python {version} found (looked in pyenv, uv, PATH): install it, e.g. `pyenv install {version}`")


@dataclass
class LocalEnv:
    venv: Path
    recipe: Recipe
    built_s: float = 0.0
    reused: bool = True
    log: list[str] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def base_prefix(self) -> Path:
        """The installation the venv's python links to: the sandbox must see it too."""
        return (self.bin / "python").resolve().parent.parent


class EnvBuilder:
    """Builds and caches venvs; concurrent instances of one (repo, version) wait for a single build."""

    def __init__(self, root: Path = DEFAULT_ENV_DIR) -> None:
        self.root = Path(root)
        self._locks: dict[str, threading.Lock] = {}
        self._failed: dict[str, str] = {}
        self._guard = threading.Lock()

    def ensure(self, instance: Instance, repo_git_dir: Path) -> LocalEnv:
        recipe = recipe_for(instance)
        key = f"{instance.cache_name}-{instance.version}-{recipe.digest()}"
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            venv = self.root / key
            if (venv / "ready.json").exists():
                return LocalEnv(venv, recipe)
            if key in self._failed:  # one failed build per run is enough: later rows get the same answer at once
                raise EnvError(self._failed[key])
            started = time.monotonic()
            try:
                log = self._build(venv, recipe, instance, repo_git_dir)
            except EnvError as exc:
                self._failed[key] = str(exc)
                raise
            built = time.monotonic() - started
            (venv / "ready.json").write_text(json.dumps({"recipe": asdict(recipe), "built_s": round(built, 1)}))
            return LocalEnv(venv, recipe, built_s=built, reused=False, log=log)

    def _build(self, venv: Path, recipe: Recipe, instance: Instance, repo_git_dir: Path) -> list[str]:
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        python = find_python(recipe.python)
        options = ["--system-site-packages"] if recipe.system_site_packages else []
        if not (recipe.pip or recipe.install_repo):
            options.append("--without-pip")  # nothing to install: skip ensurepip's ten seconds
        log = [_run([str(python), "-m", "venv", *options, str(venv)])]
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if recipe.pip:
            log.append(_run(pip + list(recipe.pip)))
        if recipe.install_repo:
            log.append(self._install_repo(pip, recipe, instance, repo_git_dir, venv))
        return log

    def _install_repo(self, pip: list[str], recipe: Recipe, instance: Instance, git_dir: Path, venv: Path) -> str:
        commit = instance.environment_setup_commit or instance.base_commit
        source = venv.parent / f".src-{venv.name}"
        shutil.rmtree(source, ignore_errors=True)
        _run(["git", "--git-dir", str(git_dir), "worktree", "add", "--detach", "--force", str(source), commit])
        try:
            spec = recipe.install_repo.replace(".", str(source), 1)
            return _run(pip + list(recipe.pip) + [spec])
        finally:
            _run(["git", "--git-dir", str(git_dir), "worktree", "remove", "--force", "--force", str(source)], check=False)
            shutil.rmtree(source, ignore_errors=True)


def _run(command: list[str], check: bool = True) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise EnvError(f"`{' '.join(command[:6])} ...` failed: {' | '.join(tail)}")
    return f"$ {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
