"""A csv_totals "solution" whose answer files are traps for the harness's own check, which runs outside the sandbox:
case1's answer is a symlink to /etc/passwd, case2's a FIFO nobody will ever write (a blocking read hangs), case3's a
hard link to its own input. Contained: the check follows no link, never blocks, quotes nothing from outside the
sandbox; the run is the model's failure (wrong output), not the harness's."""
import os
import sys

first, second, third = sys.argv[1:4]
os.symlink("/etc/passwd", first + ".json")
os.mkfifo(second + ".json")
os.link(third, third + ".json")
