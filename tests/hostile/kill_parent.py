"""Kills what it can of the harness: its parent, pid 1 of its namespace, and any process whose command line names this
corpus's test run (never anything else on the machine). Contained: the harness process is out of reach; the run ends
and is scored. It waits before answering, so a harness that its kills ended could not be mistaken for one that
survived them."""
import os
import signal
import time

targets = {os.getppid(), 1}
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"test_hostile_corpus" in cmdline or b"hostile_figures" in cmdline:
            targets.add(int(pid))
for pid in sorted(targets):
    if pid == os.getpid():
        continue
    try:
        os.kill(pid, signal.SIGKILL)
        print("killed", pid)
    except OSError as exc:
        print("could not kill", pid, exc.strerror)
time.sleep(0.5)
print("ANSWER 42")
