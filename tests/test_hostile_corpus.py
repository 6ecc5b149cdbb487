"""The hostile corpus (issue 5, item 1): every case of tests/hostile/cases.toml, in the local and the docker sandbox.

Each case is a real program or model reply run through the product's own entry points (`executor_score` for the
public tier, the `swebench` command's scorer for the SWE-bench tier). Besides the outcome the manifest names, every
case must leave the machine as it found it: the harness returned in bounded time, the watched places outside the
sandbox are unchanged, no process carrying the case's marker remains, no container of this process remains, the
sandbox dir is gone, and no planted secret appears in anything the run produced. See tests/hostile/cases.toml.

`scripts/hostile_figures.py` runs this module and prints the contained / total figures per sandbox.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

try:
    import tomllib  # noqa: F401 - the manifest's reader (in hostile_runner)
except ImportError:  # Python 3.10: the corpus runs on the default interpreter (3.11+); elsewhere it says why
    pytest.skip("the hostile corpus reads its manifest with tomllib (Python 3.11+)", allow_module_level=True)

from docker_support import build_image, docker_base_image  # noqa: F401 - the fixture is used by name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "hostile"
SANDBOXES = ("local", "docker")
SECRET_KEY = "sk-or-v1-hostile-corpus-7f3a9c1e5b2d4068a1f9e3c7b5d2a0f4"  # what a user's real key looks like
NON_ROOT_UID = 65534  # nobody: as root, the local cases marked `local_user` run their harness as this user
IS_ROOT = os.geteuid() == 0
REFERENCE = ROOT / "swebench_exec" / "tasks" / "reference" / "csv_totals" / "csv_totals.py"
REAL_KEY = os.environ.get("OPENROUTER_API_KEY", "")  # a key in the real environment (hostile_figures sets one)
SLACK_S = {"local": 15.0, "docker": 40.0}  # beyond the case's own timeout: start-up, copy back, teardown
PROCESS_GRACE_S = 10.0  # a killed process (a container torn down under load) may take a moment to leave /proc


# ---------------------------------------------------------------------------------------------------------------------
# The manifest (read by tests/hostile/hostile_runner.py, which also runs the public-tier cases)

sys.path.insert(0, str(CORPUS))
from hostile_runner import RESULT_TAG, Case, load_cases, run_public_case  # noqa: E402

CASES = load_cases()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:48]


def case_params(kinds: tuple[str, ...]) -> list:
    params = []
    for case in CASES:
        if case.kind not in kinds:
            continue
        for sandbox in SANDBOXES:
            marks, test_id = [], f"{case.id}-{sandbox}"
            if sandbox == "docker":
                marks.append(pytest.mark.docker)
            skip = case.get(f"skip_{sandbox}")
            if skip:
                marks.append(pytest.mark.skip(reason=skip))
                test_id = f"{case.id}-{sandbox}-skip:{_slug(skip)}"
            xfail = case.get(f"xfail_{sandbox}")
            if xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=xfail))
            params.append(pytest.param(case, sandbox, id=test_id, marks=marks))
    return params


# ---------------------------------------------------------------------------------------------------------------------
# The world the programs attack: watched dirs with canaries, a planted ssh key and home canary, a listening port


@dataclasses.dataclass
class World:
    watch: list[str]  # directories the programs try to write into (world-writable: only the sandbox protects them)
    canaries: list[str]  # files the programs try to change, read or delete
    secrets: dict[str, str]  # name -> text that must never appear in anything a run produced
    home: str
    port: int
    project: str

    def context(self, marker: str) -> dict:
        return {"marker": marker, "watch": self.watch, "canaries": self.canaries, "home": self.home,
                "port": self.port, "project": self.project}  # fmt: skip


class Listener:
    """A TCP port listening on 127.0.0.1 that counts every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def _outside_parent() -> Path:
    """A place for a watched dir that no sandbox layer empties (not /tmp, /var/tmp, /run or the home)."""
    for candidate in ("/srv", "/opt", "/var/lib"):
        if os.access(candidate, os.W_OK):
            return Path(candidate)
    return Path(tempfile.gettempdir())


def _reference_snippet() -> str:
    lines = [line for line in REFERENCE.read_text().splitlines() if len(line.strip()) > 24]
    return lines[1].strip() if len(lines) > 1 else lines[0].strip()


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    session = uuid.uuid4().hex[:10]
    made: list[Path] = []
    watch_tmp = tmp_path_factory.mktemp("hostile-watch")
    watch_out = _outside_parent() / f"bbe-hostile-watch-{session}"
    watch_out.mkdir()
    made.append(watch_out)
    canaries = []
    for watched in (watch_tmp, watch_out):
        os.chmod(watched, 0o777)  # world-writable: only the sandbox, not the uid, keeps programs out
        (watched / "sub").mkdir()
        os.chmod(watched / "sub", 0o777)
        for name in ("canary.txt", "sub/nested.txt"):
            path = watched / name
            path.write_text(f"canary {session} {name}\n")
            os.chmod(path, 0o666)
            canaries.append(str(path))
    # a file of "the user" running the harness (nobody, for the cases whose harness runs as that user), reachable by
    # that user: what a harness may damage when it follows a link the program left
    user_dir = watch_out / "user"
    user_dir.mkdir()
    user_file = user_dir / "victim.txt"
    user_file.write_text(f"the user's own file {session}\n")
    os.chmod(user_file, 0o644)
    if IS_ROOT:  # otherwise the harness runs as ourselves already, and our files are the user's
        os.chown(user_dir, NON_ROOT_UID, NON_ROOT_UID)
        os.chown(user_file, NON_ROOT_UID, NON_ROOT_UID)
    canaries.append(str(user_file))
    tmp_canary = Path("/tmp") / f"bbe-hostile-canary-{session}.txt"
    tmp_canary.write_text(f"tmp canary {session}\n")
    os.chmod(tmp_canary, 0o666)
    made.append(tmp_canary)
    home = Path.home()
    home_secret = f"home-canary-{uuid.uuid4().hex}"
    home_canary = home / f".bbe-hostile-canary-{session}"
    home_canary.write_text(home_secret + "\n")
    made.append(home_canary)
    ssh = home / ".ssh"
    made_ssh = not ssh.exists()
    ssh.mkdir(mode=0o700, exist_ok=True)
    ssh_secret = f"-----BEGIN OPENSSH PRIVATE KEY----- hostile-{uuid.uuid4().hex}"
    ssh_key = ssh / f"id_bbe_hostile_{session}"
    ssh_key.write_text(ssh_secret + "\n")
    os.chmod(ssh_key, 0o600)
    made.append(ssh_key)
    listener = Listener()
    _LISTENERS[listener.port] = listener
    canaries += [str(tmp_canary), str(home_canary), str(ssh_key)]
    secrets = {"OPENROUTER_API_KEY": SECRET_KEY, "ssh key": ssh_secret, "home canary": home_secret,
               "reference solution": _reference_snippet()}  # fmt: skip
    if len(REAL_KEY) >= 8:
        secrets["OPENROUTER_API_KEY of the real environment"] = REAL_KEY
    yield World([str(watch_tmp), str(watch_out)], canaries, secrets, str(home), listener.port, str(ROOT))
    listener.close()
    for path in reversed(made):
        if path.is_dir():
            subprocess.run(["rm", "-rf", "--", str(path)], check=False)
        else:
            path.unlink(missing_ok=True)
    if made_ssh:
        try:
            ssh.rmdir()
        except OSError:
            pass


_LISTENERS: dict[int, Listener] = {}  # port -> the session's listener (the world holds only its port: JSON-ready)


# ---------------------------------------------------------------------------------------------------------------------
# Observing the machine


def _entry(path: Path) -> tuple:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        content = "link:" + os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        content = hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        content = ""
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_size, st.st_mtime_ns, content)


def _tree(root: Path) -> dict[str, tuple]:
    listing = {".": _entry(root)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            listing[str(path.relative_to(root))] = _entry(path)
    return listing


def snapshot(world: World) -> dict:
    """The watched dirs in full, every canary, and the names at the top of /tmp, the home and ~/.ssh."""
    return {
        "watch": {w: _tree(Path(w)) for w in world.watch},
        "canaries": {c: _entry(Path(c)) if os.path.lexists(c) else None for c in world.canaries},
        "tops": {d: set(os.listdir(d)) for d in ("/tmp", "/var/tmp", world.home, os.path.join(world.home, ".ssh"))},
    }


def changes(before: dict, after: dict, marker: str) -> list[str]:
    """What changed outside the sandbox. The tops of /tmp and the home are shared with other work on this machine, so
    only entries that carry the case's marker (every program names what it writes with it) count there."""
    found = []
    for watched, listing in before["watch"].items():
        now = after["watch"][watched]
        for rel in sorted(set(listing) | set(now)):
            if listing.get(rel) != now.get(rel):
                found.append(f"{watched}/{rel}: {listing.get(rel)} -> {now.get(rel)}")
    for canary, entry in before["canaries"].items():
        if after["canaries"][canary] != entry:
            found.append(f"canary {canary}: {entry} -> {after['canaries'][canary]}")
    for top, names in before["tops"].items():
        for name in sorted(names ^ after["tops"][top]):
            if marker in name:
                found.append(f"{top}/{name} {'appeared' if name in after['tops'][top] else 'vanished'}")
    return found


def processes_with(marker: str) -> list[str]:
    found = []
    mine = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == mine:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:160]
            found.append(f"{entry.name}: {shown}")
    return found


def surviving_processes(marker: str) -> list[str]:
    deadline = time.monotonic() + PROCESS_GRACE_S
    while True:
        found = processes_with(marker)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def my_leftover_containers() -> list[str]:
    from swebench_exec.sandbox.docker import leftover_containers

    return leftover_containers(mine_only=True)


# ---------------------------------------------------------------------------------------------------------------------
# Running a public-tier case in another process: one whose real environment holds the API key, or a non-root user


def run_in_worker(case: Case, sandbox_name: str, ctx: dict, image: str | None, user: int | None = None) -> dict:
    """Run the case from a fresh harness process whose real environment (/proc/<pid>/environ) holds the API key; as
    `user` (a uid) when given, with an interpreter that user can run; from a temp dir when the case says
    `harness_elsewhere`, else from the project checkout."""
    request = json.dumps({"case": case.id, "sandbox": sandbox_name, "ctx": ctx, "image": image})
    env = {**os.environ, "OPENROUTER_API_KEY": SECRET_KEY, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, str(CORPUS / "hostile_runner.py")]
    if user is not None:
        home = Path(tempfile.mkdtemp(prefix="bbe-hostile-user-"))
        os.chown(home, user, user)
        env["HOME"] = str(home)
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", non_root_python(user),
                   str(CORPUS / "hostile_runner.py")]  # fmt: skip
    elsewhere = Path(tempfile.mkdtemp(prefix="bbe-hostile-cwd-")) if case.get("harness_elsewhere") else None
    try:
        done = subprocess.run(command, input=request, capture_output=True, text=True, env=env, cwd=elsewhere or ROOT,
                              timeout=300)  # fmt: skip
    finally:
        if user is not None:
            subprocess.run(["rm", "-rf", "--", str(home)], check=False)
        if elsewhere is not None:
            elsewhere.rmdir()
    if RESULT_TAG not in done.stdout:
        return {"error": f"worker failed (exit {done.returncode}): {done.stderr[-2000:]}", "elapsed_s": 0.0}
    return json.loads(done.stdout.rsplit(RESULT_TAG, 1)[1])


def non_root_python(user: int) -> str:
    """An interpreter `user` can run that imports the product (ours may sit in root's home)."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        probe = subprocess.run(
            ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", candidate, "-c",
             "import os, sys, tomllib, swebench_exec.scoring.executor, swebench_exec.sandbox.local; "
             "assert os.access(sys.executable, os.X_OK)"],
            capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, cwd="/",
        )  # fmt: skip
        if probe.returncode == 0:
            return candidate
    pytest.skip(f"no Python 3.11+ that uid {user} can run imports the product from {ROOT}")


# ---------------------------------------------------------------------------------------------------------------------
# The checks every case gets


def assert_contained(case: Case, sandbox: str, out: dict, before: dict, world: World, marker: str,
                     accepted_before: int, listener: Listener | None) -> None:  # fmt: skip
    problems = []
    if out.get("error"):
        problems.append(f"the harness raised: {out['error']}")
    bound = (swe_timeout(case) if case.kind == "swebench" else float(case.get("timeout"))) + SLACK_S[sandbox]
    if out.get("elapsed_s", 0) > bound:
        problems.append(f"took {out['elapsed_s']:.1f}s, more than {bound:.0f}s")
    problems += [f"changed outside the sandbox: {c}" for c in changes(before, snapshot(world), marker)]
    problems += [f"process survived: {p}" for p in surviving_processes(marker)]
    if out.get("leftover_containers"):
        problems.append(f"containers left: {out['leftover_containers']}")
    workdir = out.get("workdir")
    if workdir and os.path.lexists(workdir):
        problems.append(f"the sandbox dir {workdir} is still there")
    produced = "\n".join(str(out.get(k) or "") for k in ("stdout", "stderr", "record_json"))
    for name, secret in world.secrets.items():
        if secret in produced:
            problems.append(f"secret visible to the program: {name}")
    breaches = [line for line in str(out.get("stdout") or "").splitlines() if line.startswith("BREACH")]
    problems += [f"the program reports: {line[:200]}" for line in breaches]
    limit = case.get("max_attempt_s")
    if limit is not None:
        for line in str(out.get("stdout") or "").splitlines():
            match = re.match(r"ATTEMPT (.+?) ([0-9.]+)s ", line)
            if match and float(match.group(2)) > float(limit):
                problems.append(f"did not fail fast ({limit}s): {line[:200]}")
    scratch = case.get("max_scratch_mib")
    if scratch is not None:
        for line in str(out.get("stdout") or "").splitlines():
            match = re.match(r"FILLED (\S+) ([0-9]+) MiB", line)
            if match and int(match.group(2)) > int(scratch):
                problems.append(f"filled shared scratch space beyond {scratch} MiB: {line[:200]}")
    if listener is not None and listener.accepted != accepted_before:
        problems.append(f"the listener on 127.0.0.1:{listener.port} accepted {listener.accepted - accepted_before}")
    assert not problems, f"{case.id} in {sandbox}:\n  " + "\n  ".join(problems)


def assert_outcome(case: Case, sandbox: str, record: dict) -> None:
    expected = case.expected(sandbox)
    assert record["status"] in expected, f"status {record['status']!r} ({record['reason']}), expected {expected}"
    reason = case.get("reason", sandbox)
    if reason:
        assert reason in record["reason"], f"reason {record['reason']!r} lacks {reason!r}"
    if record["status"] not in ("sandbox_error", "harness_error", "env_error"):
        assert record["score"] is not None


# ---------------------------------------------------------------------------------------------------------------------
# The tests


@pytest.fixture(autouse=True)
def api_key_in_environment(monkeypatch):
    """A distinctive key in the harness's environment, as a user running a sweep has (the worker cases also have it
    in the process's real environment)."""
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET_KEY)


@pytest.mark.parametrize("case, sandbox", case_params(("program", "reply")))
def test_hostile(case: Case, sandbox: str, world: World, request):
    image = request.getfixturevalue("docker_base_image") if sandbox == "docker" else None
    marker = f"bbehostile{uuid.uuid4().hex[:12]}"
    ctx = world.context(marker)
    before = snapshot(world)
    listen = _LISTENERS.get(world.port)
    accepted = listen.accepted if listen else 0
    if sandbox == "local" and case.get("local_user") and IS_ROOT:
        out = run_in_worker(case, sandbox, ctx, image, user=NON_ROOT_UID)
    elif case.get("worker") or case.get("harness_elsewhere"):
        out = run_in_worker(case, sandbox, ctx, image)
    else:
        out = run_public_case(case, sandbox, ctx, image)
    assert_contained(case, sandbox, out, before, world, marker, accepted, listen)
    record = out["record"]
    assert_outcome(case, sandbox, record)
    if case.kind == "reply":
        assert out["format_s"] < 60, f"format_score took {out['format_s']:.1f}s"
    ignored = case.get("ignored")
    if ignored is not None:
        assert len(record["extraction"]["ignored"]) == ignored
    refused = case.get("refused")
    if refused is not None:
        assert len(out["refused_paths"]) == refused, out["refused_paths"]


# ---------------------------------------------------------------------------------------------------------------------
# The SWE-bench tier: model replies for the fixture instance, scored as the `swebench` command scores them

SWE_TIMEOUT_S = 60.0


def _repo_tarball(repo: Path) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(repo, arcname=".")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def swe(tmp_path_factory):
    from swebench_fixture import make_fixture_dataset

    root = tmp_path_factory.mktemp("hostile-swe")
    _, cache, row = make_fixture_dataset(root)
    return {"root": root, "cache": cache, "row": row, "envs": root / "envs", "image": None}


def _swe_image(request, swe: dict) -> str:
    """The fixture instance's image, built here FROM the base image and tagged under the official name."""
    if swe["image"] is None:
        from swebench_exec.swebench.dataset import Instance
        from swebench_exec.swebench.evaluate import official_image
        from swebench_fixture import make_fixture_repo

        base = request.getfixturevalue("docker_base_image")
        repo, _ = make_fixture_repo(swe["root"] / "image-src")
        image = official_image(Instance.from_row(swe["row"]))
        build_image(base, "ADD repo.tar /testbed/\nWORKDIR /testbed", image, {"repo.tar": _repo_tarball(repo)})
        swe["image"] = image
    return swe["image"]


def swe_reply(case: Case, ctx: dict) -> str:
    text = (CORPUS / case.file).read_text(encoding="utf-8")
    return (text.replace("{{MARKER}}", ctx["marker"]).replace("{{WATCH}}", json.dumps(ctx["watch"]))
            .replace("{{WATCH0}}", ctx["watch"][0]))  # fmt: skip


def swe_timeout(case: Case) -> float:
    return float(case.get("swe_timeout", default=SWE_TIMEOUT_S))


def run_swe_case(case: Case, sandbox_name: str, swe: dict, ctx: dict) -> dict:
    """Score the reply as `swebench` does (worktree pool, apply_response, evaluate_patch); with `next_row`, then
    check the same instance out again, as the next row (another arm, sample or model) does."""
    from swebench_exec.run.swebench_tier import make_scorer
    from swebench_exec.swebench.dataset import Instance
    from swebench_exec.swebench.environment import EnvBuilder
    from swebench_exec.swebench.evaluate import DockerSweSandbox, LocalSweSandbox
    from swebench_exec.swebench.prompt import oracle_paths
    from swebench_exec.swebench.repos import RepoCache, WorktreePool

    instance = Instance.from_row(swe["row"])
    repos = RepoCache(swe["cache"], fetch=False)
    if sandbox_name == "local":
        sandbox = LocalSweSandbox(repos, EnvBuilder(swe["envs"]), timeout_s=swe_timeout(case))
    else:
        sandbox = DockerSweSandbox(timeout_s=swe_timeout(case))
    task = {"id": instance.instance_id, "instance": instance, "expected_files": oracle_paths(instance)}
    pool = WorktreePool(repos)
    out: dict = {"error": None}
    started = time.monotonic()
    try:
        row = make_scorer(pool, sandbox)(task, swe_reply(case, ctx), "ok")
        out["record"] = row["executor"]
        out["model_patch"] = row["model_patch"]
        out["record_json"] = json.dumps(row)
        if case.get("next_row"):
            with pool.checkout(instance) as again:
                out["next_tree"] = str(again)
    except BaseException as exc:  # noqa: BLE001 - the harness must survive
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        pool.close()
    out["elapsed_s"] = time.monotonic() - started
    if sandbox_name == "docker":
        out["leftover_containers"] = my_leftover_containers()
    return out


def _trust_trees(monkeypatch) -> None:
    """Host-side git trusts trees it does not own, as for a non-root user (whose trees the local sandbox never chowns:
    it switches uids only as root) or a root user with `safe.directory = *` in the git config."""
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "safe.directory")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "*")


@pytest.mark.parametrize("case, sandbox", case_params(("swebench",)))
def test_hostile_swebench(case: Case, sandbox: str, world: World, swe: dict, request, monkeypatch):
    if sandbox == "docker":
        _swe_image(request, swe)
    if case.get("host_git_trusts_tree"):
        _trust_trees(monkeypatch)
    marker = f"bbehostile{uuid.uuid4().hex[:12]}"
    ctx = world.context(marker)
    before = snapshot(world)
    out = run_swe_case(case, sandbox, swe, ctx)
    assert_contained(case, sandbox, out, before, world, marker, 0, None)
    record = out["record"]
    assert_outcome(case, sandbox, record)
    assert record["score"] == 0
    discarded = case.get("discarded")
    if discarded is not None:
        assert record["process"]["discarded_test_edits"] == discarded
    refused = case.get("refused")
    if refused is not None:
        assert len(record["extraction"]["refused"]) == refused, record["extraction"]["refused"]


@pytest.mark.parametrize("sandbox", [pytest.param("local"), pytest.param("docker", marks=pytest.mark.docker)])
def test_swebench_conftest_rule_as_implemented(sandbox: str, world: World, swe: dict, request):
    """The rule: a model's edits to the files test_patch touches are discarded, and so are its test-infrastructure
    files (conftest.py, pytest.ini, sitecustomize.py, usercustomize.py, *.pth) — stricter than the official harness,
    which applies the model patch as is. Both are listed in `discarded_test_edits`; the fix itself is evaluated."""
    if sandbox == "docker":
        _swe_image(request, swe)
    case = Case("swe_conftest_rule", "swe_conftest_rule.reply.md", "swebench", {})
    marker = f"bbehostile{uuid.uuid4().hex[:12]}"
    out = run_swe_case(case, sandbox, swe, world.context(marker))
    assert out["error"] is None, out["error"]
    record = out["record"]
    assert record["status"] == "resolved", record["reason"]  # the gold fix in the same reply still resolves
    infrastructure = ["conftest.py", "pytest.ini", "sitecustomize.py", "tests/conftest.py"]  # in the patch's order
    for path in infrastructure:  # recorded as the model wrote them (predictions stay faithful) ...
        assert f"b/{path}" in out["model_patch"]
    assert record["process"]["discarded_test_edits"] == infrastructure  # ... and never evaluated
    log = record["process"]["log_tail"]
    assert "MODEL-INFRA-LOADED" not in log and "configfile: pytest.ini" not in log, log[-2000:]
