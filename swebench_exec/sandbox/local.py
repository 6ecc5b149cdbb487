"""The local sandbox: a temp dir, a throwaway uid, rlimits, and namespaces where the machine allows.

Layers, strongest available first, and recorded in every result so nobody mistakes a weak run for a contained one:
bubblewrap (only the system trees read-only, private /tmp, no home, no network, own pid namespace), else
`unshare -n` (root only), else nothing but rlimits. As root the program runs under a uid of its own (so RLIMIT_NPROC really bounds a fork bomb
and root-owned files are out of reach); wall-clock timeouts kill the whole process group and reap it.
"""
from __future__ import annotations

import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .base import Limits, SandboxedProcess, SandboxError, program_env, remove_tree
from .capture import HeadTail, drain
from .seccomp import filter_fd

SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
# Without bubblewrap, as root: own network and pid namespaces (when the program's init exits, all it started dies).
UNSHARE = ("unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc")
# Each process between the harness and the program dies with its parent (setpriv, bwrap/unshare's own watch, and
# again after the uid drop, which clears the parent-death signal). A harness killed before those are armed is mostly
# caught by the lifeline: the program starts only after writing STARTED to a pipe only the harness reads, and once the
# harness is gone that write never completes. What slips through (bwrap's init arms its watch only after starting the
# program) is removed by the next run's sweep_orphans().
DIE_WITH_US = ["setpriv", "--pdeathsig", "KILL", "--"]
STARTED = "started"
SETUP_ATTEMPTS = 3  # a sandbox that never started the program is set up again, at most this often
# The pipe is closed before the program starts: a program holding it could reopen it through /proc/self/fd and read
# the token back, faking a set-up failure (its own failure unscored, and another try). bash can close a descriptor
# above 9; dash cannot, so plain sh (where there is no bash) leaves it open.
LIFELINE = {"bash": f'printf {STARTED} >&"$0" && eval "exec $0>&-" && exec "$@"',
            "sh": f'printf {STARTED} > /proc/self/fd/"$0" && exec "$@"'}  # fmt: skip
# The only host trees a bubblewrap sandbox sees (read-only), besides what a run binds in: the interpreter, and the
# SWE-bench tier's venv and repository. Project checkouts (committed results hold reference answers), other users'
# data and whatever else lies on the machine are simply not there.
SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys", "/nix")
SCRATCH_BYTES = 64 * 1024 * 1024  # each private tmpfs (/tmp, /var/tmp, /dev/shm, ...)
FIRST_SANDBOX_UID = 200_000  # uids needn't exist; each harness process takes a random block of its own above this
OWNER_TAG = "BENCH_SANDBOX_OWNER"  # on each bwrap command line: which harness process (pid:start) it belongs to


@lru_cache(maxsize=None)
def _works(*probe: str) -> bool:
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@lru_cache(maxsize=None)
def _lifeline_shell() -> str:
    return "bash" if shutil.which("bash") else "sh"


def _is_root() -> bool:
    return os.geteuid() == 0


@lru_cache(maxsize=None)
def detect_isolation() -> str:
    """'bwrap', 'unshare' or 'none': the strongest layer that actually works on this machine."""
    if shutil.which("bwrap") and _works("bwrap", "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "true"):
        return "bwrap"
    if _is_root() and shutil.which("unshare") and _works(*UNSHARE, "true"):
        return "unshare"
    return "none"


class _UidPool:
    """Hands each concurrent run its own uid, so one run's fork bomb cannot use up another's process budget."""

    def __init__(self, first: int, size: int = 256) -> None:
        self._free = list(range(first, first + size))
        self._lock = threading.Lock()

    def acquire(self) -> int:
        with self._lock:
            if not self._free:
                raise SandboxError("no free sandbox uid: too many concurrent runs")
            return self._free.pop(0)

    def release(self, uid: int) -> None:
        with self._lock:
            self._free.append(uid)


_UIDS = _UidPool(FIRST_SANDBOX_UID + random.randrange(0, 3_000) * 256)


def _interpreter_dirs() -> set[str]:
    """Directories the sandboxed interpreter needs even when they sit inside a hidden home."""
    exe = Path(sys.executable)
    return {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, exe.parent, exe.resolve().parent.parent)}


_INTERPRETER_WORKS: set[tuple] = set()  # (layer, extra read-only binds) where the interpreter was seen to start
PACKAGE_NAMES = ("swebench_exec", "bench_by_execution")


def _package_dirs() -> list[str]:
    """Every copy of this package in reach, the imported one and any other installed (a site-packages copy beside a
    checkout): they hold the tasks' expected answers. Hidden last, so that binding the interpreter's site-packages
    back in cannot uncover them."""
    imported = Path(__file__).resolve().parents[1]
    places = {imported.parent, *(Path(entry).resolve() for entry in sys.path if entry)}
    return sorted({str(place / name) for place in places for name in PACKAGE_NAMES if (place / name).is_dir()})


def _checkout() -> str | None:
    """The project checkout this package runs from, if it does: its committed results hold gold's replies."""
    root = Path(__file__).resolve().parents[2]
    return str(root) if (root / "pyproject.toml").is_file() and (root / PACKAGE_NAMES[0]).is_dir() else None


def _pth_dirs() -> set[str]:
    """Folders the interpreter's .pth files add to sys.path (editable installs of other packages): a program that
    imports them needs them. Never the checkout of this project."""
    import site

    found: set[str] = set()
    for folder in {*site.getsitepackages(), site.getusersitepackages()}:
        for pth in sorted(Path(folder).glob("*.pth")) if os.path.isdir(folder) else ():
            for line in pth.read_text(errors="replace").splitlines():
                entry = line.strip()
                if entry and not entry.startswith(("#", "import ", "import\t")) and os.path.isdir(Path(folder, entry)):
                    found.add(str(Path(folder, entry).resolve()))
    checkout = _checkout()
    return {d for d in found if not checkout or not (d == checkout or d.startswith(checkout + "/"))}


def _hidden_dirs() -> list[str]:
    """Places that may hold the user's secrets (~/.ssh, .env files next to the project): replaced by empty tmpfs."""
    dirs = {str(Path.home().resolve()), str(Path.cwd().resolve())}
    if _is_root():
        dirs.add("/root")
    return sorted(d for d in dirs if d != "/" and os.path.isdir(d))


def _sandbox_env(cwd: Path) -> dict[str, str]:
    return program_env(home=str(cwd), path=f"{Path(sys.executable).parent}:{SAFE_PATH}")


def _process_tag(pid: int) -> str | None:
    """pid:start-time, which names a process for good (a pid alone may be reused); None once it is gone."""
    try:
        return f"{pid}:{Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        return None


@lru_cache(maxsize=None)
def sweep_orphans() -> int:
    """Kill the bwrap processes whose harness is gone: a harness SIGKILLed while bwrap was setting up can leave a
    child waiting for ever for a parent that died, or an init that had not armed its watch yet, its program running.
    Runs once per process, before its first sandbox. Returns how many it killed."""
    killed = 0
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] != b"bwrap" or OWNER_TAG.encode() not in argv:
            continue
        owner = argv[argv.index(OWNER_TAG.encode()) + 1].decode(errors="replace")
        pid = owner.partition(":")[0]
        if not pid.isdigit() or _process_tag(int(pid)) != owner:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed


class LocalSandbox:
    """Runs a command on this machine inside the strongest isolation available (see module docstring)."""

    name = "local"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        env: dict[str, str] | None = None,
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
    ) -> None:
        """`env` adds variables; `read_only` / `writable` bind extra host paths in (a venv, a repo's git dir)."""
        self.limits = limits or Limits()
        self.env = dict(env or {})
        self.read_only = [str(Path(p).resolve()) for p in read_only]
        self.writable = [str(Path(p).resolve()) for p in writable]

    def isolation(self) -> dict:
        layer = detect_isolation()
        return {
            "provider": "local",
            "layer": layer,
            "network": layer in ("bwrap", "unshare"),
            "filesystem": layer == "bwrap",
            "processes": layer in ("bwrap", "unshare"),
            "own_uid": _is_root(),
        }

    def run(
        self, args: Sequence[str], cwd: Path, *, stdin: str | None = None, timeout: float | None = None
    ) -> SandboxedProcess:
        if args and args[0] in ("python", "python3"):
            self._check_interpreter()
        return self._run(args, cwd, stdin, timeout)

    def _check_interpreter(self) -> None:
        """An interpreter that cannot start in the sandbox (a library outside the trees it shows) would crash every
        program, each scored as the model's crash: found once per process, it is the sandbox's failure instead."""
        key = (detect_isolation(), tuple(self.read_only))
        if key in _INTERPRETER_WORKS:
            return
        probe = Path(tempfile.mkdtemp(prefix="bbe-probe-"))
        try:
            proc = self._run([sys.executable, "-c", "pass"], probe, None, 60)
        finally:
            remove_tree(probe)
        if proc.returncode != 0:
            why = proc.stderr.strip()[-300:] or f"exit {proc.returncode}"
            raise SandboxError(f"{sys.executable} does not start inside the {key[0]} sandbox: {why}")
        _INTERPRETER_WORKS.add(key)

    def _run(self, args: Sequence[str], cwd: Path, stdin: str | None, timeout: float | None) -> SandboxedProcess:
        cwd = Path(cwd).resolve()
        timeout = self.limits.timeout_s if timeout is None else timeout
        sweep_orphans()
        uid = _UIDS.acquire() if _is_root() else None
        try:
            if uid is not None:
                for tree in (cwd, *map(Path, self.writable)):
                    _chown_tree(tree, uid)
            _hide_from_same_user()
            for attempt in range(1, SETUP_ATTEMPTS + 1):
                proc, started = self._start(list(args), cwd, uid, stdin, timeout)
                if started:
                    return proc
                # the program never ran, so trying again is safe: bwrap's set-up fails now and then while other
                # mounts come and go (docker's overlays), and that is the sandbox's failure, never the model's
            raise SandboxError(f"the {detect_isolation()} sandbox never started the program ({attempt} attempts): "
                               f"{proc.stderr.strip()[-300:]}")  # fmt: skip
        finally:
            if uid is not None:
                _UIDS.release(uid)

    def environment(self, cwd: Path) -> dict[str, str]:
        return {**_sandbox_env(cwd), **self.env}

    def _start(
        self, args: list[str], cwd: Path, uid: int | None, stdin: str | None, timeout: float
    ) -> tuple[SandboxedProcess, bool]:
        """One run, and whether the program started (the lifeline said so)."""
        bwrap = detect_isolation() == "bwrap"
        status_read, status_write = os.pipe()
        info_read, info_write = os.pipe() if bwrap else (None, None)  # bwrap says there which pid its init has
        seccomp = filter_fd() if bwrap else None
        handed = [fd for fd in (status_write, info_write, seccomp) if fd is not None]
        try:
            try:
                command = self._command(args, cwd, uid, timeout, status_write, info_write, seccomp)
                popen = self._spawn(command, cwd, stdin, handed)
            except BaseException:
                if info_read is not None:
                    os.close(info_read)
                raise
            finally:
                for fd in handed:  # the child holds its own copies
                    os.close(fd)
            proc = self._wait(popen, args, cwd, stdin, timeout, info_read)  # closes info_read
        finally:
            status = _drain_fd(status_read)
        return proc, STARTED in status

    def _command(
        self, args: list[str], cwd: Path, uid: int | None, timeout: float, status_fd: int, info_fd: int | None,
        seccomp_fd: int | None,
    ) -> list[str]:
        if args and args[0] in ("python", "python3"):
            args = [sys.executable, *args[1:]]
        limits = self.limits
        rlimits = [
            "prlimit",
            f"--as={limits.memory_mb * 1024 * 1024}",
            f"--fsize={limits.file_size_mb * 1024 * 1024}",
            f"--nofile={limits.open_files}",
            f"--nproc={limits.processes}",
            f"--cpu={math.ceil(timeout) + 1}",
            "--",
        ]
        drop_user = (
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs", "--pdeathsig", "KILL",
             "--"]  # fmt: skip
            if uid is not None
            else []
        )
        shell = _lifeline_shell()
        inner = [shell, "-c", LIFELINE[shell], str(status_fd), *drop_user, *rlimits, *args]
        layer = detect_isolation()
        if layer == "bwrap":
            fds = ["--info-fd", str(info_fd)] + (["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else [])
            prefix = _bwrap_prefix(cwd, self.environment(cwd), self.read_only, self.writable)
            return DIE_WITH_US + prefix + fds + ["--"] + inner
        if layer == "unshare":
            if not all(_walkable(p) for p in _interpreter_dirs()):
                raise SandboxError(f"the sandbox uid cannot reach {sys.executable}: install bubblewrap, or use an "
                                   "interpreter outside private directories")  # fmt: skip
            return DIE_WITH_US + [*UNSHARE, "--"] + inner
        return DIE_WITH_US + inner

    def _spawn(self, command: list[str], cwd: Path, stdin: str | None, handed: list[int]) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                command,
                cwd=cwd,
                env=self.environment(cwd),
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=tuple(handed),
            )
        except OSError as exc:
            raise SandboxError(f"could not start the sandbox: {exc}") from exc

    def _wait(
        self, proc: subprocess.Popen, args: list[str], cwd: Path, stdin: str | None, timeout: float,
        info_fd: int | None,
    ) -> SandboxedProcess:
        limits = self.limits
        started = time.monotonic()
        init = _SandboxInit(info_fd)
        capped = threading.Event()

        def on_cap() -> None:
            capped.set()
            _kill_group(proc.pid)

        out, err = HeadTail(limits.output_keep_bytes), HeadTail(limits.output_keep_bytes)
        readers = [
            drain(proc.stdout, out, limits.output_cap_bytes, on_cap),
            drain(proc.stderr, err, limits.output_cap_bytes, on_cap),
        ]
        if stdin is not None:
            threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
        timed_out = False
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            returncode = proc.wait()
        _kill_group(proc.pid)  # background children left in the group go too
        init.kill()  # and the sandbox's own pid namespace, whatever was done to its init
        for reader in readers:
            reader.join(timeout=5)
        return SandboxedProcess(
            args,
            returncode,
            out.text(),
            err.text(),
            timed_out=timed_out,
            output_limited=capped.is_set(),
            duration_s=time.monotonic() - started,
            isolation=self.isolation(),
        )


class _SandboxInit:
    """bubblewrap's init, the pid 1 of the sandbox: killing it ends every process of the run. Its pid comes on the
    info pipe as the sandbox starts and is held as a pidfd, so the kill can never reach a process that reused the pid.
    Why kill it at all: with a non-root harness it runs under the program's uid, and a program can rewrite it through
    /proc/1/mem (e.g. clear its parent-death signal) to outlive the run."""

    def __init__(self, info_fd: int | None) -> None:
        self._pidfd: int | None = None
        self._reader = None
        if info_fd is not None:
            self._reader = threading.Thread(target=self._read, args=(info_fd,), daemon=True)
            self._reader.start()

    def _read(self, fd: int) -> None:
        data = b""
        try:
            while chunk := os.read(fd, 4096):
                data += chunk
        finally:
            os.close(fd)
        try:
            pid = int(json.loads(data)["child-pid"])
            self._pidfd = os.pidfd_open(pid)
        except (ValueError, KeyError, TypeError, OSError, AttributeError):
            pass  # bwrap failed before its init started, or an old kernel without pidfds

    def kill(self) -> None:
        if self._reader is None:
            return
        self._reader.join(timeout=5)
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            finally:
                os.close(self._pidfd)
                self._pidfd = None


def _bwrap_prefix(cwd: Path, env: dict[str, str], read_only: list[str], writable: list[str]) -> list[str]:
    prefix = [
        "bwrap", *_system_binds(), "--dev", "/dev", "--proc", "/proc",
        "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent", "--new-session", "--clearenv",
    ]  # fmt: skip
    made: set[str] = set()  # folders that exist in the sandbox by now, apart from the system trees
    emptied = sorted({"/tmp", "/var/tmp", "/run", *_hidden_dirs(), *filter(None, [_checkout()])})
    scratch = ("/tmp", "/var/tmp", "/dev/shm")  # writable by the program, like a real machine's
    for hidden in ["/dev/shm", *emptied]:  # RAM-backed: sized, or a program could fill memory outside its limits
        perms = ["--perms", "1777"] if hidden in scratch else []
        prefix += _parents(hidden, made) + perms + ["--size", str(SCRATCH_BYTES), "--tmpfs", hidden]
        made.add(hidden)
    for needed in sorted(_interpreter_dirs() | _pth_dirs() | set(read_only)):
        if needed not in emptied:  # an emptied folder is hidden on purpose and not needed
            prefix += _bind_inside(needed, "--ro-bind", made)
    for answers in _package_dirs():
        prefix += ["--tmpfs", answers]
    for path in [*writable, str(cwd)]:
        prefix += _bind_inside(path, "--bind", made)
    prefix += ["--chdir", str(cwd)]
    for key, value in {**env, OWNER_TAG: _process_tag(os.getpid())}.items():
        prefix += ["--setenv", key, value]
    return prefix


def _system_binds() -> list[str]:
    options: list[str] = []
    for tree in SYSTEM_TREES:
        if os.path.islink(tree):  # merged /usr: /bin -> usr/bin
            options += ["--symlink", os.readlink(tree), tree]
        elif os.path.isdir(tree):
            options += ["--ro-bind", tree, tree]
    return options


def _in_system_tree(path: str) -> bool:
    return any(path == tree or path.startswith(tree + "/") for tree in SYSTEM_TREES)


def _parents(path: str, made: set[str]) -> list[str]:
    """Make the folders above `path` that the sandbox lacks, walkable (bwrap would make them 0700)."""
    options: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):  # top down, "/" excluded
        folder = str(parent)
        if _in_system_tree(folder):
            break  # the host's own folders from here down
        if folder not in made:
            options += ["--perms", "0755", "--dir", folder]
            made.add(folder)
    return options


def _bind_inside(path: str, bind: str, made: set[str]) -> list[str]:
    """Bind host `path` in at the same place. Inside a system tree the host's folders lead to it, so the sandbox uid
    must be able to walk them; elsewhere the way is made in the sandbox (see _parents)."""
    if _in_system_tree(path) and _is_root() and not _walkable(path):
        raise SandboxError(f"the sandbox uid cannot reach {path}: use a world-traversable directory")
    made.add(path)
    return _parents(path, made) + [bind, path, path]


def _walkable(path: str) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [*map(str, Path(path).parents)])


def _hide_from_same_user() -> None:
    """With no layer and no uid of its own, a program runs as the user: make this process non-dumpable so it cannot
    read the harness's /proc/<pid>/environ (API keys). Harmless elsewhere."""
    if detect_isolation() == "none" and not _is_root():
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def _drain_fd(fd: int) -> str:
    """What the sandbox wrote on the status pipe (every write end is closed by now, so this ends)."""
    chunks = []
    try:
        os.set_blocking(fd, False)
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def _chown_tree(root: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, uid, uid)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _feed(pipe, text: str) -> None:
    try:
        with pipe:
            pipe.write(text.encode("utf-8"))
    except (BrokenPipeError, OSError):
        pass
