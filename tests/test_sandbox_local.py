"""The local sandbox contains hostile programs: each test runs a real program and checks what it could not do."""
from __future__ import annotations

import os
import socket
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from swebench_exec.sandbox.base import Limits
from swebench_exec.sandbox.local import LocalSandbox, detect_isolation

ISOLATED = detect_isolation() == "bwrap"
needs_bwrap = pytest.mark.skipif(not ISOLATED, reason="bubblewrap is not installed or not usable on this machine")


def run(tmp_path: Path, source: str, limits: Limits | None = None, **kwargs):
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / "prog.py").write_text(textwrap.dedent(source))
    return LocalSandbox(limits or Limits(timeout_s=5)).run(["python", "prog.py"], box, **kwargs)


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_runs_a_program_with_stdin_and_reports_its_exit(tmp_path):
    proc = run(tmp_path, "import sys; print(sys.stdin.read().upper()); sys.exit(3)", stdin="héllo")
    assert proc.stdout == "HÉLLO\n"
    assert proc.returncode == 3
    assert not proc.timed_out


def test_infinite_loop_stops_at_the_timeout(tmp_path):
    started = time.monotonic()
    proc = run(tmp_path, "while True:\n    pass\n", Limits(timeout_s=1.5))
    assert proc.timed_out
    assert time.monotonic() - started < 6


def test_sigterm_ignoring_program_still_dies(tmp_path):
    marker = f"stubborn-{uuid.uuid4().hex}"
    proc = run(
        tmp_path,
        f"""
        import signal, time, sys
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.argv.append({marker!r})
        while True:
            time.sleep(0.1)
        """,
        Limits(timeout_s=1),
    )
    assert proc.timed_out
    assert processes_with(marker) == []


def test_background_child_does_not_outlive_the_run(tmp_path):
    marker = f"orphan-{uuid.uuid4().hex}"
    proc = run(
        tmp_path,
        f"""
        import subprocess
        subprocess.Popen(["sleep", "30", {marker!r}], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print("parent done")
        """,
    )
    assert proc.stdout.strip() == "parent done"
    time.sleep(0.3)
    assert processes_with(marker) == []


def test_fork_bomb_is_contained(tmp_path):
    started = time.monotonic()
    proc = run(
        tmp_path,
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """,
        Limits(timeout_s=3, processes=32),
    )
    assert proc.timed_out or proc.returncode != 0
    assert time.monotonic() - started < 20
    assert len(os.listdir("/proc")) < 5000  # the machine still has room


def test_memory_hog_is_stopped_by_the_address_space_limit(tmp_path):
    proc = run(tmp_path, "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n", Limits(memory_mb=512))
    assert proc.returncode != 0
    assert "MemoryError" in proc.stderr


def test_endless_output_is_cut_and_the_harness_keeps_head_and_tail(tmp_path):
    limits = Limits(timeout_s=20, output_cap_bytes=2 * 1024 * 1024, output_keep_bytes=4096)
    proc = run(tmp_path, "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n", limits)
    assert proc.output_limited
    assert len(proc.stdout) < 3 * limits.output_keep_bytes  # head + tail + a note, never the whole flood
    assert "bytes cut by the harness" in proc.stdout


@needs_bwrap
def test_writes_outside_the_sandbox_leave_nothing(tmp_path):
    target = Path("/var/tmp") / f"escape-{uuid.uuid4().hex}.txt"
    proc = run(
        tmp_path,
        f"""
        for path in ["../escape.txt", {str(target)!r}, {str(tmp_path / "abs-escape.txt")!r}]:
            try:
                open(path, "w").write("x")
                print("wrote", path)
            except OSError as exc:
                print("refused", path, exc.errno)
        """,
    )
    assert proc.returncode == 0
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "abs-escape.txt").exists()
    assert not target.exists()


def test_api_keys_are_not_visible_inside(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-test-secret-123")
    proc = run(tmp_path, "import os\nprint(sorted(os.environ))\nprint(open('/proc/self/environ').read())\n")
    assert proc.returncode == 0
    assert "OPENROUTER_API_KEY" not in proc.stdout
    assert "sk-or-test-secret-123" not in proc.stdout


@needs_bwrap
def test_home_is_hidden(tmp_path):
    secret = Path.home() / f".bench-secret-{uuid.uuid4().hex}"
    secret.write_text("private")
    try:
        proc = run(tmp_path, f"print(open({str(secret)!r}).read())")
        assert proc.returncode != 0
        assert "private" not in proc.stdout
    finally:
        secret.unlink()


def test_network_is_off_when_isolation_is_available(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        proc = run(
            tmp_path,
            f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2)
                print("connected")
            except OSError as exc:
                print("blocked", exc)
            """,
        )
    assert proc.isolation["network"] is (detect_isolation() in ("bwrap", "unshare"))
    if proc.isolation["network"]:
        assert proc.stdout.startswith("blocked")
    else:
        assert proc.stdout.startswith("connected")


def test_a_sandbox_whose_set_up_fails_once_is_set_up_again(tmp_path, monkeypatch):
    """bwrap's set-up fails now and then while other mounts come and go; the program never ran, so it is tried
    again (a set-up that keeps failing is a SandboxError after SETUP_ATTEMPTS, never a model failure)."""
    from swebench_exec.sandbox.base import SandboxError
    from swebench_exec.sandbox.local import SETUP_ATTEMPTS

    if detect_isolation() != "bwrap":
        pytest.skip("the failure is made with a bwrap option")
    sandbox = LocalSandbox()
    real, calls = sandbox._command, []

    def failing(times: int):
        def command(*args):
            calls.append(1)
            line = real(*args)
            if len(calls) <= times:  # a bind source that is not there: bwrap gives up before the program starts
                at = line.index("bwrap") + 1
                line = line[:at] + ["--ro-bind", str(tmp_path / "vanished"), "/vanished"] + line[at:]
            return line
        return command

    monkeypatch.setattr(sandbox, "_command", failing(1))
    proc = sandbox.run(["python", "-c", "print('ran')"], cwd=tmp_path)
    assert (proc.stdout, proc.returncode, len(calls)) == ("ran\n", 0, 2)
    calls.clear()
    monkeypatch.setattr(sandbox, "_command", failing(SETUP_ATTEMPTS))
    with pytest.raises(SandboxError, match=f"never started the program \\({SETUP_ATTEMPTS} attempts\\)"):
        sandbox.run(["python", "-c", "print('ran')"], cwd=tmp_path)
    assert len(calls) == SETUP_ATTEMPTS


def test_the_sandbox_init_named_on_the_info_pipe_is_killed_after_the_run():
    """bwrap names its init (pid 1 of the run) on the info pipe; the harness kills it after every run, through a pidfd,
    so a program that rewrote its init (a non-root harness shares its uid) cannot keep the sandbox alive."""
    import json
    import subprocess

    from swebench_exec.sandbox.local import _SandboxInit

    survivor = subprocess.Popen(["sleep", "60"])
    read, write = os.pipe()
    watcher = _SandboxInit(read)
    os.write(write, json.dumps({"child-pid": survivor.pid, "pid-namespace": 1}).encode())
    os.close(write)
    watcher.kill()
    assert survivor.wait(timeout=5) == -9
    _SandboxInit(None).kill()  # no info pipe (not bwrap): nothing to do


def test_an_interpreter_that_cannot_start_in_the_sandbox_is_the_sandboxs_failure(tmp_path, monkeypatch):
    """A Python needing a library outside the trees the sandbox shows would crash every program, each scored as the
    model's crash; the probe turns that into a SandboxError (infrastructure) that says why."""
    import sys

    from swebench_exec.sandbox import local
    from swebench_exec.sandbox.base import SandboxError

    broken = tmp_path / "bin" / "python3"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries: libpython3.so' >&2\nexit 127\n")
    broken.chmod(0o755)
    for folder in (tmp_path, broken.parent):
        folder.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))
    monkeypatch.setattr(local, "_INTERPRETER_WORKS", set())
    with pytest.raises(SandboxError, match="does not start inside the .* sandbox: error while loading shared"):
        LocalSandbox().run(["python", "-c", "print(1)"], cwd=tmp_path)
    assert LocalSandbox().run(["sh", "-c", "echo fine"], cwd=tmp_path).stdout == "fine\n"  # other programs still run


def test_folders_that_pth_files_add_are_in_the_sandbox_but_never_this_checkout(tmp_path, monkeypatch):
    import site

    from swebench_exec.sandbox import local

    lib = tmp_path / "mylib"
    lib.mkdir()
    (lib / "mine.py").write_text("VALUE = 7\n")
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    checkout = local._checkout()
    (site_dir / "editable.pth").write_text(f"# a comment\nimport sys\n{lib}\n{checkout or lib}\n{tmp_path / 'gone'}\n")
    for folder in (tmp_path, lib, site_dir):
        folder.chmod(0o755)
    (lib / "mine.py").chmod(0o644)
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(site_dir)])
    assert local._pth_dirs() == {str(lib.resolve())}
    work = tmp_path / "work"
    work.mkdir()
    proc = LocalSandbox().run(["sh", "-c", f"cat {lib}/mine.py; ls {checkout or tmp_path / 'gone'} 2>&1 | head -1"], cwd=work)
    assert proc.stdout.startswith("VALUE = 7\n") and "results" not in proc.stdout
