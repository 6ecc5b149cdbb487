"""Shared support for tests that need Docker: a daemon that answers and the locally built base image.

Import the fixtures into a test module (`from docker_support import docker_base_image`). The session fixture starts the
daemon with scripts/docker_up.sh and builds the image with scripts/build_base_image.sh when they are missing (CI runs
both first, so there it only checks). It skips, with the reason printed, only when the daemon cannot be started on this
machine; with BENCH_REQUIRE_DOCKER=1 in the environment that is a failure instead, so CI cannot go green by skipping.
`build_image(...)` builds a small image FROM the base with a Dockerfile through the SDK, without any registry.
"""
from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path
from typing import Mapping

import pytest

from conftest import unavailable

from swebench_exec.sandbox.docker import DEFAULT_IMAGE, docker_available, image_exists

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
REQUIRE_ENV = "BENCH_REQUIRE_DOCKER"


def _unavailable(reason: str) -> None:
    unavailable("docker", reason, REQUIRE_ENV)


def _run_script(name: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _tail(proc: subprocess.CompletedProcess, lines: int = 6, width: int = 200) -> str:
    """The script's own messages and the last lines of what it printed, each cut to `width` characters."""
    text = (proc.stdout + proc.stderr).strip().splitlines()
    own = [line for line in text if line.startswith(("docker_up:", "build_base_image:"))]
    picked = own + [line for line in text[-lines:] if line not in own]
    return "\n".join(line if len(line) <= width else line[:width] + "..." for line in picked)


def ensure_daemon() -> None:
    """A daemon answers, or the calling test is skipped (failed under BENCH_REQUIRE_DOCKER=1) with the reason."""
    try:
        import docker  # noqa: F401
    except ImportError:
        _unavailable("the docker Python package is not installed: pip install -e '.[swebench]'")
    if docker_available(refresh=True):
        return
    try:
        proc = _run_script("docker_up.sh", timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"scripts/docker_up.sh could not run: {exc}")
    if proc.returncode != 0 or not docker_available(refresh=True):
        _unavailable(
            f"the Docker daemon cannot be started on this machine (scripts/docker_up.sh exit {proc.returncode}):\n"
            + _tail(proc)
        )


def ensure_base_image(name: str = DEFAULT_IMAGE) -> str:
    ensure_daemon()
    if image_exists(name):
        return name
    try:
        proc = _run_script("build_base_image.sh", name, timeout=1200)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"scripts/build_base_image.sh could not run: {exc}")
    if proc.returncode != 0 or not image_exists(name):
        pytest.fail(f"the daemon answers but the base image {name} could not be built:\n{_tail(proc)}", pytrace=False)
    return name


@pytest.fixture(scope="session")
def docker_base_image() -> str:
    """The name of the locally built base image, with a daemon answering."""
    return ensure_base_image()


def build_image(base: str, dockerfile_body: str, tag: str, files: Mapping[str, bytes | str] | None = None) -> str:
    """Build `FROM base` + `dockerfile_body` (plus `files` in the context) as `tag`, cached by content, no network.

    The tag gets no suffix; the image is rebuilt only when the Dockerfile or files change (a label holds their hash)."""
    import docker

    files = dict(files or {})
    dockerfile = f"FROM {base}\n{dockerfile_body.strip()}\n"
    hasher = hashlib.sha256(dockerfile.encode())
    for name, content in sorted(files.items()):
        hasher.update(name.encode() + b"\0" + (content.encode() if isinstance(content, str) else content))
    digest = hasher.hexdigest()[:16]
    client = docker.from_env(timeout=600)
    try:
        try:
            if client.images.get(tag).labels.get("bench-by-execution.context") == digest:
                return tag
        except docker.errors.ImageNotFound:
            pass
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            for name, content in {"Dockerfile": dockerfile, **files}.items():
                data = content.encode() if isinstance(content, str) else content
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        context.seek(0)
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            network_mode="none",
            labels={"bench-by-execution.context": digest},
        )
        return tag
    finally:
        client.close()
