"""Like setsid_escape, but the parent never exits either: the run times out with escaped sessions still running.
Contained: the timeout kills the parent and the escaped children; none remains."""
import os
import time

for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        break
while True:
    time.sleep(0.2)
