"""The docker sandbox contains hostile programs: each test runs a real program in a real container and checks what it
could not do, and that no container outlives its run (every container carries the label bench-by-execution=1)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from docker_support import build_image, docker_base_image  # noqa: F401 - the fixture is used by name
from swebench_exec.sandbox.base import Limits, SandboxError, run_program, use_sandbox
from swebench_exec.sandbox.docker import (
    DockerSandbox,
    docker_available,
    image_exists,
    leftover_containers,
    map_arguments,
    run_script,
)

pytestmark = pytest.mark.docker

TEST_IMAGE = "bench-by-execution/test-testbed:latest"


def run(tmp_path: Path, image: str, source: str, limits: Limits | None = None, **kwargs):
    box = tmp_path / "box"
    box.mkdir(exist_ok=True)
    (box / "prog.py").write_text(textwrap.dedent(source))
    return DockerSandbox(image, limits or Limits(timeout_s=10)).run(["python", "prog.py"], box, **kwargs)


@pytest.fixture(autouse=True)
def no_leftovers(docker_base_image):
    """After every test no container of this process is left; other processes' runs may share the daemon."""
    yield
    assert leftover_containers(mine_only=True) == []


@pytest.fixture(scope="module")
def testbed_image(docker_base_image):
    """A per-instance-like image: a git repository with a bug at /testbed, built FROM the base without a registry."""
    return build_image(
        docker_base_image,
        """
        RUN mkdir -p /testbed && cd /testbed && git init -q \\
            && printf 'def add(a, b):\\n    return a - b\\n' > calc.py \\
            && git -c user.email=t@example.invalid -c user.name=t add calc.py \\
            && git -c user.email=t@example.invalid -c user.name=t commit -qm base
        WORKDIR /testbed
        """,
        TEST_IMAGE,
    )


def test_daemon_and_image_are_seen(docker_base_image):
    assert docker_available()
    assert image_exists(docker_base_image)
    assert not image_exists("bench-by-execution/no-such-image:missing")


def test_runs_a_program_with_stdin_and_reads_its_output(tmp_path, docker_base_image):
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import os, sys
        print(sys.stdin.read().upper())
        print("cwd", os.getcwd(), "uid", os.getuid(), file=sys.stderr)
        sys.exit(3)
        """,
        stdin="héllo",
    )
    assert proc.stdout == "HÉLLO\n"
    assert "cwd /sandbox uid 65534" in proc.stderr
    assert proc.returncode == 3
    assert not proc.timed_out
    assert proc.isolation["provider"] == "docker"
    assert proc.isolation["network_reachable"] is False


def test_output_files_come_back_and_deleted_files_go(tmp_path, docker_base_image):
    box = tmp_path / "box"
    box.mkdir()
    (box / "input.txt").write_text("3 4\n")
    (box / "stale.txt").write_text("remove me")
    (box / "keep.txt").write_text("untouched")
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import json, os
        a, b = map(int, open("input.txt").read().split())
        os.makedirs("results/deep", exist_ok=True)
        json.dump({"sum": a + b}, open("results/deep/answer.json", "w"))
        open("input.txt", "a").write("seen\\n")
        os.remove("stale.txt")
        print("done")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((box / "results" / "deep" / "answer.json").read_text()) == {"sum": 7}
    assert (box / "input.txt").read_text() == "3 4\nseen\n"
    assert not (box / "stale.txt").exists()
    assert (box / "keep.txt").read_text() == "untouched"


def test_links_made_in_the_sandbox_are_not_followed_on_the_way_back(tmp_path, docker_base_image):
    box = tmp_path / "box"
    box.mkdir()
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host only")
    proc = run(
        tmp_path,
        docker_base_image,
        f"""
        import os
        os.symlink({str(secret)!r}, "answer.json")
        os.symlink("/etc", "etc-link")
        os.symlink("/", "escape")
        print("linked")
        """,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("answer.json", "etc-link", "escape"):
        assert not (box / name).exists() and not (box / name).is_symlink()
    assert secret.read_text() == "host only"


def test_absolute_host_paths_in_arguments_are_mapped(tmp_path, docker_base_image):
    box = tmp_path / "box"
    box.mkdir()
    (box / "prog.py").write_text("import sys\nprint(open(sys.argv[1]).read().strip(), sys.argv[1])\n")
    (box / "data.txt").write_text("payload")
    proc = DockerSandbox(docker_base_image, Limits(timeout_s=10)).run(
        ["python", str(box / "prog.py"), str(box / "data.txt")], box
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "payload /sandbox/data.txt"
    assert map_arguments(["/usr/bin/python3.11", "-c", "x"], box)[0] == "python3"
    assert map_arguments(["python", f"--out={box}/o.json"], box) == ["python3", "--out=/sandbox/o.json"]


def test_works_through_run_program_like_a_task_harness(tmp_path, docker_base_image):
    box = tmp_path / "box"
    box.mkdir()
    (box / "solve.py").write_text("import sys\nopen('out.txt', 'w').write(sys.argv[1] * 2)\n")
    with use_sandbox(DockerSandbox(docker_base_image, Limits(timeout_s=10))):
        proc = run_program(["python", "solve.py", "ab"], box)
    assert proc.returncode == 0, proc.stderr
    assert (box / "out.txt").read_text() == "abab"


def test_infinite_loop_times_out_inside_the_container_and_leaves_nothing(tmp_path, docker_base_image):
    started = time.monotonic()
    proc = run(tmp_path, docker_base_image, "while True:\n    pass\n", Limits(timeout_s=1.5))
    assert proc.timed_out
    assert 1.4 <= proc.duration_s < 5
    assert time.monotonic() - started < 10
    assert leftover_containers(mine_only=True) == []
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", "label=bench-by-execution=1", "--format", "{{.Names}}"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.split()
    assert [name for name in listed if name.startswith(f"bench-by-execution-{os.getpid()}-")] == []


def test_background_children_die_with_the_run(tmp_path, docker_base_image):
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import subprocess
        subprocess.Popen(["sleep", "300"], start_new_session=True)
        print("parent done")
        """,
    )
    assert proc.returncode == 0
    assert proc.stdout == "parent done\n"
    assert leftover_containers(mine_only=True) == []


def test_network_is_disabled(tmp_path, docker_base_image):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        proc = run(
            tmp_path,
            docker_base_image,
            f"""
            import os, socket, time
            print("interfaces", sorted(os.listdir("/sys/class/net")))
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
                print("host port: connected")
            except OSError as exc:
                print("host port: refused", type(exc).__name__)
            started = time.monotonic()
            try:
                socket.getaddrinfo("pypi.org", 443)
                print("lookup: resolved")
            except OSError as exc:
                print("lookup: failed", round(time.monotonic() - started, 2))
            try:
                socket.create_connection(("1.1.1.1", 53), timeout=3).close()
                print("outside: connected")
            except OSError as exc:
                print("outside: failed", type(exc).__name__)
            """,
        )
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "interfaces ['lo']" in out
    assert "host port: refused" in out
    assert "lookup: failed" in out
    assert float(out.split("lookup: failed")[1].split()[0]) < 5
    assert "outside: failed" in out


def test_memory_hog_is_contained(tmp_path, docker_base_image):
    proc = run(
        tmp_path,
        docker_base_image,
        """
        chunks = []
        for _ in range(64):
            chunks.append(bytearray(64 * 1024 * 1024))
            for i in range(0, len(chunks[-1]), 4096):
                chunks[-1][i] = 1
        print("allocated 4 GiB")
        """,
        Limits(timeout_s=20, memory_mb=128),
    )
    assert "allocated" not in proc.stdout
    assert proc.returncode != 0
    assert not proc.timed_out
    assert proc.isolation["oom_killed"] or "MemoryError" in proc.stderr


def test_fork_bomb_is_contained_by_the_pids_limit(tmp_path, docker_base_image):
    started = time.monotonic()
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import os, time
        children = 0
        for _ in range(10000):
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
            except OSError as exc:
                print("fork refused after", children, "children:", exc.errno)
                break
        """,
        Limits(timeout_s=10, processes=32),
    )
    assert "fork refused after" in proc.stdout, proc.stdout + proc.stderr
    assert int(proc.stdout.split("after")[1].split()[0]) < 32
    assert time.monotonic() - started < 20
    assert leftover_containers(mine_only=True) == []


def test_environment_holds_no_host_secret(tmp_path, docker_base_image, monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-host-secret-do-not-leak")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-do-not-leak")
    proc = run(tmp_path, docker_base_image, "import os, json\nprint(json.dumps(dict(os.environ)))\n")
    env = json.loads(proc.stdout)
    assert "OPENROUTER_API_KEY" not in env and "OPENAI_API_KEY" not in env
    assert "do-not-leak" not in proc.stdout
    assert env["HOME"] == "/sandbox"


def test_runs_unprivileged_on_a_read_only_root(tmp_path, docker_base_image):
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import os
        print("uid", os.getuid())
        status = open("/proc/self/status").read()
        print([line for line in status.splitlines() if line.startswith(("CapEff", "NoNewPrivs"))])
        for path in ("/etc/evil", "/usr/evil", "/evil"):
            try:
                open(path, "w").write("x")
                print("wrote", path)
            except OSError as exc:
                print("refused", path)
        open("/tmp/scratch", "w").write("tmp is writable")
        print(open("/tmp/scratch").read())
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert "uid 65534" in proc.stdout
    assert "CapEff:\\t0000000000000000" in proc.stdout
    assert "NoNewPrivs:\\t1" in proc.stdout
    assert "wrote" not in proc.stdout
    assert proc.stdout.count("refused") == 3
    assert "tmp is writable" in proc.stdout


def test_huge_output_is_cut_to_head_and_tail(tmp_path, docker_base_image):
    proc = run(
        tmp_path,
        docker_base_image,
        """
        import sys
        sys.stdout.write("HEAD\\n")
        while True:
            sys.stdout.write("x" * 65536)
        """,
        Limits(timeout_s=20, output_cap_bytes=2 * 1024 * 1024, output_keep_bytes=1024),
    )
    assert proc.output_limited
    assert not proc.timed_out
    assert proc.stdout.startswith("HEAD\n")
    assert "bytes cut by the harness" in proc.stdout
    assert len(proc.stdout) < 4096


def test_concurrent_runs_do_not_interfere(tmp_path, docker_base_image):
    sandbox = DockerSandbox(docker_base_image, Limits(timeout_s=20))

    def one(i: int):
        box = tmp_path / f"box{i}"
        box.mkdir()
        (box / "prog.py").write_text(f"open('out.txt', 'w').write('{i}' * 3)\nprint({i})\n")
        proc = sandbox.run(["python", "prog.py"], box)
        return proc.stdout.strip(), (box / "out.txt").read_text()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert results == [(str(i), str(i) * 3) for i in range(4)]


def test_ctrl_c_during_a_run_removes_the_container(tmp_path, docker_base_image):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT reaches only the main thread")
    # Ctrl-C as a terminal delivers it, even when this session was started with SIGINT ignored (a background job)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(2.0, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            source = "import time\nprint('start', flush=True)\ntime.sleep(60)\n"
            run(tmp_path, docker_base_image, source, Limits(timeout_s=30))
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert leftover_containers(mine_only=True) == []


def test_missing_image_is_an_infrastructure_error(tmp_path, docker_base_image):
    with pytest.raises(SandboxError, match="not on this machine"):
        run(tmp_path, "bench-by-execution/no-such-image:missing", "print(1)\n")


# --- run_script: the SWE-bench tier ---------------------------------------------------------------------------------

FIX = """\
diff --git a/calc.py b/calc.py
--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
"""

EVAL = """\
set -uxo pipefail
cd /testbed
git apply -v /tmp/model.patch
echo ">>>>> Start Test Output"
python3 -m pytest -q test_calc.py
rc=$?
echo ">>>>> End Test Output"
echo "pwd=$(pwd) user=$(id -u) ifaces=$(ls /sys/class/net | tr '\\n' ' ')"
exit $rc
"""

TEST_CALC = "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def test_run_script_applies_a_patch_and_runs_tests_in_the_workdir(testbed_image):
    result = run_script(
        testbed_image,
        {"/tmp/model.patch": FIX, "test_calc.py": TEST_CALC},
        EVAL,
        workdir="/testbed",
        timeout=60,
    )
    assert result.infra_error is None
    assert result.exit_code == 0, result.log
    assert not result.timed_out
    assert "1 passed" in result.log
    assert ">>>>> Start Test Output" in result.log and ">>>>> End Test Output" in result.log
    assert "pwd=/testbed user=0 ifaces=lo" in result.log


def test_run_script_reports_failing_tests_without_the_patch(testbed_image):
    result = run_script(
        testbed_image, {"/tmp/model.patch": "", "test_calc.py": TEST_CALC}, EVAL, workdir="/testbed", timeout=60
    )
    assert result.infra_error is None
    assert result.exit_code != 0
    assert "1 failed" in result.log


def test_run_script_as_another_user(testbed_image):
    result = run_script(testbed_image, {}, "id -u\n", workdir="/testbed", timeout=30, user="65534:65534")
    assert result.exit_code == 0 and result.log.strip() == "65534"


def test_run_script_timeout_kills_it(testbed_image):
    started = time.monotonic()
    result = run_script(
        testbed_image,
        {},
        "echo started\n(sleep 300 &)\nwhile true; do :; done\n",
        workdir="/testbed",
        timeout=2,
    )
    assert result.timed_out
    assert result.infra_error is None
    assert "started" in result.log
    assert result.duration_s < 6
    assert time.monotonic() - started < 15
    assert leftover_containers(mine_only=True) == []


def test_run_script_missing_image_is_reported_not_raised(docker_base_image):
    result = run_script("bench-by-execution/no-such-image:missing", {}, "true\n", workdir="/", timeout=10)
    assert result.infra_error and "not on this machine" in result.infra_error
    assert result.exit_code == -1
