"""The sandbox protocol: every provider runs a command in a directory and returns a `SandboxedProcess`.

Task harnesses never call `subprocess` themselves: their `invoke` goes through `run_program`, which routes to whichever
sandbox the executor made current. That is what lets one task definition run under `local` or `docker` unchanged.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run; defaults suit the public tasks."""

    timeout_s: float = 10.0
    memory_mb: int = 1024
    file_size_mb: int = 64
    open_files: int = 256
    processes: int = 64
    output_cap_bytes: int = 8 * 1024 * 1024  # per stream; beyond it the run is killed
    output_keep_bytes: int = 64 * 1024  # head and tail kept of each stream


class SandboxedProcess(subprocess.CompletedProcess):
    """A `CompletedProcess` that also says how the run ended and how well it was isolated."""

    def __init__(
        self,
        args: Sequence[str],
        returncode: int,
        stdout: str,
        stderr: str,
        *,
        timed_out: bool = False,
        output_limited: bool = False,
        duration_s: float = 0.0,
        isolation: dict | None = None,
        infra_error: str | None = None,
    ) -> None:
        super().__init__(list(args), returncode, stdout, stderr)
        self.timed_out = timed_out
        self.output_limited = output_limited
        self.duration_s = duration_s
        self.isolation = isolation or {}
        self.infra_error = infra_error

    def record(self) -> dict:
        return {
            "returncode": self.returncode,
            "timed_out": self.timed_out,
            "output_limited": self.output_limited,
            "duration_s": round(self.duration_s, 4),
            "isolation": self.isolation,
            "infra_error": self.infra_error,
        }


def program_env(home: str, path: str, user: str = "sandbox") -> dict[str, str]:
    """The whole environment a sandboxed program gets, in every provider: no secrets, UTF-8, HOME inside the box, and
    a user name (the local sandbox's uid of its own has no passwd entry; getpass.getuser() reads these first)."""
    return {
        "PATH": path,
        "HOME": home,
        "USER": user,
        "LOGNAME": user,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def remove_tree(path: Path) -> None:
    """Remove a sandbox dir whatever the program did to it (chmod 0, 3,000 nested dirs, files it cannot own)."""
    import shutil
    import stat

    def writable_then_retry(function, name, _exc) -> None:
        try:
            os.chmod(os.path.dirname(name), stat.S_IRWXU)
            if not os.path.islink(name):  # chmod follows links: never touch what a link left behind points at
                os.chmod(name, stat.S_IRWXU)
            function(name)
        except OSError:
            pass

    try:
        shutil.rmtree(path, onerror=writable_then_retry)
    except (RecursionError, OSError):
        pass
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--", str(path)], capture_output=True)


def how_it_ended(proc: Any) -> str:
    """How a run ended when it ended badly ('the program timed out', 'exit 1: <last stderr line>'); '' for exit 0.

    Any CompletedProcess-like works: a user's task may hand back a plain one.
    """
    if proc is None:
        return ""
    if getattr(proc, "timed_out", False):
        return "the program timed out"
    if getattr(proc, "output_limited", False):
        return "the program was killed for printing too much"
    code = getattr(proc, "returncode", 0)
    if code in (0, None):
        return ""
    stderr = getattr(proc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in str(stderr).splitlines() if line.strip()]
    return f"exit {code}: {(lines[-1] if lines else 'no stderr')[:200]}"


class Sandbox(Protocol):
    """Runs untrusted programs. `name` is recorded in results; `isolation()` says what is actually enforced."""

    name: str

    def run(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        stdin: str | None = None,
        timeout: float | None = None,
    ) -> SandboxedProcess: ...

    def isolation(self) -> dict: ...


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program): an infrastructure failure, never scored against a model."""


_current: contextvars.ContextVar[Sandbox | None] = contextvars.ContextVar("sandbox", default=None)


@contextlib.contextmanager
def use_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    token = _current.set(sandbox)
    try:
        yield sandbox
    finally:
        _current.reset(token)


def current_sandbox() -> Sandbox:
    sandbox = _current.get()
    if sandbox is None:
        from .local import LocalSandbox

        sandbox = LocalSandbox()
        _current.set(sandbox)
    return sandbox


def run_program(
    args: Sequence[str | Path],
    cwd: str | Path,
    *,
    stdin: str | None = None,
    timeout: float | None = None,
) -> SandboxedProcess:
    """Run a program in the current sandbox. An `args[0]` of "python" means the sandbox's own interpreter."""
    return current_sandbox().run([str(a) for a in args], Path(cwd), stdin=stdin, timeout=timeout)
