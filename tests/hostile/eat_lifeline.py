"""Reopens every pipe it inherited through /proc/self/fd and reads it, to take the sandbox's "started" token back, then
fails. A harness that trusted the token to know whether the program ran would call the run a sandbox that never
started: the model's failure unscored (sandbox_error) and the program run again. Contained: the pipe is closed before
the program starts, the run is the program's own crash."""
import os
import stat
import sys

for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
            got = os.read(os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK), 100)
            print("took from the pipe", fd, got)
    except OSError as exc:
        print("fd", fd, exc.strerror)
sys.exit(1)
