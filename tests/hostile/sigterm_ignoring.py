"""Ignores SIGTERM, SIGINT, SIGHUP and SIGXCPU, starts a child that ignores them too, and loops in both.
Contained: the timeout's SIGKILL ends both; none remains."""
import os
import signal
import time

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):
    signal.signal(sig, signal.SIG_IGN)
os.fork()  # the child inherits the ignored dispositions
while True:
    time.sleep(0.05)
