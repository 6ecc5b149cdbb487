"""What the official SWE-bench harness runs for an instance: test command, test directives, files, parser, eval type.

Where this comes from. swebench 5.x grades from rows that carry their own `eval_script` / `log_parser` / `eval_type`
(it no longer ships per-repo specs), while the classic Verified rows carry none of those. For classic rows we derive
what the harness that built the published per-instance images (swebench 4.x) ran for them:

- test directives: the `b/` paths of `diff --git` headers in `test_patch`, minus `NON_TEST_EXTS` (imported from
  swebench); django turns them into module paths (`tests/auth_tests/test_validators.py` -> `auth_tests.test_validators`);
- the test command: `official_test_command`, one small rule per repository. The commands are facts observed by
  running / reading the official harness (swebench 4.1.0) on its instances, written here in our own structure; this
  is not a copy of its per-version tables (which also carry environment recipes we do not use: the official images
  already have the repository installed);
- the few shell lines the official images need before the tests: `official_eval_env` (django's locale settings);
- the log parser of `swebench.harness.log_parsers.python.MAP_REPO_TO_PARSER_PY` (imported, not copied).

Rows that do carry `eval_script` / `log_parser` / `eval_type` (newer exports) use them. Repositories the rule does not
know (the test fixture `fixture/calc`, a user's own) are added with `register_repo`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

TESTBED = "/testbed"  # the official images' checkout
CONDA_ENV = "testbed"  # the official images' conda env

PYTEST = "pytest -rA"  # pytest, with the short summary line of every outcome (what the pytest log parsers read)


class SpecError(ValueError):
    """An instance we cannot build an evaluation spec for; the message is one line a user can act on."""


# --- the official test command, per repository ---------------------------------------------------------------------------
# Repositories the harness runs with plain `pytest -rA` on every version it knows.
_PLAIN_PYTEST_REPOS = frozenset({
    # in SWE-bench Verified
    "matplotlib/matplotlib", "pallets/flask", "psf/requests", "pydata/xarray", "pylint-dev/pylint",
    "pytest-dev/pytest", "scikit-learn/scikit-learn",
    # in the other SWE-bench Python sets (full / Lite / extra)
    "marshmallow-code/marshmallow", "pvlib/pvlib-python", "pydicom/pydicom", "pylint-dev/astroid", "pyvista/pyvista",
    "sqlfluff/sqlfluff",
})  # fmt: skip

_DJANGO_RUNNER = "./tests/runtests.py --verbosity 2"  # django's own runner, from the checkout's root


def official_test_command(repo: str, version: str) -> str:
    """The runner invocation the official harness uses for `repo` at `version`, without the test directives.

    Any version of a known repository gets an answer (the rules are by version ranges, not a list of versions).
    Raises SpecError for a repository the harness never knew."""
    v = _version_tuple(version)
    if repo == "django/django":
        # The harness runs django's runner on the sqlite test settings, one process, for every version it has
        # (1.4 to 5.2) except 1.9, which it runs on the runner's defaults. SWE-bench Verified's django rows are
        # 3.0 to 5.0, so they all take the first form; 1.9 rows exist only in the full set.
        return _DJANGO_RUNNER if v[:2] == (1, 9) else f"{_DJANGO_RUNNER} --settings=test_sqlite --parallel 1"
    if repo == "astropy/astropy":
        # Before 3.0 (0.x and 1.x, e.g. Verified's 1.3 rows) the harness asks for a verbose, classic-style report
        # without tracebacks; from 3.0 on (Verified: 3.x to 5.x and "v5.3"), plain pytest.
        return PYTEST if v >= (3,) else f"{PYTEST} -vv -o console_output_style=classic --tb=no"
    if repo == "sympy/sympy":
        # sympy's own runner (bin/test), colour off, one line per test; its UserWarning/SyntaxWarning noise silenced
        return "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
    if repo == "sphinx-doc/sphinx":
        # tox's py39 environment run in the current interpreter (tox-current-env), arguments after -- go to pytest;
        # the images' tox.ini is edited to call `pytest -rA`. The env name stays py39 on every version.
        return "tox --current-env -epy39 -v --"
    if repo == "mwaskom/seaborn":
        return "pytest --no-header -rA"
    if repo in _PLAIN_PYTEST_REPOS:
        return PYTEST
    raise SpecError(f"unknown repository {repo!r}: add it with swebench_exec.swebench.spec.register_repo(repo, "
                    f"test_command, log_parser), or use rows that carry their own eval_script and log_parser")  # fmt: skip


def official_eval_env(repo: str, version: str) -> list[str]:
    """Shell lines the official images need before the tests of `repo` at `version` (run in the script's shell).

    Only django needs any: its tests read and write non-ASCII text and the images' default locale is not UTF-8."""
    if repo != "django/django":
        return []
    v = _version_tuple(version)
    utf8 = ["export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en", "export LC_ALL=en_US.UTF-8"]
    if (1, 7) <= v < (3,):
        # 1.7 to 2.2: the UTF-8 locale variables, and UTF-8 for Python's standard streams
        return [*utf8, "export PYTHONIOENCODING=utf8"]
    if (3,) <= v < (4,):
        # 3.0 to 3.2 (Verified's oldest django rows): the en_US.UTF-8 locale is generated first (uncommented in
        # /etc/locale.gen), then the same locale variables
        return ["sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen", *utf8]
    return []  # 1.4 to 1.6, and 4.0 on: nothing


def _known_repo(repo: str) -> bool:
    try:
        official_test_command(repo, "0")
    except SpecError:
        return False
    return True


# --- user-registered repositories --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Registered:
    test_command: str
    log_parser: str


_REGISTERED: dict[str, _Registered] = {
    # the toy repository of the test-suite and the demo (tests/swebench_fixture.py): plain pytest
    "fixture/calc": _Registered(PYTEST, "parse_log_pytest"),
}


def register_repo(repo: str, test_command: str = PYTEST, log_parser: str = "parse_log_pytest") -> None:
    """Teach `eval_spec` a repository the official harness does not know (any version). Test directives are the
    files `test_patch` touches (pytest style); `log_parser` must name one of swebench's parsers. Registration wins
    over the built-in rule, so it can also override an official repository's command."""
    _check_parser(log_parser, f"register_repo({repo!r})")
    if not test_command.strip():
        raise SpecError(f"register_repo({repo!r}): empty test command")
    _REGISTERED[repo] = _Registered(test_command, log_parser)


def unregister_repo(repo: str) -> None:
    _REGISTERED.pop(repo, None)


# --- the spec ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalSpec:
    instance_id: str
    repo: str
    version: str
    test_command: str  # the runner invocation, without directives (row scripts: the lines between the markers)
    test_directives: list[str]
    test_files: list[str]  # every path test_patch touches (restored to base_commit before it is applied)
    created_test_files: list[str]  # the subset test_patch creates (removed instead of restored)
    log_parser: str  # a key of swebench.harness.log_parsers.PARSER_REGISTRY
    eval_type: str = "pass_and_fail"  # swebench EvalType value
    source: str = "official"  # "official" (derived as swebench 4.x did) | "row" (row's eval_script) | "registered"
    eval_env: list[str] = field(default_factory=list)  # official_eval_env lines (official source only)
    row_eval_script: str | None = field(default=None, repr=False)
    guard_nonce: str | None = None  # set per evaluation: the eval script loads the log guard (guard.py) with it

    @property
    def full_test_command(self) -> str:
        """What runs between the markers."""
        if self.source == "row":
            return self.test_command
        return " ".join([self.test_command, *self.test_directives])

    @property
    def restored_test_files(self) -> list[str]:
        """Test files that exist at base_commit: `git checkout <base> -- ...` brings them back."""
        created = set(self.created_test_files)
        return [f for f in self.test_files if f not in created]


def eval_spec(instance: Any) -> EvalSpec:
    """The evaluation spec of one instance (an `Instance` from dataset.py, or a raw dataset row dict)."""
    instance_id = str(field_of(instance, "instance_id") or "<no instance_id>")
    repo = field_of(instance, "repo")
    version = field_of(instance, "version")
    test_patch = field_of(instance, "test_patch")
    if not repo or version is None or test_patch is None:
        raise SpecError(f"instance {instance_id}: needs repo, version and test_patch to build its evaluation spec")
    version = str(version)
    row_script = field_of(instance, "eval_script") or None
    row_parser = field_of(instance, "log_parser") or None
    row_eval_type = field_of(instance, "eval_type") or None
    test_files, created = test_patch_files(test_patch, instance_id)
    directives = test_directives(repo, test_patch)

    registered = _REGISTERED.get(repo)
    env: list[str] = []
    if registered is not None:
        source, test_command, parser = "registered", registered.test_command, registered.log_parser
    elif _known_repo(repo):
        source, test_command, parser = "official", official_test_command(repo, version), _official_parser(repo)
        env = official_eval_env(repo, version)
    elif row_script:
        source, test_command, parser = "row", "", None
    else:
        raise SpecError(f"instance {instance_id}: unknown repository {repo!r} and the row carries no eval_script; "
                        f"add it with swebench_exec.swebench.spec.register_repo(repo, test_command, log_parser)")  # fmt: skip

    if row_script:
        # the row is authoritative for what runs (its own setup lines included)
        source, test_command, env = "row", _between_markers(row_script), []
    if row_parser:
        parser = row_parser
    if parser is None:
        raise SpecError(f"instance {instance_id}: row carries an eval_script but no log_parser, and {repo!r} has no "
                        f"official parser")  # fmt: skip
    _check_parser(parser, f"instance {instance_id}")
    eval_type = row_eval_type or _default_eval_type(repo)
    try:
        from swebench.harness.constants import EvalType

        EvalType(eval_type)
    except ValueError:
        raise SpecError(f"instance {instance_id}: unknown eval_type {eval_type!r}") from None
    return EvalSpec(
        instance_id=instance_id, repo=repo, version=version, test_command=test_command, test_directives=directives,
        test_files=test_files, created_test_files=created, log_parser=parser, eval_type=eval_type, source=source,
        eval_env=env, row_eval_script=row_script,
    )  # fmt: skip


# --- pieces (public: the sandbox and the tests use them) ---------------------------------------------------------------
_DIFF_GIT = re.compile(r"diff --git a/.* b/(.*)")


def test_directives(repo: str, test_patch: str) -> list[str]:
    """The runner arguments the official harness derives from test_patch (swebench 4.x `get_test_directives`)."""
    from swebench.harness.constants import NON_TEST_EXTS

    directives = [d for d in _DIFF_GIT.findall(test_patch) if not any(d.endswith(ext) for ext in NON_TEST_EXTS)]
    if repo == "django/django":
        modules = []
        for d in directives:
            d = d[: -len(".py")] if d.endswith(".py") else d
            d = d[len("tests/") :] if d.startswith("tests/") else d
            modules.append(d.replace("/", "."))
        directives = modules
    return directives


def test_patch_files(test_patch: str, instance_id: str = "?") -> tuple[list[str], list[str]]:
    """(every path test_patch touches, the paths it creates), in patch order."""
    from unidiff import PatchSet
    from unidiff.errors import UnidiffParseError

    try:
        patched_files = PatchSet(test_patch)
    except UnidiffParseError as exc:
        raise SpecError(f"instance {instance_id}: test_patch does not parse as a unified diff: {exc}") from None
    touched: list[str] = []
    created: list[str] = []

    def add(path: str, new: bool) -> None:
        if path not in touched:
            touched.append(path)
        if new and path not in created:
            created.append(path)

    for pf in patched_files:
        source, target = pf.source_file, pf.target_file
        if source and source != "/dev/null":
            add(_strip(source), False)
        if target and target != "/dev/null":
            add(_strip(target), source == "/dev/null" or pf.is_rename or _strip(target) != _strip(source))
    return touched, created


test_directives.__test__ = False  # type: ignore[attr-defined]  # not pytest tests, whatever their names
test_patch_files.__test__ = False  # type: ignore[attr-defined]


def field_of(instance: Any, name: str) -> Any:
    """A field of an `Instance` or of a raw row: attribute first, then the row (`FAIL_TO_PASS` spelled either way,
    JSON strings decoded)."""
    if isinstance(instance, Mapping):
        value = instance.get(name, instance.get(name.upper()))
    else:
        value = getattr(instance, name, None)
        if value is None:
            row = getattr(instance, "row", None) or {}
            value = row.get(name, row.get(name.upper()))
    if name in ("fail_to_pass", "pass_to_pass"):
        if value is None:
            return []
        if isinstance(value, str):
            value = json.loads(value)
        return list(value)
    return value


def _strip(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def _between_markers(script: str) -> str:
    from swebench.harness.constants import END_TEST_OUTPUT, START_TEST_OUTPUT

    lines = script.splitlines()
    starts = [i for i, line in enumerate(lines) if START_TEST_OUTPUT in line]
    ends = [i for i, line in enumerate(lines) if END_TEST_OUTPUT in line]
    if starts and ends and ends[-1] > starts[0]:
        body = [line for line in lines[starts[0] + 1 : ends[-1]] if not line.startswith("SWEBENCH_TEST_EXIT_CODE=")]
        return "\n".join(body).strip()
    return ""


def _official_parser(repo: str) -> str:
    """The PARSER_REGISTRY key of the official parser for `repo` (the repo-named alias when there is one)."""
    from swebench.harness.log_parsers import PARSER_REGISTRY
    from swebench.harness.log_parsers.python import MAP_REPO_TO_PARSER_PY

    fn = MAP_REPO_TO_PARSER_PY.get(repo)
    if fn is None:
        raise SpecError(f"no official log parser for {repo!r}")
    names = [name for name, f in PARSER_REGISTRY.items() if f is fn]
    named = [n for n in names if n[len("parse_log_") :] in repo]
    if named:
        return max(named, key=len)
    return fn.__name__ if fn.__name__ in PARSER_REGISTRY else names[0]


def _check_parser(name: str, where: str) -> None:
    from swebench.harness.log_parsers import PARSER_REGISTRY

    if name not in PARSER_REGISTRY:
        raise SpecError(f"{where}: unknown log parser {name!r} (swebench knows {len(PARSER_REGISTRY)}, e.g. "
                        f"parse_log_pytest, parse_log_django, parse_log_sympy)")  # fmt: skip


def _default_eval_type(repo: str) -> str:
    from swebench.harness.constants import FAIL_ONLY_REPOS, EvalType

    return (EvalType.FAIL_ONLY if repo in FAIL_ONLY_REPOS else EvalType.PASS_AND_FAIL).value


def _version_tuple(version: str) -> tuple[int, ...]:
    """"3.0" -> (3, 0), "v5.3" -> (5, 3), "2022.03" -> (2022, 3); a non-numeric part counts as 0."""
    return tuple(int(p) if p.isdigit() else 0 for p in str(version).strip().lstrip("v").split("."))
