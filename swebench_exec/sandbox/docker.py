"""The docker sandbox: one throwaway container per run, networking off, limits on, always removed.

Two entry points share the same machinery:

- `DockerSandbox` implements the `Sandbox` protocol for the public tier. Each `run()` creates a container from a local
  image (built by `scripts/build_base_image.sh`; no registry needed), copies the run's directory in with `put_archive`
  (to /sandbox, the working directory), runs the program as an unprivileged user with a read-only root, no capabilities,
  no network and memory/pids/CPU limits, enforces the timeout inside the container (`timeout -s KILL` as pid 1 under
  root, out of the program's reach: it runs under another uid via `setpriv`) and outside (wait timeout, then kill),
  keeps the head and tail of its output, copies the files it wrote back into the run's directory (bounded; regular
  files only, never through a link), and removes the container whatever happens.
- `run_script()` serves the SWE-bench tier: a bash script in a container of a per-instance image whose repository lives
  at `workdir` (e.g. /testbed), with the given files put in first, returning the merged log.

Docker's own failures (no daemon, missing image, API errors) are infrastructure failures: `SandboxError` from `run()`,
`ScriptRun.infra_error` from `run_script()`; they are never a model's fault.

Known limit: /sandbox is an anonymous volume (a read-only root cannot receive `put_archive` otherwise), so the disk a
program fills there is bounded by the per-file size limit and its time budget, not by a quota; the volume goes with the
container.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import posixpath
import socket
import stat
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Sequence

from .base import Limits, SandboxedProcess, SandboxError, program_env
from .capture import HeadTail

log = logging.getLogger(__name__)

DEFAULT_IMAGE = "bench-by-execution/base:bookworm"
LABEL = "bench-by-execution"
LABELS = {LABEL: "1"}
SANDBOX_DIR = "/sandbox"
SANDBOX_USER = "65534:65534"  # nobody:nogroup in Debian images
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
START_GRACE_S = 10.0  # outer wait beyond the inner timeout: container start and teardown under load
COPY_BACK_CAP_BYTES = 256 * 1024 * 1024
COPY_BACK_MAX_FILES = 20_000
COPY_BACK_MAX_DEPTH = 64  # folders; deeper entries are the program's own business and stay in the container
_STDOUT, _STDERR = 1, 2

# ---------------------------------------------------------------------------------------------------------------------
# Daemon and images


_available: tuple[float, bool] | None = None
_available_lock = threading.Lock()
_AVAILABLE_TTL_S = 30.0


def _socket_path() -> str | None:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return host[len("unix://") :] if host.startswith("unix://") else None


def docker_available(refresh: bool = False) -> bool:
    """Whether a Docker daemon answers. Fast (a missing socket answers at once), cached for a while, never raises."""
    global _available
    with _available_lock:
        now = time.monotonic()
        if not refresh and _available is not None and now - _available[0] < _AVAILABLE_TTL_S:
            return _available[1]
        answer = _ping()
        _available = (now, answer)
        return answer


def _ping() -> bool:
    path = _socket_path()
    if path is not None and not os.path.exists(path):
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "no daemon"
        return False


def image_exists(name: str) -> bool:
    """Whether the daemon has image `name` locally. Never raises: no daemon means no image."""
    if not docker_available():
        return False
    try:
        import docker

        client = docker.from_env(timeout=10)
        try:
            client.images.get(name)
            return True
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - ImageNotFound, or the daemon went away
        return False


def _client(timeout: float = 120):
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is an optional dependency
        raise SandboxError(
            "the docker sandbox needs the `docker` package: pip install 'bench-by-execution[docker]'"
        ) from exc
    try:
        # Each run holds up to three connections at once (attach, wait, kill): room for a pool of workers.
        client = docker.from_env(timeout=int(timeout), max_pool_size=64)
        client.ping()
        return client
    except Exception as exc:  # noqa: BLE001
        raise SandboxError(f"no Docker daemon answers ({exc}); start one with scripts/docker_up.sh") from exc


def _infra_errors() -> tuple[type[BaseException], ...]:
    import docker.errors
    import requests.exceptions

    return (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def _describe(exc: BaseException, image: str) -> str:
    import docker.errors

    if isinstance(exc, docker.errors.ImageNotFound) or "No such image" in str(exc):
        return f"image {image} is not on this machine: build it (scripts/build_base_image.sh) or load it first"
    return f"docker: {type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------------------------------
# One container's life: create, put files, attach, start, wait (timeout inside and out), inspect, always remove


@dataclass
class _Outcome:
    exit_code: int
    timed_out: bool
    output_limited: bool
    oom_killed: bool
    duration_s: float


class _Container:
    """A container with a unique name, so it can be removed even when its creation was interrupted half way."""

    def __init__(self, client, image: str, command: list[str], *, stdin: bool, **options) -> None:
        self.client = client
        self.api = client.api
        self.name = f"{_name_prefix()}{uuid.uuid4().hex[:12]}"
        self.image = image
        self.command = command
        self.stdin = stdin
        self.options = options

    def create(self) -> None:
        api = self.api
        host_config = api.create_host_config(**self.options.pop("host_config"))
        api.create_container(
            self.image,
            self.command,
            name=self.name,
            host_config=host_config,
            labels=LABELS,
            stdin_open=self.stdin,  # with detach=False this also sets StdinOnce: EOF closes the program's stdin
            use_config_proxy=False,  # no proxy settings from the host's docker config leak in
            **self.options,
        )

    def put(self, path: str, archive: bytes) -> None:
        if not self.api.put_archive(self.name, path, archive):
            raise SandboxError(f"docker refused to copy files into {path}")

    def execute(
        self, stdin: str | None, timeout: float, sink: Callable[[int, bytes], None], cap_check: Callable[[], bool]
    ) -> _Outcome:
        """Start, feed stdin, wait with the outer timeout, kill if needed; output goes to `sink(stream, chunk)`."""
        import requests.exceptions

        from docker.utils.socket import frames_iter

        params = {"stdout": 1, "stderr": 1, "stream": 1, "stdin": 1 if stdin is not None else 0}
        sock = self.api.attach_socket(self.name, params=params)
        raw = getattr(sock, "_sock", sock)
        try:
            raw.settimeout(None)
        except (AttributeError, OSError):
            pass
        limited = threading.Event()

        def pump() -> None:
            try:
                for stream, chunk in frames_iter(sock, tty=False):
                    if not chunk:
                        continue
                    sink(stream, chunk)
                    if not limited.is_set() and cap_check():
                        limited.set()
                        # Kill from another thread and keep draining: the daemon finishes a kill only once the
                        # container's output has been read, so killing from this reader would deadlock.
                        threading.Thread(target=self.kill, name=f"{self.name}-kill", daemon=True).start()
            except Exception:  # noqa: BLE001 - the socket closes under us when the container goes
                pass

        reader = threading.Thread(target=pump, name=f"{self.name}-output", daemon=True)
        reader.start()
        started = time.monotonic()
        outer_timeout = timeout + START_GRACE_S + 0.1 * timeout
        outer_timed_out = False
        try:
            self.api.start(self.name)
            if stdin is not None:
                threading.Thread(target=_feed, args=(raw, stdin), name=f"{self.name}-stdin", daemon=True).start()
            try:
                self.api.wait(self.name, timeout=outer_timeout)
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                if time.monotonic() - started < outer_timeout * 0.9:
                    raise  # the daemon went away, not a timeout
                outer_timed_out = True
                self.kill()
                self.api.wait(self.name, timeout=30)
            elapsed = time.monotonic() - started
            reader.join(timeout=10)  # the rest of the output, already on its way
        finally:
            for closable in (sock, raw):
                try:
                    closable.close()
                except Exception:  # noqa: BLE001
                    pass
        state = self.api.inspect_container(self.name)["State"]
        exit_code = int(state.get("ExitCode", -1))
        oom = bool(state.get("OOMKilled"))
        ran = _run_seconds(state)
        ran = elapsed if ran is None else ran
        inner_timed_out = exit_code == 137 and not oom and not limited.is_set() and ran >= timeout - 0.05
        return _Outcome(
            exit_code=exit_code,
            timed_out=outer_timed_out or inner_timed_out,
            output_limited=limited.is_set(),
            oom_killed=oom,
            duration_s=ran,
        )

    def get(self, path: str, cap: int) -> tempfile.SpooledTemporaryFile | None:
        """The tar stream of `path`, or None when it is larger than `cap` bytes."""
        stream, _ = self.api.get_archive(self.name, path, chunk_size=1024 * 1024)
        spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
        total = 0
        try:
            for chunk in stream:
                total += len(chunk)
                if total > cap:
                    spool.close()
                    return None
                spool.write(chunk)
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        spool.seek(0)
        return spool

    def kill(self) -> None:
        try:
            self.api.kill(self.name)
        except Exception:  # noqa: BLE001 - already stopped, or already gone
            pass

    def remove(self) -> None:
        """Force-remove the container and its anonymous volumes; retried, and a second Ctrl-C does not stop it."""
        import docker.errors

        last: BaseException | None = None
        for attempt in range(5):
            try:
                self.api.remove_container(self.name, force=True, v=True)
                return
            except docker.errors.NotFound:
                return
            except KeyboardInterrupt as exc:
                last = exc
            except Exception as exc:  # noqa: BLE001
                if "already in progress" in str(exc):
                    return
                last = exc
                time.sleep(0.2 * (attempt + 1))
        log.warning("could not remove container %s: %s", self.name, last)
        if isinstance(last, KeyboardInterrupt):
            raise last


def _name_prefix() -> str:
    """Container names start with this process's prefix, so a process can tell its own leftovers from others'."""
    return f"{LABEL}-{os.getpid()}-"


def _run_seconds(state: Mapping) -> float | None:
    """How long the container's process ran, from the daemon's own clock (None when unknown)."""
    try:
        started = _parse_time(state["StartedAt"])
        finished = _parse_time(state["FinishedAt"])
    except (KeyError, ValueError, TypeError):
        return None
    seconds = (finished - started).total_seconds()
    return seconds if seconds >= 0 else None


def _parse_time(text: str) -> datetime:
    # RFC 3339 with nanoseconds: 2024-01-01T00:00:00.123456789Z; Python wants at most microseconds.
    text = text.rstrip("Z")
    if "." in text:
        whole, frac = text.split(".", 1)
        frac = "".join(c for c in frac if c.isdigit())[:6]
        text = f"{whole}.{frac}"
    return datetime.fromisoformat(text)


def _feed(raw, text: str) -> None:
    try:
        raw.sendall(text.encode("utf-8"))
    except OSError:
        pass
    finally:
        try:
            raw.shutdown(socket.SHUT_WR)  # EOF on the program's stdin
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------------------------
# Files in and out


def _pack_directory(root: Path, uid: int, gid: int) -> tuple[bytes, dict[str, str]]:
    """A tar of `root`'s contents (relative names), owned by the sandbox user; and {relative file: sha256}."""
    buffer = io.BytesIO()
    digests: dict[str, str] = {}
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                st = os.lstat(full)
                info = tarfile.TarInfo(rel)
                info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
                info.mtime = int(st.st_mtime)
                if stat.S_ISDIR(st.st_mode):
                    info.type, info.mode = tarfile.DIRTYPE, (st.st_mode & 0o755) | 0o700
                    tar.addfile(info)
                elif stat.S_ISLNK(st.st_mode):
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(full), 0o777
                    tar.addfile(info)
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as handle:
                        data = handle.read()
                    digests[rel] = hashlib.sha256(data).hexdigest()
                    info.size, info.mode = len(data), (st.st_mode & 0o755) | 0o600
                    tar.addfile(info, io.BytesIO(data))
                # fifos, sockets and devices stay out
    return buffer.getvalue(), digests


def _pack_files(files: Mapping[str, bytes | str], workdir: str) -> bytes:
    """A tar to put at / holding `files` (absolute paths, or relative to `workdir`)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in files.items():
            full = path if path.startswith("/") else posixpath.join(workdir, path)
            full = posixpath.normpath(full)
            if not full.startswith("/") or full == "/":
                raise ValueError(f"bad file path for the container: {path!r}")
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            info = tarfile.TarInfo(full.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o755 if full.endswith(".sh") else 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _safe_relative(name: str, top: str) -> str | None:
    """`name` from the archive of /sandbox (entries start with 'sandbox/'), as a safe relative path, or None."""
    name = name.replace("\\", "/")
    if name == top or name == top + "/":
        return None
    if not name.startswith(top + "/"):
        return None
    rel = posixpath.normpath(name[len(top) + 1 :])
    if rel in ("", ".") or rel.startswith("/") or rel == ".." or rel.startswith("../"):
        return None
    return rel


def _copy_member(tar, member, root: Path, rel: str, copied_in: dict[str, str], seen_files: set[str],
                 notes: list[str], verified: set[Path]) -> None:  # fmt: skip
    target = root / rel
    if not _inside_without_links(root, target.parent, verified):
        notes.append(f"{rel}: not copied back (its folder is a link or outside the sandbox)")
        return
    if member.isdir():
        if not target.exists() and not target.is_symlink():
            target.mkdir(parents=True, exist_ok=True)
        return
    if not member.isreg():
        return
    seen_files.add(rel)
    handle = tar.extractfile(member)
    data = handle.read() if handle else b""
    if copied_in.get(rel) == hashlib.sha256(data).hexdigest() and target.is_file() and not target.is_symlink():
        return
    _write_file(target, data, member.mode)


def _copy_back(spool, root: Path, copied_in: dict[str, str]) -> list[str]:
    """Mirror the sandbox's regular files into `root`: write new or changed ones, delete copied-in ones that are gone.

    Nothing is ever written through a link or outside `root`; links, devices and fifos the program made are not
    brought back. Returns notes for anything skipped."""
    notes: list[str] = []
    root = root.resolve()
    seen_files: set[str] = set()
    verified: set[Path] = set()
    complete, too_deep = True, 0
    top = SANDBOX_DIR.strip("/")
    with tarfile.open(fileobj=spool, mode="r:") as tar:
        for count, member in enumerate(tar, 1):
            if count > COPY_BACK_MAX_FILES:
                notes.append(f"more than {COPY_BACK_MAX_FILES} entries in the sandbox; the rest were not copied back")
                complete = False
                break
            rel = _safe_relative(member.name, top)
            if rel is None:
                continue
            if rel.count("/") >= COPY_BACK_MAX_DEPTH:
                too_deep += 1
                continue
            try:
                _copy_member(tar, member, root, rel, copied_in, seen_files, notes, verified)
            except (OSError, RecursionError) as exc:  # e.g. a path deeper than PATH_MAX: the program's doing
                notes.append(f"{rel[:120]}…: not copied back ({type(exc).__name__}: {getattr(exc, 'strerror', '')})")
    if too_deep:
        notes.append(f"{too_deep} entries more than {COPY_BACK_MAX_DEPTH} folders deep were not copied back")
    for rel in copied_in if complete else ():
        if rel not in seen_files:
            target = root / rel
            if _inside_without_links(root, target.parent, verified) and (target.is_file() or target.is_symlink()):
                target.unlink()
    return notes


def _inside_without_links(root: Path, folder: Path, verified: set[Path]) -> bool:
    """`folder` is `root` or below it, and no existing part of the way there is a symlink (missing parts are made).
    Folders in `verified` passed this check earlier in the same copy-back and are not walked again, so a tree of many
    files costs one walk per folder, not one per file (nothing but this copy-back writes under `root` meanwhile)."""
    if folder in verified:
        return True
    try:
        rel = folder.relative_to(root)
    except ValueError:
        return False
    current = root
    for part in rel.parts:
        current = current / part
        if current in verified:
            continue
        if current.is_symlink():
            return False
        if current.exists() and not current.is_dir():
            return False
        if not current.exists():
            current.mkdir(mode=0o755)
        verified.add(current)
    return True


def _write_file(target: Path, data: bytes, mode: int) -> None:
    if target.is_symlink() or (target.exists() and not target.is_file()):
        if target.is_dir() and not target.is_symlink():
            return
        target.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
    finally:
        if fd != -1:
            os.close(fd)
    os.chmod(target, (mode & 0o755) | 0o600)


# ---------------------------------------------------------------------------------------------------------------------
# The public tier's sandbox


class DockerSandbox:
    """Runs each command in a fresh container (see the module docstring for what is enforced)."""

    name = "docker"

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        limits: Limits | None = None,
        *,
        cpus: float = 1.0,
        user: str = SANDBOX_USER,
        copy_back_cap_bytes: int = COPY_BACK_CAP_BYTES,
    ) -> None:
        self.image = image
        self.limits = limits or Limits()
        self.cpus = cpus
        self.user = user
        self.copy_back_cap_bytes = copy_back_cap_bytes
        self._client = None
        self._client_lock = threading.Lock()

    def client(self):
        with self._client_lock:
            if self._client is None:
                self._client = _client()
            return self._client

    def isolation(self) -> dict:
        limits = self.limits
        return {
            "provider": "docker",
            "layer": "container",
            "image": self.image,
            "network": True,  # isolated, as in the local sandbox's record: True means enforced
            "network_reachable": False,
            "filesystem": True,
            "read_only_root": True,
            "processes": True,
            "own_uid": True,
            "user": self.user,
            "capabilities": [],
            "memory_mb": limits.memory_mb,
            "pids_limit": limits.processes,
            "cpus": self.cpus,
        }

    def run(
        self, args: Sequence[str], cwd: Path, *, stdin: str | None = None, timeout: float | None = None
    ) -> SandboxedProcess:
        cwd = Path(cwd)
        args = [str(a) for a in args]
        timeout = self.limits.timeout_s if timeout is None else float(timeout)
        uid, gid = (int(x) for x in (self.user.split(":") + [self.user.split(":")[0]])[:2])
        # pid 1 is the timer, as root; the program runs under another uid, so it can neither signal nor trace it
        command = ["timeout", "-s", "KILL", f"{max(timeout, 0.01):.3f}",
                   "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *map_arguments(args, cwd)]  # fmt: skip
        limits = self.limits
        client = self.client()
        container = _Container(
            client,
            self.image,
            command,
            stdin=stdin is not None,
            user="0:0",
            working_dir=SANDBOX_DIR,
            environment=_sandbox_env(),
            network_disabled=True,
            hostname="sandbox",
            host_config=_host_config(
                limits, timeout, self.cpus, read_only=True, drop_privileges=True, cpu_rlimit=True, timer_is_init=True
            ),
        )
        out, err = HeadTail(limits.output_keep_bytes), HeadTail(limits.output_keep_bytes)
        sinks = {_STDOUT: out, _STDERR: err}
        cap = limits.output_cap_bytes
        notes: list[str] = []
        try:
            container.create()
            archive, copied_in = _pack_directory(cwd.resolve(), uid, gid)
            container.put(SANDBOX_DIR, archive)
            outcome = container.execute(
                stdin,
                timeout,
                lambda stream, chunk: sinks.get(stream, err).add(chunk),
                lambda: out.total > cap or err.total > cap,
            )
            spool = container.get(SANDBOX_DIR, self.copy_back_cap_bytes)
            if spool is None:
                notes.append(f"the sandbox holds more than {self.copy_back_cap_bytes} bytes: no file was copied back")
            else:
                with spool:
                    notes += _copy_back(spool, cwd, copied_in)
        except SandboxError:
            raise
        except _infra_errors() as exc:
            raise SandboxError(_describe(exc, self.image)) from exc
        finally:
            container.remove()
        stderr = err.text()
        if notes:
            stderr += "".join(f"\n[harness: {note}]" for note in notes)
        return SandboxedProcess(
            args,
            outcome.exit_code,
            out.text(),
            stderr,
            timed_out=outcome.timed_out,
            output_limited=outcome.output_limited,
            duration_s=outcome.duration_s,
            isolation={**self.isolation(), "oom_killed": outcome.oom_killed},
        )


def map_arguments(args: Sequence[str], cwd: Path) -> list[str]:
    """Host arguments as the container sees them: `python` is the image's python3, paths under `cwd` are in /sandbox."""
    args = list(args)
    if args and (args[0] == "python" or (os.path.isabs(args[0]) and Path(args[0]).name.startswith("python"))):
        args[0] = "python3"
    prefixes = sorted({str(Path(cwd).absolute()), str(Path(cwd).resolve())}, key=len, reverse=True)
    mapped = []
    for arg in args:
        for prefix in prefixes:
            if arg == prefix:
                arg = SANDBOX_DIR
            elif prefix + "/" in arg:
                arg = arg.replace(prefix + "/", SANDBOX_DIR + "/")
        mapped.append(arg)
    return mapped


def _sandbox_env() -> dict[str, str]:
    return program_env(home=SANDBOX_DIR, path=SAFE_PATH, user="nobody")


def _host_config(
    limits: Limits,
    timeout: float,
    cpus: float,
    *,
    read_only: bool,
    drop_privileges: bool,
    cpu_rlimit: bool,
    timer_is_init: bool,
) -> dict:
    """Docker host settings for one run.

    `timer_is_init` makes the `timeout` wrapper pid 1 instead of docker-init, running as root with only the capabilities
    to drop to the program's uid and to kill it: a program under another uid can neither kill nor ptrace it (and the
    kernel ignores a SIGKILL sent to a namespace's init from inside), so it cannot end or stall the timer. The price is that orphans
    are never reaped, which only long test suites (the SWE-bench tier) would feel."""
    from docker.types import Mount, Ulimit

    memory = f"{limits.memory_mb}m"
    config: dict = {
        "network_mode": "none",
        "mem_limit": memory,
        "memswap_limit": memory,  # no swap beyond the memory limit
        "pids_limit": limits.processes,
        "nano_cpus": int(cpus * 1e9),
        "ulimits": [
            Ulimit(name="fsize", soft=limits.file_size_mb * 1024 * 1024, hard=limits.file_size_mb * 1024 * 1024),
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
        ],
        "init": not timer_is_init,
        "privileged": False,
    }
    if cpu_rlimit:
        # CPU seconds per process: the container's CPU share times the timeout, so only a runaway hits it first.
        seconds = math.ceil(timeout * max(cpus, 1.0)) + 1
        config["ulimits"].append(Ulimit(name="cpu", soft=seconds, hard=seconds + 1))
    if drop_privileges:
        config["cap_drop"] = ["ALL"]
        config["security_opt"] = ["no-new-privileges"]
        if timer_is_init:
            # setpriv's uid drop, and the timer's kill of a process under another uid; the drop clears all of them
            config["cap_add"] = ["SETUID", "SETGID", "KILL"]
    if read_only:
        config["read_only"] = True
        config["tmpfs"] = {"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"}
        config["mounts"] = [Mount(SANDBOX_DIR, None, type="volume")]
    return config


# ---------------------------------------------------------------------------------------------------------------------
# The SWE-bench tier: a script in a per-instance image


@dataclass
class ScriptRun:
    log: str
    exit_code: int
    timed_out: bool
    duration_s: float
    infra_error: str | None = None
    output_limited: bool = False
    oom_killed: bool = False


def run_script(
    image: str,
    files: Mapping[str, bytes | str],
    script: str,
    *,
    workdir: str,
    timeout: float,
    limits: Limits | None = None,
    user: str | None = None,
    cpus: float = 2.0,
    drop_privileges: bool = True,
    script_path: str = "/bench-by-execution/run.sh",
) -> ScriptRun:
    """Run `script` (bash source) in a fresh container of `image`, in `workdir`, after putting `files` in.

    `files` maps absolute paths (or paths relative to `workdir`) to contents. The container has no network and the
    limits' memory, pids and CPU bounds; `user=None` keeps the image's own user (official SWE-bench images run as root),
    and `drop_privileges` drops every capability and forbids new privileges. stdout and stderr are merged into `log`,
    head and tail kept. The timeout is enforced inside the container and outside; the container is always removed.
    Docker's own failures come back in `infra_error`, never as an exception."""
    limits = limits or Limits(
        timeout_s=timeout,
        memory_mb=4096,
        processes=1024,
        open_files=4096,
        file_size_mb=1024,
        output_cap_bytes=512 * 1024 * 1024,
        output_keep_bytes=4 * 1024 * 1024,
    )
    started = time.monotonic()
    try:
        client = _client()
    except SandboxError as exc:
        return ScriptRun("", -1, False, time.monotonic() - started, infra_error=str(exc))
    command = ["timeout", "-s", "KILL", f"{max(timeout, 0.01):.3f}", "bash", script_path]
    options = dict(
        working_dir=workdir,
        environment={"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"},
        network_disabled=True,
        host_config=_host_config(
            limits,
            timeout,
            cpus,
            read_only=False,
            drop_privileges=drop_privileges,
            cpu_rlimit=False,
            timer_is_init=False,  # docker-init reaps the orphans a long test suite leaves
        ),
    )
    if user is not None:
        options["user"] = user
    container = _Container(client, image, command, stdin=False, **options)
    output = HeadTail(limits.output_keep_bytes)
    cap = limits.output_cap_bytes
    try:
        container.create()
        container.put("/", _pack_files({**files, script_path: script}, workdir))
        outcome = container.execute(None, timeout, lambda stream, chunk: output.add(chunk), lambda: output.total > cap)
    except (SandboxError, *_infra_errors()) as exc:
        message = str(exc) if isinstance(exc, SandboxError) else _describe(exc, image)
        return ScriptRun(output.text(), -1, False, time.monotonic() - started, infra_error=message)
    finally:
        container.remove()
        client.close()
    return ScriptRun(
        log=output.text(),
        exit_code=outcome.exit_code,
        timed_out=outcome.timed_out,
        duration_s=outcome.duration_s,
        output_limited=outcome.output_limited,
        oom_killed=outcome.oom_killed,
    )


def leftover_containers(mine_only: bool = False) -> list[str]:
    """Names of containers carrying our label, running or not (`mine_only`: made by this process). After a run, none."""
    client = _client(timeout=30)
    try:
        names = [c.name for c in _labelled(client)]
    finally:
        client.close()
    return sorted(n for n in names if not mine_only or n.startswith(_name_prefix()))


def remove_own_containers() -> None:
    """Force-remove every container this process made (a run abandoned with its containers still running)."""
    try:
        client = _client(timeout=30)
    except Exception:  # noqa: BLE001 - no daemon: nothing of ours can run
        return
    try:
        for container in _labelled(client):
            if container.name.startswith(_name_prefix()):
                try:
                    container.remove(force=True, v=True)
                except Exception:  # noqa: BLE001 - gone already
                    pass
    finally:
        client.close()


def _labelled(client) -> list:
    """Our containers; one removed between the listing and its inspection (a run ending meanwhile) is left out."""
    return client.containers.list(all=True, filters={"label": f"{LABEL}=1"}, ignore_removed=True)
