"""`--executor ray`: each scoring call runs as a Ray task, on this machine or on an existing Ray cluster.

The orchestrator (model calls, journal, summary) stays in this process; only `fn(*args)` travels: the scoring
function, the task dict (its harness functions), the reply text, the outcome and the sandbox. Module-level
functions travel by reference, so every node needs the same bench-by-execution installed (`pip install
'bench-by-execution[ray]'`); functions from modules the nodes cannot import (a user's `--tasks-file`, loaded as
`bench_user_tasks_*`, or any module outside the installed packages and this one) are shipped by value. On connecting, one probe task checks that the
nodes import the same version under the same Python minor version, so a run cannot silently score with other code.

Addresses:
  - None: start a fresh local Ray instance with `workers` CPUs (RAY_ADDRESS and any running cluster are ignored),
    shut down again by `close()`. If this process is already connected to Ray (`ray.init` was called before),
    that connection is used and left alone.
  - "auto", "HOST:PORT" (the GCS port of the head, 6379 by default) or "ray://HOST:PORT" (Ray Client, port 10001,
    needs `ray[client]`): connect to that cluster; `close()` only disconnects this driver.

Concurrency: each task asks for one CPU (`num_cpus=1`), so the cluster bounds how many run at once; besides, at
most `workers` are in flight from this process (a semaphore), so the orchestrator never floods the cluster.

Failures: an exception raised by `fn` is re-raised as itself, as the local executor would. Ray's own failures (the
worker process died, its node was lost, the result object was lost, the cluster went away) become `SandboxError`:
an infrastructure failure, never scored against a model.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from ..models.endpoints import ConfigError
from ..sandbox.base import SandboxError

T = TypeVar("T")

INSTALL_HINT = "pip install 'bench-by-execution[ray]'"
USER_TASK_MODULE_PREFIX = "bench_user_tasks_"  # tasks.protocol.load_tasks_file names the modules it loads so
PROBE_TIMEOUT_S = 180.0
CONNECT_TIMEOUT_S = 5.0


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


# ---------------------------------------------------------------------------------------------- on the workers


def _call(fn: Callable[..., T], args: tuple) -> T:
    """What each Ray task runs. (LocalSandbox's uid pool is per process and starts at a random block, so the
    several worker processes on one node do not share sandbox uids, as with several harness processes.)"""
    return fn(*args)


def _code_digest() -> str:
    """A hash of the package's Python sources: the same digest means the same scoring code."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _docker_sandbox_state(sandbox) -> dict:
    """A DockerSandbox holds a lock and a Docker client, neither of which travels: send its settings only."""
    return {k: v for k, v in vars(sandbox).items() if not k.startswith("_")}


def _docker_sandbox_from_state(state: dict):
    from ..sandbox.docker import DockerSandbox

    sandbox = DockerSandbox(image=state["image"])  # fresh lock, client made on first use on the worker
    vars(sandbox).update(state)
    return sandbox


def _describe_node() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool = version("bench-by-execution")
    except PackageNotFoundError:
        tool = "unknown"
    return {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "version": tool, "code": _code_digest(),
            "host": socket.gethostname()}  # fmt: skip


# --------------------------------------------------------------------------------------------- on the driver


def _check_reachable(address: str) -> None:
    """Fail in seconds, not minutes: ray.init on an address nobody answers waits for a very long time."""
    target = address[len("ray://"):] if address.startswith("ray://") else address
    if address.startswith("ray://"):
        try:
            import grpc  # noqa: F401 - Ray Client's transport
        except ImportError:
            raise ConfigError(f"--ray-address {address}: ray:// addresses need Ray Client: pip install 'ray[client]'") from None
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--ray-address {address}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ConfigError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc})") from None


@functools.lru_cache(maxsize=None)
def _installed_roots() -> tuple[str, ...]:
    import site
    import sysconfig

    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update(getattr(site, "getsitepackages", lambda: [])())
    paths.add(site.getusersitepackages())
    return tuple(os.path.realpath(p) + os.sep for p in paths if p)


def _only_here(module) -> bool:
    """True for a module the nodes cannot import by name: not this package, not installed, not the standard library
    (a user's --tasks-file, a helper module next to a script or test). `__main__` is cloudpickle's own business."""
    name = module.__name__
    if name == "__main__" or name.split(".")[0] in ("swebench_exec", "bench_by_execution"):
        return False
    if name.startswith(USER_TASK_MODULE_PREFIX):
        return True
    path = getattr(module, "__file__", None)
    if not path:
        return False  # built in
    return not os.path.realpath(path).startswith(_installed_roots())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


class RayExecutor:
    """Runs each `fn(*args)` as a Ray task and blocks for its result; see the module docstring."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        workers: int = 2,
        *,
        max_retries: int = 1,
        runtime_env: dict | None = None,
    ) -> None:
        """`max_retries`: how often Ray re-runs a task whose worker or node died (scoring is pure, so re-running is
        safe); `runtime_env`: passed to `ray.init`, e.g. {"py_modules": [...]} when the nodes lack the package."""
        ray = _import_ray()
        self._ray = ray
        self.address = address
        self.workers = max(1, int(workers))
        self._slots = threading.Semaphore(self.workers)
        self._started = False
        self._closed = False
        self._checked: set[str] = set()  # modules already judged by _ship_local_modules
        if not ray.is_initialized():
            self._connect(address, runtime_env)
        try:
            self._remote = ray.remote(num_cpus=1, max_retries=max_retries)(_call)
            self._register_serializers()
            self.node = self._probe()
        except BaseException:
            self.close()
            raise

    def _connect(self, address: str | None, runtime_env: dict | None) -> None:
        ray = self._ray
        quiet = {"log_to_driver": False, "logging_level": logging.WARNING, "runtime_env": runtime_env}
        try:
            if address is None:
                ray.init(address="local", num_cpus=self.workers, include_dashboard=False, **quiet)
            else:
                if address != "auto":
                    _check_reachable(address)
                ray.init(address=address, **quiet)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError: all one-line reasons
            where = "start a local Ray instance" if address is None else f"connect to the Ray cluster at {address}"
            hint = ""
            if address is not None and not os.environ.get("RAY_AUTH_MODE"):
                hint = " (a cluster with token authentication needs RAY_AUTH_MODE=token and its token, e.g. RAY_AUTH_TOKEN)"
            raise ConfigError(f"--executor ray: could not {where}: {_first_line(exc)}{hint}") from None
        self._started = True

    def _register_serializers(self) -> None:
        from ..sandbox.docker import DockerSandbox  # stdlib imports only: cheap

        self._ray.util.register_serializer(DockerSandbox, serializer=_docker_sandbox_state,
                                           deserializer=_docker_sandbox_from_state)  # fmt: skip

    def _probe(self) -> dict:
        """One tiny task: a worker can start and imports the same bench-by-execution under the same Python."""
        ray = self._ray
        probe = ray.remote(num_cpus=0, max_retries=0)(_describe_node)
        try:
            theirs = ray.get(probe.remote(), timeout=PROBE_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            raise ConfigError(f"--executor ray: no Ray worker started within {PROBE_TIMEOUT_S:.0f} s") from None
        except ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            raise ConfigError(
                f"--executor ray: a Ray worker could not run bench-by-execution ({_first_line(cause)}); "
                f"install the same version on every node ({INSTALL_HINT})"
            ) from None
        ours = _describe_node()
        for key, what in (("python", "Python"), ("version", "bench-by-execution")):
            if theirs[key] != ours[key]:
                raise ConfigError(f"--executor ray: the Ray nodes run {what} {theirs[key]}, this machine {ours[key]}: "
                                  "install the same on both, or results could differ")  # fmt: skip
        if theirs["code"] != ours["code"]:
            print(f"warning: the Ray node {theirs['host']} has bench-by-execution {theirs['version']} with other source "
                  "files than this machine; scores may differ from a local run", file=sys.stderr)  # fmt: skip
        return theirs

    def _ship_local_modules(self, fn: Callable, args: tuple) -> None:
        """The scoring function and a task's harness functions travel by reference when the nodes can import them;
        those from a user's tasks file or a script's helper module cannot be, so they are sent by value instead."""
        callables = [fn]
        for arg in args:
            if isinstance(arg, dict) and isinstance(arg.get("harness"), dict):
                callables.extend(arg["harness"].values())
        for item in callables:
            name = getattr(item, "__module__", None) or ""
            if name in self._checked:
                continue
            self._checked.add(name)
            module = sys.modules.get(name)
            if module is not None and _only_here(module):
                from ray import cloudpickle

                cloudpickle.register_pickle_by_value(module)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        ray = self._ray
        if self._closed:
            raise SandboxError("the Ray executor was closed")
        self._ship_local_modules(fn, args)
        with self._slots:
            ref = self._remote.remote(fn, args)
            try:
                return ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause
                if isinstance(cause, BaseException) and not isinstance(cause, ray.exceptions.RayError):
                    raise cause from exc  # fn's own exception, exactly as the local executor raises it
                # e.g. RaySystemError: the worker could not unpickle the arguments (a module it cannot import)
                raise SandboxError(f"Ray could not run this execution: {_first_line(cause or exc)}") from exc
            except (ray.exceptions.RayError, ConnectionError) as exc:
                # WorkerCrashedError, NodeDiedError, ObjectLostError, OwnerDiedError, OutOfMemoryError, RaySystemError...
                raise SandboxError(f"Ray lost this execution ({type(exc).__name__}): {_first_line(exc)}") from exc
            except BaseException:
                try:
                    ray.cancel(ref, force=True)  # e.g. KeyboardInterrupt: do not leave the task running
                except Exception:  # noqa: BLE001 - already finished, or Ray is going away
                    pass
                raise

    def close(self) -> None:
        """Shut down the local instance this executor started, or disconnect from the cluster it connected to."""
        if self._closed:
            return
        self._closed = True
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
