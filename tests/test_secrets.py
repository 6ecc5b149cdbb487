"""Secrets: an API key set in the environment never appears in any file the product writes, nor inside a sandbox.

A representative session runs with two distinctive keys in the environment (OPENROUTER_API_KEY, and a variable given
to --api-key-env): demo with gold, demo and compare against the scripted server (which echoes the key back in an
error message and in a reply, and answers one task with a program that looks for the keys inside the sandbox), a
SWE-bench gold run on the fixture instance with the local sandbox, validate, report and rescore. Every command runs
as a child process with HOME, TMPDIR and its working directory inside the session folder, so everything it writes
(results, journals, predictions, validation records, the report folder, repository and environment caches, sandbox
temp dirs left behind, library caches under HOME) and everything it prints (stdout/stderr, kept as log files; the
OpenAI SDK's debug log is on) lands in that folder, and every file there is grepped.

Then a program that dumps its environment, /proc/self/environ, /proc/1/environ, its parent's and every other readable
/proc/*/environ runs directly in the local sandbox, per isolation layer, started by a process that has the keys in its
environment. Printed: "secrets: N files grepped, L leaks".
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripted_server import Reply, ScriptedServer, chat_reply
from swebench_exec.contract import load_contract
from swebench_exec.models.gold import bare_reply, harnessed_reply
from swebench_exec.tasks import PUBLIC_TASKS
from swebench_fixture import make_fixture_dataset

KEY_ENV = "BENCH_SECRET_KEY"  # given to --api-key-env
KEY_OR = "sk-or-v1-S3CRETOR-a7c4e91f0b2d5e6f-never-written-anywhere"  # OPENROUTER_API_KEY
KEY_CUSTOM = "sk-proj-S3CRETCU-5d20e8b3c6f1a9d7-never-written-anywhere"  # $BENCH_SECRET_KEY
KEYS = (KEY_OR, KEY_CUSTOM)
# the keys and pieces of them that are distinctive on their own (a key cut short in a message is still a leak)
NEEDLES = [k.encode() for k in KEYS] + [k[8:36].encode() for k in KEYS] + [k[-30:].encode() for k in KEYS]

ENV_DUMP = r'''
import json, os, sys

# the keys, hex-encoded so that this program (stored in the results as the reply) never holds them
NEEDLES = [bytes.fromhex(h) for h in HEXES]
sources = {"os.environ": "\n".join(f"{k}={v}" for k, v in os.environ.items()).encode()}
paths = {"self": "/proc/self/environ", "pid1": "/proc/1/environ", "parent": f"/proc/{os.getppid()}/environ"}
for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    paths.setdefault(f"pid{pid}", f"/proc/{pid}/environ")
unreadable = []
for name, path in paths.items():
    try:
        with open(path, "rb") as fh:
            sources[name] = fh.read()
    except OSError:
        unreadable.append(name)
dump = {name: data.decode("utf-8", "replace").split(chr(0)) for name, data in sources.items()}
print(json.dumps({"uid": os.getuid(), "ppid": os.getppid(), "dump": dump, "unreadable": unreadable}))
leaks = [name for name, data in sources.items() if any(n in data for n in NEEDLES)]
verdict = "LEAK in " + ",".join(leaks) if leaks else "clean"
named = ",".join(n for n in ("os.environ", "self", "pid1", "parent") if n in sources)
sys.stderr.write(f"KEYCHECK {verdict}: read {len(sources)} ({named}), {len(unreadable)} unreadable\n")
sys.exit(1)
'''.replace("HEXES", repr([n.hex() for n in NEEDLES]))

RESULTS: dict = {}


# --- the session --------------------------------------------------------------------------------------------------


def which_row(request_json: dict) -> tuple[str, dict, str]:
    prompt = request_json["messages"][-1]["content"]
    task = next(t for t in PUBLIC_TASKS if prompt.endswith(t["prompt"]))
    return request_json["model"], task, "harnessed" if prompt.startswith(load_contract().text.rstrip()) else "bare"


def session_replies():
    """A server echoes only what it was sent: the --api-key-env key (it never receives OPENROUTER_API_KEY)."""
    calls: dict = {}

    def reply_for(request_json: dict) -> Reply:
        model, task, arm = which_row(request_json)
        key = (model, task["id"], arm)
        calls[key] = calls.get(key, 0) + 1
        gold = (harnessed_reply if arm == "harnessed" else bare_reply)(task["reference"], task["run"])
        if model == "echo-401-model":  # a server that quotes the key it rejected
            return Reply(status=401, body={"error": {"message": f"Incorrect API key provided: {KEY_CUSTOM}"}})
        if key == ("scripted-model", "csv_totals", "harnessed"):
            return chat_reply(f"FILE: csv_totals.py\n```python\n{ENV_DUMP.strip()}\n```\nRUN: {task['run']}\n")
        if key == ("scripted-model", "log_levels", "harnessed") and calls[key] == 1:
            return Reply(status=503, body={"error": {"message": f"upstream refused key {KEY_CUSTOM}"}})
        if key == ("scripted-model", "grid_path", "bare"):
            return chat_reply(gold + f"\n(debug: the key you sent is {KEY_CUSTOM})\n")
        return chat_reply(gold)

    return reply_for


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("secrets")
    work, home, tmp, logs = (root / name for name in ("work", "home", "tmp", "logs"))
    for folder in (work, home, tmp, logs):
        folder.mkdir()
    dataset, cache, _ = make_fixture_dataset(root / "swe")
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "OPENROUTER_API_KEY": KEY_OR, KEY_ENV: KEY_CUSTOM,
           "OPENAI_LOG": "debug", "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    swe = ["--dataset", str(dataset), "--repo-cache", str(cache), "--sandbox", "local", "--env-cache",
           str(root / "envs"), "--timeout", "120", "--quiet"]  # fmt: skip
    codes = {}
    with ScriptedServer(reply_for=session_replies(), models=["scripted-model", "echo-401-model"]) as server:
        url = server.url
        commands = {
            "demo-gold-default-out": ["demo", "--model", "gold", "--tasks", "csv_totals", "--quiet"],
            "demo-gold": ["demo", "--model", "gold", "--out", "gold.json", "--quiet"],
            "demo-scripted": ["demo", "--model", "scripted-model", "--base-url", url, "--api-key-env", KEY_ENV,
                              "--out", "demo.json", "--quiet"],
            "compare-scripted": ["compare", "--models", "scripted-model,echo-401-model,gold", "--base-url", url,
                                 "--api-key-env", KEY_ENV, "--tasks", "grid_path,lru_replay", "--out", "compare.json"],
            "compare-loopback-no-key-option": ["compare", "--models", "scripted-model", "--base-url", url, "--tasks",
                                               "lru_replay", "--out", "loopback.json", "--quiet"],
            "swebench-gold": ["swebench", "--models", "gold", *swe, "--out", "swe.json", "--export-predictions",
                              "predictions.jsonl"],
            "validate": ["validate", *swe, "--validation-out", "validation.json"],
            "report": ["report", "gold.json", "demo.json", "compare.json", "swe.json", "--out", "report"],
            "rescore-demo": ["rescore", "demo.json", "--quiet"],
            "rescore-swe": ["rescore", "swe.json", *swe],
        }  # fmt: skip
        for name, argv in commands.items():
            with open(logs / f"{name}.stdout", "wb") as out, open(logs / f"{name}.stderr", "wb") as err:
                codes[name] = subprocess.run([sys.executable, "-m", "swebench_exec.cli", *argv], cwd=work, env=env,
                                             stdout=out, stderr=err, timeout=600).returncode  # fmt: skip
        requests = list(server.requests)
    return {"root": root, "work": work, "logs": logs, "codes": codes, "requests": requests}


# --- the files ----------------------------------------------------------------------------------------------------


def test_the_session_ran_every_command(session):
    codes, work = session["codes"], session["work"]
    logs = {name: (session["logs"] / f"{name}.stderr").read_text(errors="replace")[-2000:] for name in codes}
    assert codes == {"demo-gold-default-out": 0, "demo-gold": 0, "demo-scripted": 0, "compare-scripted": 3,
                     "compare-loopback-no-key-option": 0, "swebench-gold": 0, "validate": 0, "report": 0,
                     "rescore-demo": 0, "rescore-swe": 0}, logs  # fmt: skip
    assert list((work / "bench-results").glob("demo-*.json"))
    for name in ("gold.json", "demo.json", "compare.json", "loopback.json", "swe.json", "validation.json"):
        assert (work / name).is_file(), name
    assert list(work.glob("predictions*.jsonl")) and (work / "report" / "index.html").is_file()
    demo = json.loads((work / "demo.json").read_text())
    echoed = {(r["task_id"], r["arm"]): r for r in demo["rows"]}
    assert "[REDACTED]" in echoed[("grid_path", "bare")]["response"]["text"]  # the echoed key was there, redacted
    assert echoed[("log_levels", "harnessed")]["response"]["attempts"] == 2


def test_the_keys_went_only_where_they_belong(session):
    """--api-key-env's key is sent to the endpoint, in the Authorization header only; the OpenRouter key never goes to
    a loopback server; nothing else carries either."""
    chats = [r for r in session["requests"] if r.path.endswith("/chat/completions")]
    auth = [next((v for k, v in r.headers.items() if k.lower() == "authorization"), "") for r in chats]
    assert any(KEY_CUSTOM in a for a in auth)
    for request, header in zip(chats, auth):
        assert KEY_OR not in header
        body = json.dumps(request.json)
        assert not any(n.decode() in body for n in NEEDLES)


def test_no_file_the_session_wrote_holds_a_key(session, capsys):
    files = _files(session["root"])
    leaks = []
    for path in files:
        data = path.read_bytes()
        if any(n in data for n in NEEDLES):
            leaks.append(str(path.relative_to(session["root"])))
    RESULTS["files"], RESULTS["leaks"] = len(files), leaks
    with capsys.disabled():
        print(f"\nsecrets: {len(files)} files grepped, {len(leaks)} leaks" + (f": {leaks}" if leaks else ""))
    kinds = {p.name for p in files}
    assert {"demo.json.journal.jsonl", "swe.json", "validation.json", "index.html"} <= kinds
    assert not leaks


def test_the_sandboxed_program_of_the_cli_run_found_no_key(session):
    demo = json.loads((session["work"] / "demo.json").read_text())
    [row] = [r for r in demo["rows"] if (r["task_id"], r["arm"]) == ("csv_totals", "harnessed")]
    reason = row["executor"]["reason"]
    assert "KEYCHECK clean: read" in reason and "(os.environ,self" in reason, reason  # pid 1 and the parent may be
    # unreadable (another uid) or hidden: either way no key
    assert row["executor"]["process"]["isolation"]["layer"] in ("bwrap", "unshare", "none")


# --- the sandbox, layer by layer -----------------------------------------------------------------------------------

LAYER_RUN = r"""
import json, shutil, sys, tempfile
from pathlib import Path
import swebench_exec.sandbox.local as local
if sys.argv[1] != "auto":
    local.detect_isolation = lambda: sys.argv[1]  # as on a machine without the stronger layers
box = local.LocalSandbox()
cwd = Path(tempfile.mkdtemp(prefix="bbe-secrets-"))
try:
    (cwd / "program.py").write_text(sys.argv[2])
    proc = box.run(["python", "program.py"], cwd=cwd)
finally:
    shutil.rmtree(cwd, ignore_errors=True)
print(json.dumps({"layer": box.isolation()["layer"], "rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}))
"""

SYSTEM_PYTHON = "/usr/bin/python3"  # outside /root: reachable by a sandbox uid and by an unprivileged user
PROJECT = Path(__file__).resolve().parents[1]


def run_layer(layer: str, as_user: int | None) -> dict:
    """Start LAYER_RUN in a fresh process whose environment holds the keys (as `python` started from a shell with the
    keys exported would), optionally as an unprivileged user."""
    python = SYSTEM_PYTHON if (as_user is not None or layer in ("unshare", "none")) else sys.executable
    if not os.path.exists(python):
        pytest.skip(f"{python} not here")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT), "OPENROUTER_API_KEY": KEY_OR, KEY_ENV: KEY_CUSTOM,
           "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    command = [python, "-c", LAYER_RUN, layer, ENV_DUMP]
    if as_user is not None:
        if os.geteuid() != 0:
            pytest.skip("needs root to start a process as another user")
        command = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *command]
    done = subprocess.run(command, env=env, cwd="/tmp", capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        if "SandboxError" in done.stderr or "cannot reach" in done.stderr:
            pytest.skip(f"layer {layer} cannot run here: {done.stderr.strip().splitlines()[-1]}")
        raise AssertionError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _layer_available(layer: str) -> bool:
    from swebench_exec.sandbox.local import UNSHARE, _works

    if layer == "bwrap":
        return bool(shutil.which("bwrap")) and _works("bwrap", "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "true")
    if layer == "unshare":
        return os.geteuid() == 0 and bool(shutil.which("unshare")) and _works(*UNSHARE, "true")
    return True




@pytest.mark.parametrize(
    "layer, as_user",
    [("bwrap", None), ("unshare", None), ("none", None), ("bwrap", 65534),
     ("none", 65534)],
    ids=["bwrap-root", "unshare-root", "none-root-own-uid", "bwrap-unprivileged", "none-unprivileged"],
)  # fmt: skip
def test_a_sandboxed_program_cannot_find_the_key(layer, as_user):
    if not _layer_available(layer):
        pytest.skip(f"the {layer} layer does not work on this machine")
    result = run_layer(layer, as_user)
    assert result["layer"] == layer
    report = json.loads(result["stdout"].strip().splitlines()[-1])
    assert {"os.environ", "self"} <= set(report["dump"])  # it did read its own environment ...
    assert "HOME" in "".join(report["dump"]["os.environ"])
    for key in KEYS:  # ... and nothing it could read holds a key
        assert key not in result["stdout"] and key not in result["stderr"]
    assert "KEYCHECK clean" in result["stderr"], result["stderr"][-300:]
