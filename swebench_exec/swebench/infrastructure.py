"""Which files of a model's patch are test infrastructure, and so are dropped before the patch is evaluated.

Test infrastructure decides how the tests run rather than what the code does: a conftest.py can mark every test
passed, a pytest section's addopts can load a plugin that does, a `pytest.py` next to the tests can stand in for the
runner. The official harness would apply such edits; we never evaluate them (stricter, on purpose). The rule:

- by name, anywhere and in any letter case: conftest.py, pytest's own ini files (pytest.ini, .pytest.ini, pytest.toml,
  .pytest.toml), sitecustomize / usercustomize as a module or a package and *.pth (run by every interpreter start),
  and anything under package metadata (*.dist-info, *.egg-info, *.egg-link: an entry_points.txt there with [pytest11]
  is a plugin pytest auto-loads; importlib.metadata matches those names in any case);
- by position: a top-level module or package named like one the interpreter or pytest imports before any plugin runs
  (the standard library, pytest / _pytest / pluggy and pytest's dependencies): with `python -m pytest`, or the
  repository on PYTHONPATH, the repository's copy wins over the real one. Only the first path component counts
  (pytest's own repository keeps its code in src/_pytest, which must stay evaluable). And any module named like the
  log guard's plugin (`bench_exec_guard*`);
- by meaning: an edit to pyproject.toml, setup.cfg or tox.ini when it changes the configuration pytest reads from that
  file, found by parsing the file before (the worktree's HEAD) and after (that file's part of the patch applied alone)
  and comparing pytest's part. Reading the diff text instead is both bypassable (TOML escapes, hunks far from their
  section's header) and over-eager (`-pthread` in [build_ext], `pytest -p ...` in tox's commands).
"""
from __future__ import annotations

import configparser
import posixpath
import re
import sys
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

from .diffs import PatchError, patch_files, post_patch_contents
from .guard import PLUGIN_NAME

TEST_INFRASTRUCTURE = ("conftest.py", "pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml")
STARTUP_MODULES = ("sitecustomize", "usercustomize")  # imported by every interpreter start, as modules or packages
PACKAGE_METADATA = (".dist-info", ".egg-info", ".egg-link")
RUNNER_MODULES = ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py", "attr", "attrs", "tomli",
                  "exceptiongroup", "colorama", "pygments", "more_itertools", "atomicwrites", "six", "wcwidth")
# ... what `python -m pytest` imports before any plugin runs, beside the standard library ("test", its own test
# suite, is never imported by a test run, and some repositories keep their tests in a top-level test/)
SHADOWABLE = frozenset(RUNNER_MODULES) | (frozenset(sys.stdlib_module_names) - {"test"})
MODULE_SUFFIXES = (".py", ".pyc", ".pyw", ".so", ".pyd")  # a top-level file importable as a module
PYTEST_CONFIG_FILES = ("pyproject.toml", "setup.cfg", "tox.ini")  # pytest reads its own section from these
INI_SECTIONS = {"setup.cfg": ("tool:pytest", "pytest"), "tox.ini": ("pytest",)}
IGNORED_KEYS = frozenset({"filterwarnings", "markers"})  # an honest fix may add a warning filter or a marker

# A section header as pytest's ini reader (iniconfig) sees it: the line up to its first `#` or `;` ends with `]`.
# configparser's own pattern takes `[pytest]#]` for a section named "pytest]#", where pytest sees [pytest].
_INI_HEADER = re.compile(r"\[(?P<header>[^#;]*)\]\s*(?:[#;].*)?$")
_NO_DEFAULT_SECTION = "\n"  # no header can name it: [DEFAULT] stays an ordinary section, as it is for pytest


def is_test_infrastructure(path: str, section: str = "", worktree: Path | None = None) -> bool:
    """Whether a model's change to `path` (its file's `section` of the patch) must not be evaluated; see the module
    docstring. The config files are judged against `worktree` (a git tree whose HEAD is the patch's base); without
    one, any edit to them counts (conservative)."""
    parts = posixpath.normpath(path).lower().split("/")
    if parts[-1] in TEST_INFRASTRUCTURE or parts[-1].endswith(".pth") or _installs_or_shadows(parts):
        return True
    if parts[-1] not in PYTEST_CONFIG_FILES:
        return False
    return worktree is None or _changes_pytest_config(Path(worktree), path, section)


def _installs_or_shadows(parts: list[str]) -> bool:
    """Package metadata or a start-up module anywhere on the (lower-cased) path, a top-level stand-in for a module
    imported before the tests run, or a guard look-alike."""
    if any(part.endswith(PACKAGE_METADATA) or part.startswith(PLUGIN_NAME) for part in parts):
        return True
    if _module_name(parts[-1], is_dir=False) is None:  # not code: nothing to import
        return False
    if any(_module_name(part, is_dir=index < len(parts) - 1) in STARTUP_MODULES for index, part in enumerate(parts)):
        return True
    return _module_name(parts[0], is_dir=len(parts) > 1) in SHADOWABLE


def _module_name(part: str, is_dir: bool) -> str | None:
    """The module a path component is importable as: a package (or namespace package) directory, or a module file."""
    if is_dir:
        return part
    name, dot, _ = part.partition(".")
    return name if dot and part.endswith(MODULE_SUFFIXES) else None


def _changes_pytest_config(worktree: Path, path: str, section: str) -> bool:
    """Whether `section` changes pytest's configuration in `path`. Whatever cannot be read (a base or result that does
    not parse, a section that does not apply on its own) counts as a change: we cannot tell what pytest would see."""
    from git import GitCommandError

    try:
        before = pytest_config(path, _base_text(worktree, path))
        after = pytest_config(path, _post_text(worktree, path, section))
    except (PatchError, ValueError, RecursionError, configparser.Error, GitCommandError):  # deep nesting: RecursionError
        return True
    return before != after


def _base_text(worktree: Path, path: str) -> str:
    """The file at the worktree's HEAD; empty when HEAD has no such file (a broken HEAD fails in `_post_text`)."""
    import git

    runner = git.Git(str(worktree))
    try:
        blob = runner.cat_file("blob", f"HEAD:{path}", stdout_as_string=False, strip_newline_in_stdout=False)
    except git.GitCommandError:
        return ""
    return blob.decode("utf-8")


def _post_text(worktree: Path, path: str, section: str) -> str:
    """The file once `section` alone is applied at HEAD; empty when the section deletes it (or renames it away)."""
    contents = post_patch_contents(worktree, section)
    if path in contents:
        return contents[path]
    if path in patch_files(section).deleted:
        return ""
    raise PatchError(f"{path} is not among the files its own section writes")


def pytest_config(path: str, text: str) -> dict[str, Any]:
    """What pytest (and its plugin discovery) reads from one config file, minus IGNORED_KEYS; raises ValueError or
    configparser.Error when the text does not parse. Present-but-empty sections are kept: an empty [pytest] or
    [tool.pytest.ini_options] still makes pytest pick that file as its configuration, dropping another one's."""
    name = posixpath.basename(path)
    if name == "pyproject.toml":
        return _pyproject_config(text)
    return {"views": [_ini_config(view, name) for view in _line_views(text)]}


def _pyproject_config(text: str) -> dict[str, Any]:
    """The whole `tool.pytest` table (`ini_options` and pytest 9's native keys) and the pytest11 entry points.
    tomllib resolves escapes, so `[tool."\\u0070ytest"]` is `tool.pytest`, as it is for pytest."""
    data = tomllib.loads(text)
    return {
        "tool.pytest": _without_ignored(_lookup(data, "tool", "pytest")),
        "pytest11": _lookup(data, "project", "entry-points", "pytest11"),
    }


def _lookup(table: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


def _without_ignored(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ignored(v) for k, v in value.items() if k not in IGNORED_KEYS}
    return value


def _line_views(text: str) -> list[str]:
    """The text split into lines as pytest's ini readers do, newline-joined for configparser (which splits on "\\n"
    alone): iniconfig (pytest >= 6) splits on every Unicode line break, py.iniconfig (older pytest) on \\n and \\r only.
    A change either reader would see must show; honest files give the same view twice."""
    return ["\n".join(text.splitlines()), "\n".join(re.split(r"\r\n|\r|\n", text))]


def _ini_config(text: str, name: str) -> dict[str, Any]:
    """pytest's sections of setup.cfg / tox.ini (each with its keys, case kept: pytest's reader is case-sensitive) and,
    for setup.cfg, the pytest11 entry points (setuptools lowercases keys, so any case of the key counts)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, default_section=_NO_DEFAULT_SECTION)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.SECTCRE = _INI_HEADER
    parser.read_string(text)
    wanted = INI_SECTIONS[name]
    config: dict[str, Any] = {
        header: _without_ignored(dict(parser[header])) for header in parser.sections() if header.strip() in wanted
    }  # strip(): newer iniconfig can strip whitespace from section names
    if name == "setup.cfg":
        config["pytest11"] = [
            value for header in parser.sections() if header.strip() == "options.entry_points"
            for key, value in parser[header].items() if key.strip().lower() == "pytest11"
        ]  # fmt: skip
    return config
