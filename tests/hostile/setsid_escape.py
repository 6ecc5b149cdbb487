"""Escapes the process group: children that call os.setsid() (a new session and group, so a kill of the original group
misses them), one of them forking again after its own setsid, then the parent answers and exits.
Contained: the children die with the run all the same."""
import os
import sys
import time

for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.setsid()  # a second escape, one level down
        while True:
            time.sleep(0.2)
print("ANSWER 42")
sys.stdout.flush()
