"""Daemonises: fork, setsid, fork again, close its streams, chdir to /; the grandchild waits for the run to end and
then tries to write into the watched dirs, for a minute. The parent answers and exits at once.
Contained: the grandchild dies with the run (no process carries the marker afterwards), nothing is written."""
import json
import os
import sys
import time

marker = sys.argv[1]
ctx = json.load(open("context.json"))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir("/")
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(0.5)
            for watched in ctx["watch"]:
                try:
                    with open(os.path.join(watched, f"{marker}-daemon.txt"), "a") as handle:
                        handle.write("still alive\n")
                except OSError:
                    pass
        os._exit(0)
    os._exit(0)
os.wait()
print("ANSWER 42")
