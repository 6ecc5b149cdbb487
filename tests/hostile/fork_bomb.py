"""Classic fork bomb: every process forks forever (the marker is in every copy's command line).
Contained: the process limit stops the growth, the timeout kills all of them, none survives."""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
