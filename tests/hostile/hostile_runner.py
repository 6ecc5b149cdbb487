"""Runs one public-tier case of the hostile corpus through the product (`format_score` + `executor_score`).

Not a case itself: the machinery tests/test_hostile_corpus.py uses in-process, and the worker it starts when a case
needs another process (`worker = true`: a harness whose real environment holds the API key; `local_user`: a harness
running as a non-root user). Standard library and the product only, so any interpreter that can import the product can
run it: `python hostile_runner.py < request.json` prints `@@RESULT@@<json>` last.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent
MANIFEST = CORPUS / "cases.toml"
ANSWER = "ANSWER 42"
RESULT_TAG = "@@RESULT@@"


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    file: str
    kind: str
    spec: dict

    def get(self, key: str, sandbox: str | None = None, default: Any = None) -> Any:
        if sandbox is not None and f"{key}_{sandbox}" in self.spec:
            return self.spec[f"{key}_{sandbox}"]
        return self.spec.get(key, default)

    def expected(self, sandbox: str) -> set[str]:
        value = self.get("expect", sandbox)
        return {value} if isinstance(value, str) else set(value)

    def limits(self):
        from swebench_exec.sandbox.base import Limits

        return Limits(
            timeout_s=float(self.get("timeout")),
            memory_mb=int(self.get("memory_mb")),
            file_size_mb=int(self.get("file_size_mb")),
            open_files=int(self.get("open_files")),
            processes=int(self.get("processes")),
            output_cap_bytes=int(self.get("output_cap_kb")) * 1024,
            output_keep_bytes=int(self.get("output_keep_kb")) * 1024,
        )


def load_cases() -> list[Case]:
    import tomllib

    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    cases = []
    for entry in data["case"]:
        case = Case(entry["id"], entry["file"], entry.get("kind", "program"), {**defaults, **entry})
        if not (CORPUS / case.file).is_file():
            raise FileNotFoundError(f"case {case.id}: {case.file} is not in {CORPUS}")
        cases.append(case)
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate case ids in cases.toml")
    return cases


def reply_text(case: Case, ctx: dict, filename: str = "prog.py") -> str:
    """The model's reply: a program case is one FILE block holding the file; a reply case builds its own text."""
    path = CORPUS / case.file
    if case.kind == "program":
        return f"FILE: {filename}\n```python\n{path.read_text(encoding='utf-8')}```\n"
    namespace: dict = {"__name__": f"hostile_{case.id}"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace["build"](ctx)


def make_sandbox(name: str, case: Case, image: str | None):
    if name == "local":
        from swebench_exec.sandbox.local import LocalSandbox

        return LocalSandbox(case.limits())
    from swebench_exec.sandbox.docker import DockerSandbox

    return DockerSandbox(image, case.limits(), cpus=1.0)


def run_public_case(case: Case, sandbox_name: str, ctx: dict, image: str | None, make=make_sandbox) -> dict:
    """Score the case's reply with executor_score in the named sandbox; return what the checks need, JSON-ready.

    The task: write prog.py, run it once as `python prog.py <marker>` beside context.json; 3 points when a line of its
    stdout is exactly "ANSWER 42". Its check keeps the program's output, for the secret and breach checks."""
    from swebench_exec.sandbox.base import run_program
    from swebench_exec.scoring.executor import executor_score
    from swebench_exec.scoring.format import format_score

    seen: dict = {}
    limits = case.limits()

    def prepare(workdir: Path) -> None:
        seen["workdir"] = str(workdir)
        (workdir / "context.json").write_text(json.dumps(ctx))

    def invoke(workdir: Path, script: Path):
        return run_program(["python", script.name, ctx["marker"]], cwd=workdir, timeout=limits.timeout_s)

    def check(proc, workdir: Path):
        seen["stdout"], seen["stderr"] = proc.stdout, proc.stderr
        passed = any(line.strip() == ANSWER for line in str(proc.stdout).splitlines())
        return (3, "the answer line is there") if passed else (0, "no answer line")

    task = {"id": f"hostile-{case.id}", "prompt": "(hostile corpus)", "expected_files": ["prog.py"],
            "harness": {"prepare": prepare, "invoke": invoke, "check": check}}  # fmt: skip
    if case.get("task"):
        task = _public_task(case.get("task"), seen)
    out: dict = {"error": None}
    started = time.monotonic()
    try:
        text = reply_text(case, ctx, task["expected_files"][0])
        shape = format_score(text, task["expected_files"])
        out["format_s"] = time.monotonic() - started
        out["format_score"] = shape.score
        out["refused_paths"] = [d.path for d in shape.parse.defects if d.kind == "refused_path"]
        result = executor_score(text, task=task, sandbox=make(sandbox_name, case, image))
        out["record"] = result.record()
        out["record_json"] = json.dumps(out["record"])  # a results row must serialise
    except BaseException as exc:  # noqa: BLE001 - the harness must survive: anything escaping is the finding
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["elapsed_s"] = time.monotonic() - started
    out.update(seen)
    if sandbox_name == "docker":
        from swebench_exec.sandbox.docker import leftover_containers

        out["leftover_containers"] = leftover_containers(mine_only=True)
    return out


def _public_task(task_id: str, seen: dict) -> dict:
    """A public task with its own harness, wrapped only to note the work dir and the program's output."""
    from swebench_exec.tasks import PUBLIC_TASKS

    task = next(t for t in PUBLIC_TASKS if t["id"] == task_id)
    harness = task["harness"]

    def prepare(workdir: Path) -> None:
        seen["workdir"] = str(workdir)
        harness["prepare"](workdir)

    def check(proc, workdir: Path):
        seen["stdout"], seen["stderr"] = proc.stdout, proc.stderr
        return harness["check"](proc, workdir)

    return {**task, "harness": {**harness, "prepare": prepare, "check": check}}


def hold_a_session_key(secret: str) -> None:
    """Join a session keyring of this worker's own and keep `secret` in it, as a user's login session may hold a
    Kerberos ticket or a token (`keyctl padd user NAME @s`)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    syscall = {"x86_64": (250, 248), "aarch64": (219, 217)}[os.uname().machine]  # keyctl, add_key
    if libc.syscall(syscall[0], 1, None) < 0:  # KEYCTL_JOIN_SESSION_KEYRING, anonymous
        raise OSError(ctypes.get_errno(), "cannot join a session keyring")
    payload = secret.encode()
    if libc.syscall(syscall[1], b"user", b"bbe-hostile", payload, len(payload), -3) < 0:  # KEY_SPEC_SESSION_KEYRING
        raise OSError(ctypes.get_errno(), "cannot add a session key")


def main() -> None:
    """Worker: {"case", "sandbox", "ctx", "image"} on stdin; the case's outcome after RESULT_TAG on stdout."""
    request = json.loads(sys.stdin.read())
    case = next(c for c in load_cases() if c.id == request["case"])
    if case.get("session_key"):
        hold_a_session_key(os.environ["OPENROUTER_API_KEY"])
    result = run_public_case(case, request["sandbox"], request["ctx"], request["image"])
    sys.stdout.write("\n" + RESULT_TAG + json.dumps(result))


if __name__ == "__main__":
    main()
